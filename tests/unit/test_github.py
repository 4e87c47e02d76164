"""The GitHub source against scripted answers (pytest-httpx): requests, limits, errors."""

from __future__ import annotations

import asyncio
import io
import tarfile
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from pytest_httpx import HTTPXMock

from syncer import __version__
from syncer.errors import RateLimitedError, RetryableError, SourceError
from syncer.model import TreeEntry, git_blob_sha
from syncer.sources.github import GitHubSource
from syncer.values import Secret
from tests.support.clock import T0, FakeTime, HalfRandom, split_source_options

T = TypeVar("T")
API = "https://api.github.com"
BASE = f"{API}/repos/octo/onto"
CODELOAD = "https://codeload.github.com/octo/onto/legacy.tar.gz"
TOKEN = "ghp_" + "s3cr3t" * 6
HEAD = "5" * 40


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_source(fake_time: FakeTime, token: str | None = TOKEN, **kwargs: Any) -> GitHubSource:
    options, own = split_source_options(
        {"sleep": fake_time.sleep, "clock": fake_time.clock, "rng": HalfRandom(), **kwargs}
    )
    source = GitHubSource(
        "octo/onto",
        API,
        Secret(token) if token else None,
        options,
        **{"tarball_min_files": 4, **own},
    )
    fake_time.stats = source.stats
    return source


@pytest.fixture
def source(fake_time: FakeTime) -> Iterator[GitHubSource]:
    source = make_source(fake_time)
    yield source
    asyncio.run(source.aclose())


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def blob_item(path: str, data: bytes, mode: str = "100644") -> dict[str, Any]:
    sha = git_blob_sha(data)
    url = f"{BASE}/git/blobs/{sha}"
    return {"path": path, "mode": mode, "type": "blob", "sha": sha, "size": len(data), "url": url}


def tree_item(path: str, sha: str) -> dict[str, Any]:
    return {"path": path, "mode": "040000", "type": "tree", "sha": sha, "url": f"{BASE}/x"}


def tree_json(items: list[dict[str, Any]], truncated: bool = False) -> dict[str, Any]:
    return {"sha": "7" * 40, "url": f"{BASE}/git/trees/x", "tree": items, "truncated": truncated}


def entries_of(files: dict[str, bytes]) -> list[TreeEntry]:
    return [TreeEntry(path, git_blob_sha(data), len(data)) for path, data in files.items()]


