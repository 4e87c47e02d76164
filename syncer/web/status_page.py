"""What the status page and /status.json show, /healthz, and the HTML rendering.

Reads use their own connection (``db.connect``), never the writer's, so a long run never
delays the page. The page is server-rendered and then refreshed by a small inline script
polling /status.json (no CDN); values are escaped, secrets are never in the data.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import os
import shutil
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.responses import HTMLResponse

from syncer.errors import FatalError, RetryableError
from syncer.storage import deliveries, requests
from syncer.storage import views as status
from syncer.storage.db import classify, connect
from syncer.sync.coordinator import Service

TEMPLATE = Path(__file__).parent / "templates" / "status.html"


def _read(service: Service) -> dict[str, Any]:
    conn = connect(service.settings.db_path)
    try:
        data = status.collect(conn, service.settings)
        data["queue_depth"] = requests.queue_depth(conn, service.oid)
        data["deliveries"] = deliveries.recent_deliveries(conn)
        data["reconciliations"] = [
            dict(r)
            for r in conn.execute(
                "SELECT id, kind, status, started_at, finished_at, processed, failed, error"
                " FROM sync_runs WHERE ontology_id = ? AND kind IN ('reconcile', 'resync')"
                " ORDER BY id DESC LIMIT 10",
                (service.oid,),
            )
        ]
        return data
    finally:
        conn.close()


async def collect(service: Service) -> dict[str, Any]:
    data = await asyncio.to_thread(_read, service)
    progress = service.progress
    stats = service.source.stats
    if progress is not None:
        rate = progress.rate()
        eta = progress.eta_seconds()
        data["current_run"] = {
            "run_id": progress.run_id,
            "kind": progress.kind,
            "phase": progress.phase,
            "commit": progress.commit,
            "planned": progress.planned,
            "done": progress.done,
            "failed": progress.failed,
            "files_per_second": round(rate, 2),
            "eta_seconds": None if eta is None else round(eta, 1),
        }
        service.counters.throughput.append((time.time(), progress.done))
    else:
        data["current_run"] = None
    data["busy_workers"] = progress.busy_workers if progress is not None else 0
    data["workers"] = service.settings.workers
    data["branch_head"] = progress.commit if progress is not None else None
    until = stats.rate_limited_until
    data["rate_limited_until"] = (
        datetime.fromtimestamp(until, UTC).isoformat(timespec="seconds")
        if until is not None and until > time.time()
        else None
    )
    retry = service.next_retry_at  # an interrupted run waiting to be retried
    data["next_retry_at"] = (
        None if retry is None else datetime.fromtimestamp(retry, UTC).isoformat(timespec="seconds")
    )
    data["source_requests"] = stats.requests
    data["throughput"] = [[round(t, 1), n] for t, n in service.counters.throughput]
    return data


# Health wants this much room for the database to grow, in SQLite's page limit and on the
# file system that holds it.
HEADROOM_BYTES = 1024 * 1024


def storage_problem(path: Path) -> str | None:
    """Why a write to the database would fail now (read-only, full, corrupt), or None.

    ``BEGIN IMMEDIATE`` alone succeeds on a read-only file, so the probe writes a row and
    rolls it back (SQLite refuses the write on a read-only file). Room is what SQLite's page
    limit and the file system's free space leave. The files' permissions are asked first
    (the ``-wal`` and ``-shm`` files too): SQLite reuses a file descriptor this process
    already has open read-write, so the probe alone would not see a file that turned
    read-only under the running service.
    """
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists() and not os.access(file, os.W_OK):
            return "database is read-only"
    try:
        conn = connect(path)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO leases (name, owner, expires_at) VALUES ('healthz probe', '', '')"
                )
            finally:
                conn.execute("ROLLBACK")
            pages = [
                int(conn.execute(f"PRAGMA {name}").fetchone()[0])
                for name in ("max_page_count", "page_count", "freelist_count", "page_size")
            ]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        error = classify(exc)
        if isinstance(error, RetryableError):
            return None  # busy: another writer, which is healthy
        return str(error).split(":", 1)[0]  # "database is read-only", "disk full", ...
    except FatalError as exc:
        return str(exc).split(":", 1)[0]
    limit, used, free, size = pages
    if (limit - used + free) * size < HEADROOM_BYTES:
        return "disk full"
    if shutil.disk_usage(path.parent).free < HEADROOM_BYTES:
        return "disk full"
    return None


async def health(service: Service) -> tuple[bool, str]:
    def check() -> tuple[bool, str]:
        problem = storage_problem(service.settings.db_path)
        if problem is not None:
            return False, problem
        conn = connect(service.settings.db_path)
        try:
            last = conn.execute(
                "SELECT status FROM sync_runs WHERE ontology_id = ?"
                " AND status NOT IN ('queued', 'running') ORDER BY id DESC LIMIT 1",
                (service.oid,),
            ).fetchone()
        finally:
            conn.close()
        if last is not None and last[0] == "failed":
            return False, "last run failed fatally"
        return True, "ok"

    healthy, reason = await asyncio.to_thread(check)
    if healthy and service.counters.fatal is not None:
        return False, "last run failed fatally"
    return healthy, reason


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
