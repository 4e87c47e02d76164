"""Sync requests (migrations/0002_service.sql): the durable queue the coordinator consumes.

Plain functions over a connection, called inside the writer's transactions, so each
change is one commit: a delivery is recorded and its request queued before GitHub gets
its 202 (``deliveries.py``), and a kill -9 at any point leaves either both or neither.

A sync request only says "bring the database to the head". One pending request per
ontology: a burst of pushes upserts into it (coalescing), keeping the strongest kind
and ``force`` of any of them. Each request gets its ``sync_runs`` row (status
``queued``) when it is accepted, and the engine adopts that row, so the run id that
``/admin/resync`` answers with is the one the status page shows.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from syncer.storage import runs

# When requests coalesce, the stronger kind names the run.
KIND_RANK = {"resume": 0, "push": 1, "poll": 1, "reconcile": 2, "resync": 3}
# A run's trigger text is capped: a flood of coalesced pushes names the first few.
TRIGGER_MAX = 500


@dataclass(frozen=True)
class SyncRequest:
    id: int
    kind: str
    force: bool
    run_id: int


def pending_request(conn: sqlite3.Connection, oid: str) -> SyncRequest | None:
    row = conn.execute(
        "SELECT id, kind, force, run_id FROM sync_requests"
        " WHERE ontology_id = ? AND status = 'pending'",
        (oid,),
    ).fetchone()
    return None if row is None else SyncRequest(row[0], row[1], bool(row[2]), row[3])


def request_sync(
    conn: sqlite3.Connection,
    oid: str,
    kind: str,
    force: bool,
    now: str,
    trigger: str | None = None,
) -> SyncRequest:
    """Queue a sync, coalescing into the pending request if there is one; ``trigger`` says
    what asked for it (the run's triggers are joined when requests coalesce)."""
    existing = pending_request(conn, oid)
    if existing is not None:
        kind = kind if KIND_RANK[kind] > KIND_RANK[existing.kind] else existing.kind
        force = force or existing.force
        conn.execute(
            "UPDATE sync_requests SET kind = ?, force = ?, updated_at = ?,"
            " coalesced = coalesced + 1 WHERE id = ?",
            (kind, int(force), now, existing.id),
        )
        conn.execute(
            "UPDATE sync_runs SET kind = ?, force = ?, trigger = substr(CASE"
            " WHEN ? IS NULL THEN trigger WHEN trigger IS NULL THEN ?"
            " ELSE trigger || '; ' || ? END, 1, ?) WHERE id = ?",
            (kind, int(force), trigger, trigger, trigger, TRIGGER_MAX, existing.run_id),
        )
        return SyncRequest(existing.id, kind, force, existing.run_id)
    run = conn.execute(
        "INSERT INTO sync_runs (ontology_id, kind, force, status, started_at, trigger)"
        " VALUES (?, ?, ?, 'queued', ?, substr(?, 1, ?))",
        (oid, kind, int(force), now, trigger, TRIGGER_MAX),
    )
    run_id = int(run.lastrowid or 0)
    cursor = conn.execute(
        "INSERT INTO sync_requests (ontology_id, kind, force, status, requested_at, updated_at,"
        " run_id) VALUES (?, ?, ?, 'pending', ?, ?, ?)",
        (oid, kind, int(force), now, now, run_id),
    )
    return SyncRequest(int(cursor.lastrowid or 0), kind, force, run_id)


def full_run_in_flight(conn: sqlite3.Connection, oid: str) -> bool:
    """Whether a reconciliation or resync is pending or running (one covers the whole tree)."""
    row = conn.execute(
        "SELECT 1 FROM sync_requests WHERE ontology_id = ? AND status IN ('pending', 'running')"
        " AND kind IN ('reconcile', 'resync') LIMIT 1",
        (oid,),
    ).fetchone()
    return row is not None


def claim_request(conn: sqlite3.Connection, oid: str, now: str) -> SyncRequest | None:
    """Take the pending request (atomically: another process may be claiming too)."""
    request = pending_request(conn, oid)
    if request is None:
        return None
    conn.execute(
        "UPDATE sync_requests SET status = 'running', updated_at = ? WHERE id = ?",
        (now, request.id),
    )
    return request


def finish_request(conn: sqlite3.Connection, request_id: int, status: str, now: str) -> None:
    conn.execute(
        "UPDATE sync_requests SET status = ?, updated_at = ? WHERE id = ?",
        (status, now, request_id),
    )


def requeue(conn: sqlite3.Connection, request: SyncRequest, error: str, now: str) -> SyncRequest:
    """Put a cut-off request back: its run is marked interrupted, a new one is queued."""
    conn.execute(
        "UPDATE sync_runs SET status = 'interrupted', finished_at = ?,"
        " error = COALESCE(error, ?) WHERE id = ? AND status != 'failed'",
        (now, error, request.run_id),
    )
    conn.execute("DELETE FROM sync_requests WHERE id = ?", (request.id,))
    return request_sync(
        conn,
        oid_of_run(conn, request.run_id),
        request.kind,
        request.force,
        now,
        f"retry of run #{request.run_id}",
    )


def oid_of_run(conn: sqlite3.Connection, run_id: int) -> str:
    row = conn.execute("SELECT ontology_id FROM sync_runs WHERE id = ?", (run_id,)).fetchone()
    return "default" if row is None else str(row[0])


def recover(conn: sqlite3.Connection, oid: str, now: str) -> SyncRequest | None:
    """On start: requests cut off by a crash go back to pending; leftover tasks resume."""
    running = conn.execute(
        "SELECT id, kind, force, run_id FROM sync_requests"
        " WHERE ontology_id = ? AND status = 'running'",
        (oid,),
    ).fetchall()
    for row in running:
        requeue(conn, SyncRequest(row[0], row[1], bool(row[2]), row[3]), "cut off (restart)", now)
    runs.interrupt_running(conn, oid, now)
    tasks = conn.execute(
        "SELECT count(*) FROM sync_tasks WHERE ontology_id = ?", (oid,)
    ).fetchone()[0]
    if tasks and pending_request(conn, oid) is None:
        request_sync(conn, oid, "resume", False, now, "resume after a restart")
    return pending_request(conn, oid)


def queue_depth(conn: sqlite3.Connection, oid: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM sync_requests WHERE ontology_id = ? AND status = 'pending'", (oid,)
    ).fetchone()
    return int(row[0])
