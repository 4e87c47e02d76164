"""The status page in headless Chromium, mid-run with a failed file; screenshot kept in
test-artifacts/. The run is held mid-way by a source that stops fetching until released.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncer.model import TreeEntry
from syncer.sources.base import FetchedFile
from syncer.sources.git import GitSource
from syncer.web.app import create_app
from syncer.web.auth import issue_admin_token
from syncer_dev.gitrepo import GitRepo
from tests.support.live import LiveServer, deliver, push_payload, service_settings, ttl, wait_idle
from tests.support.paths import ARTIFACTS
from tests.support.runs import run_sync

# Slow together (seconds to minutes): left out of the quick loop, pytest -m "not slow".
pytestmark = pytest.mark.slow

FILES = 40
HELD_AFTER = 12


class HeldSource(GitSource):
    """Fetches ``HELD_AFTER`` files, then waits until ``resume`` is set."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.resume = threading.Event()

    async def fetch(self, commit: str, entries: Sequence[TreeEntry]) -> AsyncIterator[FetchedFile]:
        count = 0
        async for item in super().fetch(commit, entries):
            if count == HELD_AFTER:
                await asyncio.to_thread(self.resume.wait, 60)
            count += 1
            yield item


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is not installed (.ci/run installs it; see the README)"
    return found


def browse(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *extra,
            url,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


LIVE_CHECK = "syncer-live-check"


class FinishOnRefresh:
    """ASGI middleware: the page's own refresh (its script's fetch, marked by a header)
    releases the held run and is answered once the service is idle, so what the browser
    shows next is known: the finished run, swapped in without a reload. Only the browser
    that checks it (its user agent) does so: a screenshot's own refresh must not."""

    def __init__(self, app: Any, source: HeldSource) -> None:
        self.app, self.source = app, source

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = scope.get("headers", [])
        if (
            scope["type"] == "http"
            and (b"x-syncer-refresh", b"1") in headers
            and (b"user-agent", LIVE_CHECK.encode()) in headers
            and not self.source.resume.is_set()
        ):
            self.source.resume.set()
            await asyncio.wait_for(self.app.state.service.idle.wait(), 60)
        await self.app(scope, receive, send)


def test_status_page_mid_run_with_a_failed_file(
    git_repo: GitRepo, db_path: Path, tmp_path: Path
) -> None:
    files: dict[str, str | bytes] = {
        f"c/{i:03d}.ttl": ttl(f"C{i}", "Thing", f"C{i}") for i in range(FILES)
    }
    files["broken.ttl"] = "ex:broken ."
    first = git_repo.commit_files(files)
    settings = service_settings(git_repo, db_path)
    assert run_sync(settings).status == "done"
    head = git_repo.commit_files(
        {f"c/{i:03d}.ttl": ttl(f"C{i}", "Thing", f"C{i} v2") for i in range(FILES)}
    )
    source = HeldSource(git_repo.path)
    token = issue_admin_token(settings, 600)
    auth = {"Authorization": f"Bearer {token}"}
    app = create_app(settings, source=source)
    with (
        LiveServer(FinishOnRefresh(app, source)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        try:
            assert deliver(client, "push", push_payload(head), delivery="d-1").status_code == 202
            deadline = time.monotonic() + 30
            while True:
                data: dict[str, Any] = client.get("/status.json", headers=auth).json()
                run = data["current_run"]
                if run is not None and run["done"] >= HELD_AFTER - 4 and run["planned"] == FILES:
                    break
                assert time.monotonic() < deadline, data
                time.sleep(0.05)
            assert data["verdict"].startswith(f"syncing to {head[:12]}, behind for ")
            assert data["verdict_level"] == "syncing"
            assert run["trigger"] == f"push of {head[:12]} (delivery d-1)"
            assert data["failed_files"] == [
                {
                    "path": "broken.ttl",
                    "error": data["failed_files"][0]["error"],
                    "blob_sha": data["failed_files"][0]["blob_sha"],
                    "url": f"https://github.com/acme/ontology/blob/{first}/broken.ttl",
                }
            ]
            assert data["failed_files"][0]["error"].startswith("turtle: ")
            # Without JavaScript: the whole page comes from the server (headless Chromium
            # cannot dump a page with scripts off), and the browser refreshes it.
            page = client.get("/", headers=auth).text
            assert '<noscript><meta http-equiv="refresh" content="10"></noscript>' in page
            assert f'<p id="verdict" class="verdict syncing">syncing to {head[:12]}' in page
            assert "<progress" in page and "Resync now" not in page
            assert (
                f'<a href="https://github.com/acme/ontology/blob/{first}/broken.ttl">'
                "broken.ttl</a>" in page
            )
            assert f"{FILES} ok &middot; 1 failed &middot; 0 skipped" in page
            # The screenshot, kept in test-artifacts/: the page mid-run.
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "status-page.png"
            shot.unlink(missing_ok=True)
            browse(
                f"{server.url}/?token={token}",
                tmp_path / "chromium-shot",
                f"--screenshot={shot}",
                "--window-size=1200,1600",
            )
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert shot.stat().st_size > 20_000
            assert not source.resume.is_set()
            # Scripts on: the page's own refresh releases the run (FinishOnRefresh), and the
            # finished run must appear without a reload.
            live = browse(
                f"{server.url}/?token={token}",
                tmp_path / "chromium-live",
                f"--user-agent={LIVE_CHECK}",
                "--dump-dom",
                "--virtual-time-budget=20000",
            ).stdout.decode()
        finally:
            source.resume.set()
        wait_idle(client, head, auth)
    assert source.resume.is_set() and app.state.service.idle.is_set()
    dom = live
    assert "data-updated=" in dom  # swapped in by the script, not a reload
    assert f'class="verdict in-step">in step with the branch head {head[:12]} (checked ' in dom
    assert "; 1 file failed</p>" in dom
    assert '<p id="current">idle</p>' in dom
    row = re.search(r'<tr class="done"><td>(\d+)</td><td>push</td><td>([^<]*)</td>(.*?)</tr>', dom)
    assert row is not None, dom
    assert row.group(2) == f"push of {head[:12]} (delivery d-1)"
    assert re.fullmatch(
        r"<td>done</td><td>[^<]+</td><td>[0-9.]+ s</td>"
        r"<td>40 \(0 failed, 0 deleted\)</td><td></td>",
        row.group(3),
    ), row.group(3)
