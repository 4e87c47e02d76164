"""kill -9 of a real `python -m syncer serve` mid-run, during a push sync and during a
forced reconciliation: after a restart the work resumes and the database converges.

"Mid-way" is observed in the database (files written and tasks still left), never
guessed with a sleep.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncer.config import Settings
from syncer.values import Secret
from syncer.web.auth import issue_admin_token
from syncer.webhook import sign
from syncer_dev.gitrepo import GitRepo
from syncer_dev.snapshot import diff, snapshot
from tests.support.crash_report import Kill, Recorder, recorder_fixture
from tests.support.live import wait_idle
from tests.support.runs import fresh_db, run_sync, settings_for

# Slow together (seconds to minutes): left out of the quick loop, pytest -m "not slow".
pytestmark = pytest.mark.slow

FILES = 1200
SECRET = "crash-test-secret"
KEY = "crash-test-key"


def corpus(version: int) -> dict[str, str]:
    return {
        f"c/{i:04d}.ttl": (
            "@prefix ex: <https://example.org/k/> .\n"
            "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
            "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
            f'ex:C{i} a owl:Class ; rdfs:label "C{i} v{version}" ;\n'
            f"    rdfs:subClassOf ex:C{(i * 7 + version) % FILES} .\n"
        )
        for i in range(FILES)
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LOGS = itertools.count()


class Served:
    """``python -m syncer serve`` on a free port; its stderr goes to ``serve-N.log`` in cwd."""

    def __init__(self, repo: GitRepo, db: Path, cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCER_")}
        env.update(
            SYNCER_DB=str(db),
            SYNCER_GIT_DIR=str(repo.path),
            SYNCER_REPO="acme/ontology",
            SYNCER_BRANCH="main",
            SYNCER_WEBHOOK_SECRET=SECRET,
            SYNCER_SECRET_KEY=KEY,
            SYNCER_WORKERS="2",
            SYNCER_LOG_LEVEL="WARNING",
        )
        self.log = cwd / f"serve-{next(LOGS)}.log"
        with self.log.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "syncer", "serve", "--port", str(self.port)],
                env=env,
                cwd=cwd,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code in (200, 503):
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"server did not start: {self.log.read_text()}")
            time.sleep(0.05)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self) -> None:
        """SIGTERM drains: uvicorn runs the lifespan shutdown, then re-raises the signal."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(60) in (0, -signal.SIGTERM)
        err = self.log.read_text()
        assert "Traceback" not in err, err


def settings(repo: GitRepo, db: Path) -> Settings:
    return settings_for(repo, db, secret_key=Secret(KEY))


def push(url: str, after: str, delivery: str) -> None:
    body = json.dumps(
        {
            "ref": "refs/heads/main",
            "after": after,
            "deleted": False,
            "repository": {"full_name": "acme/ontology", "default_branch": "main"},
        }
    ).encode()
    answer = httpx.post(
        f"{url}/webhook",
        content=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/044aadd",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(SECRET.encode(), body),
        },
    )
    assert answer.status_code == 202, answer.text


