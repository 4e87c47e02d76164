"""Several repositories in one service (issue 15): which ones, and each one's settings.

Two ways to name them, besides the single SYNCER_REPO:

- ``SYNCER_REPOS=owner/a,owner/b@branch``: the simple case; every other setting is shared.
- ``SYNCER_CONFIG=repos.toml``: a ``[[repository]]`` table per repository, for settings
  of its own (docs/configuration.md lists the keys).

``config.each_repository`` turns each into one :class:`~syncer.config.Settings` (the
shared settings with its own overrides), with its own ``ontology_id``, so its rows, runs,
queue and state are apart from the others' in the one database. Pure: the TOML text is
read by the caller (config.load_settings), and nothing here imports config.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncer.errors import ConfigError
from syncer.values import ContextSource, Secret, parse_contexts, parse_prefixes

# The keys a [[repository]] table may hold; anything else is a mistake, said by name.
KEYS = (
    "name",
    "branch",
    "ontology_id",
    "git_dir",
    "include",
    "exclude",
    "jsonld_contexts",
    "prefixes",
    "webhook_secret_env",
)


@dataclass(frozen=True)
class Repository:
    """One repository's own settings; None or () means "as the shared settings say"."""

    name: str
    branch: str | None = None
    ontology_id: str | None = None
    git_dir: Path | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    jsonld_contexts: tuple[ContextSource, ...] = ()
    prefixes: tuple[tuple[str, str], ...] = ()
    webhook_secret: Secret | None = None

    @property
    def key(self) -> str:
        """The default ontology_id, and how it is told apart from another branch of it."""
        return self.name if self.branch is None else f"{self.name}@{self.branch}"


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or value.count("/") != 1 or value.startswith("/"):
        raise ConfigError(f"{where}: the repository must be owner/name, not {value!r}")
    return value


def parse_repos(value: str) -> tuple[Repository, ...]:
    """``owner/a,owner/b@branch`` (SYNCER_REPOS)."""
    found = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        name, at, branch = item.partition("@")
        if at and not branch:
            raise ConfigError(f"SYNCER_REPOS: {item!r} names no branch after @")
        found.append(Repository(_name(name, "SYNCER_REPOS"), branch or None))
    return _checked(tuple(found), "SYNCER_REPOS")


def _strings(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def parse_config(text: str, path: Path, environ: Mapping[str, str]) -> tuple[Repository, ...]:
    """The ``[[repository]]`` tables of SYNCER_CONFIG's file; secrets come from the
    environment variables the file names (a secret is never written in the file)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"SYNCER_CONFIG: {path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"repository"})
    if unknown:
        raise ConfigError(f"SYNCER_CONFIG: {path}: unknown table {unknown[0]!r}")
    tables = data.get("repository", [])
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"SYNCER_CONFIG: {path} has no [[repository]] table")
    found = []
    for number, table in enumerate(tables, 1):
        where = f"SYNCER_CONFIG: {path}: repository {number}"
        extra = sorted(set(table) - set(KEYS))
        if extra:
            raise ConfigError(f"{where}: unknown key {extra[0]!r} (known: {', '.join(KEYS)})")
        if "name" not in table:
            raise ConfigError(f"{where}: no name (owner/name)")
        for key in ("branch", "ontology_id", "git_dir", "webhook_secret_env"):
            if key in table and (not isinstance(table[key], str) or not table[key]):
                raise ConfigError(f"{where}: {key} must be a non-empty string")
        secret = None
        if "webhook_secret_env" in table:
            variable = table["webhook_secret_env"]
            if not environ.get(variable):
                raise ConfigError(f"{where}: webhook_secret_env names {variable}, which is not set")
            secret = Secret(environ[variable])
        found.append(
            Repository(
                name=_name(table["name"], where),
                branch=table.get("branch"),
                ontology_id=table.get("ontology_id"),
                git_dir=Path(table["git_dir"]) if "git_dir" in table else None,
                include=_strings(table, "include", where),
                exclude=_strings(table, "exclude", where),
                jsonld_contexts=parse_contexts(",".join(_strings(table, "jsonld_contexts", where))),
                prefixes=parse_prefixes(",".join(_strings(table, "prefixes", where))),
                webhook_secret=secret,
            )
        )
    return _checked(tuple(found), f"SYNCER_CONFIG: {path}")


def _checked(found: tuple[Repository, ...], where: str) -> tuple[Repository, ...]:
    if not found:
        raise ConfigError(f"{where}: no repository named")
    keys = [(r.name.lower(), r.branch) for r in found]
    for key in keys:
        if keys.count(key) > 1:
            name, branch = key
            raise ConfigError(f"{where}: {name}{'@' + branch if branch else ''} is named twice")
    ids = [r.ontology_id or r.key for r in found]
    for oid in ids:
        if ids.count(oid) > 1:
            raise ConfigError(f"{where}: two repositories write under ontology_id {oid!r}")
    return found
