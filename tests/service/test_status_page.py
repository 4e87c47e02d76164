"""The status page in headless Chromium, mid-run with a failed file; screenshot kept in
test-artifacts/. The run is held mid-way by a source that stops fetching until released.
"""

from __future__ import annotations

import asyncio
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
    """Fetches ``HELD_AFTER`` files, then waits until ``release`` is set."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.release = threading.Event()

    async def fetch(self, commit: str, entries: Sequence[TreeEntry]) -> AsyncIterator[FetchedFile]:
        count = 0
        async for item in super().fetch(commit, entries):
            if count == HELD_AFTER:
                await asyncio.to_thread(self.release.wait, 60)
            count += 1
            yield item


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is not installed (.ci/run installs it)"
    return found


def test_status_page_mid_run_with_a_failed_file(
    git_repo: GitRepo, db_path: Path, tmp_path: Path
) -> None:
    files: dict[str, str | bytes] = {
        f"c/{i:03d}.ttl": ttl(f"C{i}", "Thing", f"C{i}") for i in range(FILES)
    }
    files["broken.ttl"] = "ex:broken ."
    git_repo.commit_files(files)
    settings = service_settings(git_repo, db_path)
    assert run_sync(settings).status == "done"
    head = git_repo.commit_files(
        {f"c/{i:03d}.ttl": ttl(f"C{i}", "Thing", f"C{i} v2") for i in range(FILES)}
    )
    source = HeldSource(git_repo.path)
    token = issue_admin_token(settings, 600)
    auth = {"Authorization": f"Bearer {token}"}
    with (
        LiveServer(create_app(settings, source=source)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        try:
            assert deliver(client, "push", push_payload(head)).status_code == 202
            deadline = time.monotonic() + 30
            while True:
                data: dict[str, Any] = client.get("/status.json", headers=auth).json()
                run = data["current_run"]
                if run is not None and run["done"] >= HELD_AFTER - 4 and run["planned"] == FILES:
                    break
                assert time.monotonic() < deadline, data
                time.sleep(0.05)
            page = client.get("/", headers=auth).text
            assert "<progress" in page and "broken.ttl" in page and "Resync now" not in page
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "status-page.png"
            shot.unlink(missing_ok=True)
            subprocess.run(
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
                    f"--user-data-dir={tmp_path / 'chromium'}",
                    f"--screenshot={shot}",
                    "--window-size=1200,1600",
                    f"{server.url}/?token={token}",
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert shot.stat().st_size > 20_000
        finally:
            source.release.set()
        wait_idle(client, head, auth)
