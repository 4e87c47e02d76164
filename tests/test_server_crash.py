"""kill -9 of a real `python -m syncer serve` mid-run, during a push sync and during a
forced reconciliation: after a restart the work resumes and the database converges.

"Mid-way" is observed in the database (files written and tasks still left), never
guessed with a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from syncer.auth import issue_admin_token
from syncer.config import Secret, Settings
from syncer.testing.gitrepo import GitRepo
from syncer.testing.snapshot import diff, snapshot
from syncer.webhook import sign
from tests.conftest import fresh_db, run_sync, settings_for
from tests.test_app import wait_idle

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


class Served:
    def __init__(self, repo: GitRepo, db: Path, cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCER_")}
        env.update(
            SYNCER_DB=str(db),
            SYNCER_GIT_DIR=str(repo.path),
            SYNCER_BRANCH="main",
            SYNCER_WEBHOOK_SECRET=SECRET,
            SYNCER_SECRET_KEY=KEY,
            SYNCER_WORKERS="2",
            SYNCER_LOG_LEVEL="WARNING",
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "syncer", "serve", "--port", str(self.port)],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code in (200, 503):
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise AssertionError(f"server did not start: {err}")
            time.sleep(0.05)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self) -> None:
        """SIGTERM drains: uvicorn runs the lifespan shutdown, then re-raises the signal."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(60) in (0, -signal.SIGTERM)
        err = self.proc.stderr.read().decode() if self.proc.stderr else ""
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


def test_kill_9_during_push_sync_and_during_reconciliation(
    git_repo: GitRepo, db_path: Path, tmp_path: Path
) -> None:
    head = git_repo.commit_files(corpus(0))
    token = issue_admin_token(settings(git_repo, db_path), 3600)

    server = Served(git_repo, db_path, tmp_path)
    push(server.url, head, "k-1")
    wait_midway(db_path, server.proc, "push")
    server.kill9()

    server = Served(git_repo, db_path, tmp_path)  # resumes the cut-off request on start
    idle(server.url, head, token)
    assert_converged(git_repo, db_path, tmp_path)

    head = git_repo.commit_files(corpus(1))  # every file changes; the delivery is lost
    answer = httpx.post(
        f"{server.url}/admin/resync",
        json={"force": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 202
    wait_midway(db_path, server.proc, "resync")
    server.kill9()

    server = Served(git_repo, db_path, tmp_path)
    data = idle(server.url, head, token)
    kinds = [(r["kind"], r["status"]) for r in data["runs"]]
    assert ("resync", "interrupted") in kinds
    assert_converged(git_repo, db_path, tmp_path)


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
