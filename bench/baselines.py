"""The two designs syncer replaces, rebuilt from the VisionFlow documents, for comparison.

(a) batch: list the files, fetch each through the contents API one after another,
    accumulate everything in memory, save once at the end.
(b) streaming: four workers fetch each file through the contents API and save per file.

Both parse with syncer's own parser (so the comparison is about fetching and saving,
not parsing) and save into the legacy VisionFlow tables, as those services did.
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from syncer.formats import ParseOptions, parse_file
from syncer.model import FileContribution

LEGACY_SCHEMA = """
CREATE TABLE IF NOT EXISTS owl_classes (iri TEXT PRIMARY KEY, label TEXT, description TEXT,
    file_sha1 TEXT, last_synced TEXT, created_at TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS owl_class_hierarchy (class_iri TEXT NOT NULL, parent_iri TEXT NOT NULL);
"""


@dataclass
class BaselineResult:
    seconds: float
    requests: int
    files: int


async def _list_files(client: httpx.AsyncClient, repo: str, ref: str, path: str) -> list[Any]:
    """Walk directories through the contents API, as the batch design did."""
    response = await client.get(f"/repos/{repo}/contents/{path}", params={"ref": ref})
    response.raise_for_status()
    out: list[Any] = []
    for item in response.json():
        if item["type"] == "dir":
            out.extend(await _list_files(client, repo, ref, item["path"]))
        elif item["type"] == "file":
            out.append(item)
    return out


async def _fetch(client: httpx.AsyncClient, repo: str, ref: str, path: str) -> bytes:
    response = await client.get(f"/repos/{repo}/contents/{path}", params={"ref": ref})
    response.raise_for_status()
    return base64.b64decode(response.json()["content"])


def _save(conn: sqlite3.Connection, sha: str, contribution: FileContribution) -> None:
    for decl in contribution.classes:
        conn.execute(
            "INSERT OR REPLACE INTO owl_classes (iri, label, description, file_sha1)"
            " VALUES (?,?,?,?)",
            (decl.iri, decl.label, decl.comment, sha),
        )
    conn.executemany(
        "INSERT INTO owl_class_hierarchy VALUES (?,?)",
        [(e.child, e.parent) for e in contribution.edges],
    )


class _Counter:
    def __init__(self) -> None:
        self.requests = 0

    async def __call__(self, request: httpx.Request) -> None:
        self.requests += 1


def _client(base_url: str, counter: _Counter) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=60, event_hooks={"request": [counter]})


async def batch(
    base_url: str, repo: str, ref: str, db: Path, options: ParseOptions
) -> BaselineResult:
    counter = _Counter()
    started = time.perf_counter()
    async with _client(base_url, counter) as client:
        items = await _list_files(client, repo, ref, "")
        parsed = []
        for item in items:
            data = await _fetch(client, repo, ref, item["path"])
            parsed.append((item["sha"], parse_file(item["path"], data, options)))
    conn = sqlite3.connect(db)
    conn.executescript(LEGACY_SCHEMA)
    with conn:
        for sha, contribution in parsed:
            _save(conn, sha, contribution)
    conn.close()
    return BaselineResult(time.perf_counter() - started, counter.requests, len(parsed))


async def streaming(
    base_url: str, repo: str, ref: str, db: Path, options: ParseOptions, workers: int = 4
) -> BaselineResult:
    counter = _Counter()
    started = time.perf_counter()
    conn = sqlite3.connect(db, check_same_thread=False)
    conn.executescript(LEGACY_SCHEMA)
    async with _client(base_url, counter) as client:
        items = await _list_files(client, repo, ref, "")
        queue: asyncio.Queue[Any] = asyncio.Queue()
        for item in items:
            queue.put_nowait(item)

        async def worker() -> None:
            while not queue.empty():
                item = queue.get_nowait()
                data = await _fetch(client, repo, ref, item["path"])
                contribution = parse_file(item["path"], data, options)
                with conn:
                    _save(conn, item["sha"], contribution)

        await asyncio.gather(*(worker() for _ in range(workers)))
    conn.close()
    return BaselineResult(time.perf_counter() - started, counter.requests, len(items))
