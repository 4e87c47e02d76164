"""Checks before a command runs: every wrong setting is reported by name, with what was
expected, before the command creates or changes anything (issue 14). A command that
refuses leaves no database file behind, and a read-only command never creates one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from syncer.config import Settings
from syncer.errors import ConfigError

# Commands that need a repository to read, and those that only read an existing database.
NEEDS_SOURCE = ("sync", "serve")
READS_DATABASE = ("status", "query", "export")


def preflight(settings: Settings, command: str) -> None:
    if command == "demo":  # its own repository and database, whatever the settings say
        return
    _database_directory(settings.db_path)
    if command in READS_DATABASE and not settings.db_path.is_file():
        raise ConfigError(
            f"SYNCER_DB: no database at {settings.db_path}; `syncer sync` creates and fills"
            " it (`syncer migrate` creates it empty)"
        )
    from syncer.config import each_repository

    for each in each_repository(settings):
        if command in NEEDS_SOURCE:
            _source(each)
        if command == "serve":
            _serve(each)


def _database_directory(db_path: Path) -> None:
    parent = db_path.parent
    if not parent.is_dir():
        raise ConfigError(
            f"SYNCER_DB: the directory {parent} does not exist; create it or point"
            " SYNCER_DB at a file in an existing one"
        )


def _source(settings: Settings) -> None:
    if settings.git_dir is None and settings.repo is None:
        raise ConfigError(
            "no repository configured: set SYNCER_GIT_DIR (a local git repository) or "
            "SYNCER_REPO (owner/name on GitHub); `syncer demo` runs on a bundled example"
        )
    if settings.git_dir is not None:
        git_dir = settings.git_dir
        if not git_dir.is_dir():
            raise ConfigError(f"SYNCER_GIT_DIR: {git_dir} does not exist or is not a directory")
        found = subprocess.run(
            ["git", "-C", str(git_dir), "rev-parse", "--git-dir"],
            capture_output=True,
            text=True,
            check=False,
        )
        if found.returncode != 0:
            raise ConfigError(f"SYNCER_GIT_DIR: {git_dir} is not a git repository")
    else:
        from syncer.sources import app_credentials

        app_credentials(settings)  # a missing or wrong App key is named now


def _serve(settings: Settings) -> None:
    if settings.webhook_secret is None:
        raise ConfigError(
            "SYNCER_WEBHOOK_SECRET is not set: serve refuses to accept unsigned webhooks"
        )
    if settings.repo is None:
        raise ConfigError(
            "SYNCER_REPO is not set: serve accepts the deliveries of one repository, named"
            " owner/name (also with SYNCER_GIT_DIR, which says where its files are read)"
        )
    from syncer.sync.reconcile import trigger

    try:
        trigger(settings.reconcile_cron, settings.timezone)
    except (ValueError, LookupError) as exc:
        raise ConfigError(
            f"SYNCER_RECONCILE_CRON / SYNCER_TIMEZONE: {settings.reconcile_cron!r} in"
            f" {settings.timezone!r} is not a crontab expression in a known time zone: {exc}"
        ) from exc
