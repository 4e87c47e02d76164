"""What the status page, ``/status.json`` and ``syncer status`` show, read from the database."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from syncer.config import Settings
from syncer.storage import runs

COUNTED_TABLES = {
    "files": "source_files",
    "classes": "owl_classes",
    "hierarchy": "owl_class_hierarchy",
    "properties": "owl_properties",
    "axioms": "owl_axioms",
    "nodes": "kg_nodes",
    "edges": "kg_edges",
}


def collect(
    conn: sqlite3.Connection, settings: Settings, *, failed_limit: int = 50
) -> dict[str, Any]:
    oid = settings.ontology_id
    counts = {
        name: int(
            conn.execute(f"SELECT count(*) FROM {table} WHERE ontology_id = ?", (oid,)).fetchone()[
                0
            ]
        )
        for name, table in COUNTED_TABLES.items()
    }
    by_status = {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT status, count(*) FROM source_files WHERE ontology_id = ? GROUP BY status",
            (oid,),
        )
    }
    failed = [
        {"path": r[0], "error": r[1], "blob_sha": r[2]}
        for r in conn.execute(
            "SELECT path, error, blob_sha FROM source_files WHERE ontology_id = ?"
            " AND status = 'failed' ORDER BY path LIMIT ?",
            (oid, failed_limit),
        )
    ]
    state = conn.execute(
        "SELECT source, branch, synced_commit, synced_at FROM sync_state WHERE ontology_id = ?",
        (oid,),
    ).fetchone()
    return {
        "ontology_id": oid,
        "source": settings.source_label,
        "branch": settings.branch,
        "synced_commit": state["synced_commit"] if state else None,
        "synced_at": state["synced_at"] if state else None,
        "counts": counts,
        "files_by_status": {k: by_status.get(k, 0) for k in ("ok", "failed", "skipped")},
        "pending_tasks": runs.count_tasks(conn, oid),
        "failed_files": failed,
        "runs": [run.__dict__ for run in runs.recent_runs(conn, oid)],
    }


def render_text(data: dict[str, Any]) -> str:
    lines = [
        f"source:        {data['source']} ({data['branch'] or 'default branch'})",
        f"synced commit: {data['synced_commit'] or 'never synced'}"
        + (f" at {data['synced_at']}" if data["synced_at"] else ""),
        "files:         " + ", ".join(f"{v} {k}" for k, v in data["files_by_status"].items()),
        "rows:          "
        + ", ".join(f"{v} {k}" for k, v in data["counts"].items() if k != "files"),
        f"pending tasks: {data['pending_tasks']}",
    ]
    if data["runs"]:
        lines.append("recent runs:")
        for run in data["runs"][:5]:
            lines.append(
                f"  #{run['id']} {run['kind']:<9} {run['status']:<11} {run['started_at']}"
                f"  {run['processed']} processed, {run['failed']} failed, {run['deleted']} deleted"
                + (f"  ({run['error']})" if run["error"] else "")
            )
    if data["failed_files"]:
        lines.append("failed files:")
        lines.extend(f"  {f['path']}: {f['error']}" for f in data["failed_files"])
    return "\n".join(lines)


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