def wait_midway(db: Path, proc: subprocess.Popen[bytes], run_kind: str) -> None:
    """Until a run of ``run_kind`` has written files and still has tasks left."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute(
                "SELECT r.planned, (SELECT count(*) FROM sync_tasks) FROM sync_runs r"
                " WHERE r.status = 'running' AND r.kind = ?",
                (run_kind,),
            ).fetchone()
        except sqlite3.OperationalError:
            row = None
        finally:
            conn.close()
        if row is not None and row[0] and 0 < row[1] < row[0] - 20:
            return
        time.sleep(0.01)
    raise AssertionError(f"no {run_kind} run was seen mid-way")


def idle(url: str, head: str, token: str) -> dict[str, Any]:
    with httpx.Client(base_url=url) as client:
        return wait_idle(client, head, {"Authorization": f"Bearer {token}"}, timeout=180)


def assert_converged(repo: GitRepo, db: Path, tmp_path: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    fresh = fresh_db(tmp_path, "fresh")
    assert run_sync(settings_for(repo, fresh)).status == "done"
    problems = diff(snapshot(db), snapshot(fresh))
    assert problems == [], "\n".join(problems)


SEEDS = (0, 1)
SMALL = 360  # files of the seeded kill test's corpus


@pytest.fixture(scope="module")
def crashes(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    yield from recorder_fixture(request, "tests/test_server_crash.py")


def small_file(i: int, version: int) -> str:
    return (
        "@prefix ex: <https://example.org/s/> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f'ex:S{i} a owl:Class ; rdfs:label "S{i} v{version}" ;\n'
        f"    rdfs:subClassOf ex:S{(i * 5 + version) % SMALL} .\n"
    )


def last_run_id(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM sync_runs").fetchone()[0])
    finally:
        conn.close()


def marker(db: Path) -> str:
    """The newest ``last_synced``: files written from now on are later."""
    conn = sqlite3.connect(db)
    try:
        return str(
            conn.execute("SELECT coalesce(max(last_synced), '') FROM source_files").fetchone()[0]
        )
    finally:
        conn.close()


def kill_at(server: Served, db: Path, after_id: int, kind: str, point: int) -> int | None:
    """SIGKILL the server once the first ``kind`` run after ``after_id`` has committed
    ``point`` files; the run id, or None when the run finished before the poller saw it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.proc.poll() is None
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            run = conn.execute(
                "SELECT id, status, planned FROM sync_runs WHERE id > ? AND kind = ?"
                " ORDER BY id LIMIT 1",
                (after_id, kind),
            ).fetchone()
            tasks = conn.execute("SELECT count(*) FROM sync_tasks").fetchone()[0]
        except sqlite3.OperationalError:
            run = None
        finally:
            conn.close()
        if run is not None and run[1] == "running" and run[2] and run[2] - tasks >= point:
            server.kill9()
            return int(run[0])
        if run is not None and run[1] in ("done", "failed"):
            return None
        time.sleep(0.005)
    raise AssertionError(f"no {kind} run reached {point} files within 120 s")


