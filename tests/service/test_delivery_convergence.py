"""Property: random commit histories, random delivery sequences (duplicated ids, stale and
reordered commits, dropped deliveries) and reconciliations, through the service, always
end at a fresh sync of the head.

The app runs in-process with its lifespan (writer, coordinator, scheduler) and httpx's
ASGI transport, on a real SQLite file and a real git repository. Every step is one of:
commit (with or without a delivery: a dropped one), deliver a push naming any commit made
so far under a new or an already used delivery id, an admin resync (forced or not), the
reconciliation job, or waiting for the service to catch up. Steps run while the
coordinator is syncing, so deliveries land mid-run too. The sequence ends with one more
delivery or reconciliation after the last commit (otherwise nothing would say the head
moved), then the service must reach the head and equal a fresh sync of it, and every
answer must have been exact: 202 ``queued`` for a new id, 200 ``duplicate`` for a reused one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.storage.migrate import migrate
from syncer.sync import reconcile
from syncer.sync.coordinator import Service
from syncer.web.app import create_app
from syncer.web.auth import issue_admin_token
from syncer_dev.gitrepo import GitRepo
from syncer_dev.snapshot import diff, snapshot
from tests.service.test_hostile_deliveries import quiet
from tests.storage.test_engine import apply_changes
from tests.support.histories import History
from tests.support.live import push_payload, service_settings, signed_headers
from tests.support.runs import fresh_db, run_sync, settings_for

# Slow together (seconds to minutes): left out of the quick loop, pytest -m "not slow".
pytestmark = pytest.mark.slow

STEP = st.one_of(
    st.tuples(st.just("commit"), st.booleans()),  # True: its delivery is dropped
    st.tuples(st.just("deliver"), st.integers(0, 10**6)),  # which commit, which id
    st.tuples(st.just("resync"), st.booleans()),  # force
    st.tuples(st.just("reconcile"), st.just(False)),
    st.tuples(st.just("wait"), st.just(False)),
)


def idle(db: Path, timeout: float = 60) -> None:
    """Wait until no request is pending or running (whatever commit that left synced)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            busy = conn.execute(
                "SELECT count(*) FROM sync_requests WHERE status IN ('pending', 'running')"
            ).fetchone()[0]
        if busy == 0:
            return
        assert time.monotonic() < deadline, "the service never went idle"
        time.sleep(0.02)


async def scenario(root: Path, seed: int, steps: list[tuple[str, Any]], last: str) -> GitRepo:
    repo = GitRepo.init(root / "repo")
    history = History(seed)
    commits = [apply_changes(repo, history.step())]
    db = root / "live.db"
    migrate(db, make_backup=False)
    config = service_settings(repo, db)
    app = create_app(config)
    bearer = {"Authorization": f"Bearer {issue_admin_token(config, 600)}"}
    used: list[str] = []
    answers: list[tuple[str, int, str]] = []
    expected: list[tuple[str, int, str]] = []

    async with app.router.lifespan_context(app):
        service: Service = app.state.service
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://syncer") as client:

            async def deliver(commit: str, pick: int | None) -> None:
                # A third of the deliveries of old commits reuse an id already sent.
                delivery = None
                if pick is not None and used and pick % 3 == 0:
                    delivery = used[pick // 3 % len(used)]
                if delivery is None:
                    delivery = f"d-{len(used)}"
                    used.append(delivery)
                    expected.append((delivery, 202, "queued"))
                else:
                    expected.append((delivery, 200, "duplicate"))
                body = json.dumps(push_payload(commit)).encode()
                headers = signed_headers("push", delivery, body)
                answer = await client.post("/webhook", content=body, headers=headers)
                answers.append((delivery, answer.status_code, answer.json()["outcome"]))

            for action, arg in steps:
                if action == "commit":
                    commits.append(await asyncio.to_thread(apply_changes, repo, history.step()))
                    if not arg:
                        await deliver(commits[-1], None)
                elif action == "deliver":
                    await deliver(commits[arg % len(commits)], arg)
                elif action == "resync":
                    url = "/admin/resync?force=true" if arg else "/admin/resync"
                    assert (await client.post(url, headers=bearer)).status_code == 202
                elif action == "reconcile":
                    assert await reconcile.reconcile(service) is not None
                else:
                    await asyncio.to_thread(idle, db)
            if last == "deliver":  # a stale one, possibly: any commit, a new id
                await deliver(commits[seed % len(commits)], None)
            else:
                assert await reconcile.reconcile(service) is not None
            await asyncio.to_thread(quiet, db, repo.head())

    assert answers == expected
    with contextlib.closing(sqlite3.connect(db)) as conn:
        recorded = conn.execute("SELECT id, outcome FROM deliveries ORDER BY id").fetchall()
        statuses = conn.execute("SELECT DISTINCT status FROM sync_runs").fetchall()
    assert recorded == sorted((d, "queued") for d in used)
    assert statuses == [("done",)]
    return repo


def assert_equals_fresh(root: Path, repo: GitRepo) -> None:
    fresh = fresh_db(root, "fresh")
    assert run_sync(settings_for(repo, fresh)).status == "done"
    problems = diff(snapshot(root / "live.db"), snapshot(fresh))
    assert problems == [], "\n".join(problems)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed=st.integers(0, 10**6),
    steps=st.lists(STEP, min_size=3, max_size=14),
    last=st.sampled_from(["deliver", "reconcile"]),
)
def test_delivery_sequences_and_reconciliations_converge(
    seed: int, steps: list[tuple[str, Any]], last: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = asyncio.run(scenario(Path(tmp), seed, steps, last))
        assert_equals_fresh(Path(tmp), repo)
