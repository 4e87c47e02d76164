"""Two repositories in one service over real HTTP (issue 15, item 4): routed by name and
branch, each with its own secret, status and resync; a 1-file push to one is committed
while the other's big initial sync is still going (the writer interleaves them)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncer.config import Settings
from syncer.repositories import Repository
from syncer.values import Secret
from syncer.web.app import create_app
from syncer.web.auth import issue_admin_token
from syncer_dev.gitrepo import GitRepo
from tests.support.live import SECRET, LiveServer, deliver, push_payload, ttl

pytestmark = pytest.mark.slow

BIG = 3000  # files in the first repository's initial sync: seconds of writer time


def payload(repo: str, head: str, branch: str = "main") -> dict[str, Any]:
    body = push_payload(head, f"refs/heads/{branch}")
    body["repository"]["full_name"] = repo
    body["repository"]["name"] = repo.split("/")[1]
    return body


def status(client: httpx.Client, auth: dict[str, str], repo: str | None = None) -> Any:
    params = {"repository": repo} if repo else {}
    answer = client.get("/status.json", params=params, headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_for(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_two_repositories_side_by_side(git_repo: GitRepo, db_path: Path, tmp_path: Path) -> None:
    big, small = git_repo, GitRepo.init(tmp_path / "small")
    big_head = big.commit_files(
        {f"c/{i:04d}.ttl": ttl(f"C{i}", "Thing", f"C{i}") for i in range(BIG)}
    )
    small.commit_files({"s.ttl": ttl("S", "Thing", "S")})
    settings = Settings(
        db_path=db_path,
        webhook_secret=Secret(SECRET),
        secret_key=Secret("signing-key-for-tests"),
        workers=2,
        poll_interval=0,
        repositories=(
            Repository("acme/big", git_dir=big.path),
            Repository("acme/small", git_dir=small.path, webhook_secret=Secret("small-secret")),
        ),
    )
    auth = {"Authorization": f"Bearer {issue_admin_token(settings, 600)}"}
    with LiveServer(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        # Each repository's own secret: the small one's deliveries signed with the shared
        # secret are refused, with its own accepted.
        first_small = payload("acme/small", small.head())
        assert deliver(client, "push", first_small).status_code == 401
        ok = deliver(client, "push", first_small, secret="small-secret")
        assert (ok.status_code, ok.json()["reason"]) == (202, "sync of main queued")
        wait_for(
            lambda: status(client, auth, "acme/small")["synced_commit"] == small.head(), "small"
        )

        # A repository not followed: ignored with the reason, and counted.
        other = deliver(client, "push", payload("acme/other", "1" * 40), delivery="x-1")
        assert (other.status_code, other.json()["outcome"]) == (202, "ignored")
        assert other.json()["reason"] == "repository acme/other is not followed here"

        # The big initial sync, then a 1-file push to the small one while it runs.
        assert deliver(client, "push", payload("acme/big", big_head)).status_code == 202
        wait_for(
            lambda: (status(client, auth, "acme/big")["current_run"] or {}).get("done", 0) >= 50,
            "the big sync to be under way",
        )
        small_head = small.commit_files({"s.ttl": ttl("S", "Thing", "S v2")})
        pushed = time.monotonic()
        sent = deliver(client, "push", payload("acme/small", small_head), secret="small-secret")
        assert sent.status_code == 202
        wait_for(
            lambda: status(client, auth, "acme/small")["synced_commit"] == small_head, "small push"
        )
        small_seconds = time.monotonic() - pushed
        big_now = status(client, auth, "acme/big")
        # The push did not wait for the other repository's sync to end.
        assert big_now["current_run"] is not None, (small_seconds, big_now["synced_commit"])
        assert big_now["current_run"]["done"] < BIG

        wait_for(lambda: status(client, auth, "acme/big")["synced_commit"] == big_head, "big")
        summary = status(client, auth)
        assert [r["ontology_id"] for r in summary["repositories"]] == ["acme/big", "acme/small"]
        assert summary["total"]["files_by_status"] == {"ok": BIG + 1, "failed": 0, "skipped": 0}
        assert summary["total"]["in_step"] == 2
        page = client.get("/", headers=auth).text
        assert '<a href="/?repository=acme%2Fsmall">acme/small</a>' in page

        # Resync names its repository when several are followed.
        unnamed = client.post("/admin/resync", headers=auth)
        assert unnamed.status_code == 400
        assert unnamed.json()["error"].startswith("several repositories are followed")
        named = client.post("/admin/resync", params={"repository": "acme/small"}, headers=auth)
        assert named.status_code == 202
        unknown = client.post("/admin/resync", params={"repository": "acme/nope"}, headers=auth)
        assert (unknown.status_code, unknown.json()) == (
            404,
            {"error": "no followed repository 'acme/nope'"},
        )
        metrics = client.get("/metrics").text
        assert 'syncer_files{ontology_id="acme/big",status="ok"} 3000.0' in metrics
        assert 'syncer_deliveries_total{outcome="ignored"} 1.0' in metrics
