"""The GitHub source against the fake GitHub serving a real repository, over loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncer.errors import SourceError
from syncer.model import Tree, TreeEntry
from syncer.sources.git import GitSource
from syncer.sources.github import GitHubSource
from syncer.values import Secret
from syncer_dev.fake_github import FakeGitHubState, create_app
from syncer_dev.faults import Fault
from syncer_dev.gitrepo import GitRepo
from syncer_dev.server import serve_in_thread
from tests.support.clock import FakeTime, HalfRandom, split_source_options

TOKEN = "ghp_" + "l00pback" * 4
REPO = "octo/onto"
FILES: dict[str, str | bytes] = {
    "a.ttl": "<urn:a> a <urn:C> .\n",
    "bin.owl": b"\x00\x01\x02",
    "dir/b \u00e9.md": "- ### OntologyBlock\n",
    "deep/x/y.ttl": "<urn:y> a <urn:C> .\n",
    "deep/x/z.ttl": "<urn:z> a <urn:C> .\n",
    ".gitattributes": "stamp.ttl export-subst\n",
    "stamp.ttl": "# built from $Format:%H$\n",  # git archive rewrites this file
}


def raw(path: str) -> bytes:
    content = FILES[path]
    return content.encode() if isinstance(content, str) else content


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write(FILES)
    (repo.path / "link.ttl").symlink_to("a.ttl")
    sub = GitRepo.init(repo.path / "vendor" / "sub")  # committed as a submodule (gitlink)
    sub.commit_files({"s.ttl": "S"})
    repo.commit()
    return repo


@pytest.fixture
def state(repo: GitRepo) -> FakeGitHubState:
    return FakeGitHubState(repo.path, full_name=REPO, token=TOKEN)


@pytest.fixture
def api_url(state: FakeGitHubState) -> Iterator[str]:
    """The fake on one loopback port, with codeload on another (so another origin)."""
    app = create_app(state)
    with serve_in_thread(app) as api, serve_in_thread(app) as codeload:
        state.codeload_url = codeload
        yield api


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def github(api_url: str, fake_time: FakeTime, **kwargs: Any) -> GitHubSource:
    kwargs = {"sleep": fake_time.sleep, "clock": fake_time.clock, "rng": HalfRandom(), **kwargs}
    token = Secret(kwargs.pop("token", TOKEN))
    options, own = split_source_options(kwargs)
    return GitHubSource(REPO, api_url, token, options, **own)


async def everything(
    source: GitHubSource, branch: str | None = None
) -> tuple[Tree, dict[str, bytes]]:
    try:
        tree = await source.list_tree(await source.resolve_head(branch))
        files = {f.entry.path: f.data async for f in source.fetch(tree.commit, tree.entries)}
        return tree, files
    finally:
        await source.aclose()


def local(repo: GitRepo) -> tuple[list[TreeEntry], dict[str, bytes]]:
    async def go() -> tuple[list[TreeEntry], dict[str, bytes]]:
        source = GitSource(repo.path)
        tree = await source.list_tree(await source.resolve_head(None))
        files = {f.entry.path: f.data async for f in source.fetch(tree.commit, tree.entries)}
        return sorted(tree.entries, key=lambda e: e.path), files

    return asyncio.run(go())


def test_head_tree_and_blobs_match_the_local_repository(
    repo: GitRepo, state: FakeGitHubState, api_url: str, fake_time: FakeTime
) -> None:
    source = github(api_url, fake_time, tarball_min_files=100)
    tree, files = asyncio.run(everything(source))

    entries, contents = local(repo)
    assert tree.commit == repo.head()
    assert sorted(tree.entries, key=lambda e: e.path) == entries  # no symlink, no submodule
    assert files == contents
    assert source.stats.by_kind == {"repo": 1, "head": 1, "tree": 1, "blob": 7}
    assert len(state.requests) == source.stats.requests == 10
    assert {r.headers["authorization"] for r in state.requests} == {"<redacted>"}


def test_tarball_skips_the_token_on_codeload_and_refetches_rewritten_files(
    repo: GitRepo, state: FakeGitHubState, api_url: str, fake_time: FakeTime
) -> None:
    source = github(api_url, fake_time, tarball_min_files=2)
    _, files = asyncio.run(everything(source, "main"))

    assert files == local(repo)[1]
    # stamp.ttl came out of the archive with the commit SHA in it: fetched as a blob.
    assert source.stats.by_kind == {"head": 1, "tree": 1, "tarball": 1, "codeload": 1, "blob": 1}
    codeload = [r for r in state.requests if r.path.startswith("/_codeload/")]
    assert [r.path for r in codeload] == [f"/_codeload/{REPO}/legacy.tar.gz/{repo.head()}"]
    assert "authorization" not in codeload[0].headers


def test_truncated_trees_are_walked_to_the_same_tree(
    repo: GitRepo, state: FakeGitHubState, api_url: str, fake_time: FakeTime
) -> None:
    state.truncate_trees = True  # every recursive listing longer than 2 entries is cut
    source = github(api_url, fake_time)

    async def go() -> Tree:
        try:
            return await source.list_tree(repo.head())
        finally:
            await source.aclose()

    tree = asyncio.run(go())
    assert sorted(tree.entries, key=lambda e: e.path) == local(repo)[0]
    # root (recursive, cut), root, dir, vendor, deep (cut), deep, deep/x
    assert source.stats.by_kind == {"tree": 7}


def test_scripted_faults_are_retried_as_github_asks(
    repo: GitRepo, state: FakeGitHubState, api_url: str, fake_time: FakeTime
) -> None:
    blobs = "/repos/*/git/blobs/*"
    state.faults = [
        Fault(blobs, status=502),
        Fault(blobs, status=403, headers={"retry-after": "3"}),
        Fault(blobs, action="drop"),
    ]
    source = github(api_url, fake_time)
    entry = next(e for e in local(repo)[0] if e.path == "a.ttl")

    async def go() -> list[bytes]:
        try:
            return [f.data async for f in source.fetch(repo.head(), [entry])]
        finally:
            await source.aclose()

    assert asyncio.run(go()) == [raw("a.ttl")]
    assert fake_time.sleeps == [0.75, 3.0, 3.0]  # backoff, retry-after, backoff
    assert source.stats.by_kind == {"blob": 4}
    assert state.faults == []
    assert len(state.requests) == 4


def test_a_wrong_token_is_a_source_error(api_url: str, fake_time: FakeTime) -> None:
    source = github(api_url, fake_time, token="ghp_wrong")
    with pytest.raises(SourceError, match=r"rejected the token \(401\).*Bad credentials"):
        asyncio.run(everything(source))


def test_in_process_with_asgi_transport(repo: GitRepo, state: FakeGitHubState) -> None:
    """No server: the same app through httpx.ASGITransport; a dropped connection is
    still a transport error there, so it is retried the same way."""
    state.faults = [Fault("/repos/*/commits/*", action="drop")]
    fake_time = FakeTime()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state)))
    source = github("http://fake.test", fake_time, client=client, tarball_min_files=2)

    async def go() -> dict[str, bytes]:
        async with client:
            return (await everything(source))[1]

    assert asyncio.run(go()) == local(repo)[1]
    assert fake_time.sleeps == [0.75]
    assert source.stats.by_kind == {
        "repo": 1,
        "head": 2,
        "tree": 1,
        "tarball": 1,
        "codeload": 1,
        "blob": 1,
    }


def test_rest_shapes_for_the_baselines(repo: GitRepo, api_url: str) -> None:
    """The routes the benchmark baselines and other clients read directly."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=api_url, headers=auth) as client:
        root = client.get(f"/repos/{REPO}/contents/", params={"ref": "main"}).json()
        folder = client.get(f"/repos/{REPO}/contents/deep/x").json()
        page = client.get(f"/repos/{REPO}/contents/dir/b \u00e9.md", params={"ref": "main"})
        missing = client.get(f"/repos/{REPO}/contents/nope.ttl")
        commit = client.get(f"/repos/{REPO}/commits/main").json()
        branch = client.get(f"/repos/{REPO}/branches/main").json()
        no_branch = client.get(f"/repos/{REPO}/branches/nope")
        sha = next(e.blob_sha for e in local(repo)[0] if e.path == "bin.owl")
        blob = client.get(f"/repos/{REPO}/git/blobs/{sha}").json()

    kinds = {item["path"]: item["type"] for item in root}
    assert kinds == {
        ".gitattributes": "file",
        "a.ttl": "file",
        "bin.owl": "file",
        "deep": "dir",
        "dir": "dir",
        "link.ttl": "symlink",
        "stamp.ttl": "file",
        "vendor": "dir",
    }
    assert [item["path"] for item in folder] == ["deep/x/y.ttl", "deep/x/z.ttl"]
    assert page.json()["encoding"] == "base64"
    assert base64.b64decode(page.json()["content"]) == raw("dir/b \u00e9.md")
    assert missing.status_code == 404
    assert commit["sha"] == branch["commit"]["sha"] == repo.head()
    assert no_branch.status_code == 404
    assert (base64.b64decode(blob["content"]), blob["size"]) == (b"\x00\x01\x02", 3)


@pytest.mark.slow
def test_a_slow_answer_times_out_and_is_retried(
    repo: GitRepo, state: FakeGitHubState, api_url: str, fake_time: FakeTime
) -> None:
    state.faults = [Fault("/repos/*/commits/*", action="delay", delay=60.0)]
    client = httpx.AsyncClient(timeout=httpx.Timeout(1.0))
    source = github(api_url, fake_time, client=client)

    async def go() -> str:
        async with client:
            return await source.resolve_head("main")

    assert asyncio.run(go()) == repo.head()
    assert fake_time.sleeps == [0.75]
    assert source.stats.by_kind == {"head": 2}
    assert source.stats.last_error == f"branch 'main' of {REPO}: ReadTimeout"
