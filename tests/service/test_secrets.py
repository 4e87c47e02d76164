"""No secret in any log, page, answer or database row, whatever route or failure path ran.

Distinctive secrets (webhook secret, GitHub token, signing key) plus the credentials
derived from them (an admin token, the session cookie, delivery signatures) go through
every route and failure path: good and bad webhooks, bad admin tokens, the login by query
string, GitHub answering 5xx and 401 (its 401 body even quoting the token), a read-only
database, a full disk and the fatal run it causes. Then everything the service produced is
scanned: its stdout and stderr (the real ``syncer serve`` with uvicorn's access log, at
DEBUG), every log record of the in-process app, every answer's headers and body, a dump of
every table and the raw bytes of the database files. The secrets are looked for as they
are, base64-encoded at any alignment, percent-encoded, after ``Bearer``/``token``, and by
their first 8 characters.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from syncer.config import Settings
from syncer.storage import db as db_module
from syncer.values import Secret
from syncer.web.app import create_app
from syncer.web.auth import issue_admin_token
from syncer.web.server import ContextFormatter
from syncer.webhook import sign
from syncer_dev.fake_github import FakeGitHubState
from syncer_dev.fake_github import create_app as fake_github
from syncer_dev.faults import Fault
from syncer_dev.gitrepo import GitRepo
from syncer_dev.server import serve_in_thread
from tests.service.test_storage_faults import ReadOnly, big_file
from tests.support.live import LiveServer, push_payload, ttl
from tests.support.secret_watch import SecretWatch

WEBHOOK_SECRET = "whsec-Qz7Xk2Lp9Vt4Rn8Mb3Hc"
GITHUB_TOKEN = "ghp_LeakCanary7Qx2Wm9Lz4Kv8Np3Rt6Ys"
SECRET_KEY = "sigkey-Yh5Tg3Bn7Uj1Ik9Ol2Pw"
SECRETS = (WEBHOOK_SECRET, GITHUB_TOKEN, SECRET_KEY)
REPO = "acme/ontology"
HEAD = "/repos/*/commits/*"


def forms(secret: str) -> set[str]:
    """The ways a secret could show: as is, its first 8 characters (so any longer prefix),
    percent-encoded, after Bearer/token, and base64 at each of the 3 alignments."""
    raw = secret.encode()
    found = {secret, secret[:8], quote(secret, safe=""), f"Bearer {secret}", f"token {secret}"}
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * pad + raw).decode()
            found.add(text[4:-4] if pad else text.rstrip("="))  # the groups of the secret only
    return found


def credentials(*values: str) -> set[str]:
    """Derived credentials (tokens, cookies, signatures): as is and their signature part."""
    found = set()
    for value in values:
        found.add(value)
        found.add(value.rsplit(".", 1)[-1])
        found.add(value.removeprefix("sha256="))
    return {f for f in found if len(f) >= 16}


def scan(where: str, text: str, forbidden: set[str]) -> list[str]:
    return [f"{where}: {form!r}" for form in sorted(forbidden) if form in text]


def database_dump(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert {"deliveries", "sync_runs", "source_files", "owl_classes"} <= set(tables)
        lines = []
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                lines.append(f"{table}: {row!r}")
                lines.extend(str(v) for v in row if isinstance(v, str))
        return "\n".join(lines)
    finally:
        conn.close()


def raw_files(db: Path) -> str:
    """The database, WAL and shared-memory files byte for byte (deleted rows included)."""
    parts = []
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{db}{suffix}")
        if path.exists():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


class Recorder:
    """An httpx event hook keeping every answer: status, headers (but Set-Cookie, which
    carries the session by design) and body."""

    def __init__(self) -> None:
        self.answers: list[str] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "set-cookie"}
        self.answers.append(
            f"{response.request.method} {response.request.url.path} -> {response.status_code}"
            f" {headers} {response.text}"
        )


def signed(
    client: httpx.Client, event: str, payload: dict[str, Any], secret: str
) -> httpx.Response:
    body = httpx.Request("POST", "/", json=payload).read()
    return client.post(
        "/webhook",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(secret.encode(), body),
        },
    )


def wait_for(client: httpx.Client, auth: dict[str, str], done: Any, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        data: dict[str, Any] = client.get("/status.json", headers=auth).json()
        if done(data):
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached: {data}")
        time.sleep(0.05)


def idle_at(head: str) -> Any:
    return lambda d: (
        d["synced_commit"] == head and d["current_run"] is None and d["queue_depth"] == 0
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fake(git_repo: GitRepo) -> Iterator[tuple[str, FakeGitHubState]]:
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A"), "bad.ttl": "ex:broken ."})
    state = FakeGitHubState(git_repo.path, full_name=REPO, token=GITHUB_TOKEN)
    with serve_in_thread(fake_github(state)) as api:
        yield api, state


@pytest.mark.slow
def test_syncer_serve_leaks_no_secret(
    git_repo: GitRepo, db_path: Path, tmp_path: Path, fake: tuple[str, FakeGitHubState]
) -> None:
    """The real ``syncer serve`` at DEBUG, uvicorn's access log on, every route."""
    api, state = fake
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCER_")}
    env.update(
        SYNCER_DB=str(db_path),
        SYNCER_REPO=REPO,
        SYNCER_BRANCH="main",
        SYNCER_GITHUB_API_URL=api,
        SYNCER_GITHUB_TOKEN=GITHUB_TOKEN,
        SYNCER_WEBHOOK_SECRET=WEBHOOK_SECRET,
        SYNCER_SECRET_KEY=SECRET_KEY,
        SYNCER_WORKERS="2",
        SYNCER_LOG_LEVEL="DEBUG",
    )
    log = tmp_path / "serve.log"
    settings = Settings(db_path=db_path, secret_key=Secret(SECRET_KEY))
    token = issue_admin_token(settings, 600)
    forged = issue_admin_token(settings.with_(secret_key=Secret("not-the-key-at-all")), 600)
    auth = {"Authorization": f"Bearer {token}"}
    recorder = Recorder()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "syncer", "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    signatures: list[str] = []
    cookie = ""
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", event_hooks={"response": [recorder]}
        ) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            # Authentication failures.
            assert client.get("/status.json").status_code == 401
            assert client.get("/").status_code == 401
            assert (
                client.get("/status.json", headers={"Authorization": "Bearer x"}).status_code == 401
            )
            assert client.get(f"/?token={forged}").status_code == 401
            assert (
                client.post(
                    "/admin/resync", headers={"Authorization": f"Bearer {forged}"}
                ).status_code
                == 401
            )
            assert client.post(f"/admin/resync?token={forged}").status_code == 401
            # The login by query string (uvicorn logs the path), the session, a bad CSRF.
            login = client.get(f"/?token={token}", follow_redirects=False)
            assert login.status_code == 303
            cookie = login.cookies["syncer_session"]
            client.cookies.set("syncer_session", cookie)
            assert client.get("/").status_code == 200
            assert client.post("/admin/resync", data={"csrf": "guess"}).status_code == 401
            client.cookies.clear()
            # Webhooks: wrong secret, no signature, malformed, ping, push.
            head = git_repo.head()
            assert signed(client, "push", push_payload(head), "wrong").status_code == 401
            assert (
                client.post(
                    "/webhook", content=b"{}", headers={"X-GitHub-Event": "push"}
                ).status_code
                == 401
            )
            bad = b"{not json"
            signatures.append(sign(WEBHOOK_SECRET.encode(), bad))
            assert (
                client.post(
                    "/webhook",
                    content=bad,
                    headers={
                        "X-GitHub-Event": "push",
                        "X-GitHub-Delivery": "m",
                        "X-Hub-Signature-256": signatures[-1],
                    },
                ).status_code
                == 400
            )
            ping = signed(
                client, "ping", {"zen": "hi", "repository": {"full_name": REPO}}, WEBHOOK_SECRET
            )
            assert ping.status_code == 200
            signatures.append(ping.request.headers["X-Hub-Signature-256"])
            payload = push_payload(head)
            payload["repository"]["full_name"] = REPO
            answer = signed(client, "push", payload, WEBHOOK_SECRET)
            assert answer.status_code == 202, answer.text
            signatures.append(answer.request.headers["X-Hub-Signature-256"])
            wait_for(client, auth, idle_at(head), "first sync")
            # GitHub 502 once (retried), then a forced resync with the token in the query too.
            state.faults = [Fault(HEAD, status=502)]
            head = git_repo.commit_files({"b.ttl": ttl("B", "A", "B")})
            assert (
                signed(
                    client,
                    "push",
                    push_payload(head) | {"repository": payload["repository"]},
                    WEBHOOK_SECRET,
                ).status_code
                == 202
            )
            wait_for(client, auth, idle_at(head), "sync after a 502")
            resync = client.post(f"/admin/resync?force=true&token={token}", headers=auth)
            assert resync.status_code == 202
            wait_for(
                client,
                auth,
                lambda d: (
                    d["runs"][0]["id"] == resync.json()["run_id"]
                    and d["runs"][0]["status"] == "done"
                ),
                "resync",
            )
            # GitHub rejects the token, and its answer quotes the token.
            state.faults = [
                Fault(
                    HEAD,
                    status=401,
                    body={"message": f"Bad credentials: {GITHUB_TOKEN}"},
                    times=100,
                )
            ]
            head = git_repo.commit_files({"c.ttl": ttl("C", "B", "C")})
            assert (
                signed(
                    client,
                    "push",
                    push_payload(head) | {"repository": payload["repository"]},
                    WEBHOOK_SECRET,
                ).status_code
                == 202
            )
            data = wait_for(
                client,
                auth,
                lambda d: any(r["status"] == "interrupted" for r in d["runs"]),
                "a run cut off by the 401",
            )
            rejected = f"GitHub rejected the token (401) for branch 'main' of {REPO}"
            cut = next(r for r in data["runs"] if r["status"] == "interrupted")
            assert cut["error"] == f"{rejected}: Bad credentials: **********"
            for path in ("/", "/status.json", "/metrics", "/healthz"):
                client.get(path, headers=auth)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    output = log.read_text()
    assert 'GET /?token=********** HTTP/1.1" 303' in output  # the access log was on
    forbidden = set().union(*map(forms, SECRETS)) | credentials(token, cookie, *signatures)
    problems = scan("serve output", output, forbidden)
    problems += [p for a in recorder.answers for p in scan(f"answer {a[:40]}", a, forbidden)]
    problems += scan("database rows", database_dump(db_path), forbidden)
    problems += scan("database files", raw_files(db_path), forbidden)
    assert problems == []
    assert "Traceback" not in output


