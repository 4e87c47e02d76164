"""Nightly reconciliation: APScheduler 3.x cron, a lease so one process reconciles, catch-up.

Webhooks get lost (GitHub does not redeliver failed deliveries on its own,
https://docs.github.com/en/webhooks/using-webhooks/best-practices-for-using-webhooks),
so a scheduled full reconciliation re-plans the whole tree against the database. With
several processes on one database, the ``leases`` row makes sure only one of them queues
it. Its owner is ``host:pid``; it expires on its own after LEASE_TTL if its holder dies,
and sooner when the holder is a process of this host that no longer exists (a kill -9:
the restarted service has another pid and would otherwise skip reconciling for hours).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from syncer.storage import leases, requests, runs
from syncer.sync.coordinator import Service

log = logging.getLogger("syncer.reconcile")

LEASE = "reconcile"
LEASE_TTL = timedelta(hours=6)


DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab_days(field: str) -> str:
    """Crontab's day-of-week numbers (0 or 7 = Sunday) as names.

    APScheduler 3.x numbers days from Monday = 0 and ``from_crontab`` passes the field
    through unchanged, so ``* * * * 1`` would fire on Tuesdays; names mean the same to both.
    """
    return re.sub(r"(?<![/\d])([0-7])(?!\d)", lambda m: DAY_NAMES[int(m.group(1))], field)


def trigger(cron: str, timezone: str) -> CronTrigger:
    fields = cron.split()
    if len(fields) == 5:
        fields[4] = crontab_days(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def holder_is_gone(owner: str, host: str, exists: Callable[[int], bool] = pid_exists) -> bool:
    """Whether lease owner ``host:pid`` is a process of ``host`` that no longer exists.

    Only this host's processes can be asked; one elsewhere is waited out (LEASE_TTL).
    """
    owner_host, _, pid = owner.rpartition(":")
    return owner_host == host and pid.isdigit() and not exists(int(pid))


def lease_name(oid: str) -> str:
    """One lease per ontology: several repositories reconcile each on its own."""
    return LEASE if oid == "default" else f"{LEASE}:{oid}"


async def reconcile(
    service: Service,
    *,
    kind: str = "reconcile",
    force: bool = False,
    trigger: str = "nightly reconciliation",
) -> int | None:
    """Queue a reconciliation unless another live process holds the lease; the run id or None."""
    now = datetime.now(UTC)
    lease = lease_name(service.oid)
    took = await service.writer.run(leases.take_lease, lease, service.owner, now, LEASE_TTL)
    if not took:
        holder = await service.writer.read(leases.lease_holder, lease)
        host = service.owner.rpartition(":")[0]  # owners are host:pid (Service.owner)
        if holder is not None and holder_is_gone(holder[0], host):
            log.warning("taking over the reconciliation lease of %s: it has exited", holder[0])
            took = await service.writer.run(
                leases.take_over_lease, lease, service.owner, holder[0], now, LEASE_TTL
            )
    if not took:
        log.info("reconciliation skipped: another process holds the lease")
        return None
    request = await service.request(kind, force, trigger)
    log.info("reconciliation queued as run %s", request.run_id)
    return request.run_id


def overdue(cron: CronTrigger, last: tuple[str, str] | None, now: datetime) -> bool:
    """Whether a reconciliation is due: none ever ran, the last was cut off, or a scheduled
    one was missed. (``catch_up`` leaves out the first case: a new deployment waits.)"""
    if last is None:
        return True
    started, status = last
    if status in ("interrupted", "failed", "running"):
        return True
    # The next fire time strictly after the last start (a run starts at its fire time).
    previous = datetime.fromisoformat(started) + timedelta(seconds=1)
    due = cron.get_next_fire_time(None, previous)
    return due is not None and due <= now


async def catch_up(service: Service, now: datetime | None = None) -> int | None:
    """On start: reconcile now if the last one was cut off or a scheduled one was missed.

    A first start (no reconciliation ever) is not caught up: the first push, resync or
    nightly run covers it, and a new deployment should not start with a full run.
    """
    last = await service.writer.query(runs.last_full_run, service.oid)
    cron = trigger(service.settings.reconcile_cron, service.settings.timezone)
    if last is None or not overdue(cron, last, now or datetime.now(UTC)):
        return None
    if await service.writer.read(requests.full_run_in_flight, service.oid):
        # The one a crash cut off is being resumed (Service.start requeued it): it is the
        # catch-up. Queueing another would run the whole tree twice.
        return None
    log.info("catching up a reconciliation (last: %s, %s)", *last)
    return await reconcile(service, trigger=f"reconciliation caught up on start (last: {last[1]})")


def start_scheduler(*services: Service) -> AsyncIOScheduler:
    """Started inside the lifespan (it needs the running loop); shut down there too. One job
    per repository, all on the shared cron (each takes its own lease)."""
    settings = services[0].settings
    cron = trigger(settings.reconcile_cron, settings.timezone)
    scheduler = AsyncIOScheduler(timezone=settings.timezone)
    for service in services:
        scheduler.add_job(
            reconcile,
            cron,
            args=[service],
            id=lease_name(service.oid),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=6 * 3600,
            replace_existing=True,
        )
    scheduler.start()
    return scheduler
