"""Whether the database takes writes now: the probe behind /healthz and the status page."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from syncer.errors import FatalError, RetryableError
from syncer.storage.db import classify, connect

# Health wants this much room for the database to grow, in SQLite's page limit and on the
# file system that holds it.
HEADROOM_BYTES = 1024 * 1024


def storage_problem(path: Path) -> str | None:
    """Why a write to the database would fail now (read-only, full, corrupt), or None.

    ``BEGIN IMMEDIATE`` alone succeeds on a read-only file, so the probe writes a row and
    rolls it back (SQLite refuses the write on a read-only file). Room is what SQLite's page
    limit and the file system's free space leave. The files' permissions are asked first
    (the ``-wal`` and ``-shm`` files too): SQLite reuses a file descriptor this process
    already has open read-write, so the probe alone would not see a file that turned
    read-only under the running service.
    """
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists() and not os.access(file, os.W_OK):
            return "database is read-only"
    try:
        conn = connect(path)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO leases (name, owner, expires_at) VALUES ('healthz probe', '', '')"
                )
            finally:
                conn.execute("ROLLBACK")
            pages = [
                int(conn.execute(f"PRAGMA {name}").fetchone()[0])
                for name in ("max_page_count", "page_count", "freelist_count", "page_size")
            ]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        error = classify(exc)
        if isinstance(error, RetryableError):
            return None  # busy: another writer, which is healthy
        return str(error).split(":", 1)[0]  # "database is read-only", "disk full", ...
    except FatalError as exc:
        return str(exc).split(":", 1)[0]
    limit, used, free, size = pages
    if (limit - used + free) * size < HEADROOM_BYTES:
        return "disk full"
    if shutil.disk_usage(path.parent).free < HEADROOM_BYTES:
        return "disk full"
    return None
