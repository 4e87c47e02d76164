"""When a reconciliation is overdue, and that the scheduler job is configured as promised."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from syncer.reconcile import catch_up, overdue, start_scheduler, trigger
from syncer.service import Service
from syncer.sources.git import GitSource
from syncer.testing.gitrepo import GitRepo
from syncer.writer import Writer
from tests.conftest import settings_for

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
            again = await catch_up(service, datetime(2026, 11, 24, 4, 0, tzinfo=UTC))
            return [first, on_time, missed, again]
        finally:
            writer.close()

    first, on_time, missed, again = asyncio.run(go())
    assert (first, on_time) == (None, None)
    assert missed is not None
    assert again == missed  # the same holder renews its lease; the request coalesces
