"""Admin tokens and session cookies: signed, expiring, not interchangeable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncer.config import Settings
from syncer.errors import ConfigError, Unauthorized
from syncer.values import Secret
from syncer.web.auth import (
    bearer,
    check_admin_token,
    check_csrf,
    issue_admin_token,
    issue_session,
    load_session,
)

SETTINGS = Settings(secret_key=Secret("k" * 32))


def test_token_round_trip_and_no_secret_inside() -> None:
    token = issue_admin_token(SETTINGS, 60)
    check_admin_token(SETTINGS, token)
    assert "k" * 32 not in token


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c"])
def test_missing_or_garbage_token(token: str | None) -> None:
    with pytest.raises(Unauthorized):
        check_admin_token(SETTINGS, token)


def test_forged_token_is_refused() -> None:
    forged = issue_admin_token(SETTINGS.with_(secret_key=Secret("other")), 60)
    with pytest.raises(Unauthorized, match="invalid token"):
        check_admin_token(SETTINGS, forged)


def test_expired_token_is_refused() -> None:
    token = issue_admin_token(SETTINGS, 60)
    soon = datetime.now(UTC) + timedelta(seconds=30)
    check_admin_token(SETTINGS, token, now=soon)
    with pytest.raises(Unauthorized, match="token expired"):
        check_admin_token(SETTINGS, token, now=soon + timedelta(seconds=60))


def test_session_cookie_is_not_a_bearer_token() -> None:
    cookie = issue_session(SETTINGS)
    with pytest.raises(Unauthorized):
        check_admin_token(SETTINGS, cookie)
    assert load_session(SETTINGS, issue_admin_token(SETTINGS, 60)) is None
    session = load_session(SETTINGS, cookie)
    assert session is not None
    check_csrf(session, session.csrf)
    with pytest.raises(Unauthorized):
        check_csrf(session, "wrong")
    with pytest.raises(Unauthorized):
        check_csrf(None, session.csrf)


def test_bearer_header_parsing() -> None:
    assert bearer("Bearer abc") == "abc"
    assert bearer("bearer  abc ") == "abc"
    assert bearer("Basic abc") is None
    assert bearer("Bearer") is None
    assert bearer(None) is None


def test_no_secret_key_no_tokens() -> None:
    with pytest.raises(ConfigError):
        issue_admin_token(Settings(), 60)


@pytest.mark.parametrize("expires", [0, -5])
def test_a_token_that_would_never_be_valid_is_refused_not_lengthened(expires: int) -> None:
    with pytest.raises(ConfigError, match=f"at least 1 second, not {expires}$"):
        issue_admin_token(SETTINGS, expires)
