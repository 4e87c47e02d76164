"""The commands' bodies: each takes the settings and its arguments, returns an exit code."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from syncer.cli.terminal import ProgressBar, print_status, render_text
from syncer.config import Settings
from syncer.sync.progress import RunResult
from syncer.verdict import judge_status

EXIT_OK, EXIT_RETRY, EXIT_CONFIG, EXIT_FATAL = 0, 1, 2, 3


def _summary(result: RunResult, out: TextIO) -> None:
    commit = (result.commit or "?")[:12]
    print(
        f"{result.status}: commit {commit}, {result.processed} processed "
        f"({result.failed} failed), {result.deleted} deleted, {result.unchanged} unchanged, "
        f"{result.requests} source requests, {result.seconds:.2f}s",
        file=out,
    )
    for path, error in result.failures[:20]:
        print(f"  failed: {path}: {error}", file=out)
    if len(result.failures) > 20:
        print(f"  ... and {len(result.failures) - 20} more (syncer status)", file=out)
    if result.error:
        print(f"  run stopped: {result.error}", file=out)


async def run_sync(settings: Settings, *, force: bool, out: TextIO, err: TextIO) -> int:
    from syncer.sources import build_source
    from syncer.storage.migrate import ensure_schema
    from syncer.storage.writer import Writer
    from syncer.sync.engine import SyncEngine

    ensure_schema(settings.db_path)
    source = build_source(settings)
    writer = Writer(settings.db_path)
    bar = ProgressBar(err)
    try:
        engine = SyncEngine(settings, source, writer, on_progress=bar)
        result = await engine.sync(force=force, kind="sync", trigger="syncer sync")
    finally:
        bar.close()
        await source.aclose()
        writer.close()
    _summary(result, out)
    return EXIT_OK if result.status == "done" else EXIT_RETRY


def cmd_sync(settings: Settings, args: argparse.Namespace) -> int:
    """Every followed repository in turn (one, usually); the exit code is the worst."""
    from syncer.config import each_repository

    worst = EXIT_OK
    configs = each_repository(settings)
    for each in configs:
        if len(configs) > 1:
            print(f"{each.ontology_id} ({each.source_label}):")
        code = asyncio.run(run_sync(each, force=args.force, out=sys.stdout, err=sys.stderr))
        worst = max(worst, code)
    return worst


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from syncer.storage.migrate import migrate

    report = migrate(settings.db_path)
    if report.backup_path:
        print(f"backup: {report.backup_path}")
    if report.legacy_upgraded:
        rows = ", ".join(f"{k}={v}" for k, v in sorted(report.legacy_rows.items()))
        print(f"legacy VisionFlow schema upgraded (ontology_id 'default'): {rows}")
    print("applied: " + (", ".join(report.applied) if report.applied else "nothing, up to date"))
    print(f"integrity_check: {report.integrity}; foreign_key_check: ok")
    return EXIT_OK


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    """One repository's status; with several, each one's after the other (``--json``: a
    list under ``repositories``)."""
    from syncer.config import each_repository

    configs = each_repository(settings)
    if len(configs) == 1:
        return _status_of(configs[0], args)
    if args.json:
        every = [_status_data(each) for each in configs]
        print(json.dumps({"repositories": every}, indent=2, ensure_ascii=False, sort_keys=True))
        return EXIT_OK
    for number, each in enumerate(configs):
        if number:
            print()
        print(f"== {each.ontology_id}")
        _status_of(each, args)
    return EXIT_OK


def _status_of(settings: Settings, args: argparse.Namespace) -> int:
    data = _status_data(settings)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))
    elif sys.stdout.isatty():
        print_status(data, sys.stdout)
    else:
        print(render_text(data))
    return EXIT_OK


def _status_data(settings: Settings) -> dict[str, Any]:
    from syncer.storage import views
    from syncer.storage.db import connect

    conn = connect(settings.db_path, readonly=True)
    try:
        data: dict[str, Any] = {"source": settings.source_label, "branch": settings.branch}
        data.update(views.collect(conn, settings.ontology_id))
    finally:
        conn.close()
    verdict = judge_status(
        data,
        running=any(run["status"] == "running" for run in data["runs"][:1]),
        problem=None,
        now=datetime.now(UTC),
    )
    data["verdict"], data["verdict_level"] = verdict.text, verdict.level
    return data


def _commit_all(repo_dir: Path, message: str) -> None:
    """``git init`` and one commit of everything in ``repo_dir``, by the git CLI (the demo
    needs git on PATH, as the local source does). The identity is set for this commit only,
    so a machine without a configured git user can still run the demo."""

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo_dir), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git(
        "-c",
        "user.name=syncer demo",
        "-c",
        "user.email=demo@localhost",
        "-c",
        "commit.gpgsign=false",
        "commit",
        "-q",
        "-m",
        message,
    )


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Sync the bundled example ontology from a local git repository: no network."""
    base = Path(args.dir)
    repo_dir = base / "repo"
    package = Path(__file__).resolve().parent.parent  # syncer/
    examples = package / "_examples"  # the wheel's copy (pyproject's force-include)
    if not examples.is_dir():
        examples = package.parent / "examples"  # a checkout
    if not (repo_dir / ".git").exists():
        shutil.copytree(examples, repo_dir, dirs_exist_ok=True)
        _commit_all(repo_dir, "example ontology")
        print(f"created a git repository with the example ontology in {repo_dir}")
    # The example pages write CURIEs like ex:SmartContract: map ex: onto the Turtle
    # files' namespace, as a team would with SYNCER_PREFIXES.
    prefixes = settings.prefixes or (("ex", "https://example.org/ontology/"),)
    demo = settings.with_(
        git_dir=repo_dir, repo=None, db_path=base / "syncer.db", prefixes=prefixes
    )
    print(f"syncing {repo_dir} into {demo.db_path}")
    code = asyncio.run(run_sync(demo, force=False, out=sys.stdout, err=sys.stderr))
    if code == EXIT_OK:
        print()
        cmd_status(demo, argparse.Namespace(json=False))
        print(f"\nexplore it: sqlite3 {demo.db_path} 'SELECT class_iri, label FROM owl_classes'")
    return code


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from syncer.web.server import serve

    return serve(settings, host=args.host, port=args.port)


def cmd_admin_token(settings: Settings, args: argparse.Namespace) -> int:
    from syncer.web.auth import issue_admin_token

    print(issue_admin_token(settings, expires=args.expires))
    return EXIT_OK
