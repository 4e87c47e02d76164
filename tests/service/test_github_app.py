"""GitHub App authentication against the fake GitHub over loopback (issue 15, item 3): a
JWT signed with a key generated here buys installation tokens, which are cached, renewed
before they expire and once after a 401; a wrong key or App is a clear error at start."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from time import time as real_time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from syncer.config import Settings
from syncer.errors import ConfigError
from syncer.sources.github import GitHubSource
from syncer.sources.github_api import ClientOptions
from syncer.sources.github_app import AppAuth, AppCredentials, app_jwt
from syncer.storage.writer import Writer
from syncer.sync.engine import SyncEngine
from syncer.sync.progress import RunResult
from syncer.values import Secret
from syncer_dev.fake_app import FakeApp
from syncer_dev.fake_github import FakeGitHubState
from syncer_dev.fake_github import create_app as fake_github
from syncer_dev.gitrepo import GitRepo
from syncer_dev.server import serve_in_thread
from tests.support.cli import syncer
from tests.support.clock import FakeTime
from tests.support.live import ttl

APP_ID = "90210"
REPO = "acme/ontology"


def rsa_pem() -> tuple[str, str]:
    """(private key as GitHub hands it out, PKCS#1 PEM; its public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


KEY, PUBLIC = rsa_pem()


@pytest.fixture
def fake(git_repo: GitRepo) -> Iterator[tuple[str, FakeGitHubState, FakeTime]]:
    time = FakeTime()
    time.now = 1_800_000_000.0  # the fake's clock: token expiry is checked against it
    app = FakeApp(APP_ID, PUBLIC, clock=time.clock)
    state = FakeGitHubState(git_repo.path, full_name=REPO, app=app)
    with serve_in_thread(fake_github(state)) as url:
        yield url, state, time


async def sync(db: Path, source: GitHubSource) -> RunResult:
    writer = Writer(db)
    try:
        settings = Settings(db_path=db, repo=REPO, workers=2)
        return await SyncEngine(settings, source, writer).sync()
    finally:
        writer.close()


def in_one_loop(source: GitHubSource, steps: Callable[[], Awaitable[None]]) -> None:
    """The steps, on one event loop (the client's connections belong to it), then close."""

    async def go() -> None:
        try:
            await steps()
        finally:
            await source.aclose()

    asyncio.run(go())


def app_source(url: str, time: FakeTime, installation: int | None = None) -> GitHubSource:
    credentials = AppCredentials(APP_ID, Secret(KEY), installation)
    return GitHubSource(REPO, url, None, ClientOptions(clock=time.clock), app=credentials)


def test_an_app_syncs_with_an_installation_token_it_found_and_renews_before_expiry(
    git_repo: GitRepo, db_path: Path, fake: tuple[str, FakeGitHubState, FakeTime]
) -> None:
    url, state, time = fake
    assert state.app is not None
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    source = app_source(url, time)
    auth = source.auth
    assert isinstance(auth, AppAuth)
    in_one_loop(source, lambda: first_then_later(git_repo, db_path, source, state, time))


async def first_then_later(
    git_repo: GitRepo, db_path: Path, source: GitHubSource, state: FakeGitHubState, time: FakeTime
) -> None:
    auth = source.auth
    assert isinstance(auth, AppAuth) and state.app is not None
    assert (await sync(db_path, source)).status == "done"
    # Found the installation from the repository, then one token for the whole run.
    assert [(r.method, r.path) for r in state.requests[:2]] == [
        ("GET", f"/repos/{REPO}/installation"),
        ("POST", "/app/installations/4242/access_tokens"),
    ]
    assert (auth.tokens_issued, len(state.app.tokens), state.app.jwts_refused) == (1, 1, 0)
    # The exchanges are requests too: counted with the rest, as GitHub saw them.
    assert source.stats.by_kind["app"] == 2
    assert source.stats.requests == len(state.requests)

    # 55 minutes later the token has 5 left: a new one is asked for before any request
    # fails (the installation id is remembered).
    time.now += 55 * 60
    git_repo.commit_files({"b.ttl": ttl("B", "A", "B")})
    before = len(state.requests)
    assert (await sync(db_path, source)).status == "done"
    assert state.requests[before].path == "/app/installations/4242/access_tokens"
    assert all(r.path != f"/repos/{REPO}/installation" for r in state.requests[before:])
    assert auth.tokens_issued == 2
    assert source.stats.by_kind["app"] == 3
    assert source.stats.requests == len(state.requests)


def test_a_revoked_token_is_renewed_once_then_a_refusal_is_a_configuration_error(
    git_repo: GitRepo, db_path: Path, fake: tuple[str, FakeGitHubState, FakeTime]
) -> None:
    url, state, time = fake
    assert state.app is not None
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    source = app_source(url, time, installation=4242)

    async def steps() -> None:
        assert state.app is not None and isinstance(source.auth, AppAuth)
        assert (await sync(db_path, source)).status == "done"
        assert all(r.path != f"/repos/{REPO}/installation" for r in state.requests)

        state.app.revoke_all()  # revoked early: the next request gets 401, then a new token
        git_repo.commit_files({"b.ttl": ttl("B", "A", "B")})
        assert (await sync(db_path, source)).status == "done"
        assert source.auth.tokens_issued == 2

        # GitHub now refuses every installation token (the App lost access): one renewal,
        # then the run stops with a configuration error that says what to check.
        state.app.token_lifetime = -1.0
        state.app.revoke_all()
        git_repo.commit_files({"c.ttl": ttl("C", "A", "C")})
        with pytest.raises(ConfigError) as refused:
            await sync(db_path, source)
        assert str(refused.value) == (
            "GitHub rejected a fresh installation token (401) for branch 'main' of"
            " acme/ontology: Bad credentials; check the App's installation and permissions"
        )
        assert source.auth.tokens_issued == 3  # one renewal after the 401, refused too

    in_one_loop(source, steps)


def test_a_key_of_another_app_and_a_missing_installation_are_clear_errors(
    git_repo: GitRepo, db_path: Path, fake: tuple[str, FakeGitHubState, FakeTime]
) -> None:
    url, state, time = fake
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    other, _ = rsa_pem()
    stranger = GitHubSource(
        REPO, url, None, ClientOptions(clock=time.clock), app=AppCredentials(APP_ID, Secret(other))
    )
    elsewhere = app_source(url, time, installation=7)
    errors: list[str] = []

    async def steps() -> None:
        for source in (stranger, elsewhere):
            with pytest.raises(ConfigError) as refused:
                await sync(db_path, source)
            errors.append(str(refused.value))
        await elsewhere.aclose()

    in_one_loop(stranger, steps)
    assert errors == [
        "GitHub App: finding the installation (401): GitHub rejected the App's signed token:"
        " check SYNCER_GITHUB_APP_ID and that SYNCER_GITHUB_APP_KEY is this App's current"
        " private key",
        "GitHub App: asking for an installation token (404): the App is not installed on"
        " acme/ontology, or SYNCER_GITHUB_APP_INSTALLATION names another installation",
    ]
    assert state.app is not None and state.app.jwts_refused == 1
    assert all(KEY not in e and other not in e for e in errors)


@pytest.mark.slow
def test_app_settings_are_checked_at_start_and_an_app_syncs_from_the_command_line(
    git_repo: GitRepo, tmp_path: Path, fake: tuple[str, FakeGitHubState, FakeTime]
) -> None:
    url, state, _ = fake
    assert state.app is not None
    state.app.clock = real_time  # the CLI signs with the real clock
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    key_file = tmp_path / "app.pem"
    key_file.write_text(KEY)
    not_a_key = tmp_path / "notes.txt"
    not_a_key.write_text("hello")
    base = {"SYNCER_REPO": REPO, "SYNCER_GITHUB_API_URL": url, "SYNCER_DB": str(tmp_path / "a.db")}
    cases = [
        ({"SYNCER_GITHUB_APP_ID": APP_ID}, "SYNCER_GITHUB_APP_ID and SYNCER_GITHUB_APP_KEY go"),
        (
            {"SYNCER_GITHUB_APP_ID": "my-app", "SYNCER_GITHUB_APP_KEY": str(key_file)},
            "SYNCER_GITHUB_APP_ID must be the App's numeric id, not 'my-app'",
        ),
        (
            {"SYNCER_GITHUB_APP_ID": APP_ID, "SYNCER_GITHUB_APP_KEY": str(tmp_path / "nope.pem")},
            f"SYNCER_GITHUB_APP_KEY: cannot read {tmp_path / 'nope.pem'}: No such file",
        ),
        (
            {"SYNCER_GITHUB_APP_ID": APP_ID, "SYNCER_GITHUB_APP_KEY": str(not_a_key)},
            f"SYNCER_GITHUB_APP_KEY: {not_a_key} is not an RSA private key in PEM",
        ),
    ]
    for extra, message in cases:
        refused = syncer("sync", env={**base, **extra}, cwd=tmp_path)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.startswith(f"syncer: {message}"), refused.stderr
        assert not (tmp_path / "a.db").exists()
    app = {"SYNCER_GITHUB_APP_ID": APP_ID, "SYNCER_GITHUB_APP_KEY": str(key_file)}
    ok = syncer("sync", env={**base, **app}, cwd=tmp_path)
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout.startswith(f"done: commit {git_repo.head()[:12]}, 1 processed")
    assert KEY not in ok.stdout


def test_the_apps_jwt_says_what_github_asks() -> None:
    token = app_jwt(APP_ID, Secret(KEY), 1_800_000_000.0)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(
        token, PUBLIC, algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False}
    )
    assert header["alg"] == "RS256"
    # Issued a minute back for clock drift; 9 minutes valid (GitHub refuses over 10).
    assert claims == {"iat": 1_799_999_940, "exp": 1_800_000_540, "iss": APP_ID}
