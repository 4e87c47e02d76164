"""How requests to GitHub are authenticated: a personal token, or a GitHub App.

A GitHub App authenticates as itself with a JSON Web Token it signs (RS256, at most ten
minutes long, ``iss`` the App's id), and exchanges that for an *installation access
token* that lasts an hour and reads only the repositories the App was installed on
(https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/
generating-a-json-web-token-jwt-for-a-github-app, and .../generating-an-installation-
access-token-for-a-github-app). :class:`AppAuth` keeps that token, asks for a new one
``REFRESH_BEFORE`` seconds before it expires, and once more when GitHub answers 401 (a
token revoked early); a second 401 is a configuration error, said as such.

The JWT is signed with PyJWT (and cryptography for RS256), never by hand. The private key
is read once, at start, by :func:`load_app_key`: a file that is not an RSA private key in
PEM is a configuration error then, not at the first request.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import httpx
import jwt

from syncer.errors import ConfigError, RetryableError, SourceError
from syncer.values import Secret

# A new installation token is asked for this long before the current one expires, so a
# request never leaves with a token that dies on the way (GitHub's tokens last 1 h).
REFRESH_BEFORE = 300.0
# GitHub refuses a JWT whose exp is more than 10 minutes ahead; iat is set in the past to
# allow for clock drift, as GitHub's docs advise.
JWT_LIFETIME, JWT_BACKDATE = 540, 60


class Authenticator(Protocol):
    """What GitHubAPI asks before each request, and after a 401."""

    renewable: bool  # whether a 401 is worth a fresh credential and one more try
    requests: int  # requests to GitHub it made itself (an App's token exchanges)

    async def header(self, client: httpx.AsyncClient) -> str | None: ...

    def invalidate(self) -> None: ...

    def scrub(self, text: str) -> str: ...


class TokenAuth:
    """A personal (or fine-grained) token, or none: fixed for the process's life."""

    renewable = False
    requests = 0

    def __init__(self, token: Secret | None) -> None:
        self._token = token

    async def header(self, client: httpx.AsyncClient) -> str | None:
        return f"Bearer {self._token.reveal()}" if self._token is not None else None

    def invalidate(self) -> None:
        return None

    def scrub(self, text: str) -> str:
        if self._token is not None and self._token.reveal():
            text = text.replace(self._token.reveal(), "**********")
        return text


@dataclass(frozen=True)
class AppCredentials:
    app_id: str
    private_key: Secret  # PEM text, read from SYNCER_GITHUB_APP_KEY's file at start
    installation_id: int | None = None  # None: found from the repository


def load_app_key(path: Path) -> Secret:
    """The PEM text of the App's private key; a clear ConfigError when it is not one."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a text file"
        raise ConfigError(f"SYNCER_GITHUB_APP_KEY: cannot read {path}: {reason}") from exc
    try:
        app_jwt("1", Secret(text), 0.0)
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise ConfigError(
            f"SYNCER_GITHUB_APP_KEY: {path} is not an RSA private key in PEM (the .pem file"
            " GitHub lets you download on the App's settings page)"
        ) from exc
    return Secret(text)


def app_jwt(app_id: str, key: Secret, now: float) -> str:
    """The App's own credential: RS256, issued a minute ago, valid nine minutes."""
    issued = int(now) - JWT_BACKDATE
    claims = {"iat": issued, "exp": issued + JWT_BACKDATE + JWT_LIFETIME, "iss": app_id}
    return jwt.encode(claims, key.reveal(), algorithm="RS256")


class AppAuth:
    """Installation access tokens for one repository, cached and refreshed."""

    renewable = True

    def __init__(
        self,
        credentials: AppCredentials,
        api_url: str,
        repo: str,
        clock: Callable[[], float],
        headers: Callable[[], dict[str, str]],
    ) -> None:
        self.credentials = credentials
        self.api_url = api_url
        self.repo = repo
        self._clock = clock
        self._headers = headers  # Accept, API version, User-Agent: as every request has
        self._installation = credentials.installation_id
        self._token: str | None = None
        self._expires_at = 0.0
        # The last tokens handed out, to scrub from messages (one an hour: a few suffice).
        self._seen: deque[str] = deque(maxlen=4)
        self.tokens_issued = 0
        self.requests = 0

    async def header(self, client: httpx.AsyncClient) -> str | None:
        if self._token is None or self._clock() >= self._expires_at - REFRESH_BEFORE:
            await self._refresh(client)
        return f"Bearer {self._token}"

    def invalidate(self) -> None:
        self._token = None

    def scrub(self, text: str) -> str:
        for token in self._seen:
            text = text.replace(token, "**********")
        return text

    async def _as_app(
        self, client: httpx.AsyncClient, method: str, path: str, what: str
    ) -> dict[str, object]:
        token = app_jwt(self.credentials.app_id, self.credentials.private_key, self._clock())
        headers = {**self._headers(), "Authorization": f"Bearer {token}"}
        self.requests += 1
        try:
            response = await client.request(method, self.api_url + path, headers=headers)
        except httpx.TransportError as exc:
            raise RetryableError(f"GitHub App: {what}: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise RetryableError(f"GitHub App: {what}: GitHub answered {response.status_code}")
        if response.status_code in (401, 403, 404):
            hint = {
                401: "GitHub rejected the App's signed token: check SYNCER_GITHUB_APP_ID and"
                " that SYNCER_GITHUB_APP_KEY is this App's current private key",
                403: "the App may not do this: check its permissions (Contents: read)",
                404: f"the App is not installed on {self.repo}, or"
                " SYNCER_GITHUB_APP_INSTALLATION names another installation",
            }[response.status_code]
            raise ConfigError(f"GitHub App: {what} ({response.status_code}): {hint}")
        if response.status_code >= 400:
            raise SourceError(f"GitHub App: {what}: GitHub answered {response.status_code}")
        data = response.json()
        if not isinstance(data, dict):
            raise SourceError(f"GitHub App: {what}: unexpected answer")
        return data

    async def _refresh(self, client: httpx.AsyncClient) -> None:
        if self._installation is None:
            found = await self._as_app(
                client, "GET", f"/repos/{self.repo}/installation", "finding the installation"
            )
            installation = found.get("id")
            if not isinstance(installation, int):
                raise SourceError("GitHub App: the installation has no id")
            self._installation = installation
        answer = await self._as_app(
            client,
            "POST",
            f"/app/installations/{self._installation}/access_tokens",
            "asking for an installation token",
        )
        token, expires = answer.get("token"), answer.get("expires_at")
        if not isinstance(token, str) or not isinstance(expires, str):
            raise SourceError("GitHub App: the installation token answer has no token")
        self._token = token
        self._seen.append(token)
        self._expires_at = datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp()
        self.tokens_issued += 1
