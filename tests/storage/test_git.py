"""The local git source, against a real repository."""

from __future__ import annotations

import asyncio
import os

import pytest

from syncer.errors import SourceError
from syncer.model import TreeEntry, git_blob_sha
from syncer.sources.git import GitSource
from syncer_dev.gitrepo import GitRepo


def test_head_tree_and_blobs(git_repo: GitRepo) -> None:
    git_repo.write({"a.ttl": "A", "dir/b é.md": "Bé", "bin.owl": b"\x00\x01"})
    (git_repo.path / "link.ttl").symlink_to("a.ttl")
    commit = git_repo.commit()
    source = GitSource(git_repo.path)

    async def go() -> tuple[str, list[TreeEntry], dict[str, bytes]]:
        head = await source.resolve_head(None)
        named = await source.resolve_head("main")
        assert named == head
        tree = await source.list_tree(head)
        files = {f.entry.path: f.data async for f in source.fetch(head, tree.entries)}
        return head, list(tree.entries), files

    head, entries, files = asyncio.run(go())
    assert head == commit
    assert sorted((e.path, e.blob_sha, e.size) for e in entries) == [
        ("a.ttl", git_blob_sha(b"A"), 1),
        ("bin.owl", git_blob_sha(b"\x00\x01"), 2),
        ("dir/b é.md", git_blob_sha("Bé".encode()), 3),
    ]  # the symlink carries no content and is left out
    assert files == {"a.ttl": b"A", "bin.owl": b"\x00\x01", "dir/b é.md": "Bé".encode()}
    assert source.stats.by_kind == {"rev-parse": 2, "ls-tree": 1, "cat-file": 1}


def test_a_missing_blob_is_reported_unreadable_and_the_rest_still_come(
    git_repo: GitRepo,
) -> None:
    # Big blobs after the missing one fill git's stdout pipe while we look at it.
    big = {f"big{i}.ttl": f"{i}" * 200_000 for i in range(3)}
    git_repo.commit_files({"a.ttl": "A", **big})
    source = GitSource(git_repo.path)
    tree = asyncio.run(source.list_tree("HEAD"))
    ghost = TreeEntry("ghost.ttl", "0" * 40, 1)
    entries = [ghost, *sorted(tree.entries, key=lambda e: e.path)]

    async def go() -> list[tuple[str, int, str | None]]:
        return [
            (f.entry.path, len(f.data), f.unreadable) async for f in source.fetch("HEAD", entries)
        ]

    got = asyncio.run(asyncio.wait_for(go(), timeout=60))
    assert got == [
        (
            "ghost.ttl",
            0,
            f"blob {'0' * 40} is missing from the local repository (a partial or"
            " damaged clone?); it is asked for again next run",
        ),
        ("a.ttl", 1, None),
        ("big0.ttl", 200_000, None),
        ("big1.ttl", 200_000, None),
        ("big2.ttl", 200_000, None),
    ]


def test_a_reader_stopping_early_ends_git_without_hanging(git_repo: GitRepo) -> None:
    # The reader stops after one blob while megabytes are queued behind it: the
    # paused stdout must be drained, or asyncio's wait() never returns (FIBO hang).
    git_repo.commit_files({f"big{i}.ttl": f"{i}" * 300_000 for i in range(8)})
    source = GitSource(git_repo.path)
    tree = asyncio.run(source.list_tree("HEAD"))

    async def go() -> str:
        fetched = source.fetch("HEAD", tree.entries)
        async for first in fetched:
            # A consumer busy elsewhere (parsing) lets the loop take in what git
            # writes meanwhile, until the reader's buffer is full and reading pauses.
            for _ in range(2000):
                await asyncio.sleep(0)
            await fetched.aclose()  # type: ignore[attr-defined]
            return first.entry.path
        raise AssertionError("nothing fetched")

    assert asyncio.run(asyncio.wait_for(go(), timeout=60)) == tree.entries[0].path


def test_unknown_branch_and_missing_repository_are_clear(git_repo: GitRepo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    git_repo.commit_files({"a.ttl": "A"})
    with pytest.raises(SourceError) as unknown:
        asyncio.run(GitSource(git_repo.path).resolve_head("no-such-branch"))
    assert str(unknown.value) == (
        f"branch 'no-such-branch' (SYNCER_BRANCH) has no commit in {git_repo.path}:"
        " the repository is empty or has no such branch"
    )
    with pytest.raises(SourceError, match="does not exist"):
        asyncio.run(GitSource(tmp_path / "nowhere").resolve_head(None))


def test_callers_git_environment_cannot_redirect_the_source(
    git_repo: GitRepo,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    commit = git_repo.commit_files({"a.ttl": "A"})
    other = GitRepo.init(tmp_path / "other")
    other.commit_files({"x.ttl": "X"})
    monkeypatch.setenv("GIT_DIR", os.fspath(other.path / ".git"))
    assert asyncio.run(GitSource(git_repo.path).resolve_head(None)) == commit
