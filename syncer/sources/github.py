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

Limits, per https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
("Exceeding the rate limit"): ``retry-after`` wins; else ``x-ratelimit-remaining: 0``
means waiting until ``x-ratelimit-reset``; else a secondary limit: at least a minute,
doubling while it persists. A wait longer than ``max_wait`` (or a limit still there after
the last attempt) ends the call with :class:`RateLimitedError` and keeps
``stats.rate_limited_until``, so the caller (the service) waits for the reset too and the
status page says until when. 5xx and transport errors back off exponentially with
jitter. Redirects are followed, as the best practices ask ("Follow redirects"): a 301 or
308 on the API's own origin also moves every later request to the new address (a renamed
repository), a 302/307 does not; httpx drops the token when a redirect leaves the origin.
The token only ever travels in a header and is scrubbed from every message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import tarfile
import tempfile
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from datetime import UTC, datetime
from typing import IO, Any, TypeVar
from urllib.parse import quote

import httpx

from syncer import __version__
from syncer.config import Secret
from syncer.errors import ConfigError, RateLimitedError, RetryableError, SourceError
from syncer.model import Tree, TreeEntry, git_blob_sha
from syncer.sources.base import FetchedFile, SourceStats

T = TypeVar("T")

# https://docs.github.com/en/rest/about-the-rest-api/api-versions
API_VERSION = "2022-11-28"
JSON = "application/vnd.github+json"
# https://docs.github.com/en/rest/git/blobs#get-a-blob (custom media types)
RAW = "application/vnd.github.raw+json"
# https://docs.github.com/en/rest/commits/commits#get-a-commit: the bare SHA as text.
SHA = "application/vnd.github.sha"
SECONDARY_WAIT = 60.0  # "wait for at least one minute before retrying"
BACKOFF_BASE, BACKOFF_CAP = 1.0, 60.0
MAX_REDIRECTS = 5
# The archive spills to a temporary file beyond this. Small: an in-memory spool grows by
# doubling and is copied when it rolls over, so 8 MiB cost 30 MB of peak memory.
SPOOL_IN_MEMORY = 1024 * 1024
CHUNK = 64 * 1024


