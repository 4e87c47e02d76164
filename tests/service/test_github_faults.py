"""GitHub faults end to end, through the service: the real app under uvicorn syncs from the
fake GitHub (two loopback servers: the API, and codeload on another origin) while the fake
answers with scripted faults. Each case pushes a repository of 42 files (a tarball sync),
then a change of 5 files and a deletion (5 blobs), and checks that the database equals a
fresh sync of the head, and the exact number and order of requests GitHub saw.

Waits are not real: the source and the coordinator get a fake clock that only their
(instant) sleeps move, so every wait is asserted to the second; a sleeper can also hold a
wait until the test releases it, to look at the status page meanwhile. Limits and retries
follow https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api and
https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api.
Rate limits and the coordinator's backoff are in tests/test_github_limits.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from syncer.config import Settings
from syncer.sources.github import GitHubSource
from syncer.values import Secret
from syncer.web.app import create_app
from syncer.web.auth import issue_admin_token
from syncer_dev.fake_github import FakeGitHubState
from syncer_dev.fake_github import create_app as fake_github
from syncer_dev.faults import Fault
from syncer_dev.gitrepo import GitRepo
from syncer_dev.server import serve_in_thread
from tests.support.clock import split_source_options
from tests.support.live import SECRET, LiveServer, assert_equals_fresh, deliver, push_payload, ttl

# Slow together (seconds to minutes): left out of the quick loop, pytest -m "not slow".
pytestmark = pytest.mark.slow

REPO = "acme/ontology"
TOKEN = "ghp_fault_injection_token"
HEAD, TREE, BLOB = "/repos/*/commits/*", "/repos/*/git/trees/*", "/repos/*/git/blobs/*"
TARBALL, CODELOAD = "/repos/*/tarball/*", "/_codeload/*"


def page(n: int) -> str:
    return f"# Page {n}\n\nSee [[Page {(n + 1) % 8}]] and [[Day {n}]].\n"


def initial_files() -> dict[str, str]:
    """42 files: 12 classes, 8 properties, 8 pages and 14 journal pages, in nested folders
    (so a truncated listing has subtrees to walk, and one of them is truncated too)."""
    files = {
        f"classes/c{i:02}.ttl": ttl(f"C{i}", f"C{i - 1}" if i else "Thing", f"C{i}")
        for i in range(12)
    }
    files |= {f"props/p{i}.ttl": ttl(f"P{i}", "C0", f"P{i}") for i in range(8)}
    files |= {f"pages/Page {i}.md": page(i) for i in range(8)}
    files |= {f"pages/journals/Day {i}.md": f"# Day {i}\n\n[[Page {i % 8}]]\n" for i in range(14)}
    return files


CHANGES = {  # 5 blobs to fetch (under the tarball threshold of 16), and props/p7.ttl goes
    "classes/c03.ttl": ttl("C3", "C0", "C3 moved"),
    "classes/c12.ttl": ttl("C12", "C11", "C12"),
    "props/p1.ttl": ttl("P1", "C5", "P1 changed"),
    "pages/Page 5.md": page(5) + "\nNow also [[Page 2]].\n",
    "pages/journals/Day 3.md": "# Day 3\n\nrewritten\n",
}


class HalfRandom(random.Random):
    """Jitter pinned to the middle, so every backoff is an exact figure."""

    def random(self) -> float:
        return 0.5


class FakeTime:
    """The clock of the source and the coordinator: it starts at a whole second of real
    time and moves only when one of their sleeps ends."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))
        self.start = self.now

    def clock(self) -> float:
        return self.now

    def iso(self, epoch: float) -> str:
        return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


@dataclass
class Sleeper:
    """An injected ``sleep``: records each wait and moves the fake clock by it at once, or,
    for waits of ``hold_from`` seconds or more, only when the test calls :meth:`release`."""

    time: FakeTime
    hold_from: float | None = None
    sleeps: list[float] = field(default_factory=list)
    _held: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.hold_from is not None and seconds >= self.hold_from:
            event = asyncio.Event()
            with self._lock:
                self._held.append((asyncio.get_running_loop(), event))
            await event.wait()
        else:
            await asyncio.sleep(0)
        self.time.now += seconds

    @property
    def holding(self) -> int:
        with self._lock:
            return len(self._held)

    def release(self) -> None:
        with self._lock:
            loop, event = self._held.pop(0)
        loop.call_soon_threadsafe(event.set)


