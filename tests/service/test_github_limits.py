"""GitHub's rate limits and long outages end to end, through the service (the harness of
tests/test_github_faults.py: the real app under uvicorn, the fake GitHub on loopback, a
fake clock that only the injected sleeps move, so waits are exact and cost no time).

What GitHub asks (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api,
"Exceeding the rate limit"): with ``retry-after``, wait that many seconds; with
``x-ratelimit-remaining: 0``, make no request before ``x-ratelimit-reset``; otherwise wait at
least a minute. The request times GitHub saw (``Stamped``) show the waits were kept.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
from pathlib import Path

import pytest

from syncer.config import Settings
from syncer.sources.git import GitSource
from syncer.storage.writer import Writer
from syncer.sync.coordinator import Service
from syncer_dev.faults import Fault
from syncer_dev.gitrepo import GitRepo
from tests.service.test_github_faults import (
    BLOB,
    CHANGES,
    FIRST,
    HEAD,
    REPO,
    TARBALL,
    TREE,
    FakeTime,
    HalfRandom,
    Harness,
    harness,
)

SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


def primary_limit(reset: float) -> Fault:
    """The answer once the hour's requests are spent, headers as GitHub sends them."""
    headers = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-used": "5000",
        "x-ratelimit-reset": str(int(reset)),
        "x-ratelimit-resource": "core",
    }
    # An initial sync's first request is the branch's tarball (GitHubSource.prefetch).
    body = {"message": "API rate limit exceeded"}
    return Fault(TARBALL, status=403, headers=headers, body=body)


@pytest.mark.slow
def test_secondary_limits_wait_retry_after_or_a_minute(
    git_repo: GitRepo, db_path: Path, tmp_path: Path
) -> None:
    with harness(git_repo, db_path, tmp_path) as h:
        secondary_limits(h)


def secondary_limits(h: Harness) -> None:
    h.state.faults = [
        Fault(TARBALL, status=429, headers={"retry-after": "2"}),
        Fault(TREE, status=403, headers={"retry-after": "1"}, body={"message": SECONDARY}),
    ]
    h.synced(h.push({}))
    assert h.stamped.log == [
        (0.0, "tarball"),
        (2.0, "tarball"),
        (2.0, "codeload"),
        (2.0, "tree"),
        (3.0, "tree"),
    ]
    assert h.source_sleep.sleeps == [2.0, 1.0]

    # No header: a minute. Then a limit that outlasts the source's 6 attempts interrupts the
    # run; the coordinator waits for the limit (1 s), not its own backoff (6.25 s), no sooner.
    h.stamped.log.clear()
    h.state.faults = [
        Fault(HEAD, status=403, body={"message": SECONDARY}),
        Fault(BLOB, status=429, headers={"retry-after": "1"}, times=7),
    ]
    h.synced(h.push(CHANGES, delete=("props/p7.ttl",)))
    assert h.stamped.log == [
        (3.0, "head"),
        (63.0, "head"),
        (63.0, "tree"),
        *[(63.0 + i, "blob") for i in range(6)],
        (69.0, "head"),
        (69.0, "blob"),
        *[(70.0, "blob")] * 5,
    ]
    assert h.source_sleep.sleeps[:3] == [2.0, 1.0, 60.0]
    assert h.service_sleep.sleeps == [1.0]
    assert h.runs() == [("done", 5), ("interrupted", 9), ("done", 7)]


@pytest.mark.slow
def test_an_exhausted_primary_limit_is_waited_out_in_the_run(
    git_repo: GitRepo, db_path: Path, tmp_path: Path
) -> None:
    with harness(git_repo, db_path, tmp_path, source_hold=100.0) as h:
        reset = h.time.start + 1800
        h.state.faults = [primary_limit(reset)]
        head = h.push({})
        until = h.time.iso(reset)
        data = h.wait_for("rate limited", lambda d: d["rate_limited_until"] == until)
        # Waiting: the status says until when, and GitHub has seen the one request.
        assert data["current_run"]["phase"] == "planning"
        assert data["next_retry_at"] is None
        assert f'<span id="ratelimit">rate limited until {until}</span>' in h.page()
        assert h.kinds() == ["tarball"]
        assert (h.source_sleep.sleeps, h.source_sleep.holding) == ([1800.0], 1)

        h.source_sleep.release()
        h.synced(head)
        assert h.kinds() == ["tarball", *FIRST]
        assert h.stamped.log == [(0.0, "tarball")] + [(1800.0, k) for k in FIRST]
        assert h.runs() == [("done", 4)]
        assert '<span id="ratelimit">not rate limited</span>' in h.page()


