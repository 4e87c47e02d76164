"""Bookkeeping of runs: the run log, the task table (the checkpoint), the synced commit.

Every statement on ``sync_runs``, ``sync_tasks`` and ``sync_state`` is written here, once.

Plain functions over a connection; the writer thread calls them inside transactions.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from syncer.planner import Plan


@dataclass(frozen=True)
class RunRow:
    id: int
    kind: str
    status: str
    target_commit: str | None
    started_at: str
    finished_at: str | None
    planned: int
    processed: int
    failed: int
    deleted: int
    requests: int
    error: str | None
    trigger: str | None


def interrupt_running(conn: sqlite3.Connection, oid: str, now: str, *, keep: int = 0) -> None:
    """A run still marked running (but ``keep``) was cut off by a crash or kill -9: say so."""
    conn.execute(
        "UPDATE sync_runs SET status = 'interrupted', finished_at = ?,"
        " error = COALESCE(error, 'cut off before it finished')"
        " WHERE ontology_id = ? AND status = 'running' AND id != ?",
        (now, oid, keep),
    )


def start_run(
    conn: sqlite3.Connection, oid: str, kind: str, force: bool, now: str, trigger: str | None = None
) -> int:
    interrupt_running(conn, oid, now)
    cursor = conn.execute(
        "INSERT INTO sync_runs (ontology_id, kind, force, status, started_at, trigger)"
        " VALUES (?, ?, ?, 'running', ?, ?)",
        (oid, kind, int(force), now, trigger),
    )
    return int(cursor.lastrowid or 0)


def adopt_run(conn: sqlite3.Connection, oid: str, run_id: int, now: str) -> None:
    """Start a run row queued earlier (the service creates it when it accepts a request)."""
    interrupt_running(conn, oid, now, keep=run_id)
    conn.execute(
        "UPDATE sync_runs SET status = 'running', started_at = ?, error = NULL WHERE id = ?",
        (now, run_id),
    )


def record_plan(conn: sqlite3.Connection, oid: str, run_id: int, plan: Plan) -> None:
    """Replace the task table with this plan: stale tasks of earlier runs are dropped."""
    conn.execute("DELETE FROM sync_tasks WHERE ontology_id = ?", (oid,))
    conn.executemany(
        "INSERT INTO sync_tasks (ontology_id, path, action, blob_sha, size, commit_sha, run_id)"
        " VALUES (?, ?, 'upsert', ?, ?, ?, ?)",
        [(oid, e.path, e.blob_sha, e.size, plan.commit, run_id) for e in plan.upserts],
    )
    conn.executemany(
        "INSERT INTO sync_tasks (ontology_id, path, action, commit_sha, run_id)"
        " VALUES (?, ?, 'delete', ?, ?)",
        [(oid, path, plan.commit, run_id) for path in plan.deletes],
    )
    conn.execute(
        "UPDATE sync_runs SET target_commit = ?, planned = ? WHERE id = ?",
        (plan.commit, len(plan.upserts) + len(plan.deletes), run_id),
    )


def finish_task(conn: sqlite3.Connection, oid: str, path: str) -> None:
    conn.execute("DELETE FROM sync_tasks WHERE ontology_id = ? AND path = ?", (oid, path))


def count_tasks(conn: sqlite3.Connection, oid: str) -> int:
    row = conn.execute("SELECT count(*) FROM sync_tasks WHERE ontology_id = ?", (oid,)).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class RunCounts:
    status: str
    now: str
    processed: int
    failed: int
    deleted: int
    requests: int
    error: str | None


def finish_run(conn: sqlite3.Connection, run_id: int, c: RunCounts) -> None:
    conn.execute(
        "UPDATE sync_runs SET status = ?, finished_at = ?, processed = ?, failed = ?,"
        " deleted = ?, requests = ?, error = ? WHERE id = ?",
        (c.status, c.now, c.processed, c.failed, c.deleted, c.requests, c.error, run_id),
    )


def set_synced(
    conn: sqlite3.Connection, oid: str, source: str, branch: str | None, commit: str, now: str
) -> None:
    """The run reached ``commit``, which was the head it resolved: in step since now."""
    conn.execute(
        "INSERT INTO sync_state (ontology_id, source, branch, synced_commit, synced_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (ontology_id) DO UPDATE SET source = excluded.source,"
        " branch = excluded.branch, synced_commit = excluded.synced_commit,"
        " synced_at = excluded.synced_at",
        (oid, source, branch, commit, now),
    )
    note_head(conn, oid, commit, now)


def note_head(conn: sqlite3.Connection, oid: str, head: str, now: str) -> bool:
    """The branch head seen now (by a run or a poll); True when the database is behind it.

    ``behind_since`` keeps the first time the head was seen ahead of the synced commit, so
    "behind for N seconds" survives restarts and repeated polls.
    """
    conn.execute(
        "INSERT INTO sync_state (ontology_id) VALUES (?) ON CONFLICT (ontology_id) DO NOTHING",
        (oid,),
    )
    conn.execute(
        "UPDATE sync_state SET head_commit = ?, head_checked_at = ?, behind_since = CASE"
        " WHEN synced_commit IS ? THEN NULL ELSE COALESCE(behind_since, ?) END"
        " WHERE ontology_id = ?",
        (head, now, head, now, oid),
    )
    state = conn.execute(
        "SELECT synced_commit FROM sync_state WHERE ontology_id = ?", (oid,)
    ).fetchone()
    return bool(state[0] != head)


@dataclass(frozen=True)
class SyncState:
    synced_commit: str | None
    synced_at: str | None
    head_commit: str | None
    head_checked_at: str | None
    behind_since: str | None


def sync_state(conn: sqlite3.Connection, oid: str) -> SyncState:
    """Where the database is and where the branch head was last seen."""
    row = conn.execute(
        "SELECT synced_commit, synced_at, head_commit, head_checked_at, behind_since"
        " FROM sync_state WHERE ontology_id = ?",
        (oid,),
    ).fetchone()
    return SyncState(None, None, None, None, None) if row is None else SyncState(*tuple(row))


def synced_commit(conn: sqlite3.Connection, oid: str) -> str | None:
    return sync_state(conn, oid).synced_commit


def recent_runs(conn: sqlite3.Connection, oid: str, limit: int = 10) -> list[RunRow]:
    rows = conn.execute(
        "SELECT id, kind, status, target_commit, started_at, finished_at, planned, processed,"
        " failed, deleted, requests, error, trigger FROM sync_runs WHERE ontology_id = ?"
        " ORDER BY id DESC LIMIT ?",
        (oid, limit),
    ).fetchall()
    return [RunRow(*tuple(r)) for r in rows]


def runs_by_status(conn: sqlite3.Connection, oid: str) -> dict[str, int]:
    return {
        str(r[0]): int(r[1])
        for r in conn.execute(
            "SELECT status, count(*) FROM sync_runs WHERE ontology_id = ? GROUP BY status", (oid,)
        )
    }


def last_ended_status(conn: sqlite3.Connection, oid: str) -> str | None:
    """The status of the newest run that is neither queued nor running."""
    row = conn.execute(
        "SELECT status FROM sync_runs WHERE ontology_id = ?"
        " AND status NOT IN ('queued', 'running') ORDER BY id DESC LIMIT 1",
        (oid,),
    ).fetchone()
    return None if row is None else str(row[0])


FULL_RUN_KINDS = ("reconcile", "resync")


def last_full_run(conn: sqlite3.Connection, oid: str) -> tuple[str, str] | None:
    """(started_at, status) of the newest reconcile/resync run that started."""
    row = conn.execute(
        "SELECT started_at, status FROM sync_runs WHERE ontology_id = ?"
        " AND kind IN ('reconcile', 'resync') AND status != 'queued'"
        " ORDER BY id DESC LIMIT 1",
        (oid,),
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def recent_full_runs(
    conn: sqlite3.Connection, oid: str, limit: int = 10
) -> list[dict[str, object]]:
    return [
        dict(r)
        for r in conn.execute(
            "SELECT id, kind, status, started_at, finished_at, processed, failed, error"
            " FROM sync_runs WHERE ontology_id = ? AND kind IN ('reconcile', 'resync')"
            " ORDER BY id DESC LIMIT ?",
            (oid, limit),
        )
    ]
