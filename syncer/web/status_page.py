"""What the status page and /status.json show, /healthz, and the HTML rendering.

The page answers first whether the database matches the branch head and since when (the
verdict, verdict.py), then what is running (progress, rate, ETA), what failed and why
(with links to the files), and the last runs with their trigger, duration and outcome.

Reads go through ``Writer.query`` (the reader connection), never the writer's thread, so a
long run never delays the page. The page is rendered on the server and complete without
JavaScript (a ``<noscript>`` refresh keeps it current); with JavaScript it re-fetches itself
every two seconds and swaps the live part in place, so there is one rendering, not a
second one in script. Values are escaped; secrets are never in it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import itertools
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.responses import HTMLResponse

from syncer.storage import runs, views
from syncer.storage.health import storage_problem
from syncer.sync.coordinator import Service
from syncer.verdict import ago, judge_status

TEMPLATE = Path(__file__).parent / "templates" / "status.html"
# Without JavaScript the browser reloads the page this often (seconds).
NOSCRIPT_REFRESH = 10


async def collect(service: Service) -> dict[str, Any]:
    """The page's data: the database's figures, the coordinator's snapshot, the verdict."""
    settings = service.settings
    data = await service.writer.query(views.collect_for_page, service.oid)
    data["source"] = settings.source_label
    data["branch"] = settings.branch
    snap = service.snapshot()
    run = snap.run
    trigger = next((r["trigger"] for r in data["runs"] if run and r["id"] == run.run_id), None)
    data["current_run"] = (
        None
        if run is None
        else {
            "run_id": run.run_id,
            "kind": run.kind,
            "trigger": trigger,
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
    # The head a run or a poll saw last (sync_state), or the one this run is reading.
    data["branch_head"] = (run.commit if run is not None else None) or data["head_commit"]
    until = snap.rate_limited_until
    data["rate_limited_until"] = _iso(until) if until is not None and until > time.time() else None
    # an interrupted run waiting to be retried
    data["next_retry_at"] = None if snap.next_retry_at is None else _iso(snap.next_retry_at)
    data["source_requests"] = snap.source_requests
    data["poll_interval"] = snap.poll_interval
    data["last_poll"] = (
        None
        if snap.last_poll is None
        else {"at": _iso(snap.last_poll[0]), "error": snap.last_poll[1]}
    )
    data["next_poll_at"] = None if snap.next_poll_at is None else _iso(snap.next_poll_at)
    data["last_audit"] = (
        None
        if snap.last_audit is None
        else {"at": _iso(snap.last_audit[0]), "error": snap.last_audit[1]}
    )
    data["lost_deliveries"] = [dataclasses.asdict(lost) for lost in snap.lost_deliveries]
    data["last_delivery_at"] = data["deliveries"][0]["received_at"] if data["deliveries"] else None
    commit = data["synced_commit"] or data["branch_head"]
    for failed in data["failed_files"]:
        failed["url"] = None if commit is None else settings.file_url(commit, failed["path"])
    for row in data["runs"]:
        row["duration_seconds"] = _duration(row["started_at"], row["finished_at"])
    # Sampled by the run as it commits files (sync/progress.py), so the chart is there
    # whether or not a browser was polling, and stays after the run ends.
    last = snap.last_run
    data["throughput"] = [] if last is None else [[round(t, 1), n] for t, n in last.throughput]
    verdict = judge_status(data, running=run is not None, problem=snap.fatal, now=datetime.now(UTC))
    data["verdict"], data["verdict_level"] = verdict.text, verdict.level
    return data


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _duration(started: str | None, finished: str | None) -> float | None:
    if not started or not finished:
        return None
    delta = datetime.fromisoformat(finished) - datetime.fromisoformat(started)
    return round(delta.total_seconds(), 1)


async def health(services: Sequence[Service]) -> tuple[bool, str]:
    """The database takes writes and no repository's last run failed fatally."""
    problem = await asyncio.to_thread(storage_problem, services[0].settings.db_path)
    if problem is not None:
        return False, problem
    for service in services:
        last = await service.writer.query(runs.last_ended_status, service.oid)
        if last == "failed" or service.snapshot().fatal is not None:
            named = f" ({service.oid})" if len(services) > 1 else ""
            return False, f"last run failed fatally{named}"
    return True, "ok"


# What the summary of several repositories keeps of each one's data.
SUMMARY_KEYS = (
    "ontology_id",
    "source",
    "branch",
    "verdict",
    "verdict_level",
    "synced_commit",
    "synced_at",
    "branch_head",
    "behind_since",
    "files_by_status",
    "queue_depth",
    "pending_tasks",
    "current_run",
    "last_poll",
)
# Worst first: the total's verdict is the worst of the repositories'.
LEVELS = ("failing", "behind", "unknown", "syncing", "in step")


async def collect_all(services: Sequence[Service]) -> dict[str, Any]:
    """Several repositories: each one's summary, and the totals (issue 15)."""
    each = [await collect(service) for service in services]
    summaries = [{k: data[k] for k in SUMMARY_KEYS} for data in each]
    files = {k: sum(d["files_by_status"][k] for d in each) for k in views.FILE_STATUSES}
    worst = min(each, key=lambda d: LEVELS.index(d["verdict_level"]))
    total = {
        "repositories": len(each),
        "verdict_level": worst["verdict_level"],
        "in_step": sum(d["verdict_level"] == "in step" for d in each),
        "files_by_status": files,
        "queue_depth": sum(d["queue_depth"] for d in each),
        "running": [d["ontology_id"] for d in each if d["current_run"] is not None],
    }
    return {"repositories": summaries, "total": total}


def summary_page(data: dict[str, Any]) -> HTMLResponse:
    """Several repositories: one line each, linked to its own page."""
    rows = []
    for repo in data["repositories"]:
        link = f"/?repository={quote(repo['ontology_id'], safe='')}"
        files = repo["files_by_status"]
        rows.append(
            f'<tr class="{_e(repo["verdict_level"].replace(" ", "-"))}">'
            f'<td><a href="{_e(link)}">{_e(repo["ontology_id"])}</a></td>'
            f"<td>{_e(repo['source'])}</td><td>{_e(repo['verdict'])}</td>"
            f"<td>{_e(files['ok'])} ok, {_e(files['failed'])} failed,"
            f" {_e(files['skipped'])} skipped</td><td>{_e(repo['queue_depth'])}</td></tr>"
        )
    total = data["total"]
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>syncer status'
        f'</title><noscript><meta http-equiv="refresh" content="{NOSCRIPT_REFRESH}"></noscript>'
        "<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em}table{border-collapse:"
        "collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
        ".in-step td{background:#e3f5e8}.behind td{background:#fdf1d9}"
        ".failing td{background:#fbe2e2}</style></head><body><h1>syncer</h1>"
        f'<p id="total">{_e(total["in_step"])} of {_e(total["repositories"])} repositories'
        f" in step; worst: {_e(total['verdict_level'])}</p>"
        "<table><tr><th>repository</th><th>source</th><th>verdict</th><th>files</th>"
        f"<th>queued</th></tr>{''.join(rows)}</table></body></html>"
    )
    return HTMLResponse(body)


def login_page() -> HTMLResponse:
    body = (
        "<!doctype html><title>syncer</title><h1>syncer</h1>"
        "<p>Open <code>/?token=&lt;admin token&gt;</code> (from <code>syncer admin-token</code>)"
        " to see the status page.</p>"
    )
    return HTMLResponse(body, status_code=401)


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _since(stamp: str | None, now: datetime) -> str:
    """``2026-12-03T10:00:00+00:00 (12 min ago)``, or a dash."""
    if not stamp:
        return "&mdash;"
    seconds = (now - datetime.fromisoformat(stamp)).total_seconds()
    return f"{_e(stamp)} ({_e(ago(seconds))} ago)"


def _commit(sha: str | None, missing: str) -> str:
    # The short form to read, the whole SHA on hover (and for a search of the page).
    return f'<code title="{_e(sha)}">{_e(sha[:12])}</code>' if sha else _e(missing)


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


def _current(run: dict[str, Any] | None) -> str:
    if run is None:
        return '<p id="current">idle</p>'
    pct = 100 * run["done"] / run["planned"] if run["planned"] else 0
    eta = run["eta_seconds"]
    return (
        f'<p id="current">run #{_e(run["run_id"])} ({_e(run["kind"])}'
        + (f", {_e(run['trigger'])}" if run["trigger"] else "")
        + f"): {_e(run['phase'])} {_commit(run['commit'], '')},"
        f" {_e(run['done'])}/{_e(run['planned'])} files ({_e(run['failed'])} failed),"
        f" {_e(run['files_per_second'])} files/s, ETA"
        f" {_e(ago(eta)) if eta is not None else 'unknown'}"
        f'<progress id="bar" max="100" value="{pct:.0f}">{pct:.0f}%</progress></p>'
    )


def _failed_rows(failed: list[dict[str, Any]]) -> str:
    rows = []
    for item in failed:
        path = _e(item["path"])
        if item.get("url"):
            path = f'<a href="{_e(item["url"])}">{path}</a>'
        rows.append(f"<tr><td>{path}</td><td>{_e(item['error'])}</td></tr>")
    return "".join(rows) or '<tr><td colspan="2">none</td></tr>'


def _run_rows(items: list[dict[str, Any]]) -> str:
    rows = []
    for r in items:
        duration = "running" if r["status"] == "running" else _e(r["duration_seconds"])
        cells = (
            _e(r["id"]),
            _e(r["kind"]),
            _e(r["trigger"]),
            _e(r["status"]),
            _e(r["started_at"]),
            duration if r["duration_seconds"] is None else f"{duration} s",
            f"{_e(r['processed'])} ({_e(r['failed'])} failed, {_e(r['deleted'])} deleted)",
            _e(r["error"]),
        )
        rows.append(
            f'<tr class="{_e(r["status"])}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        )
    return "".join(rows) or '<tr><td colspan="8">none</td></tr>'


def _rows(items: list[dict[str, Any]], keys: tuple[str, ...]) -> str:
    out = []
    for item in items:
        out.append("<tr>" + "".join(f"<td>{_e(item.get(k))}</td>" for k in keys) + "</tr>")
    return "".join(out) or f'<tr><td colspan="{len(keys)}">none</td></tr>'


def _poll(data: dict[str, Any], now: datetime) -> str:
    if not data["poll_interval"]:
        return "off (SYNCER_POLL_INTERVAL=0)"
    every = f"every {_e(ago(data['poll_interval']))}"
    last = data["last_poll"]
    if last is None:
        return f"{every}; none yet"
    outcome = f"failed: {_e(last['error'])}" if last["error"] else "ok"
    following = f"; next at {_e(data['next_poll_at'])}" if data["next_poll_at"] else ""
    return f"{every}; last {_since(last['at'], now)}, {outcome}{following}"


def _audit(data: dict[str, Any], now: datetime) -> str:
    """GitHub's delivery log against what the service took (SYNCER_GITHUB_HOOK_ID)."""
    audit = data["last_audit"]
    if audit is None:
        return ""
    head = f"<h2>Lost deliveries</h2><p>GitHub's delivery log, read {_since(audit['at'], now)}"
    if audit["error"]:
        return f'{head}: <span class="failed">failed: {_e(audit["error"])}</span></p>'
    rows = _rows(data["lost_deliveries"], ("guid", "delivered_at", "event", "status_code", "why"))
    return (
        f"{head}: deliveries GitHub sent that the service never took (nothing is missing from"
        " the database for it: the head poll and the runs plan from the branch head).</p>"
        '<table id="lost"><tr><th>delivery</th><th>sent</th><th>event</th><th>status</th>'
        f"<th>why</th></tr>{rows}</table>"
    )


def status_page(
    data: dict[str, Any], *, csrf: str | None, repository: str | None = None
) -> HTMLResponse:
    """One repository's page; ``repository`` names it when several are followed (the
    resync form and the live refresh then ask about that one)."""
    now = datetime.now(UTC)
    here = "" if repository is None else f"?repository={quote(repository, safe='')}"
    resync = (
        f'<form method="post" action="/admin/resync{_e(here)}"><input type="hidden" name="csrf"'
        f' value="{_e(csrf)}"><label><input type="checkbox" name="force" value="true">'
        f" force</label> <button>Resync now</button></form>"
        if csrf
        else ""
    )
    files = data["files_by_status"]
    limited = data.get("rate_limited_until")
    retry = data.get("next_retry_at")
    # Set while the database is not at the head, including during the run catching up.
    behind = data["behind_since"] if data["synced_commit"] != data["branch_head"] else None
    values = {
        "refresh": str(NOSCRIPT_REFRESH),
        "verdict": _e(data["verdict"]),
        "level": _e(data["verdict_level"].replace(" ", "-")),
        "source": _e(data["source"]),
        "branch": _e(data["branch"] or "the default branch"),
        "synced_commit": _commit(data["synced_commit"], "never synced"),
        "synced_at": _since(data["synced_at"], now),
        "branch_head": _commit(data["branch_head"], "not known yet"),
        "head_checked_at": _since(data["head_checked_at"], now),
        "behind_since": _since(behind, now),
        "poll": _poll(data, now),
        "last_delivery": _since(data["last_delivery_at"], now),
        "current": _current(data["current_run"]),
        "queue_depth": _e(data["queue_depth"]),
        "busy_workers": f"{_e(data['busy_workers'])}/{_e(data['workers'])}",
        "rate_limit": f"rate limited until {_e(limited)}" if limited else "not rate limited",
        "next_retry": f" &middot; next retry at {_e(retry)}" if retry else "",
        "files": (
            f"{_e(files['ok'])} ok &middot; {_e(files['failed'])} failed &middot;"
            f" {_e(files['skipped'])} skipped"
        ),
        "counts": ", ".join(f"{_e(v)} {_e(k)}" for k, v in data["counts"].items()),
        "failed": _failed_rows(data["failed_files"]),
        "runs": _run_rows(data["runs"]),
        "deliveries": _rows(
            data["deliveries"], ("id", "received_at", "event", "outcome", "reason")
        ),
        "reconciliations": _rows(
            data["reconciliations"], ("id", "kind", "status", "started_at", "finished_at", "error")
        ),
        "chart": _chart(data.get("throughput", [])),
        "resync": resync,
        "here": _e(here),
        "audit": _audit(data, now),
    }
    page = TEMPLATE.read_text(encoding="utf-8")
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", value)
    return HTMLResponse(page)
