"""A GitHub App as the fake GitHub plays it: the JWT checks GitHub makes, and the
installation tokens it issues, expires and revokes (syncer_dev/fake_github.py serves the
routes; tests/service/test_github_app.py drives it)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import jwt


@dataclass
class FakeApp:
    """A GitHub App installed on the repository: JWTs signed with the key whose public half
    is ``public_key`` buy installation tokens that last ``token_lifetime`` seconds of
    ``clock`` (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-
    github-app/generating-an-installation-access-token-for-a-github-app)."""

    app_id: str
    public_key: str  # PEM
    installation_id: int = 4242
    token_lifetime: float = 3600.0
    clock: Callable[[], float] = time.time
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (clock time)
    jwts_refused: int = 0

    def revoke_all(self) -> None:
        """Every token dies now (an admin revoked them, or GitHub rotated them early)."""
        for token in self.tokens:
            self.tokens[token] = float("-inf")

    def valid_jwt(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        try:
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "require": ["iat", "exp"]},
            )
        except jwt.PyJWTError:
            self.jwts_refused += 1
            return False
        now = self.clock()
        # GitHub's rules: issued in the past, expiring within 10 minutes, this App.
        fine = (
            str(claims.get("iss")) == self.app_id
            and claims["iat"] <= now + 1
            and now < claims["exp"] <= claims["iat"] + 660
        )
        self.jwts_refused += not fine
        return fine

    def valid_token(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        expiry = self.tokens.get(token) if scheme.lower() in ("bearer", "token") else None
        return expiry is not None and self.clock() < expiry

    def allows(self, path: str, authorization: str) -> bool:
        """The App's routes want its JWT; every other route one of its tokens."""
        as_app = path.startswith("/app/") or path.endswith("/installation")
        return self.valid_jwt(authorization) if as_app else self.valid_token(authorization)

    def installation(self) -> dict[str, int]:
        return {"id": self.installation_id, "app_id": int(self.app_id)}

    def access_token(self, installation: str) -> dict[str, str] | None:
        """GitHub's answer to POST /app/installations/{id}/access_tokens (None: 404)."""
        if installation != str(self.installation_id):
            return None
        token, expiry = self.issue()
        stamp = datetime.fromtimestamp(expiry, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"token": token, "expires_at": stamp}

    def issue(self) -> tuple[str, float]:
        token = f"ghs_{secrets.token_hex(18)}"
        expiry = self.clock() + self.token_lifetime
        self.tokens[token] = expiry
        return token, expiry
