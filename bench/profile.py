"""Where a full sync's time goes, one thread at a time, in this process:

    python -m bench.profile [--files 974] [--out bench/results/profile.txt]

1. parsing: ``parse_file`` over the generated pages under cProfile;
2. writing: the pages in batches of :data:`BATCH` files, each batch one ``BEGIN
   IMMEDIATE`` transaction as the file committer writes them (file_batches.write_batch),
   then the closure caught up as at the end of a run; with the time of each SQL
   statement (``COMMIT`` included) and a cProfile of the Python around them.

No network and no fake GitHub: these are the two costs a sync pays per file whatever
the source, and the ones the full-sync targets are missed by.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sqlite3
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench.corpus import V2_CONTEXT, V2_CONTEXT_URL, visionflow_pages
from syncer.formats import ContextDoc, ParseOptions, parse_file
from syncer.model import FileContribution, TreeEntry, git_blob_sha
from syncer.storage import closure
from syncer.storage.db import connect, immediate
from syncer.storage.file_batches import FileWrite, write_batch
from syncer.storage.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
BATCH = 200  # about what a 974-page sync's batches hold (5 transactions, issue 13)


class TimedConnection:
    """A connection that adds up the seconds spent in each SQL statement (first 100
    characters), results fetched included."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def _timed(self, sql: str, run: Callable[[], T]) -> T:
        started = time.perf_counter()
        result = run()
        self.seconds[sql[:100]] += time.perf_counter() - started
        self.calls[sql[:100]] += 1
        return result

    def execute(self, sql: str, *args: Any) -> _Rows:
        return self._timed(sql, lambda: _Rows(self.conn.execute(sql, *args).fetchall()))

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        return self._timed(sql, lambda: self.conn.executemany(sql, *args))

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction


class _Rows(list[Any]):
    def fetchone(self) -> Any:
        return self[0] if self else None

    def fetchall(self) -> list[Any]:
        return list(self)


def _top(profile: cProfile.Profile, sort: str, limit: int) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats(sort).print_stats(limit)
    return out.getvalue().split("\n", 4)[-1].rstrip()  # drop the header lines


def profile(files: int, limit: int = 15) -> str:
    pages = [(p, t.encode()) for p, t in visionflow_pages(files).items() if p.endswith(".md")]
    options = ParseOptions(contexts=(ContextDoc(V2_CONTEXT_URL, json.dumps(V2_CONTEXT).encode()),))
    parser = cProfile.Profile()
    started = time.perf_counter()
    parser.enable()
    parsed: list[tuple[str, bytes, FileContribution]] = [
        (p, d, parse_file(p, d, options)) for p, d in pages
    ]
    parser.disable()
    parse_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "profile.db"
        migrate(db, make_backup=False)
        conn = connect(db)
        timed = TimedConnection(conn)
        writer = cProfile.Profile()
        started = time.perf_counter()
        writer.enable()
        items = [
            FileWrite(TreeEntry(path, git_blob_sha(data), len(data)), contribution)
            for path, data, contribution in parsed
        ]
        for start in range(0, len(items), BATCH):
            with immediate(timed):  # type: ignore[arg-type]
                write_batch(timed, "default", 1, items[start : start + BATCH], "now")  # type: ignore[arg-type]
        with immediate(timed):  # type: ignore[arg-type]
            closure.catch_up(timed)  # type: ignore[arg-type]
        writer.disable()
        write_s = time.perf_counter() - started
        conn.close()

    sql_s = sum(timed.seconds.values())
    lines = [
        f"{len(pages)} generated 2026-08 pages, {sum(len(d) for _, d in pages) / 1e6:.1f} MB",
        f"parse (one thread): {parse_s:.2f} s, {len(pages) / parse_s:,.0f} pages/s",
        f"write (batches of {BATCH} pages): {write_s:.2f} s, {len(pages) / write_s:,.0f} pages/s;"
        f" {sql_s:.2f} s inside SQLite, {timed.seconds['COMMIT']:.2f} s of it in COMMIT",
        "",
        "SQL statements by total time (seconds, calls, statement):",
    ]
    for sql, seconds in sorted(timed.seconds.items(), key=lambda kv: -kv[1])[:limit]:
        lines.append(f"{seconds:8.3f} {timed.calls[sql]:7d}  {sql}")
    lines += ["", "cProfile of parsing, by own time:", _top(parser, "tottime", limit)]
    lines += ["", "cProfile of writing, by cumulative time:", _top(writer, "cumulative", limit)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=974)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "profile.txt")
    args = parser.parse_args()
    text = profile(args.files)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
