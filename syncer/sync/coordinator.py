"""The coordinator: one task consumes sync requests and runs the engine, one run at a time.

Requests are durable rows (``requests.py``); the coordinator is woken by an event when one is
queued, and on start it first recovers what a crash left behind (requests cut off
mid-run, leftover tasks), so a kill -9 loses nothing. Stopping cancels the run: the
transaction on the writer thread finishes or rolls back, and the request is put back as
pending, so queued work stays queued for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from syncer.config import Settings
from syncer.delivery_audit import LostDelivery
from syncer.errors import FatalError
from syncer.retry import RETRY_BASE, retry_delay
from syncer.sources.base import Source
from syncer.storage import leases, requests
from syncer.storage.writer import Writer
from syncer.sync.engine import SyncEngine, utc_now
from syncer.sync.progress import NoObserver, Progress, RunObserver, RunResult, RunView
from syncer.sync.watch import HeadWatch

log = logging.getLogger("syncer.service")
# Bursts of pushes: the first push after a quiet spell starts its run at once, but pushes that
# arrive while a run is going wait, after it, until none has come for PUSH_QUIET seconds, and
# no longer than PUSH_MAX_WAIT after that run ended. A flood of deliveries then costs one run
# (two source requests for a no-op one) every few seconds instead of one per run's length.
PUSH_QUIET, PUSH_MAX_WAIT = 0.25, 5.0


@dataclass
class Counters:
    """In-memory figures for /metrics that the database does not keep."""

    run_seconds: deque[tuple[int, str, float]] = field(default_factory=lambda: deque(maxlen=50))
    fatal: str | None = None
    # Webhook deliveries answered 4xx and not recorded (bad signature, too large, malformed,
    # another repository), by status: the database holds no trace of them.
    refused: Counter[int] = field(default_factory=Counter)


@dataclass(frozen=True)
class Snapshot:
    """What the coordinator knows and the database does not, at one moment: read by the
    status page and /metrics, which never reach into the coordinator itself."""

    run: RunView | None  # the run going now
    last_run: RunView | None  # the newest run of this process, going or ended
    request: requests.SyncRequest | None  # the request being run
    workers: int
    fatal: str | None  # the storage fault that stopped the last run, until one succeeds
    next_retry_at: float | None  # epoch seconds, while an interrupted run waits
    rate_limited_until: float | None  # epoch seconds, from the source's last answer
    source_requests: int
    refused: tuple[tuple[int, int], ...]  # (HTTP status, deliveries refused)
    run_seconds: tuple[tuple[int, str, float], ...]  # (run id, status, seconds), newest last
    last_poll: tuple[float, str | None] | None  # (epoch seconds, error) of the last head poll
    poll_interval: int
    next_poll_at: float | None  # epoch seconds; later than the interval after failures
    # GitHub's delivery log, audited (None: no audit; SYNCER_GITHUB_HOOK_ID unset)
    last_audit: tuple[float, str | None] | None  # (epoch seconds, error)
    lost_deliveries: tuple[LostDelivery, ...]


class Service:
    def __init__(
        self,
        settings: Settings,
        source: Source,
        writer: Writer,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
        observer: RunObserver | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.writer = writer
        self.observer: RunObserver = observer or NoObserver()
        self.engine = SyncEngine(settings, source, writer, observer=self.observer)
        self._counted = False  # among writer.services, from start() to stop()
        self._busy = False  # among writer.busy, from a request to idle
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.counters = Counters()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._current: requests.SyncRequest | None = None
        self.idle = asyncio.Event()
        self._sleep = sleep or asyncio.sleep  # injected by tests, with the clock
        self._clock = clock or time.time
        self._rng = rng or random.Random()
        # Head polls and the webhook's delivery log audit (sync/watch.py).
        self.watch = HeadWatch(self, self._clock, self._rng)
        self.interruptions = 0  # interrupted runs in a row
        self.next_retry_at: float | None = None  # epoch seconds, while waiting to retry
        self._recover = False  # a storage fault cut a request off: requeue it first
        self._refused = False  # a delivery was refused (503) by a storage fault
        self._last_push = 0.0  # time.monotonic() of the last queued push
        self._pushes_during_run = 0  # pushes queued while the last run was going
        self._last_run_end = 0.0

    @property
    def oid(self) -> str:
        return self.settings.ontology_id

    @property
    def progress(self) -> Progress | None:
        return self.engine.progress if self._current is not None else None

    @property
    def running_run_id(self) -> int | None:
        return self._current.run_id if self._current is not None else None

    def snapshot(self) -> Snapshot:
        progress = self.engine.progress
        stats = self.source.stats
        return Snapshot(
            run=progress.view() if progress is not None and self._current is not None else None,
            last_run=progress.view() if progress is not None else None,
            request=self._current,
            workers=self.settings.workers,
            fatal=self.counters.fatal,
            next_retry_at=self.next_retry_at,
            rate_limited_until=stats.rate_limited_until,
            source_requests=stats.requests,
            refused=tuple(sorted(self.counters.refused.items())),
            run_seconds=tuple(self.counters.run_seconds),
            last_poll=self.watch.last_poll,
            poll_interval=self.settings.poll_interval,
            next_poll_at=self.watch.next_poll_at,
            last_audit=self.watch.last_audit,
            lost_deliveries=self.watch.lost_deliveries,
        )

    def note_refused(self, status_code: int) -> None:
        """A webhook delivery was answered ``status_code`` and not recorded."""
        self.counters.refused[status_code] += 1

    async def start(self) -> None:
        # Several coordinators on one writer: it is shared, file batches stay short.
        self.writer.services += 1
        self._counted = True
        try:
            pending = await self.writer.run(requests.recover, self.oid, utc_now())
        except FatalError as exc:
            # A read-only or full database: serve anyway (health says why) and keep trying.
            log.error("storage fault on start: %s", exc)
            self.counters.fatal = str(exc)
            self._recover = True
            pending = None
        if pending is not None:
            log.info("resuming request %s (run %s) after restart", pending.id, pending.run_id)
        self._task = asyncio.create_task(self._loop(), name="syncer-coordinator")
        if self.settings.poll_interval > 0:
            self._poll_task = asyncio.create_task(self.watch.run(), name="syncer-head-poll")
        self._wake.set()

    async def stop(self) -> None:
        self._set_busy(False)
        if self._counted:
            self.writer.services -= 1
            self._counted = False
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
            self._poll_task = None
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def request(
        self, kind: str, force: bool = False, trigger: str | None = None
    ) -> requests.SyncRequest:
        self._set_busy(True)  # before queueing it: others' batches shorten from now
        request = await self.writer.run(
            requests.request_sync, self.oid, kind, force, utc_now(), trigger
        )
        self.notify()
        return request

    def pushed(self) -> None:
        """A push was queued: wake the coordinator, and note it for coalescing bursts."""
        self._last_push = time.monotonic()
        if self._current is not None:
            self._pushes_during_run += 1
        self.notify()

    async def _settle(self) -> None:
        """Before the run after one that saw pushes arrive, wait for the burst to settle
        (PUSH_QUIET without a push, PUSH_MAX_WAIT at most) while they coalesce. Real time,
        not the injected sleep and clock: those are the retry waits that tests observe."""
        if self._pushes_during_run == 0:
            return
        pending = await self.writer.read(requests.pending_request, self.oid)
        if pending is None or pending.kind != "push":
            return
        while True:
            now = time.monotonic()
            quiet, waited = now - self._last_push, now - self._last_run_end
            if quiet >= PUSH_QUIET or waited >= PUSH_MAX_WAIT:
                return
            await asyncio.sleep(min(PUSH_QUIET - quiet, PUSH_MAX_WAIT - waited))

    def notify(self) -> None:
        self._set_busy(True)
        self.idle.clear()
        self._wake.set()

    def _set_busy(self, busy: bool) -> None:
        """Count this coordinator in ``writer.busy`` while it has work: others sharing the
        writer then keep their file batches short (file_batches.py)."""
        if busy != self._busy:
            self._busy = busy
            self.writer.busy += 1 if busy else -1

    def refused(self) -> None:
        """A delivery was refused by a storage fault: GitHub does not redeliver on its own,
        so a reconciliation is queued as soon as the database takes writes again."""
        self._refused = True
        self.notify()

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                if self._recover:  # what the storage fault cut off goes back to pending
                    await self.writer.run(requests.recover, self.oid, utc_now())
                    self._recover = False
                if self._refused:
                    await self.writer.run(
                        requests.request_sync,
                        self.oid,
                        "reconcile",
                        False,
                        utc_now(),
                        "reconciliation after a delivery refused by a storage fault",
                    )
                    self._refused = False
                while True:
                    await self._settle()
                    request = await self.writer.run(requests.claim_request, self.oid, utc_now())
                    if request is None:
                        break
                    await self._run(request)
            except asyncio.CancelledError:
                raise
            except FatalError as exc:
                # Read-only, full or corrupt database: nothing is lost (tasks and requests are
                # in the database); try again with the backoff of interrupted runs, without a
                # restart, until the fault clears. /healthz says why meanwhile.
                self.counters.fatal = str(exc)
                self._recover = True
                self.interruptions += 1
                delay = self._retry_delay(storage=True)
                log.error("storage fault: %s; trying again in %.1f s", exc, delay)
                self.next_retry_at = self._clock() + delay
                try:
                    await self._sleep(delay)
                finally:
                    self.next_retry_at = None
                self._wake.set()
                continue
            except Exception:
                # Never let the coordinator die: the request is durable; try again soon.
                log.exception("coordinator error; retrying in 5 s")
                await self._sleep(RETRY_BASE)
                self._wake.set()
                continue
            self._set_busy(False)
            self.idle.set()

    async def _run(self, request: requests.SyncRequest) -> None:
        self._current = request
        self._pushes_during_run = 0
        started = time.monotonic()
        status = "interrupted"
        try:
            log.info(
                "run starting (%s, force=%s)",
                request.kind,
                request.force,
                extra={"run": request.run_id, "request": request.id},
            )
            result: RunResult = await self.engine.sync(
                force=request.force, kind=request.kind, run_id=request.run_id
            )
            status = result.status
            self.counters.fatal = None
            log.info(
                "run %s: %s processed, %s failed, %s deleted",
                result.status,
                result.processed,
                result.failed,
                result.deleted,
                extra={"run": result.run_id},
            )
        except FatalError as exc:
            status = "failed"
            self.counters.fatal = str(exc)
            log.error("run failed fatally: %s", exc, extra={"run": request.run_id})
            raise  # the coordinator requeues the request and tries again later
        except asyncio.CancelledError:
            # Shutting down: the writer's transaction finished or rolled back; put the
            # request back so the next start continues from the tasks left.
            await asyncio.shield(
                self.writer.run(requests.requeue, request, "stopped (shutdown)", utc_now())
            )
            raise
        finally:
            seconds = time.monotonic() - started
            self.counters.run_seconds.append((request.run_id, status, seconds))
            self.observer.run_ended(request.kind, status, seconds)
            self._current = None
            self._last_run_end = time.monotonic()
        if status == "interrupted":
            # A retryable fault (rate limit, network): keep the work queued for later.
            await self.writer.run(requests.requeue, request, "interrupted", utc_now())
            self.interruptions += 1
            delay = self._retry_delay()
            log.info("retrying in %.1f s", delay, extra={"run": request.run_id})
            self.next_retry_at = self._clock() + delay
            try:
                await self._sleep(delay)
            finally:
                self.next_retry_at = None
        else:
            self.interruptions = 0
            await self.writer.run(requests.finish_request, request.id, status, utc_now())
        if request.kind in ("reconcile", "resync"):
            await self.writer.run(leases.release_lease, "reconcile", self.owner)

    def _retry_delay(self, *, storage: bool = False) -> float:
        """The wait before the next retry (``retry.retry_delay``), from this service's run of
        interruptions, its random source and the source's rate-limit reset."""
        until = self.source.stats.rate_limited_until
        return retry_delay(
            self.interruptions,
            jitter=self._rng.random(),
            storage=storage,
            rate_limit_wait=None if until is None else until - self._clock(),
        )
