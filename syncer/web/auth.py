"""Admin tokens and the status page's session cookie, signed with SYNCER_SECRET_KEY.

A token is an itsdangerous ``URLSafeTimedSerializer`` payload carrying its own lifetime;
the signature's timestamp says when it was issued, so a token expires ``expires``
seconds after ``syncer admin-token`` printed it. The session cookie is the same kind of
payload under another salt (a cookie cannot be replayed as a bearer token, or back) and
carries a random CSRF token that the "Resync now" form must echo.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from syncer.config import Settings
from syncer.errors import ConfigError, Unauthorized

TOKEN_SALT = "syncer.admin-token"
SESSION_SALT = "syncer.session"
DEFAULT_EXPIRES = 30 * 24 * 3600
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    csrf: str


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    if settings.secret_key is None:
        raise ConfigError("SYNCER_SECRET_KEY is not set: admin tokens cannot be signed")
    return URLSafeTimedSerializer(settings.secret_key.reveal(), salt=salt)


def issue_admin_token(settings: Settings, expires: int = DEFAULT_EXPIRES) -> str:
    """A bearer token for the admin routes, valid for ``expires`` seconds (at least 1)."""
    if expires < 1:
        # Not "no expiry" and not the default: a lifetime of 0 used to become 30 days.
        raise ConfigError(f"an admin token must live at least 1 second, not {expires}")
    return _serializer(settings, TOKEN_SALT).dumps({"sub": "admin", "exp": int(expires)})


def _load(
    settings: Settings, salt: str, value: str, now: datetime | None = None
) -> dict[str, object]:
    try:
        data, issued = _serializer(settings, salt).loads(value, return_timestamp=True)
    except SignatureExpired as exc:
        raise Unauthorized("token expired") from exc
    except BadData as exc:
        raise Unauthorized("invalid token") from exc
    except ConfigError as exc:
        raise Unauthorized("admin tokens are not configured") from exc
    if not isinstance(data, dict) or data.get("sub") != "admin":
        raise Unauthorized("invalid token")
    lifetime = data.get("exp")
    if not isinstance(lifetime, int):
        raise Unauthorized("invalid token")
    if ((now or datetime.now(UTC)) - issued).total_seconds() > lifetime:
        raise Unauthorized("token expired")
    return data


def check_admin_token(
    settings: Settings, token: str | None, *, now: datetime | None = None
) -> None:
    """Raise :class:`Unauthorized` unless ``token`` is a valid, unexpired admin token."""
    if not token:
        raise Unauthorized("missing admin token")
    _load(settings, TOKEN_SALT, token, now)


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def issue_session(settings: Settings) -> str:
    return _serializer(settings, SESSION_SALT).dumps(
        {"sub": "admin", "exp": SESSION_SECONDS, "csrf": secrets.token_urlsafe(24)}
    )


def load_session(settings: Settings, cookie: str | None) -> Session | None:
    if not cookie or settings.secret_key is None:
        return None
    try:
        data = _load(settings, SESSION_SALT, cookie)
    except Unauthorized:
        return None
    csrf = data.get("csrf")
    return Session(csrf) if isinstance(csrf, str) else None


def check_csrf(session: Session | None, submitted: str | None) -> None:
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    if (
        session is None
        or not submitted
        or not hmac.compare_digest(
            session.csrf.encode("utf-8"), submitted.encode("utf-8", "surrogateescape")
        )
    ):
        raise Unauthorized("missing or invalid CSRF token")
