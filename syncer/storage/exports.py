"""Reading the database for people: ``syncer query`` and ``syncer export``, on sqlite-utils.

The database is opened read-only (SQLite's ``mode=ro``), so a query cannot change it, and
the service may keep writing meanwhile (WAL readers see the last commit). sqlite-utils
gives the rows as dicts and knows the tables and views; the formats are the caller's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from syncer.errors import ConfigError


def open_readonly(path: Path) -> Database:
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    return Database(conn)


def tables_and_views(db: Database) -> list[str]:
    return sorted(db.table_names() + db.view_names())


def query(db: Database, sql: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """The rows of ``sql``; a statement that would write is refused (read-only database)."""
    try:
        yield from db.query(sql, params or {})
    except sqlite3.OperationalError as exc:
        raise ConfigError(f"query failed: {exc}") from exc


def rows(
    db: Database, name: str, *, where: str | None = None, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """Every row of a table or view (in rowid order for tables), optionally filtered."""
    known = tables_and_views(db)
    if name not in known:
        raise ConfigError(f"no table or view {name!r}; there are: {', '.join(known)}")
    source = db[name]
    try:
        yield from source.rows_where(where, limit=limit)
    except sqlite3.OperationalError as exc:
        raise ConfigError(f"export of {name} failed: {exc}") from exc