def tar_gz(files: dict[str, bytes], prefix: str = "octo-onto-5555555/") -> bytes:
    """An archive shaped like GitHub's: a pax comment, a top directory, then the files."""
    buffer = io.BytesIO()
    with tarfile.open(
        fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT, pax_headers={"comment": HEAD}
    ) as archive:
        top = tarfile.TarInfo(prefix.rstrip("/"))
        top.type = tarfile.DIRTYPE
        archive.addfile(top)
        link = tarfile.TarInfo(prefix + "link.ttl")
        link.type, link.linkname = tarfile.SYMTYPE, "a.ttl"
        archive.addfile(link)
        for path, data in files.items():
            info = tarfile.TarInfo(prefix + path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def files_of(n: int) -> dict[str, bytes]:
    return {f"dir{i % 3}/f{i}.ttl": f"<urn:f{i}> a <urn:C> .\n".encode() for i in range(n)}


def mock_archive(httpx_mock: HTTPXMock, ref: str, archive: bytes) -> None:
    """GitHub's tarball answer for ``ref``: a 302 to codeload, which serves ``archive``."""
    location = f"{CODELOAD}/{ref}"
    httpx_mock.add_response(
        url=f"{BASE}/tarball/{ref}", status_code=302, headers={"Location": location}
    )
    httpx_mock.add_response(url=location, content=archive)


def mock_head_and_tree(httpx_mock: HTTPXMock, files: dict[str, bytes]) -> None:
    httpx_mock.add_response(url=f"{BASE}/commits/main", text=HEAD)
    items = [blob_item(p, d) for p, d in files.items()]
    httpx_mock.add_response(url=f"{BASE}/git/trees/{HEAD}?recursive=1", json=tree_json(items))


def sync(source: GitHubSource, entries_filter: Any = None) -> dict[str, bytes]:
    """head, tree and every (or the filtered) file, as the engine asks for them."""

    async def go() -> dict[str, bytes]:
        head = await source.resolve_head("main")
        tree = await source.list_tree(head)
        wanted = [e for e in tree.entries if entries_filter is None or entries_filter(e)]
        return {f.entry.path: f.data async for f in source.fetch(head, wanted)}

    return run(go())


# -- head ------------------------------------------------------------------------------


def test_default_branch_is_looked_up_once_then_one_request_per_head(
    source: GitHubSource, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=BASE, json={"default_branch": "trunk", "name": "onto"})
    httpx_mock.add_response(url=f"{BASE}/commits/trunk", text=HEAD, is_reusable=True)

    async def go() -> list[str]:
        return [await source.resolve_head(None), await source.resolve_head(None)]

    assert run(go()) == [HEAD, HEAD]
    assert source.stats.by_kind == {"repo": 1, "head": 2}
    head_request = httpx_mock.get_requests()[-1]
    assert head_request.headers["accept"] == "application/vnd.github.sha"
    assert head_request.headers["x-github-api-version"] == "2022-11-28"
    assert head_request.headers["user-agent"] == f"syncer/{__version__}"
    assert head_request.headers["authorization"] == f"Bearer {TOKEN}"


def test_head_sends_the_etag_and_a_304_keeps_the_known_sha(
    source: GitHubSource, httpx_mock: HTTPXMock
) -> None:
    url = f"{BASE}/commits/feature/x"  # a branch name with a slash stays one path
    httpx_mock.add_response(url=url, text=HEAD, headers={"ETag": '"abc"'})
    httpx_mock.add_response(url=url, status_code=304, match_headers={"If-None-Match": '"abc"'})

    async def go() -> list[str]:
        return [await source.resolve_head("feature/x"), await source.resolve_head("feature/x")]

    assert run(go()) == [HEAD, HEAD]
    assert source.stats.by_kind == {"head": 2}


def test_no_token_means_no_authorization_header(fake_time: FakeTime, httpx_mock: HTTPXMock) -> None:
    source = make_source(fake_time, token=None)
    httpx_mock.add_response(url=f"{BASE}/commits/main", text=HEAD)
    assert run(source.resolve_head("main")) == HEAD
    assert "authorization" not in httpx_mock.get_requests()[0].headers
    run(source.aclose())


# -- tree ------------------------------------------------------------------------------


def test_tree_keeps_blobs_with_sizes_and_skips_symlinks_and_submodules(
    source: GitHubSource, httpx_mock: HTTPXMock
) -> None:
    items = [
        blob_item("a.ttl", b"A"),
        tree_item("dir", "1" * 40),
        blob_item("dir/b.md", b"Bee"),
        blob_item("dir/link.ttl", b"a.ttl", mode="120000"),
        {"path": "vendor/ontology", "mode": "160000", "type": "commit", "sha": "2" * 40},
        blob_item("run.sh", b"#!/bin/sh\n", mode="100755"),
    ]
    httpx_mock.add_response(url=f"{BASE}/git/trees/{HEAD}?recursive=1", json=tree_json(items))

    async def go() -> list[TreeEntry]:
        tree = await source.list_tree(HEAD)
        assert await source.list_tree(HEAD) is tree  # a commit's tree never changes
        return list(tree.entries)

    assert run(go()) == [
        TreeEntry("a.ttl", git_blob_sha(b"A"), 1),
        TreeEntry("dir/b.md", git_blob_sha(b"Bee"), 3),
        TreeEntry("run.sh", git_blob_sha(b"#!/bin/sh\n"), 10),
    ]
    assert source.stats.by_kind == {"tree": 1}


def test_truncated_tree_is_walked_subtree_by_subtree(
    source: GitHubSource, httpx_mock: HTTPXMock
) -> None:
    small, big, deep = "1" * 40, "2" * 40, "3" * 40
    trees = f"{BASE}/git/trees"
    partial = tree_json([blob_item("a.ttl", b"A")], truncated=True)
    httpx_mock.add_response(url=f"{trees}/{HEAD}?recursive=1", json=partial)
    root = [blob_item("a.ttl", b"A"), tree_item("small", small), tree_item("big", big)]
    httpx_mock.add_response(url=f"{trees}/{HEAD}", json=tree_json(root))
    small_items = [tree_item("s", "4" * 40), blob_item("s/x.ttl", b"X")]
    httpx_mock.add_response(url=f"{trees}/{small}?recursive=1", json=tree_json(small_items))
    httpx_mock.add_response(url=f"{trees}/{big}?recursive=1", json=tree_json([], truncated=True))
    big_items = [blob_item("y.ttl", b"Y"), tree_item("deep", deep)]
    httpx_mock.add_response(url=f"{trees}/{big}", json=tree_json(big_items))
    httpx_mock.add_response(
        url=f"{trees}/{deep}?recursive=1", json=tree_json([blob_item("z.ttl", b"Z")])
    )

    tree = run(source.list_tree(HEAD))
    assert [(e.path, e.blob_sha) for e in tree.entries] == [
        ("a.ttl", git_blob_sha(b"A")),
        ("small/s/x.ttl", git_blob_sha(b"X")),
        ("big/y.ttl", git_blob_sha(b"Y")),
        ("big/deep/z.ttl", git_blob_sha(b"Z")),
    ]
    assert source.stats.by_kind == {"tree": 6}


# -- blobs, tarball and request counts -------------------------------------------------


def test_blob_sha_mismatch_is_a_source_error(source: GitHubSource, httpx_mock: HTTPXMock) -> None:
    entry = TreeEntry("a.ttl", git_blob_sha(b"expected"), 8)
    httpx_mock.add_response(url=f"{BASE}/git/blobs/{entry.blob_sha}", content=b"tampered")

    async def go() -> None:
        async for _ in source.fetch(HEAD, [entry]):
            pass

    with pytest.raises(SourceError, match=r"^blob SHA mismatch for a\.ttl from github:octo/onto$"):
        run(go())


@pytest.mark.parametrize("k", [1, 3, 4])
def test_incremental_sync_of_k_files_costs_k_plus_2_requests(
    source: GitHubSource, httpx_mock: HTTPXMock, k: int
) -> None:
    files = files_of(40)
    mock_head_and_tree(httpx_mock, files)
    changed = dict(list(files.items())[:k])
    for data in changed.values():
        raw = "application/vnd.github.raw+json"
        url = f"{BASE}/git/blobs/{git_blob_sha(data)}"
        httpx_mock.add_response(url=url, content=data, match_headers={"Accept": raw})

    assert sync(source, lambda e: e.path in changed) == changed
    assert source.stats.requests == k + 2
    assert source.stats.by_kind == {"head": 1, "tree": 1, "blob": k}


@pytest.mark.parametrize("n", [5, 40, 400])
def test_initial_sync_costs_four_requests_whatever_the_size(
    source: GitHubSource, httpx_mock: HTTPXMock, n: int
) -> None:
    files = files_of(n)
    mock_head_and_tree(httpx_mock, files)
    location = f"{CODELOAD}/{HEAD}?token=SIGNED"
    httpx_mock.add_response(
        url=f"{BASE}/tarball/{HEAD}", status_code=302, headers={"Location": location}
    )
    httpx_mock.add_response(url=location, content=tar_gz(files))

    assert sync(source) == files
    assert source.stats.by_kind == {"head": 1, "tree": 1, "tarball": 1, "codeload": 1}
    tarball_request, codeload_request = httpx_mock.get_requests()[2:]
    # The signed codeload link is another host: the token must not travel there.
    assert tarball_request.headers["authorization"] == f"Bearer {TOKEN}"
    assert codeload_request.url.host == "codeload.github.com"
    assert "authorization" not in codeload_request.headers


def test_same_host_codeload_keeps_authorization(fake_time: FakeTime, httpx_mock: HTTPXMock) -> None:
    source = GitHubSource(
        "octo/onto", "https://ghe.test/api/v3", Secret(TOKEN), tarball_min_files=2
    )
    files = files_of(3)
    location = f"https://ghe.test/_codeload/octo/onto/legacy.tar.gz/{HEAD}"
    httpx_mock.add_response(
        url=f"https://ghe.test/api/v3/repos/octo/onto/tarball/{HEAD}",
        status_code=302,
        headers={"Location": location},
    )
    httpx_mock.add_response(url=location, content=tar_gz(files))

    async def go() -> dict[str, bytes]:
        try:
            return {f.entry.path: f.data async for f in source.fetch(HEAD, entries_of(files))}
        finally:
            await source.aclose()

    assert run(go()) == files
    assert httpx_mock.get_requests()[1].headers["authorization"] == f"Bearer {TOKEN}"


def test_archive_files_rewritten_or_missing_are_fetched_as_blobs(
    source: GitHubSource, httpx_mock: HTTPXMock
) -> None:
    files = files_of(6)
    archived = dict(files)
    rewritten, missing = list(files)[:2]
    archived[rewritten] = b"<urn:f0> a <urn:C> .\r\n"  # an eol attribute at work
    del archived[missing]
    mock_head_and_tree(httpx_mock, files)
    location = f"{CODELOAD}/{HEAD}"
    httpx_mock.add_response(
        url=f"{BASE}/tarball/{HEAD}", status_code=302, headers={"Location": location}
    )
    httpx_mock.add_response(url=location, content=tar_gz(archived))
    for path in (rewritten, missing):
        url = f"{BASE}/git/blobs/{git_blob_sha(files[path])}"
        httpx_mock.add_response(url=url, content=files[path])

    assert sync(source) == files
    assert source.stats.by_kind == {"head": 1, "tree": 1, "tarball": 1, "codeload": 1, "blob": 2}


def tar_gz_without_commit(files: dict[str, bytes]) -> bytes:
    """An archive of a tree, not a commit: ``git archive`` writes no pax comment then."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.USTAR_FORMAT) as archive:
        for path, data in files.items():
            info = tarfile.TarInfo("octo-onto-5555555/" + path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def prefetched_sync(
    source: GitHubSource, branch: str | None
) -> tuple[str | None, dict[str, bytes]]:
    """What the engine does on an initial sync: prefetch, list, fetch, release."""

    async def go() -> tuple[str | None, dict[str, bytes]]:
        head = await source.prefetch(branch)
        if head is None:
            return None, {}
        tree = await source.list_tree(head)
        got = {f.entry.path: f.data async for f in source.fetch(head, tree.entries)}
        source.release()
        return head, got

    return run(go())


@pytest.mark.parametrize(("branch", "path"), [("main", "/tarball/main"), (None, "/tarball")])
def test_an_initial_sync_is_the_branch_archive_and_the_tree_of_its_commit(
    source: GitHubSource, httpx_mock: HTTPXMock, branch: str | None, path: str
) -> None:
    files = files_of(3)  # under tarball_min_files: the kept archive is used all the same
    context = {"static/ns/v2.jsonld": b'{"@context": {}}'}
    location = f"{CODELOAD}/refs/heads/main?token=SIGNED"
    httpx_mock.add_response(url=BASE + path, status_code=302, headers={"Location": location})
    httpx_mock.add_response(url=location, content=tar_gz(files | context))
    items = [blob_item(p, d) for p, d in (files | context).items()]
    httpx_mock.add_response(url=f"{BASE}/git/trees/{HEAD}?recursive=1", json=tree_json(items))

    async def go() -> tuple[str | None, dict[str, bytes], dict[str, bytes]]:
        head = await source.prefetch(branch)
        assert head is not None
        tree = await source.list_tree(head)
        by_path = tree.by_path()
        # The engine reads the context document first, then the pages: one archive.
        first = {
            f.entry.path: f.data async for f in source.fetch(head, [by_path["static/ns/v2.jsonld"]])
        }
        rest = [e for e in tree.entries if e.path not in context]
        second = {f.entry.path: f.data async for f in source.fetch(head, rest)}
        source.release()
        return head, first, second

    assert run(go()) == (HEAD, context, files)
    assert [str(r.url) for r in httpx_mock.get_requests()] == [
        BASE + path,
        location,
        f"{BASE}/git/trees/{HEAD}?recursive=1",
    ]
    assert source.stats.by_kind == {"tarball": 1, "codeload": 1, "tree": 1}


def test_after_release_the_archive_is_downloaded_again_by_commit(
    source: GitHubSource, httpx_mock: HTTPXMock
) -> None:
    files = files_of(20)
    mock_archive(httpx_mock, "main", tar_gz(files))
    mock_archive(httpx_mock, HEAD, tar_gz(files))

    async def go() -> dict[str, bytes]:
        head = await source.prefetch("main")
        assert head == HEAD
        source.release()
        return {f.entry.path: f.data async for f in source.fetch(HEAD, entries_of(files))}

    assert run(go()) == files
    assert source.stats.by_kind == {"tarball": 2, "codeload": 2}


def test_an_archive_that_names_no_commit_is_dropped_and_the_head_resolved(
    source: GitHubSource, httpx_mock: HTTPXMock
) -> None:
    files = files_of(2)
    mock_archive(httpx_mock, "main", tar_gz_without_commit(files))
    assert prefetched_sync(source, "main") == (None, {})
    mock_head_and_tree(httpx_mock, files)
    for data in files.values():
        httpx_mock.add_response(url=f"{BASE}/git/blobs/{git_blob_sha(data)}", content=data)
    assert sync(source) == files  # blobs: nothing was kept from the dropped archive
    assert source.stats.by_kind == {"tarball": 1, "codeload": 1, "head": 1, "tree": 1, "blob": 2}


def test_a_few_files_of_a_huge_tree_come_as_blobs(
    source: GitHubSource, httpx_mock: HTTPXMock
) -> None:
    files = files_of(10)
    httpx_mock.add_response(url=f"{BASE}/commits/main", text=HEAD)
    items = [blob_item(p, d) for p, d in files.items()]
    items.append(blob_item("video.mp4", b"x") | {"size": 50 * 1024 * 1024})
    httpx_mock.add_response(url=f"{BASE}/git/trees/{HEAD}?recursive=1", json=tree_json(items))
    for data in files.values():
        httpx_mock.add_response(url=f"{BASE}/git/blobs/{git_blob_sha(data)}", content=data)

    # 10 files > tarball_min_files (4), but not > 50 (MiB of archive per request saved).
    assert sync(source, lambda e: e.path.endswith(".ttl")) == files
    assert source.stats.by_kind == {"head": 1, "tree": 1, "blob": 10}


def test_an_unreadable_archive_is_retryable(source: GitHubSource, httpx_mock: HTTPXMock) -> None:
    files = files_of(5)
    httpx_mock.add_response(url=f"{BASE}/tarball/{HEAD}", content=b"not a tarball at all")

    async def go() -> None:
        async for _ in source.fetch(HEAD, entries_of(files)):
            pass

    with pytest.raises(RetryableError, match="could not be read"):
        run(go())


# -- limits and retries ----------------------------------------------------------------


def test_retry_after_is_waited_exactly(
    source: GitHubSource, fake_time: FakeTime, httpx_mock: HTTPXMock
) -> None:
    url = f"{BASE}/commits/main"
    httpx_mock.add_response(url=url, status_code=403, headers={"retry-after": "7"})
    httpx_mock.add_response(url=url, text=HEAD)

    assert run(source.resolve_head("main")) == HEAD
    assert fake_time.sleeps == [7.0]
    assert fake_time.limited_until == [T0 + 7]  # shown while waiting ...
    assert source.stats.rate_limited_until is None  # ... and cleared after
    assert (source.stats.requests, source.stats.retries) == (2, 1)


@pytest.mark.parametrize("status", [403, 429])
def test_an_exhausted_primary_limit_waits_until_the_reset(
    source: GitHubSource, fake_time: FakeTime, httpx_mock: HTTPXMock, status: int
) -> None:
    url = f"{BASE}/commits/main"
    limits = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(T0) + 42)}
    httpx_mock.add_response(url=url, status_code=status, headers=limits)
    httpx_mock.add_response(url=url, text=HEAD)

    assert run(source.resolve_head("main")) == HEAD
    assert fake_time.sleeps == [42.0]
    assert fake_time.limited_until == [T0 + 42]


def test_a_secondary_limit_without_headers_waits_a_minute_then_longer(
    source: GitHubSource, fake_time: FakeTime, httpx_mock: HTTPXMock
) -> None:
    url = f"{BASE}/commits/main"
    body = {"message": "You have exceeded a secondary rate limit. Please wait."}
    httpx_mock.add_response(url=url, status_code=403, json=body)
    httpx_mock.add_response(url=url, status_code=429)
    httpx_mock.add_response(url=url, text=HEAD)

    assert run(source.resolve_head("main")) == HEAD
    assert fake_time.sleeps == [60.0, 120.0]


def test_a_success_that_spends_the_last_request_waits_before_the_next(
    source: GitHubSource, fake_time: FakeTime, httpx_mock: HTTPXMock
) -> None:
    limits = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(T0) + 30)}
    httpx_mock.add_response(url=f"{BASE}/commits/main", text=HEAD, headers=limits)
    httpx_mock.add_response(url=f"{BASE}/git/trees/{HEAD}?recursive=1", json=tree_json([]))

    async def go() -> None:
        await source.resolve_head("main")
        await source.list_tree(HEAD)

    run(go())
    assert fake_time.sleeps == [30.0]
    assert source.stats.requests == 2  # no request was spent on a certain 403


def test_a_spent_limit_beyond_max_wait_is_handed_back_without_a_request(
    fake_time: FakeTime, httpx_mock: HTTPXMock
) -> None:
    source = make_source(fake_time, max_wait=600.0)
    limits = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(T0) + 1800)}
    httpx_mock.add_response(url=f"{BASE}/commits/main", text=HEAD, headers=limits)

    run(source.resolve_head("main"))
    for _ in range(2):  # the caller retries early: still no request before the reset
        with pytest.raises(RateLimitedError, match="spent until 2023-11-14 22:43:20 UTC") as caught:
            run(source.list_tree(HEAD))
        assert caught.value.wait_seconds == 1800.0
        assert source.stats.rate_limited_until == T0 + 1800
    assert (source.stats.requests, fake_time.sleeps) == (1, [])


def test_server_errors_and_transport_errors_back_off_with_jitter(
    source: GitHubSource, fake_time: FakeTime, httpx_mock: HTTPXMock
) -> None:
    url = f"{BASE}/commits/main"
    httpx_mock.add_response(url=url, status_code=502)
    httpx_mock.add_exception(httpx.ConnectError("connection refused"), url=url)
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), url=url)
    httpx_mock.add_response(url=url, status_code=503)
    httpx_mock.add_response(url=url, text=HEAD)

    assert run(source.resolve_head("main")) == HEAD
    assert fake_time.sleeps == [0.75, 1.5, 3.0, 6.0]  # 1, 2, 4, 8 s, jitter at 0.75
    assert fake_time.limited_until == [None] * 4
    assert (source.stats.requests, source.stats.retries) == (5, 4)


def test_a_503_retry_after_is_a_floor_for_the_backoff_not_a_rate_limit(
    source: GitHubSource, fake_time: FakeTime, httpx_mock: HTTPXMock
) -> None:
    url = f"{BASE}/commits/main"
    httpx_mock.add_response(url=url, status_code=503, headers={"retry-after": "20"})
    httpx_mock.add_response(url=url, status_code=503, headers={"retry-after": "0"})
    httpx_mock.add_response(url=url, status_code=503, headers={"retry-after": "86400"})
    httpx_mock.add_response(url=url, text=HEAD)

    assert run(source.resolve_head("main")) == HEAD
    # 20 s asked > 0.75 s backoff; 0 s asked < 1.5 s backoff; a day asked, max_wait given.
    assert fake_time.sleeps == [20.0, 1.5, source.max_wait]
    assert fake_time.limited_until == [None] * 3
    assert source.stats.requests == 4


def test_max_attempts_of_server_errors_is_a_retryable_error(
    fake_time: FakeTime, httpx_mock: HTTPXMock
) -> None:
    source = make_source(fake_time, max_attempts=3)
    for _ in range(3):
        httpx_mock.add_response(url=f"{BASE}/commits/main", status_code=500)

    with pytest.raises(RetryableError) as caught:
        run(source.resolve_head("main"))
    assert type(caught.value) is RetryableError
    assert str(caught.value) == (
        "branch 'main' of octo/onto: gave up after 3 attempts (GitHub answered 500)"
    )
    assert caught.value.wait_seconds is None
    assert fake_time.sleeps == [0.75, 1.5]
    assert source.stats.requests == 3


def test_max_attempts_of_rate_limits_is_rate_limited_with_the_wait(
    fake_time: FakeTime, httpx_mock: HTTPXMock
) -> None:
    source = make_source(fake_time, max_attempts=3)
    for _ in range(3):
        httpx_mock.add_response(
            url=f"{BASE}/commits/main", status_code=429, headers={"retry-after": "5"}
        )

    with pytest.raises(RateLimitedError) as caught:
        run(source.resolve_head("main"))
    assert caught.value.wait_seconds == 5.0
    assert fake_time.sleeps == [5.0, 5.0]


def test_a_wait_longer_than_max_wait_is_handed_back_at_once(
    fake_time: FakeTime, httpx_mock: HTTPXMock
) -> None:
    source = make_source(fake_time, max_wait=600.0)
    httpx_mock.add_response(
        url=f"{BASE}/commits/main", status_code=429, headers={"retry-after": "3600"}
    )

    with pytest.raises(RateLimitedError) as caught:
        run(source.resolve_head("main"))
    assert caught.value.wait_seconds == 3600.0
    assert fake_time.sleeps == []


# -- permanent errors and the token ----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            401,
            {"message": "Bad credentials"},
            "GitHub rejected the token (401) for branch 'main' of octo/onto: Bad credentials",
        ),
        (
            404,
            {"message": "Not Found"},
            "GitHub found no branch 'main' of octo/onto (404): wrong name, or no read access?",
        ),
        (
            403,
            {"message": f"Resource not accessible by integration ({TOKEN})"},
            "GitHub refused branch 'main' of octo/onto (403, no permission?): "
            "Resource not accessible by integration (**********)",
        ),
        (
            422,
            {"message": "No commit found for SHA: main"},
            "GitHub answered 422 for branch 'main' of octo/onto: No commit found for SHA: main",
        ),
    ],
)
def test_permanent_answers_are_source_errors_without_the_token(
    source: GitHubSource,
    fake_time: FakeTime,
    httpx_mock: HTTPXMock,
    status: int,
    body: dict[str, str],
    message: str,
) -> None:
    httpx_mock.add_response(url=f"{BASE}/commits/main", status_code=status, json=body)

    with pytest.raises(SourceError) as caught:
        run(source.resolve_head("main"))
    assert str(caught.value) == message
    assert fake_time.sleeps == []  # not retried
    assert TOKEN not in str(caught.value) + repr(caught.value) + str(source.stats.last_error)


def test_a_renamed_repository_is_followed_and_remembered(
    source: GitHubSource, httpx_mock: HTTPXMock
) -> None:
    # "301 ... you should update your code to use this URL for future requests"
    # (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api)
    moved = f"{API}/repositories/42"
    httpx_mock.add_response(
        url=f"{BASE}/commits/main", status_code=301, headers={"Location": f"{moved}/commits/main"}
    )
    httpx_mock.add_response(url=f"{moved}/commits/main", text=HEAD)
    httpx_mock.add_response(url=f"{moved}/git/trees/{HEAD}?recursive=1", json=tree_json([]))

    assert run(source.list_tree(run(source.resolve_head("main")))).entries == ()
    urls = [str(r.url) for r in httpx_mock.get_requests()]
    assert urls == [
        f"{BASE}/commits/main",
        f"{moved}/commits/main",
        f"{moved}/git/trees/{HEAD}?recursive=1",
    ]
    assert source.stats.by_kind == {"head": 2, "tree": 1}


def test_a_temporary_redirect_is_followed_not_remembered(
    source: GitHubSource, httpx_mock: HTTPXMock
) -> None:
    # "302 or 307 ... you should not update your code to use this URL for future requests"
    elsewhere = f"{API}/repositories/42/commits/main"
    for _ in range(2):
        httpx_mock.add_response(
            url=f"{BASE}/commits/main", status_code=307, headers={"Location": elsewhere}
        )
        httpx_mock.add_response(url=elsewhere, text=HEAD)

    assert [run(source.resolve_head("main")) for _ in range(2)] == [HEAD, HEAD]
    assert [str(r.url) for r in httpx_mock.get_requests()] == [
        BASE + "/commits/main",
        elsewhere,
    ] * 2


def test_a_redirect_to_another_origin_does_not_carry_the_token_nor_move_the_base(
    source: GitHubSource, httpx_mock: HTTPXMock
) -> None:
    other = "https://mirror.test/repos/octo/onto"
    httpx_mock.add_response(
        url=f"{BASE}/commits/main", status_code=301, headers={"Location": f"{other}/commits/main"}
    )
    httpx_mock.add_response(url=f"{other}/commits/main", text=HEAD)
    httpx_mock.add_response(url=f"{BASE}/git/trees/{HEAD}?recursive=1", json=tree_json([]))

    run(source.list_tree(run(source.resolve_head("main"))))
    first, followed, tree = httpx_mock.get_requests()
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in followed.headers
    assert str(tree.url).startswith(BASE)


def test_a_redirect_loop_is_a_source_error(
    source: GitHubSource, fake_time: FakeTime, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        url=f"{BASE}/commits/main",
        status_code=302,
        headers={"Location": f"{BASE}/commits/main"},
        is_reusable=True,
    )

    with pytest.raises(SourceError, match="redirected /repos/octo/onto/commits/main to"):
        run(source.resolve_head("main"))
    assert len(httpx_mock.get_requests()) == 6  # the first and 5 redirects, no retries
    assert fake_time.sleeps == []


def test_the_token_is_in_no_repr_or_description(source: GitHubSource) -> None:
    assert source.description == "github:octo/onto"
    assert repr(source) == "GitHubSource('octo/onto', api_url='https://api.github.com')"
    assert TOKEN not in repr(source.__dict__)