class Stamped:
    """The fake GitHub, noting the fake time of each request: waits are checked on what
    GitHub saw, not only on what the client says it slept."""

    def __init__(self, app: Any, fake_time: FakeTime) -> None:
        self.app, self.time = app, fake_time
        self.log: list[tuple[float, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.log.append((self.time.now - self.time.start, kind_of(scope["path"])))
        await self.app(scope, receive, send)


def kind_of(path: str) -> str:
    if path.startswith("/_codeload/"):
        return "codeload"
    parts = {"/commits/": "head", "/git/trees/": "tree", "/git/blobs/": "blob"}
    parts["/tarball/"] = "tarball"
    return next((name for part, name in parts.items() if part in path), "repo")


@dataclass
class Harness:
    repo: GitRepo
    db: Path
    tmp: Path
    api: str
    state: FakeGitHubState
    stamped: Stamped
    time: FakeTime
    source_sleep: Sleeper
    service_sleep: Sleeper
    client: httpx.Client
    auth: dict[str, str]
    seen: int = 0  # requests before the current step

    def push(self, files: dict[str, str], *, delete: tuple[str, ...] = ()) -> str:
        self.seen = len(self.state.requests)
        self.repo.write(files)
        if delete:
            self.repo.delete(*delete)
        head = self.repo.commit()
        assert deliver(self.client, "push", push_payload(head)).status_code == 202
        return head

    def status(self) -> dict[str, Any]:
        data: dict[str, Any] = self.client.get("/status.json", headers=self.auth).json()
        return data

    def page(self) -> str:
        return self.client.get("/", headers=self.auth).text

    def wait_for(self, what: str, done: Any, timeout: float = 60) -> dict[str, Any]:
        """Poll /status.json until ``done(data)``."""
        deadline = time.monotonic() + timeout
        while not done(data := self.status()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not reached in {timeout} s: {data}")
            time.sleep(0.02)
        return data

    def synced(self, head: str) -> dict[str, Any]:
        """Wait until the head is synced with nothing queued, then check the invariant."""

        def idle(data: dict[str, Any]) -> bool:
            return bool(
                data["synced_commit"] == head
                and data["current_run"] is None
                and data["queue_depth"] == data["pending_tasks"] == 0
            )

        data = self.wait_for(f"synced at {head}", idle)
        assert_equals_fresh(self.repo, self.db, self.tmp)
        return data

    def kinds(self) -> list[str]:
        """The kinds of request GitHub saw in this step, in order."""
        return [kind_of(r.path) for r in self.state.requests[self.seen :]]

    def runs(self) -> list[tuple[str, int]]:
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            rows = conn.execute("SELECT status, requests FROM sync_runs ORDER BY id").fetchall()
        return [(str(s), int(n)) for s, n in rows]


@contextlib.contextmanager
def harness(
    git_repo: GitRepo,
    db_path: Path,
    tmp_path: Path,
    *,
    source_hold: float | None = None,
    service_hold: float | None = None,
    **source_options: Any,
) -> Iterator[Harness]:
    """The service over the fake GitHub, the repository's first commit not yet pushed."""
    git_repo.write(initial_files())
    fake_time = FakeTime()
    state = FakeGitHubState(git_repo.path, full_name=REPO, token=TOKEN)
    stamped = Stamped(fake_github(state), fake_time)
    source_sleep = Sleeper(fake_time, source_hold)
    service_sleep = Sleeper(fake_time, service_hold)
    with serve_in_thread(stamped) as api, serve_in_thread(stamped) as codeload:
        state.codeload_url = codeload
        settings = Settings(
            db_path=db_path,
            repo=REPO,
            branch="main",
            github_api_url=api,
            github_token=Secret(TOKEN),
            webhook_secret=Secret(SECRET),
            secret_key=Secret("signing-key-for-tests"),
            workers=2,
        )
        options, own = split_source_options(
            {"sleep": source_sleep, "clock": fake_time.clock, "rng": HalfRandom(), **source_options}
        )
        source = GitHubSource(REPO, api, Secret(TOKEN), options, **own)
        app = create_app(
            settings, source=source, sleep=service_sleep, clock=fake_time.clock, rng=HalfRandom()
        )
        auth = {"Authorization": f"Bearer {issue_admin_token(settings, 600)}"}
        with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            yield Harness(
                git_repo,
                db_path,
                tmp_path,
                api,
                state,
                stamped,
                fake_time,
                source_sleep,
                service_sleep,
                client,
                auth,
            )


@pytest.fixture
def h(git_repo: GitRepo, db_path: Path, tmp_path: Path) -> Iterator[Harness]:
    with harness(git_repo, db_path, tmp_path) as h:
        yield h


# A clean first sync is the branch's tarball, its codeload download and the tree of the
# commit the archive names (3 requests); the second is head, tree and the 5 changed blobs (7).
FIRST = ["tarball", "codeload", "tree"]
SECOND = ["head", "tree"] + ["blob"] * 5


def test_without_faults_two_syncs_cost_3_then_7_requests(h: Harness) -> None:
    h.synced(h.push({}))
    assert h.kinds() == FIRST
    h.synced(h.push(CHANGES, delete=("props/p7.ttl",)))
    assert h.kinds() == SECOND
    assert h.runs() == [("done", 3), ("done", 7)]
    assert h.source_sleep.sleeps == h.service_sleep.sleeps == []


def test_5xx_bursts_are_retried_with_backoff_and_a_long_one_interrupts_the_run(
    h: Harness,
) -> None:
    h.state.faults = [
        Fault(TREE, status=500),
        Fault(TARBALL, status=503, times=2),
        Fault(CODELOAD, status=502),
    ]
    h.synced(h.push({}))
    assert h.kinds() == ["tarball"] * 3 + ["codeload"] * 2 + ["tree"] * 2
    # Exponential from 1 s, jitter pinned at 0.75: 0.75, 1.5, 3, ...
    assert h.source_sleep.sleeps == [0.75, 1.5, 0.75, 0.75]

    # 8 errors in a row outlast the source's 6 attempts: the run is interrupted with its
    # tasks kept, the coordinator waits (5 s x 1.25 jitter) and the next run finishes.
    h.state.faults = [Fault(HEAD, status=502, times=2), Fault(BLOB, status=500, times=8)]
    h.synced(h.push(CHANGES, delete=("props/p7.ttl",)))
    assert h.kinds() == ["head"] * 3 + ["tree"] + ["blob"] * 6 + ["head"] + ["blob"] * 7
    head_waits, blob_waits = [0.75, 1.5], [0.75, 1.5, 3.0, 6.0, 12.0, 0.75, 1.5]
    assert h.source_sleep.sleeps[4:] == [*head_waits, *blob_waits]
    assert h.service_sleep.sleeps == [6.25]
    # The third run's head is a 304 (ETag) and the tree of that commit is not asked again.
    assert h.runs() == [("done", 7), ("interrupted", 10), ("done", 8)]
    assert h.state.faults == []


def test_timeouts_are_retried(git_repo: GitRepo, db_path: Path, tmp_path: Path) -> None:
    # A short client timeout; the fake holds each slow answer until the client hangs up.
    with harness(git_repo, db_path, tmp_path, timeout=2.0) as h:
        h.state.faults = [Fault(TREE, action="delay", delay=60.0)]
        h.synced(h.push({}))
        assert h.kinds() == ["tarball", "codeload", "tree", "tree"]

        h.state.faults = [Fault(BLOB, action="delay", delay=60.0)]
        h.synced(h.push(CHANGES, delete=("props/p7.ttl",)))
        assert h.kinds() == ["head", "tree"] + ["blob"] * 6
        assert h.source_sleep.sleeps == [0.75, 0.75]
        assert h.runs() == [("done", 4), ("done", 8)]


def test_dropped_connections_are_retried(h: Harness) -> None:
    h.state.faults = [Fault(p, action="drop") for p in (TREE, TARBALL, CODELOAD)]
    h.synced(h.push({}))
    assert h.kinds() == ["tarball", "tarball", "codeload", "codeload", "tree", "tree"]

    h.state.faults = [Fault(HEAD, action="drop"), Fault(BLOB, action="drop", times=2)]
    h.synced(h.push(CHANGES, delete=("props/p7.ttl",)))
    assert h.kinds() == ["head", "head", "tree"] + ["blob"] * 7
    assert h.source_sleep.sleeps == [0.75] * 4 + [0.75, 1.5]
    assert h.runs() == [("done", 6), ("done", 10)]


def test_truncated_trees_are_walked(h: Harness) -> None:
    # 42 blobs and 4 folders in the recursive listing, cut at 20 entries: the root is
    # listed alone, then each folder recursively; pages/ (8 + 14 + 1 entries) is cut too,
    # so it is listed alone and pages/journals recursively. One listing fails once (500).
    h.state.truncate_trees, h.state.truncate_limit = True, 20
    h.state.faults = [Fault("/repos/*/git/trees/*", status=500)]
    h.synced(h.push({}))
    walk = ["tree"] * 7  # root (cut), root, classes, pages (cut), pages, journals, props
    assert h.kinds() == ["tarball", "codeload", "tree", *walk]
    assert [r.query for r in h.state.requests if kind_of(r.path) == "tree"] == [
        "recursive=1",
        "recursive=1",
        "",
        "recursive=1",
        "recursive=1",
        "",
        "recursive=1",
        "recursive=1",
    ]

    h.synced(h.push(CHANGES, delete=("props/p7.ttl",)))
    assert h.kinds() == ["head"] + walk + ["blob"] * 5
    assert h.runs() == [("done", 10), ("done", 13)]


@pytest.mark.parametrize("status", [301, 307])
def test_a_moved_repository_is_followed(
    git_repo: GitRepo, db_path: Path, tmp_path: Path, status: int
) -> None:
    # "Follow redirects": 301 means use the new URL from now on, 307 only this once.
    with harness(git_repo, db_path, tmp_path) as h:
        old, new = f"/repos/{REPO}/", f"/repos/{REPO}-renamed/"
        h.state.full_name = f"{REPO}-renamed"  # the old name now answers 404 ...
        redirect = Fault(old + "*", status=status, times=10**6)  # ... but for this redirect
        redirect.location = lambda path: h.api + path.replace(old, new, 1)
        h.state.faults = [redirect]
        h.synced(h.push({}))
        first = h.kinds()
        h.synced(h.push(CHANGES, delete=("props/p7.ttl",)))
        second = h.kinds()

    moved = [r.path.startswith(old) for r in h.state.requests]
    if status == 301:  # one redirect, then every request goes to the new name
        assert first == ["tarball", "tarball", "codeload", "tree"]
        assert second == SECOND
        assert moved == [True] + [False] * 10
        assert h.runs() == [("done", 4), ("done", 7)]
    else:  # each API request is redirected; the 302 to codeload follows the 307
        assert first == ["tarball", "tarball", "codeload", "tree", "tree"]
        assert second == [k for k in SECOND for _ in range(2)]
        assert moved == [True, False, False, True, False] + [True, False] * 7
        assert h.runs() == [("done", 5), ("done", 14)]
    assert h.source_sleep.sleeps == []
    # Codeload is another origin: the signed link is used without the token.
    codeload = [r for r in h.state.requests if kind_of(r.path) == "codeload"]
    assert len(codeload) == 1 and "authorization" not in codeload[0].headers
    assert all(r.headers.get("authorization") == "<redacted>" for r in h.state.requests[:2])
