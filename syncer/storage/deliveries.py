"""Webhook deliveries seen (migrations/0002_service.sql): dedupe by delivery id, the record
the status page lists, the counts /metrics exports."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from syncer.storage import requests
from syncer.webhook import Decision, Delivery


@dataclass(frozen=True)
class DeliveryRow:
    id: str
    event: str
    outcome: str
    reason: str | None
    repository: str | None
    ref: str | None
    after: str | None
    run_id: int | None


def delivery_seen(conn: sqlite3.Connection, delivery_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
    return row is not None


def record_delivery(conn: sqlite3.Connection, row: DeliveryRow, now: str) -> bool:
    """Insert the delivery; False when its id was already recorded (a redelivery)."""
    cursor = conn.execute(
        "INSERT INTO deliveries (id, event, received_at, outcome, reason, repository, ref,"
        " after, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        (
            row.id,
            row.event,
            now,
            row.outcome,
            row.reason,
            row.repository,
            row.ref,
            row.after,
            row.run_id,
        ),
    )
    return cursor.rowcount == 1


def recent_deliveries(conn: sqlite3.Connection, limit: int = 20) -> list[dict[str, object]]:
    rows = conn.execute(
        "SELECT id, event, received_at, outcome, reason, ref, run_id FROM deliveries"
        " ORDER BY received_at DESC, rowid DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        dict(
            zip(
                ("id", "event", "received_at", "outcome", "reason", "ref", "run_id"), r, strict=True
            )
        )
        for r in rows
    ]


def deliveries_by_outcome(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        r[0]: int(r[1])
        for r in conn.execute("SELECT outcome, count(*) FROM deliveries GROUP BY outcome")
    }


def recorded_among(conn: sqlite3.Connection, delivery_ids: Sequence[str]) -> set[str]:
    """Which of ``delivery_ids`` the service recorded (the delivery log audit)."""
    found: set[str] = set()
    for start in range(0, len(delivery_ids), 500):  # within SQLite's variable limit
        chunk = list(delivery_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        found.update(
            str(r[0])
            for r in conn.execute(f"SELECT id FROM deliveries WHERE id IN ({marks})", chunk)
        )
    return found


def take_delivery(
    conn: sqlite3.Connection, oid: str, delivery: Delivery, decision: Decision
) -> tuple[bool, int | None]:
    """One transaction: dedupe, record the delivery, queue the sync it asks for; (recorded,
    run id). Group-committed with the deliveries that arrive with it (web/app.py)."""
    if delivery_seen(conn, delivery.id):
        return False, None
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    run_id = None
    if decision.enqueue:
        after = (delivery.after or "?")[:12]
        trigger = f"push of {after} (delivery {delivery.id})"
        run_id = requests.request_sync(conn, oid, "push", False, now, trigger).run_id
    record_delivery(
        conn,
        DeliveryRow(
            id=delivery.id,
            event=delivery.event,
            outcome=decision.outcome,
            reason=decision.reason,
            repository=delivery.repository,
            ref=delivery.ref,
            after=delivery.after,
            run_id=run_id,
        ),
        now,
    )
    return True, run_id