def assert_nothing_lost(
    repo: GitRepo, db: Path, since: str, upserts: set[str], deletes: set[str]
) -> tuple[int, int]:
    """Each file of the cut-off run is written whole or still queued, never both or neither;
    (files done, files left)."""
    head = {}
    for line in repo.git("ls-tree", "-r", "HEAD").splitlines():
        meta, path = line.split("\t", 1)
        head[path] = meta.split()[2]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = {
            r[0]: (r[1], r[2])
            for r in conn.execute("SELECT path, blob_sha, last_synced FROM source_files")
        }
        tasks = dict(conn.execute("SELECT path, action FROM sync_tasks").fetchall())
    finally:
        conn.close()
    assert set(tasks) <= upserts | deletes
    done = 0
    for path in upserts:
        written = path in rows and rows[path][0] == head[path] and rows[path][1] > since
        assert written != (tasks.get(path) == "upsert"), path
        done += written
    for path in deletes:
        assert (path not in rows) != (tasks.get(path) == "delete"), path
        done += path not in rows
    return done, len(tasks)


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_9_at_seeded_points_during_push_syncs_and_reconciliations(
    git_repo: GitRepo, db_path: Path, tmp_path: Path, seed: int, crashes: Recorder
) -> None:
    """Four kill points per seed: a push sync, the nightly reconciliation (caught up on
    start), an admin resync and a forced one. Each restart must resume the cut-off request
    and reach the head; the time from the restart to idle at the head is recorded."""
    rng = random.Random(1000 + seed)
    files = {f"s/{i:03d}.ttl": small_file(i, 0) for i in range(SMALL)}
    head = git_repo.commit_files(files)
    token = issue_admin_token(settings(git_repo, db_path), 3600)
    auth = {"Authorization": f"Bearer {token}"}
    server = Served(git_repo, db_path, tmp_path)
    kills = 0

    def change(modified: int, added: int, removed: int) -> tuple[set[str], set[str]]:
        paths = sorted(files)
        gone = set(rng.sample(paths, removed))
        edits = {
            p: files[p].replace(" v", " w", 1) + f"# {head[:7]}\n"
            for p in rng.sample(sorted(set(paths) - gone), modified)
        }
        new = {
            f"s/new-{seed}-{len(files) + n}.ttl": small_file(len(files) + n, 1)
            for n in range(added)
        }
        files.update(edits)
        files.update(new)
        git_repo.write({**edits, **new})
        for path in gone:
            del files[path]
            git_repo.delete(path)
        return set(edits) | set(new), gone

    for phase in ("push", "reconcile", "resync", "forced resync"):
        kind = "resync" if phase == "forced resync" else phase
        before, since = last_run_id(db_path), marker(db_path)
        if phase == "push":
            upserts, deletes = set(files), set[str]()
            push(server.url, head, f"k-{seed}")
        elif phase == "reconcile":
            # Deliveries are lost while the service is down, and so is a nightly run: the
            # last reconciliation was two days ago, so the start catches one up.
            server.terminate()
            upserts, deletes = change(100, 10, 10)
            head = git_repo.commit()
            conn = sqlite3.connect(db_path)
            with conn:
                conn.execute(
                    "INSERT INTO sync_runs (ontology_id, kind, force, status, started_at,"
                    " finished_at) VALUES ('default', 'reconcile', 0, 'done', ?, ?)",
                    ((datetime.now(UTC) - timedelta(days=2)).isoformat(),) * 2,
                )
            conn.close()
            before = last_run_id(db_path)
            server = Served(git_repo, db_path, tmp_path)
        else:
            upserts, deletes = change(
                100 if phase == "resync" else 20, 0, 5 if phase == "resync" else 0
            )
            head = git_repo.commit()  # the delivery is lost
            if phase == "forced resync":
                upserts = set(files)
            answer = httpx.post(
                f"{server.url}/admin/resync",
                json={"force": phase == "forced resync"},
                headers=auth,
            )
            assert answer.status_code == 202, answer.text
        planned = len(upserts) + len(deletes)
        point = rng.randint(1, planned // 3)
        run_id = kill_at(server, db_path, before, kind, point)
        if run_id is not None:
            written, left = assert_nothing_lost(git_repo, db_path, since, upserts, deletes)
            assert written >= point and written + left == planned
        started = time.monotonic()
        if run_id is not None:
            server = Served(git_repo, db_path, tmp_path)  # resumes the cut-off request
        data = idle(server.url, head, token)
        seconds = time.monotonic() - started
        assert_converged(git_repo, db_path, tmp_path)
        if run_id is None:
            continue  # the run finished before the poller saw it mid-way: not a kill
        kills += 1
        runs = {r["id"]: (r["kind"], r["status"]) for r in data["runs"]}
        assert runs[run_id] == (kind, "interrupted")
        assert data["runs"][0]["kind"] == kind and data["runs"][0]["status"] == "done"
        crashes.add(Kill(seed, phase, point, planned, written, round(seconds, 3)))
    server.terminate()
    assert kills >= 2


def test_sigterm_mid_run_drains_and_keeps_the_work_queued(
    git_repo: GitRepo, db_path: Path, tmp_path: Path
) -> None:
    head = git_repo.commit_files(corpus(0))
    token = issue_admin_token(settings(git_repo, db_path), 3600)
    server = Served(git_repo, db_path, tmp_path)
    push(server.url, head, "t-1")
    wait_midway(db_path, server.proc, "push")
    server.terminate()

    conn = sqlite3.connect(db_path)
    try:
        pending = conn.execute(
            "SELECT kind, status FROM sync_requests WHERE status != 'done'"
        ).fetchall()
        runs = conn.execute("SELECT kind, status FROM sync_runs ORDER BY id").fetchall()
        tasks = conn.execute("SELECT count(*) FROM sync_tasks").fetchone()[0]
    finally:
        conn.close()
    assert pending == [("push", "pending")]
    assert runs == [("push", "interrupted"), ("push", "queued")]
    assert 0 < tasks < FILES

    server = Served(git_repo, db_path, tmp_path)
    idle(server.url, head, token)
    server.terminate()
    assert_converged(git_repo, db_path, tmp_path)
