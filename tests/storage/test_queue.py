"""The durable queue: coalescing, claiming, crash recovery, deliveries, leases."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncer.storage import deliveries, leases, requests
from syncer.storage.db import connect, immediate

NOW = "2026-11-23T01:00:00.000+00:00"


def conn_for(db: Path) -> sqlite3.Connection:
    return connect(db)


def test_burst_of_requests_coalesces_into_one_pending(db_path: Path) -> None:
    conn = conn_for(db_path)
    with immediate(conn):
        first = requests.request_sync(conn, "default", "push", False, NOW)
        second = requests.request_sync(conn, "default", "push", False, NOW)
        third = requests.request_sync(conn, "default", "resync", True, NOW)
        fourth = requests.request_sync(conn, "default", "push", False, NOW)
    assert first.id == second.id == third.id == fourth.id
    assert first.run_id == fourth.run_id
    assert (fourth.kind, fourth.force) == ("resync", True)
    assert requests.queue_depth(conn, "default") == 1
    run = conn.execute("SELECT kind, force, status FROM sync_runs").fetchall()
    assert [tuple(r) for r in run] == [("resync", 1, "queued")]


def test_claim_then_a_new_request_is_a_new_pending_one(db_path: Path) -> None:
    conn = conn_for(db_path)
    with immediate(conn):
        first = requests.request_sync(conn, "default", "push", False, NOW)
        claimed = requests.claim_request(conn, "default", NOW)
        assert requests.claim_request(conn, "default", NOW) is None
        second = requests.request_sync(conn, "default", "push", False, NOW)
    assert claimed == first
    assert second.id != first.id and second.run_id != first.run_id


def test_recover_requeues_cut_off_requests_and_leftover_tasks(db_path: Path) -> None:
    conn = conn_for(db_path)
    with immediate(conn):
        request = requests.request_sync(conn, "default", "reconcile", True, NOW)
        requests.claim_request(conn, "default", NOW)
        conn.execute("UPDATE sync_runs SET status = 'running' WHERE id = ?", (request.run_id,))
        resumed = requests.recover(conn, "default", NOW)
    assert resumed is not None
    assert (resumed.kind, resumed.force) == ("reconcile", True)
    assert resumed.run_id != request.run_id
    status = conn.execute("SELECT status FROM sync_runs WHERE id = ?", (request.run_id,))
    assert status.fetchone()[0] == "interrupted"

    with immediate(conn):
        requests.claim_request(conn, "default", NOW)
        requests.finish_request(conn, resumed.id, "done", NOW)
        conn.execute(
            "INSERT INTO sync_tasks (ontology_id, path, action, blob_sha) VALUES"
            " ('default', 'a.ttl', 'upsert', 'abc')"
        )
        leftover = requests.recover(conn, "default", NOW)
    assert leftover is not None and leftover.kind == "resume"


def test_a_delivery_id_is_recorded_once(db_path: Path) -> None:
    conn = conn_for(db_path)
    row = deliveries.DeliveryRow("d-1", "push", "queued", "ok", "acme/o", "refs/heads/main", "a", 1)
    with immediate(conn):
        assert deliveries.record_delivery(conn, row, NOW)
        assert not deliveries.record_delivery(conn, row, NOW)
    assert deliveries.delivery_seen(conn, "d-1")
    assert deliveries.deliveries_by_outcome(conn) == {"queued": 1}


def test_lease_is_exclusive_until_it_expires(db_path: Path) -> None:
    a, b = conn_for(db_path), conn_for(db_path)
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    ttl = timedelta(hours=1)
    with immediate(a):
        assert leases.take_lease(a, "reconcile", "host-a:1", now, ttl)
    with immediate(b):
        assert not leases.take_lease(b, "reconcile", "host-b:2", now + timedelta(minutes=5), ttl)
    with immediate(a):
        assert leases.take_lease(a, "reconcile", "host-a:1", now + timedelta(minutes=5), ttl)
    with immediate(b):
        assert leases.take_lease(b, "reconcile", "host-b:2", now + timedelta(hours=2), ttl)
    assert leases.lease_holder(b, "reconcile") == (
        "host-b:2",
        (now + timedelta(hours=3)).isoformat(),
    )
    with immediate(b):
        leases.release_lease(b, "reconcile", "host-a:1")  # not the holder: no effect
    assert leases.lease_holder(b, "reconcile") is not None
    with immediate(b):
        leases.release_lease(b, "reconcile", "host-b:2")
    assert leases.lease_holder(b, "reconcile") is None