@pytest.mark.slow
def test_a_reset_beyond_max_wait_is_waited_by_the_coordinator(
    git_repo: GitRepo, db_path: Path, tmp_path: Path
) -> None:
    """The source hands a long wait back (the run ends interrupted, its work kept); the
    coordinator retries at the reset, and the source sends nothing before it either."""
    with harness(git_repo, db_path, tmp_path, service_hold=100.0, max_wait=600.0) as h:
        reset = h.time.start + 1800
        h.state.faults = [primary_limit(reset)]
        head = h.push({})
        until = h.time.iso(reset)
        data = h.wait_for("retry at the reset", lambda d: d["next_retry_at"] == until)
        assert data["rate_limited_until"] == until
        assert (data["current_run"], data["queue_depth"]) == (None, 1)
        page = h.page()
        assert f'<span id="ratelimit">rate limited until {until}</span>' in page
        assert f"next retry at {until}" in page
        assert h.kinds() == ["tarball"]
        assert (h.service_sleep.sleeps, h.service_sleep.holding) == ([1800.0], 1)

        h.service_sleep.release()
        h.synced(head)
        assert h.stamped.log == [(0.0, "tarball")] + [(1800.0, k) for k in FIRST]
        assert h.runs() == [("interrupted", 1), ("done", 3)]
        with contextlib.closing(sqlite3.connect(h.db)) as conn:
            error = conn.execute("SELECT error FROM sync_runs ORDER BY id LIMIT 1").fetchone()
        assert error == (f"tarball of main from {REPO}: primary rate limit spent (403)",)
        assert h.source_sleep.sleeps == []
        assert h.status()["next_retry_at"] is None


@pytest.mark.slow
def test_an_outage_backs_off_exponentially_and_a_success_resets_it(
    git_repo: GitRepo, db_path: Path, tmp_path: Path
) -> None:
    with harness(git_repo, db_path, tmp_path, service_hold=20.0) as h:
        # Three runs' worth of 503s (6 attempts each): retried after 6.25 s, 12.5 s, 25 s.
        h.state.faults = [Fault("/repos/*", status=503, times=18)]
        head = h.push({})
        h.wait_for("held", lambda d: h.service_sleep.holding == 1)
        backoffs = [0.75, 1.5, 3.0, 6.0, 12.0]  # the source's, within each run
        assert h.source_sleep.sleeps == backoffs * 3
        assert h.time.now == h.time.start + 3 * sum(backoffs) + 6.25 + 12.5
        data = h.status()
        retry_at = h.time.iso(h.time.now + 25.0)
        assert (data["next_retry_at"], data["rate_limited_until"]) == (retry_at, None)
        assert (data["current_run"], data["queue_depth"]) == (None, 1)
        assert f"next retry at {retry_at}" in h.page()
        assert h.kinds() == ["tarball"] * 18

        h.service_sleep.release()
        h.synced(head)
        assert h.kinds() == ["tarball"] * 18 + FIRST
        assert h.service_sleep.sleeps == [6.25, 12.5, 25.0]
        assert h.runs() == [("interrupted", 6)] * 3 + [("done", 3)]

        # The next outage starts again from 5 s (x 1.25 jitter).
        h.state.faults = [Fault("/repos/*", status=503, times=6)]
        h.synced(h.push(CHANGES, delete=("props/p7.ttl",)))
        assert h.kinds() == ["head"] * 7 + ["tree"] + ["blob"] * 5
        assert h.service_sleep.sleeps == [6.25, 12.5, 25.0, 6.25]


def test_retry_delays_double_up_to_five_minutes_a_reset_wins_storage_faults_every_30_s(
    git_repo: GitRepo, db_path: Path
) -> None:
    fake_time = FakeTime()
    source = GitSource(git_repo.path)
    writer = Writer(db_path)
    try:
        settings = Settings(db_path=db_path, git_dir=git_repo.path)
        service = Service(settings, source, writer, clock=fake_time.clock, rng=HalfRandom())
        delays = []
        for n in range(1, 11):
            service.interruptions = n
            delays.append(service._retry_delay())
        assert delays == [6.25, 12.5, 25.0, 50.0, 100.0, 200.0, 300.0, 300.0, 300.0, 300.0]
        # A storage fault is retried every 30 s at the most, a rate limit notwithstanding.
        source.stats.rate_limited_until = fake_time.now + 42.0
        storage = []
        for n in range(1, 6):
            service.interruptions = n
            storage.append(service._retry_delay(storage=True))
        assert storage == [6.25, 12.5, 25.0, 30.0, 30.0]
        source.stats.rate_limited_until = None

        source.stats.rate_limited_until = fake_time.now + 42.0
        assert service._retry_delay() == 42.0
        source.stats.rate_limited_until = fake_time.now + 7200.0
        assert service._retry_delay() == 3600.0  # a nonsense reset is capped at an hour

        # Jitter spreads the first retry over [5, 7.5) s.
        source.stats.rate_limited_until = None
        service = Service(settings, source, writer, clock=fake_time.clock, rng=random.Random(5))
        service.interruptions = 1
        firsts = [service._retry_delay() for _ in range(200)]
        assert 5.0 <= min(firsts) < 5.2 and 7.3 < max(firsts) < 7.5
    finally:
        writer.close()
