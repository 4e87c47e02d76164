"""Storage faults under the running service: a read-only database file and a full disk.

The service (uvicorn on loopback, lifespan on) must say what is wrong on /healthz (503 and
the reason, no traceback, no path), keep serving the status page, refuse writes it cannot
make with 503 and a retry hint, corrupt nothing, and recover without a restart once the
fault clears.

Read-only: ``chmod 0444`` on the database file, plus ``chattr +i`` when the tests run as
root (root ignores permission bits); the test is skipped where neither takes effect.
Full disk, twice: on a real 16 MiB tmpfs filled by a ballast file (root only, skipped
elsewhere), and everywhere with ``PRAGMA max_page_count`` on every connection the service
opens (SQLite then answers SQLITE_FULL, "database or disk is full", as on a full file
system; the cap is a test seam patched over ``db.connect`` in the writer and the probe).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncer.storage import db as db_module
from syncer.storage.migrate import migrate
from syncer.web.app import create_app
from syncer.web.auth import issue_admin_token
from syncer_dev.gitrepo import GitRepo
from tests.support.live import (
    LiveServer,
    assert_equals_fresh,
    deliver,
    push_payload,
    service_settings,
    ttl,
    wait_idle,
)
from tests.support.runs import run_sync

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
READ_ONLY = "storage unavailable: database is read-only: attempt to write a readonly database"


async def quick(seconds: float) -> None:
    """The coordinator's wait before trying again, shortened (it backs off up to 5 min)."""
    await asyncio.sleep(min(seconds, 0.1))


class ReadOnly:
    """Make a file read-only for this process, and writable again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.immutable = False

    def on(self) -> None:
        self.path.chmod(0o444)
        if os.geteuid() == 0:  # root writes through permission bits; not through +i
            done = subprocess.run(["chattr", "+i", str(self.path)], capture_output=True)
            self.immutable = done.returncode == 0
        try:
            self.path.open("r+b").close()
        except PermissionError:
            return
        self.off()
        pytest.skip("cannot make a file read-only here (root without chattr +i)")

    def off(self) -> None:
        if self.immutable:
            subprocess.run(["chattr", "-i", str(self.path)], check=True)
            self.immutable = False
        self.path.chmod(0o644)


@pytest.fixture
def read_only(db_path: Path) -> Iterator[ReadOnly]:
    fault = ReadOnly(db_path)
    yield fault
    fault.off()  # never leave an immutable file behind


def check_database(db: Path) -> sqlite3.Connection:
    """A read-only connection after asserting the file is sound."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    return conn


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    shown = [r.getMessage() for r in caplog.records if r.exc_info or r.stack_info]
    assert shown == []
    assert not any("Traceback" in r.getMessage() for r in caplog.records)


