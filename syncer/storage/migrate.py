"""Schema migrations, with an online backup first and integrity checks after.

Migrations are the ``NNNN_name.sql`` files of ``migrations/`` (shipped inside the wheel
as ``syncer/_migrations``), applied in order, each in one transaction, and recorded in
``schema_migrations``. A database in the legacy VisionFlow shape (``owl_classes.iri``,
a hierarchy whose foreign key points at a column that is not a key) is upgraded on the
way: its rows are kept under ontology_id ``default``, and classes the legacy hierarchy
names but never declared become rows marked not declared, so the new foreign keys hold.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from syncer.errors import FatalError
from syncer.storage.db import connect

LEGACY_ONTOLOGY_ID = "default"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass
class MigrationReport:
    applied: list[str] = field(default_factory=list)
    backup_path: Path | None = None
    legacy_upgraded: bool = False
    legacy_rows: dict[str, int] = field(default_factory=dict)
    integrity: str = "ok"


def migrations_dir() -> Path:
    package = Path(__file__).resolve().parent.parent  # syncer/
    packaged = package / "_migrations"  # the wheel's copy (pyproject's force-include)
    if packaged.is_dir():
        return packaged
    return package.parent / "migrations"  # a checkout


def load_migrations(directory: Path | None = None) -> list[Migration]:
    found = []
    for path in sorted((directory or migrations_dir()).glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise FatalError(f"migration file {path.name} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise FatalError("two migration files share a version number")
    return found


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}


def is_legacy(conn: sqlite3.Connection) -> bool:
    tables = _tables(conn)
    return (
        "owl_classes" in tables
        and "schema_migrations" not in tables
        and (
            "iri" in _columns(conn, "owl_classes")
            and "ontology_id" not in _columns(conn, "owl_classes")
        )
    )


def backup(db_path: Path, now: datetime) -> Path:
    """An online copy through SQLite's backup API (safe while others write)."""
    target = db_path.with_name(f"{db_path.name}.bak-{now.strftime('%Y%m%dT%H%M%S%fZ')}")
    source = connect(db_path)
    try:
        dest = sqlite3.connect(str(target))
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    return target


def pending(conn: sqlite3.Connection, migrations: list[Migration]) -> list[Migration]:
    if "schema_migrations" not in _tables(conn):
        return migrations
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    return [m for m in migrations if m.version not in done]


