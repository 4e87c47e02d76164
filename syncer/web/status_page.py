"""What the status page and /status.json show, /healthz, and the HTML rendering.

Reads go through ``Writer.query`` (the reader connection), never the writer's thread, so a
long run never delays the page. The page is server-rendered and then refreshed by a small
inline script polling /status.json (no CDN); values are escaped, secrets are never in it.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.responses import HTMLResponse

from syncer.storage import runs, views
from syncer.storage.health import storage_problem
from syncer.sync.coordinator import Service

TEMPLATE = Path(__file__).parent / "templates" / "status.html"


async def collect(service: Service) -> dict[str, Any]:
    """The page's data: the database's figures and the coordinator's snapshot."""
    settings = service.settings
    data = await service.writer.query(views.collect_for_page, service.oid)
    data["source"] = settings.source_label
    data["branch"] = settings.branch
    snap = service.snapshot()
    run = snap.run
    data["current_run"] = (
        None
        if run is None
        else {
            "run_id": run.run_id,
            "kind": run.kind,
            "phase": run.phase,
            "commit": run.commit,
            "planned": run.planned,
            "done": run.done,
            "failed": run.failed,
            "files_per_second": run.files_per_second,
            "eta_seconds": run.eta_seconds,
        }
    )
    data["busy_workers"] = run.busy_workers if run is not None else 0
    data["workers"] = snap.workers
    data["branch_head"] = run.commit if run is not None else None
    until = snap.rate_limited_until
    data["rate_limited_until"] = _iso(until) if until is not None and until > time.time() else None
    # an interrupted run waiting to be retried
    data["next_retry_at"] = None if snap.next_retry_at is None else _iso(snap.next_retry_at)
    data["source_requests"] = snap.source_requests
    # Sampled by the run as it commits files (sync/progress.py), so the chart is there
    # whether or not a browser was polling, and stays after the run ends.
    last = snap.last_run
    data["throughput"] = [] if last is None else [[round(t, 1), n] for t, n in last.throughput]
    return data


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


async def health(service: Service) -> tuple[bool, str]:
    problem = await asyncio.to_thread(storage_problem, service.settings.db_path)
    if problem is not None:
        return False, problem
    last = await service.writer.query(runs.last_ended_status, service.oid)
    if last == "failed" or service.snapshot().fatal is not None:
        return False, "last run failed fatally"
    return True, "ok"


def login_page() -> HTMLResponse:
    body = (
        "<!doctype html><title>syncer</title><h1>syncer</h1>"
        "<p>Open <code>/?token=&lt;admin token&gt;</code> (from <code>syncer admin-token</code>)"
        " to see the status page.</p>"
    )
    return HTMLResponse(body, status_code=401)


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _rows(items: list[dict[str, Any]], keys: tuple[str, ...]) -> str:
    out = []
    for item in items:
        out.append("<tr>" + "".join(f"<td>{_e(item.get(k))}</td>" for k in keys) + "</tr>")
    return "".join(out) or f'<tr><td colspan="{len(keys)}">none</td></tr>'


def _chart(points: list[list[float]]) -> str:
    """Files/s between successive samples, as an inline SVG polyline."""
    rates = []
    for (t0, n0), (t1, n1) in itertools.pairwise(points):
        if t1 > t0:
            rates.append(max(0.0, (n1 - n0) / (t1 - t0)))
    if not rates:
        return (
            '<svg id="chart" width="400" height="60"><rect width="400" height="60"'
            ' fill="#fafafa" stroke="#ccc"/>'
            '<text x="8" y="35" fill="#888">no samples yet</text></svg>'
        )
    top = max(rates) or 1.0
    step = 400 / max(1, len(rates) - 1)
    coords = " ".join(f"{i * step:.1f},{60 - 55 * r / top:.1f}" for i, r in enumerate(rates))
    return (
        f'<svg id="chart" width="400" height="60"><rect width="400" height="60" fill="#fafafa"'
        f' stroke="#ccc"/><polyline fill="none" stroke="#2a7"'
        f' stroke-width="2" points="{coords}"/></svg>'
    )


def status_page(data: dict[str, Any], *, csrf: str | None) -> HTMLResponse:
    run = data.get("current_run")
    if run:
        pct = 100 * run["done"] / run["planned"] if run["planned"] else 0
        current = (
            f"run #{_e(run['run_id'])} ({_e(run['kind'])}, {_e(run['phase'])}):"
            f" {_e(run['done'])}/{_e(run['planned'])} files, {_e(run['files_per_second'])} files/s,"
            f" ETA {_e(run['eta_seconds'])} s"
            f'<progress id="bar" max="100" value="{pct:.0f}">{pct:.0f}%</progress>'
        )
    else:
        current = "idle"
    resync = (
        f'<form method="post" action="/admin/resync"><input type="hidden" name="csrf"'
        f' value="{_e(csrf)}"><label><input type="checkbox" name="force" value="true">'
        f" force</label> <button>Resync now</button></form>"
        if csrf
        else ""
    )
    counts = ", ".join(f"{_e(v)} {_e(k)}" for k, v in data["counts"].items())
    limited = data.get("rate_limited_until")
    retry = data.get("next_retry_at")
    values = {
        "synced_commit": _e(data.get("synced_commit") or "never synced"),
        "branch_head": _e(data.get("branch_head") or "resolved at the next run"),
        "source": _e(data["source"]),
        "current": current,
        "queue_depth": _e(data["queue_depth"]),
        "busy_workers": f"{_e(data['busy_workers'])}/{_e(data['workers'])}",
        "counts": counts,
        "rate_limit": f"rate limited until {_e(limited)}" if limited else "not rate limited",
        "next_retry": f" &middot; next retry at {_e(retry)}" if retry else "",
        "failed": _rows(data["failed_files"], ("path", "error")),
        "deliveries": _rows(
            data["deliveries"], ("id", "received_at", "event", "outcome", "reason")
        ),
        "reconciliations": _rows(
            data["reconciliations"], ("id", "kind", "status", "started_at", "finished_at", "error")
        ),
        "runs": _rows(data["runs"], ("id", "kind", "status", "started_at", "processed", "failed")),
        "chart": _chart(data.get("throughput", [])),
        "resync": resync,
        "initial": html.escape(json.dumps({"run": run}), quote=True),
    }
    page = TEMPLATE.read_text(encoding="utf-8")
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", value)
    return HTMLResponse(page)
