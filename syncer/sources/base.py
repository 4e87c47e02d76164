"""The one small interface every source implements.

A source resolves a branch to a commit, lists a commit's tree with blob SHAs, and
fetches file contents by blob SHA, checking each against the SHA it was asked for.
Git blob SHAs are the same on GitHub and in a local clone, so the planner and the
store never need to know which source they talk to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from syncer.model import Tree, TreeEntry


@dataclass
class SourceStats:
    """Counters a source keeps, for the status page, metrics and benchmarks."""

    requests: int = 0
    bytes_fetched: int = 0
    retries: int = 0
    rate_limited_until: float | None = None  # epoch seconds, while waiting on GitHub
    last_error: str | None = None
    by_kind: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.requests += 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


@dataclass(frozen=True)
class FetchedFile:
    entry: TreeEntry
    data: bytes
    # Set when the source holds no content for this blob (a partial clone's missing
    # object): the file is recorded failed with this reason and asked for again next
    # run, instead of one absent blob stopping every other file (issue 12, FIBO).
    unreadable: str | None = None


@runtime_checkable
class HookLog(Protocol):
    """A source that can read its repository's webhook delivery log (GitHub)."""

    async def hook_deliveries(self, hook_id: int) -> list[dict[str, Any]]: ...


class Source(Protocol):
    """A repository that syncer can read."""

    stats: SourceStats

    @property
    def description(self) -> str:
        """Human-readable name, free of secrets (``github:owner/name`` or ``git:/path``)."""
        ...

    async def resolve_head(self, branch: str | None) -> str:
        """The commit SHA the branch points at now (the default branch when None)."""
        ...

    async def followed_branch(self) -> str | None:
        """The branch :meth:`resolve_head` follows when no branch is configured, if the
        source knows it (a local repository's checked-out branch); None when pushes say it
        (GitHub's default branch, named in every push payload)."""
        ...

    async def list_tree(self, commit: str) -> Tree:
        """Every blob of the commit's tree, recursively, with its blob SHA."""
        ...

    async def prefetch(self, branch: str | None) -> str | None:
        """For a run that will read every file: download the branch whole ahead of time if
        that is cheaper, and return the commit downloaded (its files then come from that
        download); None when the source does nothing of the kind."""
        ...

    def release(self) -> None:
        """Let go of what :meth:`prefetch` kept; the engine calls it when a run ends."""
        ...

    def fetch(self, commit: str, entries: Sequence[TreeEntry]) -> AsyncIterator[FetchedFile]:
        """Yield the content of each entry, in any order, its blob SHA verified.

        ``commit`` is a commit that contains every entry (a tarball may be used).
        """
        ...

    async def aclose(self) -> None: ...
