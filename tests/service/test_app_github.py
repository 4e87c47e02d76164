"""End to end against the fake GitHub: the service (uvicorn, lifespan on) syncs over the
REST API on loopback, following the default branch named in the payload; the database
equals a fresh local sync of the head after pushes, a redelivery, a lost delivery and a
resync.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncer.config import Settings
from syncer.values import Secret
from syncer.web.app import create_app
from syncer.web.auth import issue_admin_token
from syncer_dev.fake_github import FakeGitHubState
from syncer_dev.fake_github import create_app as fake_github
from syncer_dev.gitrepo import GitRepo
from syncer_dev.server import serve_in_thread
from tests.support.live import (
    LiveServer,
    assert_equals_fresh,
    deliver,
    push_payload,
    ttl,
    wait_idle,
)

TOKEN = "ghp_fake_token_for_tests"


@pytest.fixture
def api_url(git_repo: GitRepo) -> Iterator[str]:
    state = FakeGitHubState(git_repo.path, full_name="acme/ontology", token=TOKEN)
    with serve_in_thread(fake_github(state)) as url:
        yield url


@pytest.mark.slow
def test_service_over_the_fake_github_converges(
    git_repo: GitRepo, db_path: Path, tmp_path: Path, api_url: str
) -> None:
    first = git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A"), "b.ttl": ttl("B", "A", "B")})
    settings = Settings(
        db_path=db_path,
        repo="acme/ontology",
        github_api_url=api_url,
        github_token=Secret(TOKEN),
        webhook_secret=Secret("webhook-secret-for-tests"),
        secret_key=Secret("k"),
        workers=2,
    )
    auth = {"Authorization": f"Bearer {issue_admin_token(settings, 600)}"}
    with LiveServer(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        assert deliver(client, "push", push_payload(first), delivery="g-1").status_code == 202
        wait_idle(client, first, auth)
        assert_equals_fresh(git_repo, db_path, tmp_path)

        second = git_repo.commit_files({"c.ttl": ttl("C", "B", "C"), "a.ttl": ttl("A", "C", "A2")})
        assert deliver(client, "push", push_payload(second), delivery="g-2").status_code == 202
        assert deliver(client, "push", push_payload(second), delivery="g-2").status_code == 200
        wait_idle(client, second, auth)
        assert_equals_fresh(git_repo, db_path, tmp_path)

        git_repo.delete("b.ttl")
        third = git_repo.commit()  # its delivery is lost
        assert client.post("/admin/resync", headers=auth).status_code == 202
        data = wait_idle(client, third, auth)
        assert_equals_fresh(git_repo, db_path, tmp_path)
        assert data["source"] == "github:acme/ontology"
        assert data["source_requests"] > 0
        assert TOKEN not in client.get("/", headers=auth).text