class GitHubSource:
    """A :class:`~syncer.sources.base.Source` over GitHub's REST API v3."""

    def __init__(
        self,
        repo: str,
        api_url: str,
        token: Secret | None,
        *,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        max_attempts: int = 6,
        tarball_min_files: int = 16,
        tarball_bytes_per_request: int = 1024 * 1024,
        max_wait: float = 3900.0,
        timeout: float = 30.0,
    ) -> None:
        owner, sep, name = repo.partition("/")
        if not sep or not owner or not name or "/" in name:
            raise ConfigError(f"GitHub repository must be owner/name, not {repo!r}")
        if tarball_min_files < 2 or max_attempts < 1:
            raise ConfigError("tarball_min_files must be at least 2, max_attempts at least 1")
        self.repo = repo
        self.api_url = api_url.rstrip("/")
        self._base = f"{self.api_url}/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
        self._token = token
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))
        )
        self._sleep, self._clock = sleep, clock
        self._rng = rng or random.Random()
        self.max_attempts = max_attempts
        self.tarball_min_files = tarball_min_files
        self.tarball_bytes_per_request = tarball_bytes_per_request
        self.max_wait = max_wait  # a longer wait is handed to the caller as RateLimitedError
        self.stats = SourceStats()
        self._lock = asyncio.Lock()
        self._default_branch: str | None = None
        self._heads: dict[str, tuple[str, str]] = {}  # branch -> (ETag, SHA)
        self._tree: Tree | None = None  # a commit's tree never changes: keep the last one
        # The archive prefetch() downloaded, kept for fetch() until release().
        self._archive: tuple[str, IO[bytes]] | None = None
        self._reset_at: float | None = None  # primary limit spent until then

    def __repr__(self) -> str:
        return f"GitHubSource({self.repo!r}, api_url={self.api_url!r})"

    @property
    def description(self) -> str:
        return f"github:{self.repo}"

    def _request(
        self, path: str, *, accept: str = JSON, extra: dict[str, str] | None = None
    ) -> httpx.Request:
        headers = {
            "Accept": accept,
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"syncer/{__version__}",
        }
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        headers.update(extra or {})
        return self._client.build_request("GET", self._base + path, headers=headers)

    def _scrub(self, text: str) -> str:
        if self._token is not None and self._token.reveal():
            text = text.replace(self._token.reveal(), "**********")
        return text

    async def _send(self, kind: str, request: httpx.Request, follow: bool) -> httpx.Response:
        """The (streamed) answer to ``request``, after at most MAX_REDIRECTS redirects when
        ``follow``; a further redirect is handed to ``consume`` (``_read`` reports it)."""
        for _ in range(MAX_REDIRECTS):
            response = await self._client.send(request, stream=True, follow_redirects=False)
            following = response.next_request if follow else None
            if following is None:
                return response
            await response.aclose()
            if response.status_code in (301, 308):
                self._moved(request.url, following.url)
            request = following
            self.stats.count(kind)
        return await self._client.send(request, stream=True, follow_redirects=False)

    def _moved(self, old: httpx.URL, new: httpx.URL) -> None:
        """A permanent redirect of one of our URLs: use the new base from now on ("you
        should update your code to use this URL for future requests"), but only on the
        API's own origin, since later requests carry the token."""
        old_url, new_url, api = str(old), str(new), httpx.URL(self.api_url)
        if not old_url.startswith(self._base) or (new.scheme, new.host, new.port) != (
            api.scheme,
            api.host,
            api.port,
        ):
            return
        rest = old_url[len(self._base) :]
        if new_url.endswith(rest) and len(new_url) > len(rest):
            self._base = new_url[: len(new_url) - len(rest)]

    async def _call(
        self,
        kind: str,
        request: httpx.Request,
        consume: Callable[[httpx.Response], Awaitable[T]],
        what: str,
        *,
        follow: bool = True,
    ) -> T:
        """Send ``request`` until it succeeds, honouring GitHub's limits; ``consume`` reads
        the answer inside the attempt, so a connection lost mid-body is retried too."""
        async with self._lock:  # a rate-limit wait holds every request of this source back
            secondary = 0
            for attempt in range(1, self.max_attempts + 1):
                if self._reset_at is not None and self._reset_at > self._clock():
                    wait = self._reset_at - self._clock()
                    if wait > self.max_wait:  # still spent: hand the wait back, ask nothing
                        self.stats.rate_limited_until = self._reset_at
                        reset = datetime.fromtimestamp(self._reset_at, UTC)
                        message = f"{what}: rate limit spent until {reset:%Y-%m-%d %H:%M:%S} UTC"
                        raise RateLimitedError(message, wait_seconds=wait)
                    await self._wait_limit(wait)
                self._reset_at = None
                self.stats.rate_limited_until = None
                self.stats.count(kind)
                rate_wait: float | None = None
                asked_wait: float | None = None
                cause: Exception | None = None
                try:
                    response = await self._send(kind, request, follow)
                    try:
                        if response.status_code < 400:
                            self._note_limits(response)
                            return await consume(response)
                        body = await response.aread()
                    finally:
                        await response.aclose()
                except httpx.TransportError as exc:
                    cause, problem = exc, self._scrub(f"{type(exc).__name__} {exc}".strip())
                else:
                    self.stats.bytes_fetched += len(body)
                    rate_wait, problem = self._judge(response, body, what, secondary)
                    if response.status_code >= 500:
                        # A 503 may say when to come back (RFC 9110 section 10.2.3): wait at
                        # least that long, but it is an outage, not a rate limit.
                        asked_wait = _number(response.headers.get("retry-after"))
                    if rate_wait is not None and problem.startswith("secondary"):
                        secondary += 1
                self.stats.last_error = f"{what}: {problem}"
                if rate_wait is not None and rate_wait > self.max_wait:
                    self._hand_back(rate_wait)
                    raise RateLimitedError(self.stats.last_error, wait_seconds=rate_wait)
                if attempt == self.max_attempts:
                    message = f"{what}: gave up after {attempt} attempts ({problem})"
                    if rate_wait is not None:
                        self._hand_back(rate_wait)
                        raise RateLimitedError(message, wait_seconds=rate_wait) from cause
                    raise RetryableError(message) from cause
                self.stats.retries += 1
                if rate_wait is not None:
                    await self._wait_limit(rate_wait)
                else:
                    backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
                    backoff *= 0.5 + self._rng.random() / 2
                    if asked_wait is not None:
                        backoff = max(backoff, min(asked_wait, self.max_wait))
                    await self._sleep(backoff)
        raise AssertionError("unreachable")  # pragma: no cover

    def _hand_back(self, seconds: float) -> None:
        """A wait left to the caller: no request leaves before it is over (the next call
        waits the rest), and ``stats.rate_limited_until`` says when that is meanwhile."""
        self._reset_at = self.stats.rate_limited_until = self._clock() + seconds

    async def _wait_limit(self, seconds: float) -> None:
        self.stats.rate_limited_until = self._clock() + seconds
        try:
            await self._sleep(seconds)
        finally:
            self.stats.rate_limited_until = None

    def _note_limits(self, response: httpx.Response) -> None:
        # The last request of the window is spent: wait for the reset, not for a 403.
        reset = _number(response.headers.get("x-ratelimit-reset"))
        if response.headers.get("x-ratelimit-remaining") == "0" and reset is not None:
            self._reset_at = reset

    def _judge(
        self, response: httpx.Response, body: bytes, what: str, secondary: int
    ) -> tuple[float | None, str]:
        """(seconds to wait for a rate limit or None for a backoff, the problem) for a
        passing fault; raise :class:`SourceError` for one that retrying will not fix."""
        status, headers = response.status_code, response.headers
        message = self._scrub(_message(body))
        if status in (403, 429):
            if "retry-after" in headers:  # GitHub sends seconds, not an HTTP date
                seconds = _number(headers["retry-after"])
                wait = SECONDARY_WAIT if seconds is None else max(seconds, 0.0)
                return wait, f"rate limited ({status}, retry-after)"
            reset = _number(headers.get("x-ratelimit-reset"))
            if headers.get("x-ratelimit-remaining") == "0" and reset is not None:
                return max(reset - self._clock(), 1.0), f"primary rate limit spent ({status})"
            if status == 429 or "rate limit" in message.lower():
                return SECONDARY_WAIT * 2**secondary, f"secondary rate limit ({status})"
            raise SourceError(f"GitHub refused {what} (403, no permission?): {message}")
        if status >= 500:
            return None, f"GitHub answered {status}"
        if status == 401:
            raise SourceError(f"GitHub rejected the token (401) for {what}: {message}")
        if status == 404:
            raise SourceError(f"GitHub found no {what} (404): wrong name, or no read access?")
        raise SourceError(f"GitHub answered {status} for {what}: {message}")

    async def _json(self, kind: str, request: httpx.Request, what: str) -> Any:
        body = await self._call(kind, request, _read, what)
        self.stats.bytes_fetched += len(body)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise SourceError(f"GitHub answered {what} with something other than JSON") from exc

    async def resolve_head(self, branch: str | None) -> str:
        if branch is None:
            if self._default_branch is None:
                info = await self._json("repo", self._request(""), f"repository {self.repo}")
                if not isinstance(info, dict) or not isinstance(info.get("default_branch"), str):
                    raise SourceError(f"GitHub named no default branch for {self.repo}")
                self._default_branch = info["default_branch"]
            branch = self._default_branch
        cached = self._heads.get(branch)
        extra = {"If-None-Match": cached[0]} if cached else None
        request = self._request(f"/commits/{quote(branch, safe='/')}", accept=SHA, extra=extra)

        async def consume(response: httpx.Response) -> str:
            if response.status_code == 304 and cached is not None:
                return cached[1]
            text = (await _read(response)).decode("ascii", "replace").strip()
            if len(text) not in (40, 64) or any(c not in "0123456789abcdef" for c in text):
                raise SourceError(f"GitHub answered branch {branch!r} with no commit SHA")
            if etag := response.headers.get("etag"):
                self._heads[branch] = (etag, text)
            return text

        return await self._call("head", request, consume, f"branch {branch!r} of {self.repo}")

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
        spool = await self._download(f"/tarball{ref}", what)
        try:
            commit = await asyncio.to_thread(_archive_commit, spool, what)
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
        """Let go of the archive prefetch() kept (an 8 MiB buffer or a temporary file)."""
        if self._archive is not None:
            _, spool = self._archive
            self._archive = None
            spool.close()

    async def list_tree(self, commit: str) -> Tree:
        if self._tree is not None and self._tree.commit == commit:
            return self._tree
        data = await self._get_tree(commit, recursive=True)
        entries = await self._walk(commit, "") if data.get("truncated") else _blobs(data, "")
        self._tree = Tree(commit=commit, entries=tuple(entries))
        return self._tree

    async def _get_tree(self, sha: str, *, recursive: bool) -> dict[str, Any]:
        query = "?recursive=1" if recursive else ""
        request = self._request(f"/git/trees/{quote(sha, safe='')}{query}")
        data = await self._json("tree", request, f"tree {sha} of {self.repo}")
        if not isinstance(data, dict) or not isinstance(data.get("tree"), list):
            raise SourceError(f"GitHub answered tree {sha} of {self.repo} in an unknown shape")
        return data

    async def _walk(self, sha: str, prefix: str) -> list[TreeEntry]:
        """Every blob under tree ``sha`` when a recursive listing came back truncated."""
        data = await self._get_tree(sha, recursive=False)
        if data.get("truncated"):  # even one directory's own listing has a limit
            raise SourceError(f"GitHub truncated the listing of {prefix or '/'} in {self.repo}")
        entries = _blobs(data, prefix)
        for item in (i for i in data["tree"] if i.get("type") == "tree"):
            sub_prefix, sha = f"{prefix}{item['path']}/", str(item["sha"])
            sub = await self._get_tree(sha, recursive=True)
            done = not sub.get("truncated")
            entries += _blobs(sub, sub_prefix) if done else await self._walk(sha, sub_prefix)
        return entries

    def _use_tarball(self, commit: str, entries: Sequence[TreeEntry]) -> bool:
        tree = self._tree.entries if self._tree and self._tree.commit == commit else entries
        tree_bytes = sum(e.size or 0 for e in tree)
        threshold = max(self.tarball_min_files, tree_bytes // self.tarball_bytes_per_request)
        return len(entries) > threshold

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
        request = self._request(f"/git/blobs/{quote(entry.blob_sha, safe='')}", accept=RAW)
        what = f"blob {entry.blob_sha} ({entry.path}) of {self.repo}"
        data = await self._call("blob", request, _read, what)
        self.stats.bytes_fetched += len(data)
        if git_blob_sha(data) != entry.blob_sha:
            raise SourceError(f"blob SHA mismatch for {entry.path} from {self.description}")
        return FetchedFile(entry=entry, data=data)

    async def _download(self, path: str, what: str) -> IO[bytes]:
        """The archive at API ``path`` (a 302 to codeload, followed), spooled to a temporary
        file past SPOOL_IN_MEMORY so memory stays bounded; the caller closes it."""
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115

        async def save(response: httpx.Response) -> httpx.Request | None:
            if response.next_request is not None:  # the usual 302 to codeload
                if response.status_code in (301, 308):  # a renamed repository, as in _send
                    self._moved(response.request.url, response.next_request.url)
                return response.next_request
            spool.seek(0)
            spool.truncate()
            async for chunk in response.aiter_bytes(CHUNK):
                spool.write(chunk)
                self.stats.bytes_fetched += len(chunk)
            return None

        try:
            redirect = await self._call("tarball", self._request(path), save, what, follow=False)
            for _ in range(MAX_REDIRECTS):
                if redirect is None:
                    break
                # httpx built this request: it drops Authorization when codeload is another
                # origin (the link is signed), and keeps it for GHES's same-host /_codeload.
                # A moved repository answers a redirect to its new tarball URL first.
                redirect = await self._call("codeload", redirect, save, what, follow=False)
            if redirect is not None:
                raise SourceError(f"{what}: more than {MAX_REDIRECTS} redirects")
        except BaseException:
            spool.close()
            raise
        return spool

    async def _from_tarball(
        self, commit: str, entries: Sequence[TreeEntry], kept: IO[bytes] | None = None
    ) -> AsyncIterator[FetchedFile]:
        """The entries found intact in the commit's archive (the caller fetches the rest):
        ``kept`` (prefetch's) or a fresh download, read as a stream off the event loop,
        one file at a time, so memory stays bounded."""
        what = f"tarball of {commit} from {self.repo}"
        spool = kept or await self._download(f"/tarball/{quote(commit, safe='')}", what)
        try:
            spool.seek(0)
            members = _members(spool, {e.path: e for e in entries}, what)
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
        if self._own_client:
            await self._client.aclose()


async def _read(response: httpx.Response) -> bytes:
    if 300 <= response.status_code < 400:
        # Past MAX_REDIRECTS (a loop), or a 3xx without a Location: say where it pointed.
        where = response.headers.get("location", "elsewhere")
        raise SourceError(f"GitHub redirected {response.request.url.path} to {where}")
    return await response.aread()


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _message(body: bytes) -> str:
    """GitHub's ``message`` field, or the start of the body."""
    try:
        message = json.loads(body)["message"]
    except (ValueError, TypeError, KeyError):
        message = None
    return message[:300] if isinstance(message, str) else body[:300].decode("utf-8", "replace")


def _blobs(data: dict[str, Any], prefix: str) -> list[TreeEntry]:
    entries = []
    for item in data["tree"]:
        # Symlinks (120000) carry a target, not content; submodules are type "commit".
        if item.get("type") != "blob" or item.get("mode") == "120000":
            continue
        size = item["size"] if isinstance(item.get("size"), int) else None
        entries.append(TreeEntry(prefix + str(item["path"]), str(item["sha"]), size))
    return entries


def _archive_commit(fileobj: IO[bytes], what: str) -> str | None:
    """The commit id ``git archive`` put in the archive's pax global header, if any."""
    fileobj.seek(0)
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as archive:
            archive.next()  # reads the global header, which comes first
            comment = archive.pax_headers.get("comment", "")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise RetryableError(f"{what} could not be read: {exc}") from exc
    is_sha = len(comment) in (40, 64) and all(c in "0123456789abcdef" for c in comment)
    return comment if is_sha else None


def _members(
    fileobj: IO[bytes], wanted: dict[str, TreeEntry], what: str
) -> Generator[tuple[TreeEntry, bytes], None, None]:
    """The wanted regular files of a GitHub archive, its ``owner-repo-sha/`` prefix cut."""
    left = len(wanted)
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as archive:
            for member in archive:
                # A TarFile remembers every member it has read, even streaming: 10,000
                # TarInfos were 5 MB by the end of the archive. We never look back.
                # (Through vars(): typeshed versions disagree on declaring `members`.)
                vars(archive)["members"].clear()
                _, sep, path = member.name.partition("/")
                entry = wanted.get(path) if sep and member.isreg() else None
                handle = archive.extractfile(member) if entry is not None else None
                if entry is not None and handle is not None:
                    yield entry, handle.read()
                    left -= 1
                    if left == 0:  # e.g. one context file: no need to read the rest
                        return
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise RetryableError(f"{what} could not be read: {exc}") from exc
