"""Head polling: a push whose delivery was lost is caught by the next poll (issue 15,
item 1), and the database says where the head was seen and since when it is behind."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx

from syncer.config import Settings
from syncer.sources.git import GitSource
from syncer.sources.github import GitHubSource
from syncer.storage import deliveries, requests, runs
from syncer.storage.migrate import ensure_schema
from syncer.storage.writer import Writer
from syncer.sync.coordinator import Service
from syncer.values import Secret
from syncer.web.app import create_app
from syncer.web.auth import issue_admin_token
from syncer_dev.fake_github import FakeGitHubState
from syncer_dev.fake_github import create_app as fake_github
from syncer_dev.gitrepo import GitRepo
from syncer_dev.server import serve_in_thread
from tests.support.live import LiveServer, service_settings, ttl, wait_idle
from tests.support.runs import run_sync, settings_for


def test_a_poll_notes_the_head_and_queues_a_sync_once_when_behind(
    git_repo: GitRepo, db_path: Path
) -> None:
    synced = git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    settings = settings_for(git_repo, db_path, poll_interval=0)
    assert run_sync(settings).status == "done"

    async def go() -> tuple[list[bool], runs.SyncState, requests.SyncRequest | None, object]:
        writer = Writer(db_path)
        service = Service(settings, GitSource(git_repo.path), writer, clock=lambda: 1000.0)
        try:
            in_step = await service.watch.poll_head()
            state_in_step = await writer.read(runs.sync_state, settings.ontology_id)
            assert state_in_step.head_commit == synced and state_in_step.behind_since is None
            git_repo.commit_files({"b.ttl": ttl("B", "A", "B")})  # pushed; delivery lost
            queued = await service.watch.poll_head()
            once_more = await service.watch.poll_head()  # already queued: not twice
            state = await writer.read(runs.sync_state, settings.ontology_id)
            pending = await writer.read(requests.pending_request, settings.ontology_id)
            return [in_step, queued, once_more], state, pending, service.watch.last_poll
        finally:
            writer.close()

    answers, state, pending, last_poll = asyncio.run(go())
    head = git_repo.head()
    assert answers == [False, True, False]
    assert (state.synced_commit, state.head_commit) == (synced, head)
    assert state.behind_since is not None and state.head_checked_at is not None
    assert pending is not None and pending.kind == "poll"
    assert last_poll == (1000.0, None)
    with sqlite3.connect(db_path) as conn:
        trigger = conn.execute(
            "SELECT trigger FROM sync_runs WHERE id = ?", (pending.run_id,)
        ).fetchone()[0]
    assert trigger == f"head poll: {head[:12]}"


def test_a_failed_poll_is_recorded_and_queues_nothing(git_repo: GitRepo, db_path: Path) -> None:
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    settings = settings_for(git_repo, db_path, poll_interval=0)
    assert run_sync(settings).status == "done"

    async def go() -> tuple[bool, object, requests.SyncRequest | None, int]:
        writer = Writer(db_path)
        gone = GitSource(db_path.parent / "no-such-repository")
        service = Service(settings, gone, writer, clock=lambda: 2000.0)
        try:
            queued = await service.watch.poll_head()
            pending = await writer.read(requests.pending_request, settings.ontology_id)
            return queued, service.watch.last_poll, pending, service.watch.poll_failures
        finally:
            writer.close()

    queued, last_poll, pending, failures = asyncio.run(go())
    missing = db_path.parent / "no-such-repository"
    assert (queued, last_poll, pending) == (
        False,
        (2000.0, f"git repository {missing} does not exist"),
        None,
    )
    assert failures == 1


def test_a_lost_delivery_is_caught_by_the_poll_within_one_interval(
    git_repo: GitRepo, db_path: Path
) -> None:
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    settings = service_settings(git_repo, db_path, poll_interval=1)
    assert run_sync(settings).status == "done"
    auth = {"Authorization": f"Bearer {issue_admin_token(settings, 600)}"}
    with LiveServer(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        head = git_repo.commit_files({"b.ttl": ttl("B", "A", "B")})  # no delivery is sent
        data = wait_idle(client, head, auth, timeout=10)
    assert data["runs"][0]["kind"] == "poll"
    assert data["runs"][0]["trigger"] == f"head poll: {head[:12]}"
    assert data["last_poll"] is not None and data["last_poll"]["error"] is None
    assert data["verdict_level"] == "in step"
    assert data["deliveries"] == []


def on_github(db_path: Path, url: str) -> Settings:
    """The fake GitHub's repository, polled by hand (no poll loop)."""
    return Settings(
        db_path=db_path,
        repo="acme/ontology",
        github_api_url=url,
        github_token=Secret("t"),
        poll_interval=0,
        workers=2,
    )


