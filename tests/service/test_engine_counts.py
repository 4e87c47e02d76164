"""A whole sync against a fake GitHub on loopback: requests counted, rows compared."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.config import Settings
from syncer.sources.github import GitHubSource
from syncer.storage.writer import Writer
from syncer.sync.engine import SyncEngine
from syncer.sync.progress import RunResult
from syncer.values import Secret
from syncer_dev.fake_github import FakeGitHubState, create_app
from syncer_dev.gitrepo import GitRepo
from syncer_dev.server import serve_in_thread
from syncer_dev.snapshot import diff, snapshot
from tests.support.runs import fresh_db, run_sync, settings_for

REPO = "octo/onto"
TOKEN = "ghp_counting" + "0" * 28


def ttl(i: int, version: int = 1) -> str:
    return (
        "@prefix ex: <https://example.org/n/> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f'ex:C{i} a owl:Class ; rdfs:label "C{i} v{version}" ; rdfs:subClassOf ex:C{i // 2} .\n'
    )


@pytest.fixture
def api_url(git_repo: GitRepo) -> Iterator[str]:
    state = FakeGitHubState(git_repo.path, full_name=REPO, token=TOKEN)
    app = create_app(state)
    with serve_in_thread(app) as api, serve_in_thread(app) as codeload:
        state.codeload_url = codeload
        yield api


def github_sync(api_url: str, db: Path) -> tuple[RunResult, dict[str, int]]:
    settings = Settings(
        db_path=db,
        repo=REPO,
        branch="main",
        github_api_url=api_url,
        github_token=Secret(TOKEN),
        workers=2,
    )

    async def go() -> tuple[RunResult, dict[str, int]]:
        source = GitHubSource(REPO, api_url, Secret(TOKEN))
        writer = Writer(db)
        try:
            result = await SyncEngine(settings, source, writer).sync()
            return result, dict(source.stats.by_kind)
        finally:
            await source.aclose()
            writer.close()

    return asyncio.run(go())


@pytest.mark.slow
def test_initial_incremental_and_idle_syncs_cost_what_they_should(
    git_repo: GitRepo, db_path: Path, tmp_path: Path, api_url: str
) -> None:
    n = 40
    git_repo.commit_files({f"onto/c{i}.ttl": ttl(i) for i in range(n)})
    first, kinds = github_sync(api_url, db_path)
    assert (first.status, first.processed) == ("done", n)
    # The branch's tarball, the codeload download it redirects to, and the tree of the
    # commit the archive names, whatever n is: no head request, no blob.
    assert kinds == {"tarball": 1, "codeload": 1, "tree": 1}
    assert first.requests == 3

    k = 3
    git_repo.commit_files({f"onto/c{i}.ttl": ttl(i, 2) for i in range(k)})
    second, kinds = github_sync(api_url, db_path)
    assert (second.status, second.processed) == ("done", k)
    assert kinds == {"head": 1, "tree": 1, "blob": k}
    assert second.requests == k + 2

    idle, kinds = github_sync(api_url, db_path)
    assert (idle.status, idle.processed, idle.planned) == ("done", 0, 0)
    assert kinds == {"head": 1, "tree": 1}  # no content fetched

    fresh = fresh_db(tmp_path, "fresh-from-git")
    run_sync(settings_for(git_repo, fresh))
    assert diff(snapshot(db_path), snapshot(fresh)) == []
