"""Named leases (migrations/0002_service.sql): one holder at a time across processes that
share the database, expiring on their own; the nightly reconciliation takes one."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta


def take_lease(
    conn: sqlite3.Connection, name: str, owner: str, now: datetime, ttl: timedelta
) -> bool:
    """Take (or renew) the named lease unless someone else holds an unexpired one."""
    expires = (now + ttl).isoformat()
    cursor = conn.execute(
        "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,"
        " expires_at = excluded.expires_at"
        " WHERE leases.owner = excluded.owner OR leases.expires_at < ?",
        (name, owner, expires, now.isoformat()),
    )
    return cursor.rowcount == 1


def take_over_lease(
    conn: sqlite3.Connection, name: str, owner: str, gone: str, now: datetime, ttl: timedelta
) -> bool:
    """Take the named lease from ``gone``, a holder known to be dead, if it still holds it."""
    cursor = conn.execute(
        "UPDATE leases SET owner = ?, expires_at = ? WHERE name = ? AND owner = ?",
        (owner, (now + ttl).isoformat(), name, gone),
    )
    return cursor.rowcount == 1


def release_lease(conn: sqlite3.Connection, name: str, owner: str) -> None:
    conn.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))


def lease_holder(conn: sqlite3.Connection, name: str) -> tuple[str, str] | None:
    row = conn.execute("SELECT owner, expires_at FROM leases WHERE name = ?", (name,)).fetchone()
    return None if row is None else (row[0], row[1])
