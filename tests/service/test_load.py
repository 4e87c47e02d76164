"""Load: a burst of 2,000 signed deliveries from 50 concurrent senders against the real
``syncer serve`` (a separate process, uvicorn, loopback), while the branch moves on.

The 2,000 deliveries reference 4 commits of a real git repository: delivery *i* names
commit *i* // 500, and each commit is made just before the first delivery naming it is
handed to a sender, as GitHub delivers after a push lands. Measured per request, from
the client's send to the answer: every acknowledgement within a second, p50/p99/max.
Memory is the server process's own, from ``/proc/<pid>/status`` (VmRSS sampled every
20 ms, VmHWM at the end): the service is a separate process, so the senders' memory is
not counted, and its peak over its resident size before the burst is bounded. The
figures go to stdout and ``test-artifacts/load-report.json``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncer.storage.migrate import migrate
from syncer.webhook import sign
from syncer_dev.gitrepo import GitRepo
from tests.service.test_hostile_deliveries import quiet
from tests.service.test_server_crash import free_port
from tests.support.live import SECRET, assert_equals_fresh, push_payload, ttl
from tests.support.paths import ARTIFACTS

# Slow together (seconds to minutes): left out of the quick loop, pytest -m "not slow".
pytestmark = pytest.mark.slow

DELIVERIES = 2000
SENDERS = 50
COMMITS = 4
REPORT = ARTIFACTS / "load-report.json"
# Bounds the test holds the service to.
MAX_ACK_SECONDS = 1.0
MAX_RUNS = 5
MAX_RSS_GROWTH = 64 * 1024 * 1024


def rss(pid: int, field: str = "VmRSS") -> int:
    """Bytes of ``field`` (VmRSS now, VmHWM the peak) of process ``pid``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


def corpus(version: int) -> dict[str, str]:
    """40 small Turtle files; each version rewrites a quarter of them and adds two."""
    files = {
        f"classes/c{i}.ttl": ttl(f"C{i}", f"C{i // 2}" if i else "Thing", f"C{i} v{version}")
        for i in range(40)
        if i % 4 == version % 4 or version == 0
    }
    files.update({f"new/v{version}-{j}.ttl": ttl(f"V{version}x{j}", "C1", "new") for j in (0, 1)})
    return files


class Serve:
    """``python -m syncer serve`` on a free port, INFO logs to a file."""

    def __init__(self, repo: GitRepo, db: Path, log: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCER_")}
        env.update(
            SYNCER_DB=str(db),
            SYNCER_GIT_DIR=str(repo.path),
            SYNCER_REPO="acme/ontology",
            SYNCER_BRANCH="main",
            SYNCER_WEBHOOK_SECRET=SECRET,
            SYNCER_SECRET_KEY="load-signing-key",
            SYNCER_WORKERS="2",
            SYNCER_LOG_LEVEL="INFO",
        )
        self.log = log
        with log.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "syncer", "serve", "--port", self.url.rsplit(":", 1)[1]],
                env=env,
                cwd=log.parent,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"server did not start: {log.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(60) in (0, -signal.SIGTERM)


