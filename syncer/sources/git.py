"""A local git repository, read through the ``git`` command line.

``ls-tree`` lists blobs with their SHAs and sizes; one ``cat-file --batch`` process
streams any number of blobs. No network: for offline use, mirrors, demos and tests.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from syncer.errors import SourceError
from syncer.model import Tree, TreeEntry, git_blob_sha
from syncer.sources.base import FetchedFile, SourceStats

# Git's environment variables would let a caller's shell redirect us to another
# repository (GIT_DIR, GIT_INDEX_FILE ...); the path we were given must win.
_GIT_ENV_DROP = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV_DROP}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


class GitSource:
    """A :class:`~syncer.sources.base.Source` over a local repository (bare or not)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stats = SourceStats()

    @property
    def description(self) -> str:
        return f"git:{self.path}"

    async def _git(self, *args: str, stdin: bytes | None = None) -> bytes:
        self.stats.count(args[0])
        proc = await asyncio.create_subprocess_exec(
            "git",
            "-C",
            str(self.path),
            *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_git_env(),
        )
        out, err = await proc.communicate(stdin)
        if proc.returncode != 0:
            message = err.decode("utf-8", "replace").strip()
            raise SourceError(f"git {args[0]} failed in {self.path}: {message}")
        return out

    async def resolve_head(self, branch: str | None) -> str:
        if not self.path.exists():
            raise SourceError(f"git repository {self.path} does not exist")
        ref = f"refs/heads/{branch}^{{commit}}" if branch else "HEAD^{commit}"
        try:
            out = await self._git("rev-parse", "--verify", "--quiet", ref)
        except SourceError as exc:
            # --quiet: git says nothing when the ref does not resolve; say what it means.
            where = f"branch {branch!r} (SYNCER_BRANCH)" if branch else "the checked-out branch"
            raise SourceError(
                f"{where} has no commit in {self.path}: the repository is empty"
                " or has no such branch"
            ) from exc
        return out.decode().strip()

    async def followed_branch(self) -> str | None:
        # What HEAD names (None when detached): the branch resolve_head(None) reads.
        try:
            out = await self._git("symbolic-ref", "--short", "--quiet", "HEAD")
        except SourceError:
            return None
        return out.decode().strip() or None

    async def list_tree(self, commit: str) -> Tree:
        out = await self._git("ls-tree", "-r", "-z", "--long", "--full-tree", commit)
        entries = []
        for record in out.split(b"\x00"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, sha, size = meta.split()
            # Symlinks (120000) and submodules (type commit) carry no file content.
            if kind != b"blob" or mode == b"120000":
                continue
            path = raw_path.decode("utf-8", "surrogateescape")
            # git prints "BAD" for a blob the repository does not hold (a partial clone):
            # the size is unknown, and reading the blob will say what is wrong.
            known = size.isdigit()
            entries.append(
                TreeEntry(path=path, blob_sha=sha.decode(), size=int(size) if known else None)
            )
        return Tree(commit=commit, entries=tuple(entries))

    async def fetch(self, commit: str, entries: Sequence[TreeEntry]) -> AsyncIterator[FetchedFile]:
        if not entries:
            return
        self.stats.count("cat-file")
        proc = await asyncio.create_subprocess_exec(
            "git",
            "-C",
            str(self.path),
            "cat-file",
            "--batch",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # Nothing reads stderr here: a pipe would fill and stall git (cat-file
            # --batch reports a missing object on stdout).
            stderr=asyncio.subprocess.DEVNULL,
            env=_git_env(),
        )
        assert proc.stdin is not None and proc.stdout is not None

        async def feed() -> None:
            assert proc.stdin is not None
            for entry in entries:
                proc.stdin.write(entry.blob_sha.encode() + b"\n")
                await proc.stdin.drain()
            proc.stdin.close()

        feeder = asyncio.create_task(feed())
        read_all = False
        try:
            for entry in entries:
                header = await proc.stdout.readline()
                parts = header.split()
                if len(parts) == 2 and parts[1] == b"missing":
                    yield FetchedFile(
                        entry=entry,
                        data=b"",
                        unreadable=f"blob {entry.blob_sha} is missing from the local"
                        " repository (a partial or damaged clone?); it is asked for"
                        " again next run",
                    )
                    continue
                if len(parts) != 3:
                    raise SourceError(f"unexpected git cat-file output: {header[:100]!r}")
                size = int(parts[2])
                data = await proc.stdout.readexactly(size)
                await proc.stdout.readexactly(1)  # the newline after each object
                if git_blob_sha(data) != entry.blob_sha:
                    raise SourceError(f"blob SHA mismatch for {entry.path}")
                self.stats.bytes_fetched += size
                yield FetchedFile(entry=entry, data=data)
            await feeder
            read_all = True
        finally:
            if not feeder.done():
                feeder.cancel()
            # Once every blob is read, git exits by itself on the closed stdin: only
            # wait. Killing it then races the child watcher: Popen.send_signal polls
            # first and may reap the exited child, and asyncio then logs "Unknown
            # child process pid N" (seen in about 1 of 10 `syncer sync` runs).
            if not read_all:
                if proc.returncode is None:
                    proc.kill()
                # Then read to EOF: asyncio's wait() returns only once every pipe has
                # closed, and a stdout whose reading is paused (its buffer full of blobs
                # nobody will read) never does (CPython 3.11.7's base_subprocess; FIBO's
                # sync hung so, a reader stopping with 160 blobs queued).
                await proc.stdout.read()
            await proc.wait()

    async def prefetch(self, branch: str | None) -> str | None:
        return None  # a local repository has nothing to download ahead

    def release(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