def _apply(conn: sqlite3.Connection, migration: Migration, now: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(migration.sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?,?,?,?)",
            (migration.version, migration.name, migration.checksum, now),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(sql: str) -> list[str]:
    """Split a script into statements (sqlite3.complete_statement knows where they end)."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise FatalError("a migration ends with an incomplete statement")
    return statements


def _upgrade_legacy(conn: sqlite3.Connection, first: Migration, now: str) -> dict[str, int]:
    """Move the legacy tables aside, create the schema, copy every row across."""
    conn.execute("PRAGMA foreign_keys = OFF")  # the legacy foreign keys are broken by design
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("PRAGMA legacy_alter_table = ON")  # rename without rewriting the old FKs
        ours = set()
        for statement in _statements(first.sql):
            match = re.match(r"CREATE TABLE (\w+)", statement)
            if match:
                ours.add(match[1])
        for table in sorted(_tables(conn) & ours):
            conn.execute(f'ALTER TABLE "{table}" RENAME TO "legacy_{table}"')
        conn.execute("PRAGMA legacy_alter_table = OFF")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for statement in _statements(first.sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?,?,?,?)",
            (first.version, first.name, first.checksum, now),
        )
        counts = _copy_legacy_rows(conn, now)
        conn.execute("DROP TABLE legacy_owl_class_hierarchy")
        conn.execute("DROP TABLE legacy_owl_classes")
    except BaseException:
        conn.execute("ROLLBACK")
        conn.execute("PRAGMA foreign_keys = ON")
        raise
    conn.execute("COMMIT")
    conn.execute("PRAGMA foreign_keys = ON")
    return counts


def _copy_legacy_rows(conn: sqlite3.Connection, now: str) -> dict[str, int]:
    oid = LEGACY_ONTOLOGY_ID
    cols = _columns(conn, "legacy_owl_classes")

    def col(name: str) -> str:
        return name if name in cols else "NULL"

    conn.execute(
        "INSERT INTO owl_classes (ontology_id, class_iri, label, comment, file_sha1, last_synced,"
        " declared, created_at, updated_at)"
        f" SELECT ?, iri, {col('label')}, {col('description')}, {col('file_sha1')},"
        f" {col('last_synced')}, 1, {col('created_at')}, {col('updated_at')}"
        " FROM legacy_owl_classes WHERE iri IS NOT NULL",
        (oid,),
    )
    has_hierarchy = "legacy_owl_class_hierarchy" in _tables(conn)
    if has_hierarchy:
        # The legacy foreign key pointed at a non-key column, so nothing stopped rows
        # naming classes that do not exist: keep them, as classes marked not declared.
        conn.execute(
            "INSERT OR IGNORE INTO owl_classes (ontology_id, class_iri, declared, last_synced)"
            " SELECT ?, iri, 0, ? FROM (SELECT class_iri AS iri FROM legacy_owl_class_hierarchy"
            " UNION SELECT parent_iri FROM legacy_owl_class_hierarchy) WHERE iri IS NOT NULL",
            (oid, now),
        )
        conn.execute(
            "INSERT OR IGNORE INTO owl_class_hierarchy (ontology_id, class_iri, parent_iri)"
            " SELECT ?, class_iri, parent_iri FROM legacy_owl_class_hierarchy"
            " WHERE class_iri IS NOT NULL AND parent_iri IS NOT NULL",
            (oid,),
        )

    def count(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    counts = {
        "legacy_classes": count("SELECT count(*) FROM legacy_owl_classes"),
        "classes": count("SELECT count(*) FROM owl_classes WHERE declared = 1"),
        "undeclared_classes": count("SELECT count(*) FROM owl_classes WHERE declared = 0"),
    }
    if has_hierarchy:
        counts["legacy_hierarchy"] = count(
            "SELECT count(*) FROM (SELECT DISTINCT class_iri, parent_iri"
            " FROM legacy_owl_class_hierarchy)"
        )
        counts["hierarchy"] = count("SELECT count(*) FROM owl_class_hierarchy")
    return counts


def check(conn: sqlite3.Connection) -> str:
    """``integrity_check`` and ``foreign_key_check``; raise FatalError if either fails."""
    integrity = conn.execute("PRAGMA integrity_check").fetchall()
    if [tuple(r) for r in integrity] != [("ok",)]:
        raise FatalError(f"integrity_check failed: {[tuple(r) for r in integrity][:5]}")
    violations = conn.execute("PRAGMA foreign_key_check").fetchall()
    if violations:
        raise FatalError(f"foreign_key_check found {len(violations)} violations")
    return "ok"


def migrate(
    db_path: Path, *, now: datetime | None = None, make_backup: bool = True
) -> MigrationReport:
    """Bring ``db_path`` to the newest schema. Backs up first when anything will change."""
    moment = now or datetime.now(UTC)
    stamp = moment.isoformat(timespec="seconds")
    migrations = load_migrations()
    report = MigrationReport()
    existed = db_path.exists() and db_path.stat().st_size > 0
    conn = connect(db_path)
    try:
        legacy = is_legacy(conn)
        todo = pending(conn, migrations)
        if existed and (todo or legacy) and make_backup and _tables(conn):
            report.backup_path = backup(db_path, moment)
        if legacy:
            report.legacy_rows = _upgrade_legacy(conn, migrations[0], stamp)
            report.legacy_upgraded = True
            report.applied.append(f"{migrations[0].version:04d}_{migrations[0].name} (legacy)")
            todo = pending(conn, migrations)
        if todo and "schema_migrations" not in _tables(conn):
            conn.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        for migration in todo:
            _apply(conn, migration, stamp)
            report.applied.append(f"{migration.version:04d}_{migration.name}")
        report.integrity = check(conn)
    finally:
        conn.close()
    return report


def ensure_schema(db_path: Path) -> None:
    """Migrate when needed; cheap when the schema is current (used by every command)."""
    conn = connect(db_path)
    try:
        current = not is_legacy(conn) and not pending(conn, load_migrations())
    finally:
        conn.close()
    if not current:
        migrate(db_path)
