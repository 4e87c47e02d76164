"""The service as deployed (``syncer serve`` in its own process) against the fake GitHub:
push -> webhook acknowledged -> rows committed, and acknowledgement latency under 50
concurrent senders.

Deliveries are signed and sent over raw HTTP/1.1 keep-alive connections (asyncio
streams), so the client adds as little as possible to what is measured. A run counts
as committed when its ``sync_runs`` row says ``done``, read from the database file by a
separate connection every millisecond.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.measure import free_port
from bench.repos import BRANCH, FULL_NAME, WEBHOOK_SECRET
from syncer.webhook import sign
from syncer_dev.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parent.parent
FINISHED = ("done", "failed", "interrupted")


def push_body(after: str, before: str = "0" * 40) -> bytes:
    """A push payload of GitHub's shape and typical size (a few KB)."""
    owner, name = FULL_NAME.split("/")
    commits = [
        {
            "id": after,
            "message": f"Update page {i}",
            "author": {"name": "bench", "email": "bench@example.invalid"},
            "added": [],
            "removed": [],
            "modified": [f"pages/Page {i}.md"],
        }
        for i in range(3)
    ]
    payload = {
        "ref": f"refs/heads/{BRANCH}",
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "repository": {
            "id": 1,
            "name": name,
            "full_name": FULL_NAME,
            "owner": {"login": owner, "name": owner},
            "default_branch": BRANCH,
            "private": False,
        },
        "pusher": {"name": "bench", "email": "bench@example.invalid"},
        "sender": {"login": "bench", "id": 1, "type": "User"},
        "commits": commits,
        "head_commit": commits[-1],
    }
    return json.dumps(payload).encode()


def webhook_request(port: int, body: bytes, delivery: str | None = None) -> bytes:
    head = (
        f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nUser-Agent: GitHub-Hookshot/bench\r\n"
        f"X-GitHub-Event: push\r\nX-GitHub-Delivery: {delivery or uuid.uuid4()}\r\n"
        f"X-Hub-Signature-256: {sign(WEBHOOK_SECRET.encode(), body)}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads the answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@contextmanager
def serve(env: dict[str, str], log: Path) -> Iterator[int]:
    """``syncer serve`` in a child process on a free loopback port; yields the port."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCER_")}
    child_env.update(env)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "syncer", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=child_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            asyncio.run(_wait_listening(port, process))
            yield port
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"syncer serve exited with {process.returncode}")
        try:
            connection = await Connection.open(port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        await connection.close()
        return
    raise RuntimeError("syncer serve did not start listening in 60 s")


async def push_and_wait(port: int, db: Path, head: str, timeout: float = 600) -> dict[str, Any]:
    """Deliver a push of ``head``; time the acknowledgement and ack -> run done."""
    connection = await Connection.open(port)
    try:
        sent = time.perf_counter()
        status, body = await connection.send(webhook_request(port, push_body(head)))
        acked = time.perf_counter()
    finally:
        await connection.close()
    if status != 202:
        raise RuntimeError(f"webhook answered {status}: {body[:300]!r}")
    run_id = int(json.loads(body)["run_id"])
    deadline = acked + timeout
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        while (state := _status(reader, run_id)) not in FINISHED:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"run {run_id} not finished after {timeout} s ({state})")
            await asyncio.sleep(0.001)
    finally:
        reader.close()
    committed = time.perf_counter()
    if state != "done":
        raise RuntimeError(f"run {run_id} ended {state}")
    return {"ack_s": acked - sent, "ack_to_committed_s": committed - acked, "run_id": run_id}


def _status(conn: sqlite3.Connection, run_id: int) -> str | None:
    row = conn.execute("SELECT status FROM sync_runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else str(row[0])


def change_pages(repo: GitRepo, count: int, round_: int) -> str:
    """Commit a change to ``count`` Markdown pages (a line appended to each); the new head."""
    pages = sorted((repo.path / "pages").glob("*.md"))
    for path in pages[:count]:
        with path.open("a", encoding="utf-8") as out:
            out.write(f"  - Edited in benchmark round {round_}.\n")
    return repo.commit(f"bench: change {count} files (round {round_})")


async def ack_latency(port: int, head: str, senders: int, rounds: int) -> list[float]:
    """``senders`` connections each send one delivery at the same moment, ``rounds``
    times; the seconds from sending each to reading its answer."""
    connections = [await Connection.open(port) for _ in range(senders)]
    body = push_body(head)
    samples: list[float] = []

    async def one(connection: Connection) -> float:
        request = webhook_request(port, body)
        started = time.perf_counter()
        status, answer = await connection.send(request)
        took = time.perf_counter() - started
        if status not in (200, 202):
            raise RuntimeError(f"webhook answered {status}: {answer[:300]!r}")
        return took

    try:
        for _ in range(rounds):
            samples += await asyncio.gather(*(one(c) for c in connections))
    finally:
        for connection in connections:
            await connection.close()
    return samples
