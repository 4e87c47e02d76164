"""The connection syncer writes with: WAL, NORMAL sync, and a WAL sized for many commits."""

from __future__ import annotations

from pathlib import Path

from syncer.storage.db import connect


def test_a_write_connection_has_the_pragmas_the_write_path_relies_on(tmp_path: Path) -> None:
    conn = connect(tmp_path / "p.db")
    try:
        found = {
            name: conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in (
                "journal_mode",
                "synchronous",
                "foreign_keys",
                "busy_timeout",
                "wal_autocheckpoint",
                "journal_size_limit",
            )
        }
    finally:
        conn.close()
    assert found == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "wal_autocheckpoint": 10_000,
        "journal_size_limit": 16 * 1024 * 1024,
    }
