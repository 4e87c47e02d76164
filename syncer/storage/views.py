"""What the status page, ``/status.json``, ``/metrics`` and ``syncer status`` read from the
database: plain functions of ``(conn, ontology_id)``, so any caller (the web layer through
``Writer.query``, the CLI on its own connection) reads the same figures the same way."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from syncer.storage import deliveries, requests, runs

COUNTED_TABLES = {
    "files": "source_files",
    "classes": "owl_classes",
    "hierarchy": "owl_class_hierarchy",
    "properties": "owl_properties",
    "axioms": "owl_axioms",
    "nodes": "kg_nodes",
    "edges": "kg_edges",
}
FILE_STATUSES = ("ok", "failed", "skipped")


def files_by_status(conn: sqlite3.Connection, oid: str) -> dict[str, int]:
    found = {
        str(r[0]): int(r[1])
        for r in conn.execute(
            "SELECT status, count(*) FROM source_files WHERE ontology_id = ? GROUP BY status",
            (oid,),
        )
    }
    return {k: found.get(k, 0) for k in FILE_STATUSES}


def collect(conn: sqlite3.Connection, oid: str, *, failed_limit: int = 50) -> dict[str, Any]:
    """The database's side of the status: counts, files, the synced commit, recent runs."""
    counts = {
        name: int(
            conn.execute(f"SELECT count(*) FROM {table} WHERE ontology_id = ?", (oid,)).fetchone()[
                0
            ]
        )
        for name, table in COUNTED_TABLES.items()
    }
    failed = [
        {"path": r[0], "error": r[1], "blob_sha": r[2]}
        for r in conn.execute(
            "SELECT path, error, blob_sha FROM source_files WHERE ontology_id = ?"
            " AND status = 'failed' ORDER BY path LIMIT ?",
            (oid, failed_limit),
        )
    ]
    state = runs.sync_state(conn, oid)
    return {
        "ontology_id": oid,
        "synced_commit": state.synced_commit,
        "synced_at": state.synced_at,
        "head_commit": state.head_commit,
        "head_checked_at": state.head_checked_at,
        "behind_since": state.behind_since,
        "counts": counts,
        "files_by_status": files_by_status(conn, oid),
        "pending_tasks": runs.count_tasks(conn, oid),
        "failed_files": failed,
        "runs": [run.__dict__ for run in runs.recent_runs(conn, oid)],
    }


def collect_for_page(conn: sqlite3.Connection, oid: str) -> dict[str, Any]:
    """:func:`collect` plus what only the service's page shows: queue, deliveries, full runs."""
    data = collect(conn, oid)
    data["queue_depth"] = requests.queue_depth(conn, oid)
    data["deliveries"] = deliveries.recent_deliveries(conn)
    data["reconciliations"] = runs.recent_full_runs(conn, oid)
    return data


@dataclass(frozen=True)
class MetricFigures:
    """What /metrics reads from the database: durable across restarts."""

    deliveries_by_outcome: dict[str, int]
    runs_by_status: dict[str, int]
    files_by_status: dict[str, int]
    queue_depth: int
    state: runs.SyncState


def metric_figures(conn: sqlite3.Connection, oid: str) -> MetricFigures:
    return MetricFigures(
        deliveries_by_outcome=deliveries.deliveries_by_outcome(conn),
        runs_by_status=runs.runs_by_status(conn, oid),
        files_by_status=files_by_status(conn, oid),
        queue_depth=requests.queue_depth(conn, oid),
        state=runs.sync_state(conn, oid),
    )
