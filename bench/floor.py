"""The floor under a sync's write path: SQLite inserting the rows a synced database holds.

    python -m bench.floor DATABASE [DATABASE ...]

Copies every row of each synced database into an empty database of the same schema
(syncer's migrations), rows already made, one transaction, one ``executemany`` a table,
foreign keys off, and prints the seconds. No sync can store the same rows faster through
SQLite, so it bounds issue 13's targets from below (docs/performance.md, "The floor").
The benchmark's databases are in ``--work`` (``$TMPDIR/syncer-bench/*-ours.db``).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from syncer.storage.migrate import migrate


def insert_floor(source: Path, scratch: Path) -> tuple[int, float, dict[str, tuple[int, float]]]:
    """(rows, seconds, {table: (rows, seconds)}) to insert ``source``'s rows anew."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    migrate(scratch, make_backup=False)
    with sqlite3.connect(source) as old:
        names = [
            r[0]
            for r in old.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'"
            )
        ]
        data: dict[str, list[Any]] = {}
        for name in names:
            rows = old.execute(f"SELECT * FROM {name}").fetchall()
            if rows:
                data[name] = rows
    new = sqlite3.connect(scratch, isolation_level=None)
    try:
        new.execute("PRAGMA journal_mode = WAL")
        new.execute("PRAGMA synchronous = NORMAL")
        new.execute("PRAGMA foreign_keys = OFF")
        per: dict[str, tuple[int, float]] = {}
        started = time.perf_counter()
        new.execute("BEGIN")
        for name, rows in data.items():
            new.execute(f"DELETE FROM {name}")  # rows a migration seeds
            began = time.perf_counter()
            marks = ",".join("?" * len(rows[0]))
            new.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
            per[name] = (len(rows), time.perf_counter() - began)
        new.execute("COMMIT")
        seconds = time.perf_counter() - started
    finally:
        new.close()
    return sum(n for n, _ in per.values()), seconds, per


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        for source in map(Path, argv):
            rows, seconds, per = insert_floor(source, Path(work) / "floor.db")
            print(f"{source}: {rows:,} rows in {len(per)} tables inserted in {seconds:.2f} s")
            for name, (count, took) in sorted(per.items(), key=lambda item: -item[1][1])[:6]:
                print(f"  {name:28} {count:>9,} rows {took:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
