"""GET /metrics: the Prometheus exposition, written by prometheus-client.

Two kinds of figures, in one registry per app (not the library's global one: a process
may hold several apps, as the tests do):

- read at scrape time (:class:`_Figures`): counts the database keeps (deliveries by
  outcome, runs, files, the queue), durable across restarts, plus the coordinator's
  snapshot (refused deliveries, source requests, rate limit) and ``syncer_behind_seconds``,
  the figure an alert needs: seconds since the database last matched the branch head;
- observed as they happen (:class:`Instruments`, a ``RunObserver``): histograms of run
  durations, file parse times and webhook acknowledgement latency, and the duplicate
  deliveries, which the database does not record (each is the same delivery id again).

The metric names and their meaning are listed in docs/operations.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from syncer.storage import views
from syncer.storage.runs import SyncState
from syncer.sync.coordinator import Service, Snapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RUN_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
PARSE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
ACK_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


def behind_seconds(state: SyncState, now: datetime) -> float | None:
    """0 when the database is at the branch head last seen; the seconds since it stopped
    being so otherwise; None while no head was ever seen (no sample: alert on absence)."""
    if state.head_commit is None:
        return None
    if state.head_commit == state.synced_commit or state.behind_since is None:
        return 0.0
    return max(0.0, (now - datetime.fromisoformat(state.behind_since)).total_seconds())


class _Figures(Collector):
    """The figures read at scrape time; :meth:`Instruments.render` sets them first. With
    several repositories, the per-repository figures carry an ``ontology_id`` label; with
    one, the series are those of a single-repository service, unchanged."""

    def __init__(self) -> None:
        self.each: list[tuple[str, views.MetricFigures, Snapshot]] = []

    def collect(self) -> Iterator[Metric]:
        if not self.each:
            return
        several = len(self.each) > 1
        extra = ["ontology_id"] if several else []

        Family = GaugeMetricFamily | CounterMetricFamily

        def family(
            kind: type[GaugeMetricFamily] | type[CounterMetricFamily],
            name: str,
            text: str,
            *labels: str,
        ) -> Family:
            return kind(name, text, labels=[*labels, *extra])

        def add(metric: Family, oid: str, value: float, *labels: str) -> None:
            metric.add_metric([*labels, *([oid] if several else [])], value)

        # The delivery log is shared: counted once, whichever repository it went to.
        deliveries = CounterMetricFamily(
            "syncer_deliveries", "Webhook deliveries recorded, by outcome.", labels=["outcome"]
        )
        for outcome, n in sorted(self.each[0][1].deliveries_by_outcome.items()):
            deliveries.add_metric([outcome], n)
        yield deliveries
        refused = CounterMetricFamily(
            "syncer_webhook_refused",
            "Deliveries refused and not recorded (bad signature, too large, another"
            " repository, storage fault), by HTTP status; this process.",
            labels=["status"],
        )
        totals: dict[int, int] = {}
        for _, _, snap in self.each:
            for code, n in snap.refused:
                totals[code] = totals.get(code, 0) + n
        for code, n in sorted(totals.items()):
            refused.add_metric([str(code)], n)
        yield refused
        runs = family(GaugeMetricFamily, "syncer_runs", "Sync runs, by status.", "status")
        files = family(GaugeMetricFamily, "syncer_files", "Files of the tree, by status.", "status")
        depth = family(GaugeMetricFamily, "syncer_queue_depth", "Pending sync requests.")
        requests = family(
            CounterMetricFamily,
            "syncer_source_requests",
            "Requests made to the source by this process.",
        )
        waits = family(
            GaugeMetricFamily,
            "syncer_rate_limit_wait_seconds",
            "Seconds left until the source's rate limit resets.",
        )
        running = family(GaugeMetricFamily, "syncer_running", "1 while a sync run is going.")
        behind = family(
            GaugeMetricFamily,
            "syncer_behind_seconds",
            "Seconds since the database last matched the branch head (0: in step).",
        )
        synced = family(
            GaugeMetricFamily,
            "syncer_last_synced_timestamp_seconds",
            "When the database last reached a head (Unix time).",
        )
        now = datetime.now(UTC)
        for oid, db, snap in self.each:
            for status, n in sorted(db.runs_by_status.items()):
                add(runs, oid, n, status)
            for status in ("ok", "failed", "skipped"):
                add(files, oid, db.files_by_status.get(status, 0), status)
            add(depth, oid, db.queue_depth)
            add(requests, oid, snap.source_requests)
            add(waits, oid, max(0.0, (snap.rate_limited_until or 0.0) - time.time()))
            add(running, oid, int(snap.run is not None))
            lag = behind_seconds(db.state, now)
            if lag is not None:
                add(behind, oid, lag)
            if db.state.synced_at is not None:
                add(synced, oid, datetime.fromisoformat(db.state.synced_at).timestamp())
        yield from (runs, files, depth, requests, waits, running)
        yield from (m for m in (behind, synced) if m.samples)


class Instruments:
    """The app's registry and its histograms; handed to the coordinator as its observer."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._figures = _Figures()
        self.registry.register(self._figures)
        self.run_seconds = Histogram(
            "syncer_run_duration_seconds",
            "Duration of sync runs of this process, by kind and outcome.",
            ["kind", "status"],
            buckets=RUN_BUCKETS,
            registry=self.registry,
        )
        self.parse_seconds = Histogram(
            "syncer_file_parse_seconds",
            "Wall time to parse one file in the worker pool.",
            buckets=PARSE_BUCKETS,
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "syncer_webhook_ack_seconds",
            "Time from a delivery's arrival to its answer, by outcome (queued, ignored,"
            " pong, duplicate, refused).",
            ["outcome"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.duplicates = Counter(
            "syncer_webhook_duplicates",
            "Deliveries whose id was seen before: answered 200 and not processed again.",
            registry=self.registry,
        )

    def run_ended(self, kind: str, status: str, seconds: float) -> None:
        self.run_seconds.labels(kind, status).observe(seconds)

    def file_parsed(self, seconds: float) -> None:
        self.parse_seconds.observe(seconds)

    def delivery_answered(self, outcome: str, seconds: float) -> None:
        self.ack_seconds.labels(outcome).observe(seconds)
        if outcome == "duplicate":
            self.duplicates.inc()

    async def render(self, services: Sequence[Service]) -> bytes:
        each = []
        for service in services:
            figures = await service.writer.query(views.metric_figures, service.oid)
            each.append((service.oid, figures, service.snapshot()))
        # No await between setting the figures and writing them out: one scrape's figures.
        self._figures.each = each
        return generate_latest(self.registry)
