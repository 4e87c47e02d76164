from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from syncer.storage.db import connect
from syncer.storage.migrate import ensure_schema, load_migrations, migrate
from syncer_dev.snapshot import INVARIANT_TABLES

LEGACY_SCHEMA = """
CREATE TABLE owl_classes (
    iri TEXT PRIMARY KEY, label TEXT, description TEXT, file_sha1 TEXT,
    last_synced TEXT, created_at TEXT, updated_at TEXT);
CREATE TABLE owl_class_hierarchy (
    class_iri TEXT NOT NULL, parent_iri TEXT NOT NULL,
    FOREIGN KEY (class_iri) REFERENCES owl_classes(iri),
    FOREIGN KEY (parent_iri) REFERENCES owl_classes(iri));
"""
LEGACY_CLASSES = [
    ("mv:Blockchain", "Blockchain", "A ledger", "aaa", "2025-11-01", "2025-10-01", "2025-11-01"),
    ("mv:DistributedLedger", "Distributed Ledger", None, "bbb", "2025-11-01", None, None),
    ("mv:Robot", None, "A machine", None, None, None, None),
]
LEGACY_HIERARCHY = [
    ("mv:Blockchain", "mv:DistributedLedger"),
    ("mv:Blockchain", "mv:CryptographicSystem"),  # parent never declared
    ("mv:Ghost", "mv:Robot"),  # child never declared
]


@pytest.fixture
def legacy_db(tmp_path: Path) -> Path:
    path = tmp_path / "visionflow.db"
    conn = sqlite3.connect(path)
    conn.executescript(LEGACY_SCHEMA)
    conn.executemany("INSERT INTO owl_classes VALUES (?,?,?,?,?,?,?)", LEGACY_CLASSES)
    conn.executemany("INSERT INTO owl_class_hierarchy VALUES (?,?)", LEGACY_HIERARCHY)
    conn.commit()
    conn.close()
    return path


def table_names(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        }


def test_fresh_database_gets_every_migration_once(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    report = migrate(db)
    assert report.applied == [f"{m.version:04d}_{m.name}" for m in load_migrations()]
    assert report.backup_path is None  # nothing to back up
    assert {*INVARIANT_TABLES, "schema_migrations"} <= table_names(db)
    again = migrate(db)
    assert again.applied == [] and again.backup_path is None
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_legacy_upgrade_keeps_every_row_under_default(legacy_db: Path) -> None:
    report = migrate(legacy_db)
    assert report.legacy_upgraded
    assert report.backup_path is not None and report.backup_path.exists()
    # The backup is the untouched legacy database.
    with sqlite3.connect(report.backup_path) as conn:
        assert conn.execute("SELECT count(*) FROM owl_classes").fetchone()[0] == 3
    conn = connect(legacy_db)
    classes = conn.execute(
        "SELECT ontology_id, class_iri, label, comment, file_sha1, declared, created_at"
        " FROM owl_classes ORDER BY class_iri"
    ).fetchall()
    assert [tuple(r) for r in classes] == [
        ("default", "mv:Blockchain", "Blockchain", "A ledger", "aaa", 1, "2025-10-01"),
        ("default", "mv:CryptographicSystem", None, None, None, 0, None),
        ("default", "mv:DistributedLedger", "Distributed Ledger", None, "bbb", 1, None),
        ("default", "mv:Ghost", None, None, None, 0, None),
        ("default", "mv:Robot", None, "A machine", None, 1, None),
    ]
    hierarchy = conn.execute(
        "SELECT ontology_id, class_iri, parent_iri FROM owl_class_hierarchy ORDER BY 2, 3"
    )
    assert [tuple(r) for r in hierarchy] == [("default", *row) for row in sorted(LEGACY_HIERARCHY)]
    assert [tuple(r) for r in conn.execute("PRAGMA integrity_check")] == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert not any(name.startswith("legacy_") for name in table_names(legacy_db))


def test_after_upgrade_a_hierarchy_row_naming_a_missing_class_is_refused(legacy_db: Path) -> None:
    migrate(legacy_db)
    conn = connect(legacy_db)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        conn.execute(
            "INSERT INTO owl_class_hierarchy (ontology_id, class_iri, parent_iri)"
            " VALUES ('default', 'mv:Blockchain', 'mv:Nowhere')"
        )


def test_deleting_a_class_cascades_to_its_hierarchy_rows(legacy_db: Path) -> None:
    migrate(legacy_db)
    conn = connect(legacy_db)
    conn.execute("DELETE FROM owl_classes WHERE class_iri = 'mv:DistributedLedger'")
    rows = conn.execute("SELECT class_iri, parent_iri FROM owl_class_hierarchy ORDER BY 1, 2")
    assert [tuple(r) for r in rows] == [
        ("mv:Blockchain", "mv:CryptographicSystem"),
        ("mv:Ghost", "mv:Robot"),
    ]


def test_a_failing_migration_leaves_the_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "db.sqlite"
    migrate(db)
    bad = tmp_path / "migrations"
    bad.mkdir()
    for m in load_migrations():
        (bad / f"{m.version:04d}_{m.name}.sql").write_text(m.sql)
    (bad / "9999_broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n"
    )
    monkeypatch.setattr("syncer.storage.migrate.migrations_dir", lambda: bad)
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        migrate(db)
    assert "half_done" not in table_names(db)
    with sqlite3.connect(db) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert 9999 not in versions


def test_ensure_schema_is_a_no_op_on_a_current_database(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    ensure_schema(db)
    before = db.stat().st_mtime_ns
    ensure_schema(db)
    assert sorted(p.name for p in tmp_path.iterdir() if ".bak-" in p.name) == []
    assert db.stat().st_mtime_ns == before