async def burst(url: str, repo: GitRepo, pid: int) -> dict[str, Any]:
    """Send the 2,000 deliveries; return latencies, answers and memory samples."""
    commits: list[str] = []
    lock = asyncio.Lock()
    jobs = iter(range(DELIVERIES))
    latencies: list[float] = []
    answers: list[tuple[int, str, int | None]] = []
    samples: list[int] = []
    done = asyncio.Event()

    async def next_job() -> tuple[int, str] | None:
        async with lock:
            i = next(jobs, None)
            if i is None:
                return None
            phase = i * COMMITS // DELIVERIES
            while len(commits) <= phase:  # the push lands, then GitHub delivers
                commits.append(await asyncio.to_thread(repo.commit_files, corpus(len(commits) + 1)))
            return i, commits[phase]

    async def sender() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            while (job := await next_job()) is not None:
                i, commit = job
                body = json.dumps(push_payload(commit)).encode()
                headers = {
                    "Content-Type": "application/json",
                    "X-GitHub-Event": "push",
                    "X-GitHub-Delivery": str(uuid.UUID(int=i)),
                    "X-Hub-Signature-256": sign(SECRET.encode(), body),
                }
                started = time.perf_counter()
                answer = await client.post("/webhook", content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                data = answer.json() if answer.status_code < 500 else {}
                answers.append((answer.status_code, data.get("outcome", ""), data.get("run_id")))

    async def sampler() -> None:
        while not done.is_set():
            samples.append(rss(pid))
            await asyncio.sleep(0.02)

    sampling = asyncio.create_task(sampler())
    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(SENDERS)))
    elapsed = time.perf_counter() - started
    done.set()
    await sampling
    return {
        "latencies": latencies,
        "answers": answers,
        "samples": samples,
        "elapsed": elapsed,
        "commits": commits,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@pytest.mark.slow
def test_2000_signed_deliveries_from_50_senders(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="httpx")  # not 2,000 lines of "HTTP Request"
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit_files(corpus(0))
    db = tmp_path / "syncer.db"
    migrate(db, make_backup=False)
    server = Serve(repo, db, tmp_path / "serve.log")
    try:
        # Warm up: the first sync, so the burst starts from a service at rest.
        warm = httpx.post(
            f"{server.url}/webhook",
            content=(body := json.dumps(push_payload(repo.head())).encode()),
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": "warm-up",
                "X-Hub-Signature-256": sign(SECRET.encode(), body),
            },
        )
        assert warm.status_code == 202
        quiet(db, repo.head())
        with sqlite3.connect(db) as conn:
            runs_before = conn.execute("SELECT max(id) FROM sync_runs").fetchone()[0]
        rss_before = rss(server.proc.pid)

        result = asyncio.run(burst(server.url, repo, server.proc.pid))
        head = repo.head()
        assert head == result["commits"][-1]
        quiet(db, head, timeout=120)
        peak = rss(server.proc.pid, "VmHWM")
        rss_after = rss(server.proc.pid)
    finally:
        server.stop()

    log = server.log.read_text()
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]
    answers: list[tuple[int, str, int | None]] = result["answers"]
    latencies: list[float] = result["latencies"]
    statuses = Counter(status for status, _, _ in answers)
    assert statuses == {202: DELIVERIES}
    assert Counter(outcome for _, outcome, _ in answers) == {"queued": DELIVERIES}
    with sqlite3.connect(db) as conn:
        runs = conn.execute(
            "SELECT id, kind, status, processed, deleted FROM sync_runs WHERE id > ? ORDER BY id",
            (runs_before,),
        ).fetchall()
        recorded = conn.execute(
            "SELECT count(*), count(DISTINCT run_id) FROM deliveries"
            " WHERE id != 'warm-up' AND outcome = 'queued'"
        ).fetchone()
    assert recorded == (DELIVERIES, len(runs))
    assert {run_id for _, _, run_id in answers} == {r[0] for r in runs}
    assert [(r[1], r[2]) for r in runs] == [("push", "done")] * len(runs)
    report = {
        "deliveries": DELIVERIES,
        "senders": SENDERS,
        "commits": COMMITS,
        "burst_seconds": round(result["elapsed"], 3),
        "deliveries_per_second": round(DELIVERIES / result["elapsed"], 1),
        "ack_seconds": {
            "p50": round(statistics.median(latencies), 4),
            "p99": round(percentile(latencies, 0.99), 4),
            "max": round(max(latencies), 4),
        },
        "runs": [{"id": r[0], "processed": r[3], "deleted": r[4]} for r in runs],
        "server_rss_bytes": {
            "before_burst": rss_before,
            "peak_sampled": max(result["samples"]),
            "peak_vmhwm": peak,
            "after_idle": rss_after,
        },
    }
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print("\nload:", json.dumps(report, indent=2))
    assert len(latencies) == DELIVERIES
    assert max(latencies) < MAX_ACK_SECONDS, report["ack_seconds"]
    assert 1 <= len(runs) <= MAX_RUNS, report["runs"]
    assert max(result["samples"]) - rss_before < MAX_RSS_GROWTH, report["server_rss_bytes"]
    assert peak - rss_before < MAX_RSS_GROWTH, report["server_rss_bytes"]
    assert_equals_fresh(repo, db, tmp_path)