def CapturingServer(app: Any) -> LiveServer:
    """The app under uvicorn with uvicorn's loggers (access log on) left to propagate to the
    root logger, where the test captures every record at DEBUG."""
    return LiveServer(app, log_level="debug", log_config=None, access_log=True)


async def quick(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.1))


@pytest.mark.slow
def test_storage_faults_and_a_fatal_run_leak_no_secret(
    git_repo: GitRepo,
    db_path: Path,
    tmp_path: Path,
    fake: tuple[str, FakeGitHubState],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In-process: a full disk makes a run fail fatally, a read-only file refuses a push;
    every log record of every logger is kept and scanned."""
    api, _ = fake
    records: list[str] = []
    lock = threading.Lock()

    seen: set[int] = set()

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            with lock:
                if id(record) in seen:
                    return  # the same record, reaching the root logger too
                seen.add(id(record))
                records.append(self.format(record))
                if record.exc_info:
                    records.append(logging.Formatter().formatException(record.exc_info))

    handler = Keep(level=logging.DEBUG)
    handler.setFormatter(ContextFormatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    # uvicorn's loggers may not propagate (its logging config, applied by another server
    # of this session, says so): the handler goes on them too.
    loggers = [
        root,
        *(logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")),
    ]
    for logger in loggers:
        logger.addHandler(handler)
    root.setLevel(logging.DEBUG)
    settings = Settings(
        db_path=db_path,
        repo=REPO,
        branch="main",
        github_api_url=api,
        github_token=Secret(GITHUB_TOKEN),
        webhook_secret=Secret(WEBHOOK_SECRET),
        secret_key=Secret(SECRET_KEY),
        workers=2,
    )
    token = issue_admin_token(settings, 600)
    auth = {"Authorization": f"Bearer {token}"}
    with sqlite3.connect(db_path) as conn:  # room for the first sync and about one big file
        cap = [int(conn.execute("PRAGMA page_count").fetchone()[0]) + 80]
    real_connect = db_module.connect

    def capped(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
        conn = real_connect(path, readonly=readonly)
        conn.execute(f"PRAGMA max_page_count = {cap[0]}")
        return conn

    monkeypatch.setattr("syncer.storage.writer.connect", capped)
    monkeypatch.setattr("syncer.storage.health.connect", capped)
    recorder = Recorder()
    signatures: list[str] = []
    read_only = ReadOnly(db_path)
    try:
        app = create_app(settings, sleep=quick)
        with (
            CapturingServer(app) as server,
            httpx.Client(base_url=server.url, event_hooks={"response": [recorder]}) as client,
        ):
            repository = {"full_name": REPO, "default_branch": "main"}
            head = git_repo.head()
            first = signed(
                client, "push", push_payload(head) | {"repository": repository}, WEBHOOK_SECRET
            )
            assert first.status_code == 202
            signatures.append(first.request.headers["X-Hub-Signature-256"])
            wait_for(client, auth, idle_at(head), "first sync")
            # A full disk: the run fails fatally, health says so.
            head = git_repo.commit_files({f"f{n}.nt": big_file(n) for n in range(6)})
            full = signed(
                client, "push", push_payload(head) | {"repository": repository}, WEBHOOK_SECRET
            )
            assert full.status_code == 202
            signatures.append(full.request.headers["X-Hub-Signature-256"])
            wait_for(
                client,
                auth,
                lambda d: any(r["status"] == "failed" for r in d["runs"]),
                "a fatal run",
            )
            assert client.get("/healthz").text == "disk full"
            client.get("/", headers=auth)
            client.get("/metrics")
            cap[0] = 1_000_000
            wait_for(client, auth, idle_at(head), "recovery from the full disk")
            # A read-only file: health, pages and answers while it lasts.
            read_only.on()
            assert client.get("/healthz").text == "database is read-only"
            client.get("/", headers=auth)
            client.get("/status.json", headers=auth)
            read_only.off()
    finally:
        read_only.off()
        for logger in loggers:
            logger.removeHandler(handler)
        root.setLevel(old_level)
    text = "\n".join(records)
    assert "run failed fatally: disk full" in text
    assert '"POST /webhook HTTP/1.1" 202' in text  # the access log was on
    forbidden = set().union(*map(forms, SECRETS)) | credentials(token, *signatures)
    problems = scan("log records", text, forbidden)
    problems += [p for a in recorder.answers for p in scan(f"answer {a[:40]}", a, forbidden)]
    problems += scan("database rows", database_dump(db_path), forbidden)
    problems += scan("database files", raw_files(db_path), forbidden)
    assert problems == []


def test_the_session_watch_notes_secrets_and_catches_them_in_log_records(
    secret_watch: SecretWatch,
) -> None:
    """The session-wide check of tests/conftest.py can fail: a Secret created anywhere is
    noted, and a record that holds a noted value is a hit."""
    Secret("noted-by-the-session-watch")
    assert "noted-by-the-session-watch" in secret_watch.values
    watch = SecretWatch()
    watch.register("a-canary-value-0042")
    canary = logging.getLogger("tests.canary")
    canary.propagate = False  # the session's watch must not see this deliberate leak
    canary.addHandler(watch)
    try:
        canary.warning("token is %s", "a-canary-value-0042")
        canary.warning("nothing to see")
        try:
            raise ValueError("a-canary-value-0042")
        except ValueError:
            canary.exception("failed")
    finally:
        canary.removeHandler(watch)
    assert watch.hits == [
        "tests.canary: token is a-canary-value-0042",
        "tests.canary: failed ValueError('a-canary-value-0042')",
    ]
