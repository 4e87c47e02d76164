"""Keeping watch on the branch head for one coordinator: head polls, and the audit of the
webhook's delivery log on GitHub (issue 15, items 1 and 2).

Every SYNCER_POLL_INTERVAL the branch head is asked for (on GitHub a conditional request,
free against the rate limit while the head is unchanged) and noted in ``sync_state``; a
head the database is behind queues a sync as a push would. So a delivery lost to a
deploy, an outage or a proxy is caught within one interval, not at the nightly
reconciliation. A failing poll backs off (retry.poll_delay) and is shown, never fatal.
With SYNCER_GITHUB_HOOK_ID, the hook's delivery log is read at the first poll and every
AUDIT_EVERY polls after it (delivery_audit.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Protocol

from syncer.config import Settings
from syncer.delivery_audit import LostDelivery, lost_deliveries
from syncer.errors import FatalError, SyncerError
from syncer.retry import poll_delay
from syncer.sources.base import HookLog, Source
from syncer.storage import deliveries, requests, runs
from syncer.storage.writer import Writer
from syncer.sync.engine import utc_now

log = logging.getLogger("syncer.service")

# The webhook's delivery log is read at the first head poll and every this many after it.
AUDIT_EVERY = 10


class Watched(Protocol):
    """What the watch needs of its coordinator (sync/coordinator.py's Service)."""

    settings: Settings
    source: Source
    writer: Writer

    @property
    def oid(self) -> str: ...

    @property
    def running_run_id(self) -> int | None: ...

    async def request(
        self, kind: str, force: bool = False, trigger: str | None = None
    ) -> requests.SyncRequest: ...


class HeadWatch:
    def __init__(self, service: Watched, clock: Callable[[], float], rng: random.Random) -> None:
        self.service = service
        self._clock = clock
        self._rng = rng
        self.last_poll: tuple[float, str | None] | None = None  # (epoch, error)
        self.poll_failures = 0  # head polls failed in a row: the next waits longer
        self.next_poll_at: float | None = None  # epoch seconds of the next head poll
        self.last_audit: tuple[float, str | None] | None = None  # (epoch, error)
        self.lost_deliveries: tuple[LostDelivery, ...] = ()
        self._polls = 0

    async def poll_head(self) -> bool:
        """Ask the source for the branch head and note it; queue a sync, as a push would,
        when the database is behind it and nothing is queued or running. True when a sync
        was queued."""
        service = self.service
        if service.running_run_id is not None:
            return False  # the run resolves the head itself; the next poll looks again
        try:
            head = await service.source.resolve_head(service.settings.branch)
        except SyncerError as exc:
            self.last_poll = (self._clock(), str(exc))
            self.poll_failures += 1
            log.warning("head poll failed (%d in a row): %s", self.poll_failures, exc)
            return False
        self.last_poll = (self._clock(), None)
        self.poll_failures = 0
        behind = await service.writer.run(runs.note_head, service.oid, head, utc_now())
        if not behind or service.running_run_id is not None:
            return False
        if await service.writer.read(requests.pending_request, service.oid) is not None:
            return False
        await service.request("poll", trigger=f"head poll: {head[:12]}")
        log.info("head poll: the branch is at %s, ahead of the database; sync queued", head[:12])
        return True

    def next_poll_delay(self) -> float:
        service = self.service
        until = service.source.stats.rate_limited_until
        return poll_delay(
            service.settings.poll_interval,
            self.poll_failures,
            jitter=self._rng.random(),
            rate_limit_wait=None if until is None else until - self._clock(),
        )

    async def audit_deliveries(self) -> bool:
        """Read the webhook's delivery log on GitHub and keep the deliveries the service
        never took; False when there is no audit to make or it failed (the error is kept
        for the status page: a token without admin rights on the hooks, say)."""
        service = self.service
        hook = service.settings.github_hook_id
        if hook is None or not isinstance(service.source, HookLog):
            return False
        try:
            listed = await service.source.hook_deliveries(hook)
        except SyncerError as exc:
            self.last_audit = (self._clock(), str(exc))
            log.warning("delivery log audit failed: %s", exc)
            return False
        guids = [str(row["guid"]) for row in listed if isinstance(row.get("guid"), str)]
        recorded = await service.writer.query(deliveries.recorded_among, guids)
        self.lost_deliveries = tuple(lost_deliveries(listed, recorded))
        self.last_audit = (self._clock(), None)
        if self.lost_deliveries:
            log.warning(
                "%d webhook deliveries never reached the service (see the status page)",
                len(self.lost_deliveries),
            )
        return True

    async def run(self) -> None:
        while True:
            # Real time, not the injected sleep: that one is the retry waits tests observe.
            delay = self.next_poll_delay()
            self.next_poll_at = time.time() + delay
            await asyncio.sleep(delay)
            try:
                await self.poll_head()
                if self._polls % AUDIT_EVERY == 0:
                    await self.audit_deliveries()
                self._polls += 1
            except FatalError as exc:  # the database refuses writes: health says why
                log.error("head poll: %s", exc)
