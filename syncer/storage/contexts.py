"""The cache of remote JSON-LD contexts, keyed by the blob SHA of the file that holds them
(migrations/0001_initial.sql): a context read once is not fetched again while unchanged."""

from __future__ import annotations

import sqlite3


def context_cached(conn: sqlite3.Connection, blob_sha: str) -> bytes | None:
    row = conn.execute(
        "SELECT content FROM context_cache WHERE blob_sha = ?", (blob_sha,)
    ).fetchone()
    return None if row is None else bytes(row[0])


def cache_context(conn: sqlite3.Connection, blob_sha: str, content: bytes) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO context_cache (blob_sha, content) VALUES (?, ?)", (blob_sha, content)
    )
