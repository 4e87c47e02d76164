"""A repository on GitHub (or GitHub Enterprise Server), read through REST API v3.

One request at a time per source, as GitHub asks of integrators
(https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api):
head is ``GET /repos/{o}/{r}/commits/{branch}`` with ``Accept: application/vnd.github.sha``
(plus ``GET /repos/{o}/{r}`` once for the default branch), sent with the last ETag since
a 304 does not count against the rate limit; the tree is ``GET .../git/trees/{commit}
?recursive=1``, and when GitHub says ``truncated: true``, the root and then each subtree
(recursively, descending further only where a subtree is truncated too); files are
``GET .../git/blobs/{sha}`` (raw media type) each, or one ``GET .../tarball/{commit}``
plus the codeload URL its 302 names.

The tarball rule: tarball when ``len(entries) > max(tarball_min_files, tree_bytes //
tarball_bytes_per_request)``, ``tree_bytes`` being the size of all blobs of the commit's
tree (the archive holds them all). A sync of k files thus costs head + tree + k blobs =
k + 2 requests up to the threshold and head + tree + tarball + codeload = 4 above it
(``tarball_min_files >= 2`` keeps 4 <= k + 2). The byte term stops a 2 GB archive being
fetched for a few files. An initial sync (nothing synced yet) skips the head: it downloads
the branch's archive first (:meth:`GitHubSource.prefetch`), takes the commit from the
archive, lists that commit's tree and reads every file from the archive it already has:
tarball + codeload + tree = 3 requests whatever the size, with or without a branch set.
Files the archive rewrites (``export-subst``/``eol`` attributes) or lacks are then
fetched as blobs, one request each, on top.

Requests, limits, retries and redirects: :mod:`syncer.sources.github_api`; what GitHub's
answers mean: :mod:`syncer.sources.github_answers`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import IO, Any
from urllib.parse import quote

import httpx

from syncer.errors import ConfigError, SourceError
from syncer.model import Tree, TreeEntry, git_blob_sha
from syncer.sources.base import FetchedFile
from syncer.sources.github_answers import (
    archive_commit,
    archive_members,
    sub_trees,
    tree_blobs,
    tree_item,
    wants_tarball,
)
from syncer.sources.github_api import ClientOptions, GitHubAPI, base_headers, read_body
from syncer.sources.github_app import AppAuth, AppCredentials, Authenticator, TokenAuth
from syncer.values import Secret

# https://docs.github.com/en/rest/git/blobs#get-a-blob (custom media types)
RAW = "application/vnd.github.raw+json"
# https://docs.github.com/en/rest/commits/commits#get-a-commit: the bare SHA as text.
SHA = "application/vnd.github.sha"


class GitHubSource:
    """A :class:`~syncer.sources.base.Source` over GitHub's REST API v3."""

    def __init__(
        self,
        repo: str,
        api_url: str,
        token: Secret | None,
        options: ClientOptions | None = None,
        *,
        tarball_min_files: int = 16,
        tarball_bytes_per_request: int = 1024 * 1024,
        app: AppCredentials | None = None,
    ) -> None:
        owner, sep, name = repo.partition("/")
        if not sep or not owner or not name or "/" in name:
            raise ConfigError(f"GitHub repository must be owner/name, not {repo!r}")
        if tarball_min_files < 2:
            raise ConfigError("tarball_min_files must be at least 2")
        self.repo = repo
        self.api_url = api_url.rstrip("/")
        base = f"{self.api_url}/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
        options = options or ClientOptions()
        # A GitHub App wins over a token: organisations avoid tokens tied to a person.
        self.auth: Authenticator = (
            AppAuth(app, self.api_url, repo, options.clock, base_headers)
            if app is not None
            else TokenAuth(token)
        )
        self._api = GitHubAPI(base, self.api_url, self.auth, options)
        self.stats = self._api.stats  # the one object, counted where requests are sent
        self.tarball_min_files = tarball_min_files
        self.tarball_bytes_per_request = tarball_bytes_per_request
        self._default_branch: str | None = None
        self._heads: dict[str, tuple[str, str]] = {}  # branch -> (ETag, SHA)
        self._tree: Tree | None = None  # a commit's tree never changes: keep the last one
        # The archive prefetch() downloaded, kept for fetch() until release().
        self._archive: tuple[str, IO[bytes]] | None = None

    def __repr__(self) -> str:
        return f"GitHubSource({self.repo!r}, api_url={self.api_url!r})"

    @property
    def max_wait(self) -> float:
        return self._api.max_wait

    @property
    def description(self) -> str:
        return f"github:{self.repo}"

    async def followed_branch(self) -> str | None:
        return None  # the default branch: each push payload names it

    async def resolve_head(self, branch: str | None) -> str:
        if branch is None:
            if self._default_branch is None:
                info = await self._api.json(
                    "repo", self._api.request(""), f"repository {self.repo}"
                )
                if not isinstance(info, dict) or not isinstance(info.get("default_branch"), str):
                    raise SourceError(f"GitHub named no default branch for {self.repo}")
                self._default_branch = info["default_branch"]
            branch = self._default_branch
        cached = self._heads.get(branch)
        extra = {"If-None-Match": cached[0]} if cached else None
        request = self._api.request(f"/commits/{quote(branch, safe='/')}", accept=SHA, extra=extra)

        async def consume(response: httpx.Response) -> str:
            if response.status_code == 304 and cached is not None:
                return cached[1]
            text = (await read_body(response)).decode("ascii", "replace").strip()
            if len(text) not in (40, 64) or any(c not in "0123456789abcdef" for c in text):
                raise SourceError(f"GitHub answered branch {branch!r} with no commit SHA")
            if etag := response.headers.get("etag"):
                self._heads[branch] = (etag, text)
            return text

        return await self._api.call("head", request, consume, f"branch {branch!r} of {self.repo}")

    async def hook_deliveries(self, hook_id: int) -> list[dict[str, Any]]:
        """The hook's recent deliveries as GitHub logged them (one page, newest first);
        needs admin rights on the repository's hooks (delivery_audit.py)."""
        request = self._api.request(f"/hooks/{hook_id}/deliveries?per_page=100")
        data = await self._api.json("hook-deliveries", request, f"deliveries of hook {hook_id}")
        if not isinstance(data, list):
            raise SourceError(f"GitHub answered the deliveries of hook {hook_id} with no list")
        return [row for row in data if isinstance(row, dict)]

    async def prefetch(self, branch: str | None) -> str | None:
        """Download the branch's archive for a run that will read every file (an initial
        sync): ``GET .../tarball/{branch}`` and its codeload URL, 2 requests, instead of
        resolving the head first (1, or 2 with the default-branch lookup) and downloading
        the archive of that commit after the listing. Without a ref GitHub archives the
        default branch ("If you omit :ref, the repository's default branch ... will be
        used", https://docs.github.com/en/rest/repos/contents#download-a-repository-
        archive-tar). The commit comes from the archive's pax header, where ``git archive``
        writes it (``git get-tar-commit-id`` reads it back), so the listing and the files
        are of one commit even if the branch moves meanwhile. None (the archive dropped)
        when the archive names no commit: the caller resolves the head as usual."""
        ref = f"/{quote(branch, safe='/')}" if branch else ""
        what = f"tarball of {branch or 'the default branch'} from {self.repo}"
        spool = await self._api.download(f"/tarball{ref}", what)
        try:
            commit = await asyncio.to_thread(archive_commit, spool, what)
        except BaseException:
            spool.close()
            raise
        if commit is None:
            spool.close()
            return None
        self.release()
        self._archive = (commit, spool)
        return commit

    def release(self) -> None:
        """Let go of the archive prefetch() kept (up to 1 MiB in memory, else a temporary file)."""
        if self._archive is not None:
            _, spool = self._archive
            self._archive = None
            spool.close()

    async def list_tree(self, commit: str) -> Tree:
        if self._tree is not None and self._tree.commit == commit:
            return self._tree
        data = await self._get_tree(commit, recursive=True)
        entries = await self._walk(commit, "") if data.get("truncated") else tree_blobs(data, "")
        self._tree = Tree(commit=commit, entries=tuple(entries))
        return self._tree

    async def _get_tree(self, sha: str, *, recursive: bool) -> dict[str, Any]:
        query = "?recursive=1" if recursive else ""
        request = self._api.request(f"/git/trees/{quote(sha, safe='')}{query}")
        data = await self._api.json("tree", request, f"tree {sha} of {self.repo}", tree_item)
        if not isinstance(data, dict) or not isinstance(data.get("tree"), list):
            raise SourceError(f"GitHub answered tree {sha} of {self.repo} in an unknown shape")
        return data

    async def _walk(self, sha: str, prefix: str) -> list[TreeEntry]:
        """Every blob under tree ``sha`` when a recursive listing came back truncated."""
        data = await self._get_tree(sha, recursive=False)
        if data.get("truncated"):  # even one directory's own listing has a limit
            raise SourceError(f"GitHub truncated the listing of {prefix or '/'} in {self.repo}")
        entries = tree_blobs(data, prefix)
        for item in sub_trees(data):
            sub_prefix, sha = f"{prefix}{item.path}/", item.sha
            sub = await self._get_tree(sha, recursive=True)
            done = not sub.get("truncated")
            entries += tree_blobs(sub, sub_prefix) if done else await self._walk(sha, sub_prefix)
        return entries

    def _use_tarball(self, commit: str, entries: Sequence[TreeEntry]) -> bool:
        tree = self._tree.entries if self._tree and self._tree.commit == commit else entries
        return wants_tarball(
            len(entries),
            sum(e.size or 0 for e in tree),
            min_files=self.tarball_min_files,
            bytes_per_request=self.tarball_bytes_per_request,
        )

    async def fetch(self, commit: str, entries: Sequence[TreeEntry]) -> AsyncIterator[FetchedFile]:
        rest: Sequence[TreeEntry] = entries
        kept = self._archive[1] if self._archive and self._archive[0] == commit else None
        if kept is not None or self._use_tarball(commit, entries):
            done: set[str] = set()
            async for fetched in self._from_tarball(commit, entries, kept):
                done.add(fetched.entry.path)
                yield fetched
            rest = [e for e in entries if e.path not in done]
        for entry in rest:
            yield await self._blob(entry)

    async def _blob(self, entry: TreeEntry) -> FetchedFile:
        request = self._api.request(f"/git/blobs/{quote(entry.blob_sha, safe='')}", accept=RAW)
        what = f"blob {entry.blob_sha} ({entry.path}) of {self.repo}"
        data = await self._api.call("blob", request, read_body, what)
        self.stats.bytes_fetched += len(data)
        if git_blob_sha(data) != entry.blob_sha:
            raise SourceError(f"blob SHA mismatch for {entry.path} from {self.description}")
        return FetchedFile(entry=entry, data=data)

    async def _from_tarball(
        self, commit: str, entries: Sequence[TreeEntry], kept: IO[bytes] | None = None
    ) -> AsyncIterator[FetchedFile]:
        """The entries found intact in the commit's archive (the caller fetches the rest):
        ``kept`` (prefetch's) or a fresh download, read as a stream off the event loop,
        one file at a time, so memory stays bounded."""
        what = f"tarball of {commit} from {self.repo}"
        spool = kept or await self._api.download(f"/tarball/{quote(commit, safe='')}", what)
        try:
            spool.seek(0)
            members = archive_members(spool, {e.path: e for e in entries}, what)
            try:
                while (item := await asyncio.to_thread(next, members, None)) is not None:
                    entry, data = item
                    if git_blob_sha(data) == entry.blob_sha:  # else rewritten: fetch the blob
                        yield FetchedFile(entry=entry, data=data)
            finally:
                with contextlib.suppress(ValueError):  # still running in a cancelled thread
                    members.close()
        finally:
            if kept is None:
                spool.close()

    async def aclose(self) -> None:
        self.release()
        await self._api.aclose()
