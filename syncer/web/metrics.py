"""GET /metrics: Prometheus text exposition format 0.0.4, written by hand (no client lib).

Counts come from the database (durable across restarts); run durations and source
figures from this process.
"""

from __future__ import annotations

import time

from syncer.storage import views
from syncer.sync.coordinator import Service


def _line(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    if labels:
        inner = ",".join(
            f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
            for k, v in sorted(labels.items())
        )
        return f"{name}{{{inner}}} {value}"
    return f"{name} {value}"


async def render(service: Service) -> str:
    deliveries, runs, files, depth = await service.writer.query(views.metric_figures, service.oid)
    snap = service.snapshot()
    out = [
        "# HELP syncer_deliveries_total Webhook deliveries recorded, by outcome.",
        "# TYPE syncer_deliveries_total counter",
    ]
    out += [
        _line("syncer_deliveries_total", n, {"outcome": k}) for k, n in sorted(deliveries.items())
    ]
    out += [
        "# HELP syncer_webhook_refused_total Deliveries refused and not recorded, by status.",
        "# TYPE syncer_webhook_refused_total counter",
    ]
    out += [_line("syncer_webhook_refused_total", n, {"status": str(k)}) for k, n in snap.refused]
    out += ["# HELP syncer_runs Sync runs, by status.", "# TYPE syncer_runs gauge"]
    out += [_line("syncer_runs", n, {"status": k}) for k, n in sorted(runs.items())]
    out += ["# HELP syncer_files Files of the tree, by status.", "# TYPE syncer_files gauge"]
    out += [
        _line("syncer_files", files.get(k, 0), {"status": k}) for k in ("ok", "failed", "skipped")
    ]
    out += [
        "# HELP syncer_queue_depth Pending sync requests.",
        "# TYPE syncer_queue_depth gauge",
        _line("syncer_queue_depth", depth),
        "# HELP syncer_source_requests_total Requests made to the source by this process.",
        "# TYPE syncer_source_requests_total counter",
        _line("syncer_source_requests_total", snap.source_requests),
        "# HELP syncer_rate_limit_wait_seconds Seconds left until the source's rate limit resets.",
        "# TYPE syncer_rate_limit_wait_seconds gauge",
        _line(
            "syncer_rate_limit_wait_seconds",
            max(0.0, (snap.rate_limited_until or 0.0) - time.time()),
        ),
        "# HELP syncer_run_duration_seconds Durations of this process's recent runs.",
        "# TYPE syncer_run_duration_seconds summary",
    ]
    durations = [d for _, _, d in snap.run_seconds]
    out.append(_line("syncer_run_duration_seconds_count", len(durations)))
    out.append(_line("syncer_run_duration_seconds_sum", round(sum(durations), 3)))
    return "\n".join(out) + "\n"
