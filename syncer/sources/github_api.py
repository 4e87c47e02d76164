"""Requests to GitHub's REST API, one at a time, within its limits.

:class:`GitHubAPI` is what :class:`~syncer.sources.github.GitHubSource` asks through: it
builds requests (version, media type, token), sends them one at a time per repository as
GitHub asks of integrators
(https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api),
and retries what passes. What an answer means is decided in
:mod:`syncer.sources.github_answers`; here are the waits.

A rate-limit wait longer than ``max_wait`` (or a limit still there after the last
attempt) ends the call with :class:`RateLimitedError` and keeps
``stats.rate_limited_until``, so the caller (the service) waits for the reset too and the
status page says until when. 5xx and transport errors back off exponentially with jitter
(at least a 503's ``retry-after``). Redirects are followed ("Follow redirects"): a 301 or
308 on the API's own origin also moves every later request to the new address (a renamed
repository), a 302/307 does not; httpx drops the token when a redirect leaves the origin.
The token only ever travels in a header and is scrubbed from every message.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, TypeVar

import httpx

from syncer import __version__
from syncer.errors import ConfigError, RateLimitedError, RetryableError, SourceError
from syncer.sources.base import SourceStats
from syncer.sources.github_answers import error_message, judge_failure, moved_base, number
from syncer.sources.github_app import Authenticator

T = TypeVar("T")

# https://docs.github.com/en/rest/about-the-rest-api/api-versions
API_VERSION = "2022-11-28"
JSON = "application/vnd.github+json"
BACKOFF_BASE, BACKOFF_CAP = 1.0, 60.0
MAX_REDIRECTS = 5
# The archive spills to a temporary file beyond this. Small: an in-memory spool grows by
# doubling and is copied when it rolls over, so 8 MiB cost 30 MB of peak memory.
SPOOL_IN_MEMORY = 1024 * 1024
CHUNK = 64 * 1024


@dataclass(frozen=True)
class ClientOptions:
    """How a GitHub client sends and waits: shared by every class that talks to GitHub, and
    the seam tests use (a mock transport's client, a fake clock and sleep, pinned jitter)."""

    client: httpx.AsyncClient | None = None  # None: one of its own, closed with it
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.time
    rng: random.Random | None = None
    max_attempts: int = 6
    # A rate-limit wait longer than this is handed to the caller as RateLimitedError; the
    # default lets one primary-limit window (an hour) pass with a little to spare.
    max_wait: float = 3900.0
    timeout: float = 30.0  # seconds per request (SYNCER_GITHUB_TIMEOUT)


class GitHubAPI:
    """One repository's API base (``.../repos/{owner}/{name}``) and the rules for asking it."""

    def __init__(
        self, base: str, api_url: str, auth: Authenticator, options: ClientOptions
    ) -> None:
        if options.max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1")
        self.api_url = api_url
        self._base = base
        self._auth = auth
        self._api_origin = _origin(httpx.URL(api_url))
        self._own_client = options.client is None
        self._client = options.client or httpx.AsyncClient(
            timeout=httpx.Timeout(options.timeout, connect=min(options.timeout, 10.0))
        )
        self._sleep, self._clock = options.sleep, options.clock
        self._rng = options.rng or random.Random()
        self.max_attempts = options.max_attempts
        self.max_wait = options.max_wait
        self.stats = SourceStats()
        self._lock = asyncio.Lock()
        self._reset_at: float | None = None  # primary limit spent until then

    def __repr__(self) -> str:
        return f"GitHubAPI({self._base!r})"

    def request(
        self, path: str, *, accept: str = JSON, extra: dict[str, str] | None = None
    ) -> httpx.Request:
        """A GET of ``path`` under the repository; its credential is added as it is sent."""
        headers = {**base_headers(), "Accept": accept, **(extra or {})}
        return self._client.build_request("GET", self._base + path, headers=headers)

    def scrub(self, text: str) -> str:
        return self._auth.scrub(text)

    async def _authorize(self, request: httpx.Request) -> None:
        """The current credential, on the API's own origin only: a redirect to another
        origin (codeload's signed archive link) never carries it."""
        request.headers.pop("Authorization", None)
        if _origin(request.url) == self._api_origin:
            before = self._auth.requests
            try:
                header = await self._auth.header(self._client)
            finally:
                # An App's installation look-up and token exchanges are requests to GitHub
                # too: counted as kind "app" (status page, metrics, benchmarks).
                for _ in range(self._auth.requests - before):
                    self.stats.count("app")
            if header is not None:
                request.headers["Authorization"] = header

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
        self._base = moved_base(self._base, self.api_url, str(old), str(new)) or self._base

    async def call(
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
            renewed = False  # an App's token is renewed once after a 401, not more
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
                await self._authorize(request)
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
                    cause, problem = exc, self.scrub(f"{type(exc).__name__} {exc}".strip())
                else:
                    self.stats.bytes_fetched += len(body)
                    message = self.scrub(error_message(body))
                    if response.status_code == 401 and self._auth.renewable:
                        if not renewed and attempt < self.max_attempts:
                            # Revoked before its time, or expired early: one fresh token.
                            renewed = True
                            self._auth.invalidate()
                            continue
                        raise ConfigError(
                            f"GitHub rejected a fresh installation token (401) for {what}:"
                            f" {message}; check the App's installation and permissions"
                        )
                    rate_wait, problem = judge_failure(
                        response.status_code,
                        response.headers,
                        message,
                        what,
                        secondary,
                        self._clock(),
                    )
                    if response.status_code >= 500:
                        # A 503 may say when to come back (RFC 9110 section 10.2.3): wait at
                        # least that long, but it is an outage, not a rate limit.
                        asked_wait = number(response.headers.get("retry-after"))
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
        reset = number(response.headers.get("x-ratelimit-reset"))
        if response.headers.get("x-ratelimit-remaining") == "0" and reset is not None:
            self._reset_at = reset

    async def json(
        self,
        kind: str,
        request: httpx.Request,
        what: str,
        object_hook: Callable[[dict[str, Any]], Any] | None = None,
    ) -> Any:
        body = await self.call(kind, request, read_body, what)
        self.stats.bytes_fetched += len(body)
        try:
            return json.loads(body, object_hook=object_hook)
        except ValueError as exc:
            raise SourceError(f"GitHub answered {what} with something other than JSON") from exc

    async def download(self, path: str, what: str) -> IO[bytes]:
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
            redirect = await self.call("tarball", self.request(path), save, what, follow=False)
            for _ in range(MAX_REDIRECTS):
                if redirect is None:
                    break
                # httpx built this request: it drops Authorization when codeload is another
                # origin (the link is signed), and keeps it for GHES's same-host /_codeload.
                # A moved repository answers a redirect to its new tarball URL first.
                redirect = await self.call("codeload", redirect, save, what, follow=False)
            if redirect is not None:
                raise SourceError(f"{what}: more than {MAX_REDIRECTS} redirects")
        except BaseException:
            spool.close()
            raise
        return spool

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()


def base_headers() -> dict[str, str]:
    """What every request to the API carries besides its credential."""
    return {
        "Accept": JSON,
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": f"syncer/{__version__}",
    }


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


async def read_body(response: httpx.Response) -> bytes:
    if 300 <= response.status_code < 400:
        # Past MAX_REDIRECTS (a loop), or a 3xx without a Location: say where it pointed.
        where = response.headers.get("location", "elsewhere")
        raise SourceError(f"GitHub redirected {response.request.url.path} to {where}")
    return await response.aread()