def test_service_started_on_a_read_only_database_refuses_writes_then_recovers(
    git_repo: GitRepo,
    db_path: Path,
    tmp_path: Path,
    read_only: ReadOnly,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The file is read-only when the service starts (a restore with the wrong owner, a
    volume that came back read-only): it serves, says why, refuses the push with 503."""
    caplog.set_level(logging.INFO)
    first = git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    settings = service_settings(git_repo, db_path)
    assert run_sync(settings).status == "done"
    second = git_repo.commit_files({"b.ttl": ttl("B", "A", "B")})
    auth = {"Authorization": f"Bearer {issue_admin_token(settings, 600)}"}
    read_only.on()
    app = create_app(settings, sleep=quick)
    with LiveServer(app) as server, httpx.Client(base_url=server.url) as client:
        health = client.get("/healthz")
        assert (health.status_code, health.text) == (503, "database is read-only")
        data = client.get("/status.json", headers=auth).json()
        assert (data["synced_commit"], data["counts"]["files"]) == (first, 1)
        page = client.get("/", headers=auth)
        assert page.status_code == 200 and first in page.text
        answer = deliver(client, "push", push_payload(second), delivery="ro-1")
        assert (answer.status_code, answer.headers["retry-after"]) == (503, "60")
        assert answer.json() == {"error": READ_ONLY, "retry_after_seconds": 60}
        with contextlib.closing(check_database(db_path)) as conn:
            assert conn.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0

        read_only.off()
        # No restart, no redelivery: the refused push made the service queue a
        # reconciliation for when writes work again.
        data = wait_idle(client, second, auth, timeout=30)
        assert (data["runs"][0]["kind"], data["runs"][0]["status"]) == ("reconcile", "done")
        health = client.get("/healthz")
        assert (health.status_code, health.text) == (200, "ok")
        # GitHub's "Redeliver" (same delivery id) is accepted now: it was never recorded.
        again = deliver(client, "push", push_payload(second), delivery="ro-1")
        assert (again.status_code, again.json()["outcome"]) == (202, "queued")
        wait_idle(client, second, auth)
    assert_equals_fresh(git_repo, db_path, tmp_path)
    check_database(db_path).close()
    no_tracebacks(caplog)


def test_database_turning_read_only_under_a_running_service(
    git_repo: GitRepo,
    db_path: Path,
    tmp_path: Path,
    read_only: ReadOnly,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The file turns read-only while the service runs. Permissions are checked when a file
    is opened, so the writer's open connection keeps writing: the push is taken and synced,
    while /healthz warns (503) that no new connection can write, until the fault clears."""
    caplog.set_level(logging.INFO)
    first = git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    settings = service_settings(git_repo, db_path)
    auth = {"Authorization": f"Bearer {issue_admin_token(settings, 600)}"}
    with (
        LiveServer(create_app(settings, sleep=quick)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        assert deliver(client, "push", push_payload(first)).status_code == 202
        wait_idle(client, first, auth)
        read_only.on()
        health = client.get("/healthz")
        assert (health.status_code, health.text) == (503, "database is read-only")
        assert client.get("/status.json", headers=auth).json()["synced_commit"] == first
        second = git_repo.commit_files({"b.ttl": ttl("B", "A", "B")})
        assert deliver(client, "push", push_payload(second)).status_code == 202
        wait_idle(client, second, auth)
        check_database(db_path).close()
        read_only.off()
        health = client.get("/healthz")
        assert (health.status_code, health.text) == (200, "ok")
    assert_equals_fresh(git_repo, db_path, tmp_path)
    no_tracebacks(caplog)


def big_file(n: int) -> str:
    return "".join(
        f"<https://example.org/f/F{n}C{i}> <{RDF_TYPE}> <http://www.w3.org/2002/07/owl#Class> .\n"
        f'<https://example.org/f/F{n}C{i}> <{RDFS_LABEL}> "{"label " * 40}{i}" .\n'
        for i in range(300)
    )


def failed_run(db: Path) -> tuple[Any, ...] | None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        row = conn.execute(
            "SELECT id, error FROM sync_runs WHERE status = 'failed' ORDER BY id LIMIT 1"
        ).fetchone()
        return None if row is None else tuple(row)
    finally:
        conn.close()


@pytest.mark.slow
def test_disk_full_under_the_service_then_room_is_made(
    git_repo: GitRepo,
    db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    first = git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    settings = service_settings(git_repo, db_path)
    assert run_sync(settings).status == "done"
    auth = {"Authorization": f"Bearer {issue_admin_token(settings, 600)}"}
    with sqlite3.connect(db_path) as conn:
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    cap = [pages + 60]  # room for about one of the files below
    real_connect = db_module.connect

    def capped(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
        conn = real_connect(path, readonly=readonly)
        conn.execute(f"PRAGMA max_page_count = {cap[0]}")
        return conn

    monkeypatch.setattr("syncer.storage.writer.connect", capped)
    monkeypatch.setattr("syncer.storage.health.connect", capped)
    with (
        LiveServer(create_app(settings, sleep=quick)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        assert client.get("/status.json", headers=auth).json()["synced_commit"] == first
        second = git_repo.commit_files({f"f{n}.nt": big_file(n) for n in range(6)})
        assert deliver(client, "push", push_payload(second)).status_code == 202
        deadline = time.monotonic() + 30
        while (failed := failed_run(db_path)) is None:
            assert time.monotonic() < deadline, "no run failed on the full disk"
            time.sleep(0.05)
        assert failed[1] == "disk full: database or disk is full"
        health = client.get("/healthz")
        assert (health.status_code, health.text) == (503, "disk full")
        data = client.get("/status.json", headers=auth).json()
        assert data["synced_commit"] == first
        assert next(r for r in data["runs"] if r["id"] == failed[0])["status"] == "failed"
        with contextlib.closing(check_database(db_path)) as conn:
            # One read transaction: every file is written whole or still queued.
            conn.execute("BEGIN")
            written = conn.execute(
                "SELECT count(*) FROM source_files WHERE path LIKE 'f%.nt'"
            ).fetchone()[0]
            queued = conn.execute("SELECT count(*) FROM sync_tasks").fetchone()[0]
            conn.execute("COMMIT")
        assert written + queued == 6 and queued > 0

        cap[0] = 1_000_000  # room is made: the service retries on its own, no restart
        wait_idle(client, second, auth, timeout=30)
        health = client.get("/healthz")
        assert (health.status_code, health.text) == (200, "ok")
    assert_equals_fresh(git_repo, db_path, tmp_path)
    check_database(db_path).close()
    no_tracebacks(caplog)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 16 MiB file system (tmpfs), where a full disk is ENOSPC; root only."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.mark.slow
def test_a_real_full_file_system_under_the_service_then_room_is_made(
    git_repo: GitRepo, small_disk: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No seam: the database lives on a 16 MiB tmpfs that a ballast file fills up; the
    writes fail with ENOSPC (SQLITE_FULL), and deleting the ballast makes room."""
    caplog.set_level(logging.INFO)
    db = small_disk / "syncer.db"
    migrate(db, make_backup=False)
    first = git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    settings = service_settings(git_repo, db)
    assert run_sync(settings).status == "done"
    auth = {"Authorization": f"Bearer {issue_admin_token(settings, 600)}"}
    ballast = small_disk / "ballast"
    with (
        LiveServer(create_app(settings, sleep=quick)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        assert client.get("/status.json", headers=auth).json()["synced_commit"] == first
        # Leave about 300 KB: room for one or two of the files below, not six.
        free = shutil.disk_usage(small_disk).free
        ballast.write_bytes(b"\0" * (free - 300 * 1024))
        health = client.get("/healthz")
        assert (health.status_code, health.text) == (503, "disk full")
        second = git_repo.commit_files({f"f{n}.nt": big_file(n) for n in range(6)})
        assert deliver(client, "push", push_payload(second)).status_code == 202
        deadline = time.monotonic() + 30
        while (failed := failed_run(db)) is None:
            assert time.monotonic() < deadline, "no run failed on the full disk"
            time.sleep(0.05)
        assert failed[1] == "disk full: database or disk is full"
        with contextlib.closing(check_database(db)) as conn:
            conn.execute("BEGIN")
            written = conn.execute(
                "SELECT count(*) FROM source_files WHERE path LIKE 'f%.nt'"
            ).fetchone()[0]
            queued = conn.execute("SELECT count(*) FROM sync_tasks").fetchone()[0]
            conn.execute("COMMIT")
        assert written + queued == 6 and queued > 0
        assert client.get("/status.json", headers=auth).json()["synced_commit"] == first

        ballast.unlink()  # room is made; no restart
        wait_idle(client, second, auth, timeout=30)
        health = client.get("/healthz")
        assert (health.status_code, health.text) == (200, "ok")
    assert_equals_fresh(git_repo, db, tmp_path)
    check_database(db).close()
    no_tracebacks(caplog)
