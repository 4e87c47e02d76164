"""SQLite connections: WAL, foreign keys on, and errors sorted into retry/fatal.

Every connection, reader or writer, comes from :func:`connect`, so no connection ever
runs with foreign keys off (SQLite's default, https://sqlite.org/foreignkeys.html#fk_enable).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from syncer.errors import FatalError, RetryableError

BUSY_TIMEOUT_MS = 5000
WAL_AUTOCHECKPOINT_PAGES = 10_000
WRITER_CACHE_KIB = 8 * 1024
WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the database with the pragmas syncer relies on.

    ``isolation_level=None`` leaves transactions to us: writes use explicit
    ``BEGIN IMMEDIATE`` so a writer takes the lock up front instead of failing
    half-way with SQLITE_BUSY on upgrade (https://sqlite.org/lang_transaction.html).
    """
    if readonly:
        uri = f"file:{Path(path).resolve()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal" and str(path) != ":memory:":
            raise FatalError(f"could not switch {path} to WAL (journal_mode={mode})")
        # NORMAL is durable in WAL mode except for the last commits before a power cut,
        # and never corrupts (https://sqlite.org/pragma.html#pragma_synchronous).
        conn.execute("PRAGMA synchronous = NORMAL")
        # A full sync writes the whole database through the WAL; at the default (a
        # checkpoint, with its fsyncs, every 1,000 pages) checkpointing was a large share of
        # the write path, so checkpoints come every 10,000 pages (40 MiB); measured in
        # docs/performance.md. The size limit truncates the WAL back after a checkpoint so
        # the file does not keep its high-water mark (https://sqlite.org/wal.html#ckpt).
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
        # The writer's batches insert into indexes of tens of MB (statements, and
        # entailed_edge: 140,000 rows for the FIBO-shaped benchmark ontology); at
        # SQLite's default 2 MB cache nearly every insert missed it. Syncing that
        # ontology (local git, medians of 3 on a noisy 2-core machine): 9.0 s at 2 MB,
        # 7.5 s at 8 MiB, 7.1-7.8 s at 16-32 MiB, while peak RSS grows by about the
        # cache (93, 103-107, 115-129 MB). 8 MiB takes most of the gain and keeps issue
        # 13's memory bound (a 32 MiB cache put 974 pages at 138 MB, over 120).
        conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
    return conn


def restore_sidecars(path: Path | str) -> list[str]:
    """Give the ``-wal`` and ``-shm`` files the database file's permissions back.

    SQLite creates them with the database file's mode, so ones made while the file was
    read-only stay read-only once it is writable again, and every write keeps failing
    with "attempt to write a readonly database". Only files this user owns are touched,
    and only when the database file itself is writable; the names fixed are returned.
    """
    db = Path(path)
    fixed: list[str] = []
    try:
        if not os.access(db, os.W_OK):
            return fixed
        mode = db.stat().st_mode & 0o777
        for suffix in ("-wal", "-shm"):
            side = Path(f"{db}{suffix}")
            if (
                side.exists()
                and not os.access(side, os.W_OK)
                and side.stat().st_uid == os.geteuid()
            ):
                side.chmod(mode)
                fixed.append(side.name)
    except OSError:
        pass
    return fixed


def classify(exc: sqlite3.Error) -> RetryableError | FatalError:
    """Map an sqlite3 error to the run's reaction: wait and retry, or stop."""
    message = str(exc)
    lowered = message.lower()
    if "locked" in lowered or "busy" in lowered:
        return RetryableError(f"database busy: {message}", wait_seconds=1.0)
    if "full" in lowered:
        return FatalError(f"disk full: {message}")
    if "readonly" in lowered or "read-only" in lowered:
        return FatalError(f"database is read-only: {message}")
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return FatalError(f"database is corrupt: {message}")
    if "disk i/o" in lowered:
        return FatalError(f"disk I/O error: {message}")
    return FatalError(f"database error: {message}")


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction: commit on success, roll back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
