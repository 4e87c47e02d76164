"""The service over real HTTP on loopback: uvicorn serving the app in a thread, deliveries
signed and sent as GitHub sends them, waits on /status.json, the fresh-sync comparison."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from syncer.config import Settings
from syncer.values import Secret
from syncer.webhook import sign
from syncer_dev.gitrepo import GitRepo
from syncer_dev.snapshot import diff, snapshot
from tests.support.paths import SAMPLES
from tests.support.runs import fresh_db, run_sync, settings_for

SECRET = "webhook-secret-for-tests"


def ttl(name: str, parent: str, label: str) -> str:
    return (
        "@prefix ex: <https://example.org/o/> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f'ex:{name} a owl:Class ; rdfs:label "{label}" ; rdfs:subClassOf ex:{parent} .\n'
    )


class LiveServer:
    """uvicorn in a thread with the lifespan on (the app's writer, coordinator, scheduler);
    ``options`` replace uvicorn's quiet defaults (a test that reads the access log)."""

    def __init__(self, app: Any, **options: Any) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(
            app, lifespan="on", **{"log_level": "warning", "access_log": False, **options}
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()
        assert not self.thread.is_alive()


def service_settings(repo: GitRepo, db: Path, **changes: object) -> Settings:
    return settings_for(
        repo,
        db,
        webhook_secret=Secret(SECRET),
        secret_key=Secret("signing-key-for-tests"),
        branch="main",
    ).with_(repo="acme/ontology", **changes)


def signed_headers(
    event: str, delivery: str, body: bytes, ctype: str = "application/json", secret: str = SECRET
) -> dict[str, str]:
    """The headers GitHub sends with a delivery, signed with ``secret``."""
    return {
        "Content-Type": ctype,
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Hook-ID": "109948940",
        "X-Hub-Signature-256": sign(secret.encode(), body),
    }


def deliver(
    client: httpx.Client,
    event: str,
    payload: dict[str, Any],
    *,
    delivery: str | None = None,
    form: bool = False,
    secret: str = SECRET,
) -> httpx.Response:
    body = json.dumps(payload).encode()
    ctype = "application/json"
    if form:
        body = httpx.QueryParams({"payload": body.decode()}).__str__().encode()
        ctype = "application/x-www-form-urlencoded"
    headers = signed_headers(event, delivery or str(uuid.uuid4()), body, ctype, secret)
    return client.post("/webhook", content=body, headers=headers)


def push_payload(after: str, ref: str = "refs/heads/main") -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((SAMPLES / "push.json").read_text())
    payload["after"] = after
    payload["ref"] = ref
    return payload


def wait_idle(
    client: httpx.Client, head: str, headers: dict[str, str], timeout: float = 60
) -> dict[str, Any]:
    """Poll /status.json until the head is synced and nothing is queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        data: dict[str, Any] = client.get("/status.json", headers=headers).json()
        if (
            data["synced_commit"] == head
            and data["current_run"] is None
            and data["queue_depth"] == 0
            and data["pending_tasks"] == 0
        ):
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"not idle at {head}: {data}")
        time.sleep(0.05)


def assert_equals_fresh(repo: GitRepo, db: Path, tmp_path: Path) -> None:
    fresh = fresh_db(tmp_path, "fresh")
    assert run_sync(settings_for(repo, fresh)).status == "done"
    problems = diff(snapshot(db), snapshot(fresh))
    assert problems == [], "\n".join(problems)


def raw_post(base_url: str, headers: str, body: bytes) -> bytes:
    """Send a request by hand (httpx refuses a body shorter than its Content-Length)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(f"POST /webhook HTTP/1.1\r\nHost: {host}\r\n{headers}\r\n".encode())
        # The server may answer and close before reading everything.
        with contextlib.suppress(OSError):
            conn.sendall(body)
        return conn.recv(65536)