def test_unchanged_polls_on_github_are_304s_and_a_new_head_is_caught(
    git_repo: GitRepo, db_path: Path
) -> None:
    """Over loopback against the fake GitHub: while the head is unchanged each poll is one
    conditional request answered 304 (free against the rate limit, GitHub docs:
    "conditional requests"); a pushed commit whose delivery was lost is queued."""
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    state = FakeGitHubState(git_repo.path, full_name="acme/ontology", token="t")
    with serve_in_thread(fake_github(state)) as url:
        settings = on_github(db_path, url)

        async def go() -> list[bool]:
            writer = Writer(db_path)
            source = GitHubSource("acme/ontology", url, Secret("t"))
            service = Service(settings, source, writer)
            try:
                await service.start()
                await service.request("resync", False, "first sync")
                await asyncio.wait_for(service.idle.wait(), 60)
                # The first poll learns the default branch and the head's ETag (the run
                # read the head from the archive it downloaded, not from this endpoint).
                assert await service.watch.poll_head() is False
                state.requests.clear()
                answers = [await service.watch.poll_head() for _ in range(3)]
                git_repo.commit_files({"b.ttl": ttl("B", "A", "B")})  # delivery lost
                answers.append(await service.watch.poll_head())
                return answers
            finally:
                await service.stop()
                await source.aclose()
                writer.close()

        answers = asyncio.run(go())
    head_path = "/repos/acme/ontology/commits/main"
    assert answers == [False, False, False, True]
    assert [(r.path, r.status) for r in state.requests] == [
        (head_path, 304),
        (head_path, 304),
        (head_path, 304),
        (head_path, 200),
    ]
    assert all("if-none-match" in r.headers for r in state.requests)
    with sqlite3.connect(db_path) as conn:
        kind, trigger = conn.execute(
            "SELECT kind, trigger FROM sync_runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert (kind, trigger) == ("poll", f"head poll: {git_repo.head()[:12]}")


def test_the_webhook_delivery_log_audit_shows_what_never_arrived(
    git_repo: GitRepo, db_path: Path
) -> None:
    """GitHub's log lists three deliveries: one the service recorded, one GitHub could not
    deliver (a proxy's 502), one it says was answered but the service never saw."""
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    state = FakeGitHubState(git_repo.path, full_name="acme/ontology", token="t")
    state.hook_deliveries = [
        {
            "guid": "seen",
            "status_code": 202,
            "status": "Accepted",
            "event": "push",
            "delivered_at": "2026-12-03T10:00:02Z",
        },
        {
            "guid": "proxy",
            "status_code": 502,
            "status": "Bad Gateway",
            "event": "push",
            "delivered_at": "2026-12-03T10:00:01Z",
        },
        {
            "guid": "elsewhere",
            "status_code": 200,
            "status": "OK",
            "event": "push",
            "delivered_at": "2026-12-03T10:00:00Z",
        },
    ]
    with serve_in_thread(fake_github(state)) as url:
        settings = on_github(db_path, url).with_(github_hook_id=17)

        async def go() -> tuple[bool, bool, Service]:
            writer = Writer(db_path)
            source = GitHubSource("acme/ontology", url, Secret("t"))
            service = Service(settings, source, writer, clock=lambda: 3000.0)
            try:
                await writer.run(record_seen, "seen")
                audited = await service.watch.audit_deliveries()
                settings_wrong = settings.with_(github_hook_id=99)
                other = Service(settings_wrong, source, writer, clock=lambda: 3001.0)
                failed = await other.watch.audit_deliveries()
                assert other.watch.last_audit is not None
                assert other.watch.last_audit[1] is not None
                assert other.watch.last_audit[1].startswith("GitHub found no deliveries of hook 99")
                return audited, failed, service
            finally:
                await source.aclose()
                writer.close()

        ensure_schema(db_path)
        audited, failed, service = asyncio.run(go())
    assert (audited, failed) == (True, False)
    assert service.watch.last_audit == (3000.0, None)
    assert [(lost.guid, lost.why) for lost in service.watch.lost_deliveries] == [
        ("proxy", "answered 502 (Bad Gateway)"),
        ("elsewhere", "GitHub says it was answered 200, but the service has no record of it"),
    ]


def record_seen(conn: sqlite3.Connection, delivery_id: str) -> None:
    deliveries.record_delivery(
        conn,
        deliveries.DeliveryRow(
            id=delivery_id,
            event="push",
            outcome="queued",
            reason="test",
            repository="acme/ontology",
            ref="refs/heads/main",
            after="1" * 40,
            run_id=None,
        ),
        "2026-12-03T10:00:02+00:00",
    )
