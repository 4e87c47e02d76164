"""When a reconciliation is overdue, and that the scheduler job is configured as promised."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncer.sources.git import GitSource
from syncer.storage import leases, requests
from syncer.storage.writer import Writer
from syncer.sync.coordinator import Service
from syncer.sync.reconcile import (
    LEASE,
    catch_up,
    holder_is_gone,
    overdue,
    reconcile,
    start_scheduler,
    trigger,
)
from syncer_dev.gitrepo import GitRepo
from tests.support.runs import settings_for

CRON = trigger("0 3 * * *", "UTC")


def test_overdue_when_a_nightly_run_was_missed() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert not overdue(CRON, ("2026-11-23T03:00:01+00:00", "done"), now)
    assert overdue(CRON, ("2026-11-22T03:00:01+00:00", "done"), now)
    assert overdue(CRON, ("2026-11-23T03:00:01+00:00", "interrupted"), now)
    assert overdue(CRON, None, now)


def test_scheduler_job_coalesces_and_never_overlaps(git_repo: GitRepo, db_path: Path) -> None:
    git_repo.commit_files({"a.ttl": "@prefix ex: <https://e.org/> . ex:a ex:b ex:c ."})
    settings = settings_for(git_repo, db_path, reconcile_cron="30 2 * * 1", timezone="Europe/Paris")

    async def go() -> None:
        writer = Writer(db_path)
        service = Service(settings, GitSource(git_repo.path), writer)
        scheduler = start_scheduler(service)
        try:
            job = scheduler.get_job("reconcile")
            assert (job.coalesce, job.max_instances) == (True, 1)
            assert job.misfire_grace_time == 6 * 3600
            fire = job.next_run_time
            assert (fire.weekday(), fire.hour, fire.minute) == (0, 2, 30)
            assert str(fire.tzinfo) == "Europe/Paris"
        finally:
            scheduler.shutdown(wait=False)
            writer.close()

    asyncio.run(go())


def test_crontab_day_numbers_mean_what_crontab_says() -> None:
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday
    for cron, weekday in [("0 3 * * 1", 0), ("0 3 * * 0", 6), ("0 3 * * 7", 6), ("0 3 * * 5", 4)]:
        fire = trigger(cron, "UTC").get_next_fire_time(None, monday)
        assert fire.weekday() == weekday, cron
    fire = trigger("0 3 */2 * 1-5", "UTC").get_next_fire_time(None, monday)
    assert (fire.weekday(), fire.hour) == (0, 3)


def test_catch_up_after_a_missed_or_cut_off_reconciliation(
    git_repo: GitRepo, db_path: Path
) -> None:
    git_repo.commit_files({"a.ttl": "@prefix ex: <https://e.org/> . ex:a ex:b ex:c ."})
    settings = settings_for(git_repo, db_path)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    async def go() -> list[int | None]:
        writer = Writer(db_path)
        service = Service(settings, GitSource(git_repo.path), writer)
        try:
            first = await catch_up(service, now)  # never reconciled: not caught up
            await writer.run(
                lambda c: c.execute(
                    "INSERT INTO sync_runs (ontology_id, kind, force, status, started_at)"
                    " VALUES ('default', 'reconcile', 0, 'done', '2026-11-23T03:00:00+00:00')"
                )
            )
            on_time = await catch_up(service, now)
            missed = await catch_up(service, datetime(2026, 11, 24, 4, 0, tzinfo=UTC))
            # Restarted again before it ran: the pending reconciliation is the catch-up.
            again = await catch_up(service, datetime(2026, 11, 24, 4, 0, tzinfo=UTC))
            pending = await writer.read(
                lambda c: c.execute("SELECT kind, status FROM sync_requests").fetchall()
            )
            assert [tuple(row) for row in pending] == [("reconcile", "pending")]
            return [first, on_time, missed, again]
        finally:
            writer.close()

    first, on_time, missed, again = asyncio.run(go())
    assert (first, on_time) == (None, None)
    assert missed is not None
    assert again is None


def test_no_catch_up_while_a_cut_off_resync_is_resumed(git_repo: GitRepo, db_path: Path) -> None:
    git_repo.commit_files({"a.ttl": "@prefix ex: <https://e.org/> . ex:a ex:b ex:c ."})
    settings = settings_for(git_repo, db_path)

    async def go() -> tuple[int | None, list[tuple[str, str]]]:
        writer = Writer(db_path)
        service = Service(settings, GitSource(git_repo.path), writer)
        try:
            # A resync was running when the process was killed; on start it is requeued.
            request = await writer.run(requests.request_sync, "default", "resync", False, "t0")
            await writer.run(requests.claim_request, "default", "t1")
            await writer.run(
                lambda c: c.execute(
                    "UPDATE sync_runs SET status = 'running' WHERE id = ?", (request.run_id,)
                )
            )
            await writer.run(requests.recover, "default", "t2")
            caught = await catch_up(service, datetime(2026, 11, 24, 4, 0, tzinfo=UTC))
            rows = await writer.read(
                lambda c: c.execute("SELECT kind, status FROM sync_requests").fetchall()
            )
            return caught, [tuple(row) for row in rows]
        finally:
            writer.close()

    caught, queued = asyncio.run(go())
    assert caught is None
    assert queued == [("resync", "pending")]


def exited_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_holder_is_gone_only_for_a_dead_process_of_this_host() -> None:
    host = socket.gethostname()
    assert holder_is_gone(f"{host}:{exited_pid()}", host) is True
    assert holder_is_gone(f"{host}:{os.getppid()}", host) is False  # alive
    assert holder_is_gone(f"{host}:{os.getpid()}", host) is False  # ourselves
    assert holder_is_gone(f"elsewhere:{exited_pid()}", host) is False  # cannot ask
    assert holder_is_gone(f"{host}:notapid", host) is False
    assert holder_is_gone("a:b:1", "a:b", lambda pid: False) is True  # host with a colon


def test_a_lease_left_by_a_killed_process_is_taken_over_a_live_ones_is_not(
    git_repo: GitRepo, db_path: Path
) -> None:
    git_repo.commit_files({"a.ttl": "@prefix ex: <https://e.org/> . ex:a ex:b ex:c ."})
    settings = settings_for(git_repo, db_path)
    host = socket.gethostname()
    ttl = timedelta(hours=6)

    async def attempt(holder: str) -> tuple[int | None, tuple[str, str] | None]:
        writer = Writer(db_path)
        service = Service(settings, GitSource(git_repo.path), writer)
        try:
            await writer.run(lambda c: c.execute("DELETE FROM leases"))
            # The holder took the lease a minute ago, good for hours more.
            taken = datetime.now(UTC) - timedelta(minutes=1)
            assert await writer.run(leases.take_lease, LEASE, holder, taken, ttl)
            run_id = await reconcile(service)
            return run_id, await writer.read(leases.lease_holder, LEASE)
        finally:
            writer.close()

    alive = f"{host}:{os.getppid()}"
    run_id, holder = asyncio.run(attempt(alive))
    assert run_id is None and holder is not None and holder[0] == alive
    killed = f"{host}:{exited_pid()}"
    run_id, holder = asyncio.run(attempt(killed))
    assert run_id is not None
    assert holder is not None and holder[0] == f"{host}:{os.getpid()}"
