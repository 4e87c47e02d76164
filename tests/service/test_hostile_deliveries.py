"""Hostile deliveries and admin requests over real HTTP (uvicorn on 127.0.0.1).

Every class of bad delivery the issue names gets its exact status, and every refused one
(4xx, and the 200 ``duplicate`` of a replayed delivery id) is checked against a dump of
every table of the database before and after: nothing may change. Then hypothesis fuzzes
headers and bodies (random bytes, random JSON, push-like payloads, valid signatures over
junk, wrong content types, form bodies, replayed ids): never a 5xx, never a trace of a
refused delivery. Admin tokens and the status page's session: forged, tampered, expired,
used for the wrong purpose, CSRF.

What a replay is (docs/operations.md): a delivery whose ``X-GitHub-Delivery`` id was
recorded before is answered ``200 duplicate`` whatever its body, and nothing is written;
the same signed body under a new id is a new delivery (the id is not signed, so the
service cannot tell it from a fresh one) and queues at most one coalesced sync of the
head, which cannot move the database anywhere but to the head.
"""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from syncer.config import Settings
from syncer.storage.migrate import migrate
from syncer.values import Secret
from syncer.web.app import create_app
from syncer.web.auth import SESSION_SALT, TOKEN_SALT, issue_admin_token, issue_session
from syncer.webhook import sign
from syncer_dev.gitrepo import GitRepo
from tests.support.live import (
    SECRET,
    LiveServer,
    assert_equals_fresh,
    push_payload,
    raw_post,
    service_settings,
    ttl,
)

Dump = dict[str, list[tuple[Any, ...]]]


def dump_all(db: Path) -> Dump:
    """Every row of every table (timestamps included), read-only, in a stable order."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
        ]
        return {
            t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables
        }
    finally:
        conn.close()


def quiet(db: Path, head: str, timeout: float = 60) -> None:
    """Wait until the service has synced ``head`` and holds no request, run or task open:
    from then on nothing writes to the database unless a request comes in."""
    deadline = time.monotonic() + timeout
    while True:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            synced = conn.execute("SELECT synced_commit FROM sync_state").fetchall()
            open_requests = conn.execute(
                "SELECT count(*) FROM sync_requests WHERE status IN ('pending', 'running')"
            ).fetchone()[0]
            open_runs = conn.execute(
                "SELECT count(*) FROM sync_runs WHERE status IN ('queued', 'running')"
            ).fetchone()[0]
            tasks = conn.execute("SELECT count(*) FROM sync_tasks").fetchone()[0]
        finally:
            conn.close()
        if synced == [(head,)] and (open_requests, open_runs, tasks) == (0, 0, 0):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not quiet at {head}: {synced} {open_requests} {open_runs}")
        time.sleep(0.02)


@dataclass
class Live:
    client: httpx.Client
    settings: Settings
    repo: GitRepo
    db: Path
    url: str
    auth: dict[str, str]

    def quiet(self) -> None:
        quiet(self.db, self.repo.head())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("hostile")
    repo = GitRepo.init(root / "repo")
    repo.commit_files({"a.ttl": ttl("A", "Thing", "A"), "b.ttl": ttl("B", "A", "B")})
    db = root / "syncer.db"
    migrate(db, make_backup=False)
    config = service_settings(repo, db)
    with LiveServer(create_app(config)) as server, httpx.Client(base_url=server.url) as client:
        auth = {"Authorization": f"Bearer {issue_admin_token(config, 3600)}"}
        first = post(client, json.dumps(push_payload(repo.head())).encode(), delivery="first")
        assert (first.status_code, first.json()["outcome"]) == (202, "queued")
        quiet(db, repo.head())
        yield Live(client, config, repo, db, server.url, auth)


def headers_for(
    body: bytes,
    *,
    event: str = "push",
    delivery: str | None = None,
    ctype: str = "application/json",
    secret: str = SECRET,
) -> dict[str, str]:
    return {
        "Content-Type": ctype,
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret.encode(), body),
    }


def post(client: httpx.Client, body: bytes, **kwargs: Any) -> httpx.Response:
    return client.post("/webhook", content=body, headers=headers_for(body, **kwargs))


def refused(live: Live, status: int, send: Any) -> httpx.Response:
    """Send with ``send(client)``; assert the status and that no row of any table changed."""
    live.quiet()
    before = dump_all(live.db)
    answer: httpx.Response = send(live.client)
    assert answer.status_code == status, answer.text
    assert dump_all(live.db) == before
    return answer


def push_body(live: Live, **changes: Any) -> bytes:
    return json.dumps({**push_payload(live.repo.head()), **changes}).encode()


def refused_metric(live: Live, status: int) -> float:
    for line in live.client.get("/metrics").text.splitlines():
        if line.startswith(f'syncer_webhook_refused_total{{status="{status}"}} '):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


# --- signatures ---------------------------------------------------------------------------

SHA1 = "sha1=" + "0" * 40


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("wrong secret", "signature does not match"),
        ("missing", "missing X-Hub-Signature-256"),
        ("sha1 only", "missing X-Hub-Signature-256"),
        ("sha1 and a bad sha256", "signature does not match"),
        ("signature of another body", "signature does not match"),
        ("body with one byte more", "signature does not match"),
        ("uppercase hex", "signature does not match"),
        ("SHA256= prefix", "X-Hub-Signature-256 is not sha256=<hex>"),
        ("bare hex", "X-Hub-Signature-256 is not sha256=<hex>"),
        ("empty", "missing X-Hub-Signature-256"),
        ("sha256= only", "signature does not match"),
    ],
)
def test_bad_signatures_are_401_and_leave_no_trace(live: Live, case: str, error: str) -> None:
    body = push_body(live)
    good = sign(SECRET.encode(), body)
    headers = headers_for(body)
    sent = body
    if case == "wrong secret":
        headers["X-Hub-Signature-256"] = sign(b"guess", body)
    elif case == "missing":
        del headers["X-Hub-Signature-256"]
    elif case == "sha1 only":
        import hashlib
        import hmac

        del headers["X-Hub-Signature-256"]
        headers["X-Hub-Signature"] = (
            "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
        )
    elif case == "sha1 and a bad sha256":
        headers["X-Hub-Signature"] = SHA1
        headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    elif case == "signature of another body":
        headers["X-Hub-Signature-256"] = sign(SECRET.encode(), body + b" ")
    elif case == "body with one byte more":
        sent = body + b"\n"
    elif case == "uppercase hex":
        headers["X-Hub-Signature-256"] = "sha256=" + good.removeprefix("sha256=").upper()
    elif case == "SHA256= prefix":
        headers["X-Hub-Signature-256"] = "SHA256=" + good.removeprefix("sha256=")
    elif case == "bare hex":
        headers["X-Hub-Signature-256"] = good.removeprefix("sha256=")
    elif case == "empty":
        headers["X-Hub-Signature-256"] = ""
    elif case == "sha256= only":
        headers["X-Hub-Signature-256"] = "sha256="
    count = refused_metric(live, 401)
    answer = refused(live, 401, lambda c: c.post("/webhook", content=sent, headers=headers))
    assert answer.json() == {"error": error}
    assert refused_metric(live, 401) == count + 1


# --- size ---------------------------------------------------------------------------------


def test_oversize_bodies_are_413_and_leave_no_trace(live: Live) -> None:
    limit = 25 * 1024 * 1024
    declared = refused(
        live,
        413,
        lambda c: c.post(
            "/webhook",
            content=b"x" * (limit + 1),
            headers={"X-Hub-Signature-256": sign(SECRET.encode(), b"x" * (limit + 1))},
        ),
    )
    assert declared.json() == {"error": f"body of {limit + 1} bytes is over {limit}"}
    live.quiet()
    before = dump_all(live.db)
    chunk = b"x" * (1024 * 1024)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(26)) + b"0\r\n\r\n"
    assert raw_post(live.url, "Transfer-Encoding: chunked\r\n", body).startswith(b"HTTP/1.1 413 ")
    assert raw_post(live.url, f"Content-Length: {limit + 1}\r\n", b"x").startswith(b"HTTP/1.1 413 ")
    assert dump_all(live.db) == before


# --- malformed bodies and headers, validly signed ------------------------------------------

FORM = "application/x-www-form-urlencoded"
GITHUB_TIMEOUT = 10.0


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


MALFORMED: list[tuple[str, bytes, str, str]] = [
    ("not json", b"{not json", "application/json", "malformed payload: "),
    ("empty", b"", "application/json", "malformed payload: "),
    ("array", b"[1, 2]", "application/json", "payload is not a JSON object"),
    ("null", b"null", "application/json", "payload is not a JSON object"),
    ("string", b'"push"', "application/json", "payload is not a JSON object"),
    ("not utf-8", b'{"ref": "\xff\xfe"}', "application/json", "malformed payload: "),
    ("nested 100,000 deep", _deep(100_000), "application/json", "malformed payload: "),
    ("nested objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json", ""),
    ("5,000-digit number", b'{"after": ' + b"7" * 5000 + b"}", "application/json", ""),
    (
        "lone surrogate in ref",
        b'{"ref": "refs/heads/\\ud800", "repository": {"full_name": "acme/ontology"}}',
        "application/json",
        "malformed payload: a string is not valid Unicode",
    ),
    (
        "ref of 1,025 characters",
        b'{"ref": "refs/heads/' + b"b" * 1014 + b'", "repository": {"full_name": "acme/ontology"}}',
        "application/json",
        "malformed payload: ref longer than 1024 characters",
    ),
    (
        "repository name of 2,000 characters",
        b'{"ref": "refs/heads/main", "repository": {"full_name": "' + b"a" * 2000 + b'"}}',
        "application/json",
        "malformed payload: repository.full_name longer than 1024 characters",
    ),
    ("form without payload", b"other=1", FORM, "form-encoded delivery without a payload field"),
    ("form, broken payload", b"payload=%7Bbroken", FORM, "malformed payload: "),
    ("form, payload an array", b"payload=%5B%5D", FORM, "payload is not a JSON object"),
    ("form, not utf-8", b"payload=\xff", FORM, "malformed payload: "),
    ("json sent as form", b'{"ref": "refs/heads/main"}', FORM, "form-encoded delivery without"),
]


@pytest.mark.parametrize(
    ("case", "body", "ctype", "error"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_signed_bodies_are_400_and_leave_no_trace(
    live: Live, case: str, body: bytes, ctype: str, error: str
) -> None:
    answer = refused(live, 400, lambda c: post(c, body, ctype=ctype))
    assert answer.json()["error"].startswith(error)


def test_missing_or_oversized_delivery_headers_are_400(live: Live) -> None:
    body = push_body(live)
    for drop, value, error in [
        ("X-GitHub-Delivery", None, "missing or oversized X-GitHub-Delivery"),
        ("X-GitHub-Event", None, "missing or oversized X-GitHub-Event"),
        ("X-GitHub-Event", "push" * 51, "missing or oversized X-GitHub-Event"),
        ("X-GitHub-Delivery", "d" * 201, "missing or oversized X-GitHub-Delivery"),
    ]:
        headers = headers_for(body)
        del headers[drop]
        if value is not None:
            headers[drop] = value
        answer = refused(
            live, 400, lambda c, h=headers: c.post("/webhook", content=body, headers=h)
        )
        assert answer.json() == {"error": error}


def test_other_methods_are_405(live: Live) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        refused(live, 405, lambda c, m=method: c.request(m, "/webhook"))


# --- other repositories -------------------------------------------------------------------


def test_other_repository_is_403_never_recorded_and_never_a_duplicate(live: Live) -> None:
    payload = push_payload(live.repo.head())
    evil = json.dumps(
        {**payload, "repository": {**payload["repository"], "full_name": "evil/fork"}}
    ).encode()
    count = refused_metric(live, 403)
    answer = refused(live, 403, lambda c: post(c, evil, delivery="evil-1"))
    assert answer.json() == {
        "delivery": "evil-1",
        "outcome": "refused",
        "reason": "delivery for evil/fork, not acme/ontology",
    }
    # Sent again, and under the id of a delivery the service did record: still 403.
    refused(live, 403, lambda c: post(c, evil, delivery="evil-1"))
    refused(live, 403, lambda c: post(c, evil, delivery="first"))
    assert refused_metric(live, 403) == count + 3
    # The id was never recorded, so the followed repository may still use it.
    accepted = post(live.client, push_body(live), delivery="evil-1")
    assert (accepted.status_code, accepted.json()["outcome"]) == (202, "queued")
    live.quiet()


# --- replays ------------------------------------------------------------------------------


def test_replayed_delivery_ids_are_duplicates_and_change_nothing(live: Live) -> None:
    body = push_body(live)
    first = post(live.client, body, delivery="replay-1")
    assert (first.status_code, first.json()["outcome"]) == (202, "queued")
    live.quiet()
    expected = {"delivery": "replay-1", "outcome": "duplicate"}
    same = refused(live, 200, lambda c: post(c, body, delivery="replay-1"))
    assert same.json() == expected
    other_body = push_body(live, after="f" * 40, ref="refs/heads/main")
    assert refused(live, 200, lambda c: post(c, other_body, delivery="replay-1")).json() == expected
    ping = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    as_ping = refused(live, 200, lambda c: post(c, ping, event="ping", delivery="replay-1"))
    assert as_ping.json() == expected
    form = urlencode({"payload": body.decode()}).encode()
    as_form = refused(live, 200, lambda c: post(c, form, ctype=FORM, delivery="replay-1"))
    assert as_form.json() == expected


def test_a_signed_body_under_a_new_id_is_a_new_delivery_and_one_sync(
    live: Live, tmp_path: Path
) -> None:
    live.repo.commit_files({"c.ttl": ttl("C", "B", "C")})
    body = push_body(live)
    signature = sign(SECRET.encode(), body)
    assert post(live.client, body, delivery="orig").status_code == 202
    live.quiet()
    before = dump_all(live.db)
    headers = headers_for(body, delivery="replayed-under-a-new-id")
    assert headers["X-Hub-Signature-256"] == signature
    answer = live.client.post("/webhook", content=body, headers=headers)
    assert (answer.status_code, answer.json()["outcome"]) == (202, "queued")
    live.quiet()
    after = dump_all(live.db)
    new_runs = [r for r in after["sync_runs"] if r not in before["sync_runs"]]
    assert [(r[0], r[2], r[4]) for r in new_runs] == [(answer.json()["run_id"], "push", "done")]
    new = [r[0] for r in after["deliveries"] if r not in before["deliveries"]]
    assert new == ["replayed-under-a-new-id"]
    assert_equals_fresh(live.repo, live.db, tmp_path)


def test_a_delivery_refused_for_its_signature_can_be_redelivered(live: Live) -> None:
    body = push_body(live)
    refused(live, 401, lambda c: post(c, body, delivery="redeliver-me", secret="old secret"))
    answer = post(live.client, body, delivery="redeliver-me")
    assert (answer.status_code, answer.json()["outcome"]) == (202, "queued")
    live.quiet()


# --- accepted but not synced --------------------------------------------------------------


def test_pings_other_events_tags_deletions_and_branches_are_recorded_not_synced(
    live: Live,
) -> None:
    head = live.repo.head()
    cases: list[tuple[str, bytes, int, str, str]] = [
        (
            "ping",
            json.dumps({"zen": "Design for failure.", "hook_id": 7}).encode(),
            200,
            "ping",
            "pong",
        ),
        ("issues", b'{"action": "opened"}', 202, "ignored", "event 'issues' is not handled"),
        (
            "push",
            push_body(live, ref="refs/tags/v1"),
            202,
            "ignored",
            "ref 'refs/tags/v1' is not a branch",
        ),
        (
            "push",
            push_body(live, deleted=True, after="0" * 40),
            202,
            "ignored",
            "branch main was deleted; nothing to sync",
        ),
        (
            "push",
            push_body(live, ref="refs/heads/feature"),
            202,
            "ignored",
            "push to refs/heads/feature, following refs/heads/main",
        ),
        (
            "create",
            b'{"ref": "v2", "ref_type": "tag"}',
            202,
            "ignored",
            "event 'create' is not handled",
        ),
    ]
    for n, (event, body, status, outcome, reason) in enumerate(cases):
        live.quiet()
        before = dump_all(live.db)
        delivery = f"accepted-{n}"
        answer = post(live.client, body, event=event, delivery=delivery)
        assert (answer.status_code, answer.json()) == (
            status,
            {"delivery": delivery, "outcome": outcome, "reason": reason, "run_id": None},
        )
        after = dump_all(live.db)
        added = [r for r in after["deliveries"] if r not in before["deliveries"]]
        assert [(r[0], r[1], r[3], r[4]) for r in added] == [(delivery, event, outcome, reason)]
        assert {t: rows for t, rows in after.items() if t != "deliveries"} == {
            t: rows for t, rows in before.items() if t != "deliveries"
        }
    assert live.repo.head() == head


@pytest.mark.slow
def test_huge_commit_lists_are_acknowledged_fast_and_only_a_hint(
    live: Live, tmp_path: Path
) -> None:
    live.quiet()
    live.repo.commit_files({"d.ttl": ttl("D", "C", "D")})
    commit = push_payload(live.repo.head())["commits"][0]
    commits = [
        {**commit, "id": f"{i:040x}", "added": [f"f{i}-{j}.ttl" for j in range(5)]}
        for i in range(20_000)
    ]
    payload = {**push_payload(live.repo.head()), "commits": commits}
    body = json.dumps(payload).encode()
    assert len(body) > 10 * 1024 * 1024
    started = time.monotonic()
    answer = post(live.client, body)
    elapsed = time.monotonic() - started
    assert (answer.status_code, answer.json()["outcome"]) == (202, "queued")
    # GitHub gives up on a delivery after 10 s (docs: "Handling webhook deliveries"): the bound
    # is GitHub's, not a speed figure (those are in bench/).
    assert elapsed < GITHUB_TIMEOUT, f"{len(body)} bytes acknowledged in {elapsed:.2f} s"
    form = urlencode({"payload": body.decode()}).encode()  # ~16 MB: unquoting it takes ~1.5 s
    started = time.monotonic()
    as_form = live.client.post(
        "/webhook", content=form, headers=headers_for(form, ctype=FORM), timeout=GITHUB_TIMEOUT
    )
    assert as_form.status_code == 202
    assert time.monotonic() - started < GITHUB_TIMEOUT
    live.quiet()
    # None of the 100,000 paths the payload names exists: the tree decides, not the payload.
    assert_equals_fresh(live.repo, live.db, tmp_path)


def test_content_types_other_than_form_are_read_as_json(live: Live) -> None:
    body = push_body(live)
    for ctype in ("text/plain", "", "application/json; charset=utf-8", "application/octet-stream"):
        answer = post(live.client, body, ctype=ctype)
        assert (answer.status_code, answer.json()["outcome"]) == (202, "queued")
    form = urlencode({"payload": body.decode()}).encode()
    answer = post(live.client, form, ctype="application/x-www-form-urlencoded; charset=utf-8")
    assert (answer.status_code, answer.json()["outcome"]) == (202, "queued")
    live.quiet()
    refused(live, 400, lambda c: post(c, form, ctype="multipart/form-data; boundary=x"))


# --- fuzz ---------------------------------------------------------------------------------

# Header values httpx and h11 can put on the wire: visible Latin-1, inner spaces.
HEADER_TEXT = (
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
        max_size=60,
    )
    .map(lambda s: s.strip(" \t"))
    .map(lambda s: s.encode("latin-1"))
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=2),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
PUSHLIKE = st.fixed_dictionaries(
    {
        "ref": st.sampled_from(["refs/heads/main", "refs/heads/other", "refs/tags/v1", "main", ""])
        | JSON,
        "after": st.sampled_from(["0" * 40, "a" * 40]) | JSON,
        "deleted": st.booleans() | JSON,
        "repository": st.fixed_dictionaries(
            {
                "full_name": st.sampled_from(["acme/ontology", "ACME/Ontology", "evil/fork"])
                | JSON,
                "default_branch": st.sampled_from(["main", "other"]) | JSON,
            }
        )
        | JSON,
        "commits": st.lists(st.fixed_dictionaries({"id": st.text(max_size=5)}), max_size=30),
    },
    optional={"extra": JSON},
)
BODIES = (
    st.binary(max_size=300)
    | JSON.map(lambda v: json.dumps(v).encode())
    | PUSHLIKE.map(lambda v: json.dumps(v).encode())
)
CTYPES = st.sampled_from(
    [
        "application/json",
        FORM,
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
    ]
)
SIGNATURES = st.sampled_from(["valid", "missing", "wrong", "sha1", "junk"])
EVENTS = st.sampled_from(["push", "ping", "issues", "delete"]) | HEADER_TEXT
IDS = st.sampled_from(["fuzz-1", "fuzz-2", "first", "replay-1"]) | HEADER_TEXT | st.none()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    body=BODIES,
    form=st.booleans(),
    ctype=CTYPES | HEADER_TEXT,
    signature=SIGNATURES,
    junk_signature=HEADER_TEXT,
    event=EVENTS | st.none(),
    delivery=IDS,
    extra=st.dictionaries(
        st.sampled_from(["X-Hub-Signature", "Accept", "X-GitHub-Hook-ID", "Content-Encoding"]),
        HEADER_TEXT,
        max_size=2,
    ),
)
@pytest.mark.slow
def test_fuzzed_deliveries_never_5xx_and_refusals_change_nothing(
    live: Live,
    body: bytes,
    form: bool,
    ctype: str | bytes,
    signature: str,
    junk_signature: bytes,
    event: str | bytes | None,
    delivery: str | bytes | None,
    extra: dict[str, bytes],
) -> None:
    if form:
        body = urlencode({"payload": body.decode("utf-8", "replace")}).encode()
    wire: dict[str, str | bytes | None] = {"Content-Type": ctype, **extra}
    wire["X-GitHub-Event"] = event
    wire["X-GitHub-Delivery"] = delivery
    wire["X-Hub-Signature-256"] = {
        "valid": sign(SECRET.encode(), body),
        "missing": None,
        "wrong": sign(b"not the secret", body),
        "sha1": None,
        "junk": junk_signature,
    }[signature]
    if signature == "sha1":
        wire["X-Hub-Signature"] = SHA1
    headers = {
        k.encode(): v.encode("latin-1") if isinstance(v, str) else v
        for k, v in wire.items()
        if v is not None
    }
    live.quiet()
    before = dump_all(live.db)
    answer = live.client.post("/webhook", content=body, headers=headers)
    assert answer.status_code < 500, answer.text
    if signature != "valid":
        assert answer.status_code == 401
    else:
        assert answer.status_code in (200, 202, 400, 403), answer.text
    outcome = answer.json().get("outcome")
    if answer.status_code >= 400 or outcome == "duplicate":
        assert dump_all(live.db) == before
    elif outcome == "queued":
        live.quiet()


# --- admin tokens, sessions and CSRF -------------------------------------------------------


def signed(settings: Settings, salt: str, payload: object, age: int = 0) -> str:
    """A token genuinely signed with ``settings``' key, as if ``age`` seconds ago: an
    expired token without waiting for it to expire."""

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    assert settings.secret_key is not None
    serializer = URLSafeTimedSerializer(settings.secret_key.reveal(), salt=salt, signer=Backdated)
    token: str = serializer.dumps(payload)
    return token


def bad_tokens(config: Settings) -> dict[str, str]:
    good = issue_admin_token(config, 3600)
    head, _, tail = good.partition(".")
    other = config.with_(secret_key=Secret("a key we never had"))
    return {
        "forged (another key)": issue_admin_token(other, 3600),
        "tampered payload": ("a" if head[0] != "a" else "b") + head[1:] + "." + tail,
        "tampered signature": good[:-2] + ("AA" if good[-2:] != "AA" else "BB"),
        "expired an hour ago": signed(config, TOKEN_SALT, {"sub": "admin", "exp": 3600}, 3601),
        "expired by itsdangerous's own clock": signed(
            config, TOKEN_SALT, {"sub": "admin", "exp": 60}, 10**6
        ),
        "session cookie as a token": issue_session(config),
        "signed for another subject": signed(config, TOKEN_SALT, {"sub": "user", "exp": 3600}),
        "no lifetime": signed(config, TOKEN_SALT, {"sub": "admin"}),
        "a list": signed(config, TOKEN_SALT, ["admin"]),
        "garbage": "not.a.token",
        "empty-ish": ".",
    }


def test_bad_admin_tokens_are_refused_everywhere_and_change_nothing(live: Live) -> None:
    tokens = bad_tokens(live.settings)
    assert len(set(tokens.values())) == len(tokens)
    for name, token in tokens.items():
        for send in (
            lambda c, t=token: c.post("/admin/resync", headers={"Authorization": f"Bearer {t}"}),
            lambda c, t=token: c.post(
                "/admin/resync?force=true", headers={"Authorization": f"bearer {t}"}
            ),
            lambda c, t=token: c.get("/status.json", headers={"Authorization": f"Bearer {t}"}),
            lambda c, t=token: c.get("/", params={"token": t}, follow_redirects=False),
        ):
            answer = refused(live, 401, send)
            assert "set-cookie" not in answer.headers, name
            assert answer.json()["error"] in ("invalid token", "token expired"), name
    # Tokens are bearer credentials: the valid one works again and again until it expires.
    for _ in range(3):
        assert live.client.get("/status.json", headers=live.auth).status_code == 200


def test_bad_session_cookies_and_csrf_are_refused(live: Live) -> None:
    config = live.settings
    login = live.client.get(
        "/", params={"token": issue_admin_token(config, 600)}, follow_redirects=False
    )
    cookie = login.cookies["syncer_session"]
    live.client.cookies.clear()  # each request below names its cookie
    page = live.client.get("/", headers={"Cookie": f"syncer_session={cookie}"})
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    other = signed(config, SESSION_SALT, {"sub": "admin", "exp": 43200, "csrf": "x" * 32})
    cookies = {
        "expired 13 h ago": signed(
            config, SESSION_SALT, {"sub": "admin", "exp": 43200, "csrf": csrf}, 13 * 3600
        ),
        "forged": signed(
            config.with_(secret_key=Secret("a key we never had")),
            SESSION_SALT,
            {"sub": "admin", "exp": 43200, "csrf": csrf},
        ),
        "admin token as a cookie": issue_admin_token(config, 600),
        "garbage": "garbage",
    }
    for name, value in cookies.items():
        jar = {"Cookie": f"syncer_session={value}"}
        assert refused(live, 401, lambda c, h=jar: c.get("/status.json", headers=h)).json() == {
            "error": "admin token or session required"
        }, name
        login_page = refused(live, 401, lambda c, h=jar: c.get("/", headers=h))
        assert "Resync now" not in login_page.text
        refused(live, 401, lambda c, h=jar: c.post("/admin/resync", data={"csrf": csrf}, headers=h))
    jar = {"Cookie": f"syncer_session={cookie}"}
    for name, send in {
        "no csrf": lambda c: c.post("/admin/resync", data={"force": "true"}, headers=jar),
        "csrf of another session": lambda c: c.post(
            "/admin/resync", data={"csrf": "x" * 32}, headers=jar
        ),
        "this csrf with another session": lambda c: c.post(
            "/admin/resync",
            data={"csrf": csrf},
            headers={"Cookie": f"syncer_session={other}"},
        ),
        "csrf in the query string": lambda c: c.post(
            "/admin/resync", params={"csrf": csrf}, headers=jar
        ),
        "csrf with non-ASCII characters": lambda c: c.post(
            "/admin/resync",
            content=urlencode({"csrf": "é" + csrf[1:]}).encode(),
            headers={**jar, "Content-Type": FORM},
        ),
        "csrf header in Latin-1": lambda c: c.post(
            "/admin/resync",
            headers={
                b"Cookie": jar["Cookie"].encode(),
                b"X-CSRF-Token": b"\xe9" + csrf[1:].encode(),
            },
        ),
        "csrf as a JSON number": lambda c: c.post(
            "/admin/resync",
            content=b'{"csrf": 1}',
            headers={**jar, "Content-Type": "application/json"},
        ),
    }.items():
        assert refused(live, 401, send).json() == {"error": "missing or invalid CSRF token"}, name
    # The session's own token, in the form or the header, is accepted.
    ok = live.client.post("/admin/resync", headers={**jar, "X-CSRF-Token": csrf})
    assert ok.status_code == 202
    live.quiet()


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"[1, 2]", "application/json"),
        (b"null", "application/json"),
        (b"{bad", "application/json"),
        (b"[" * 30_000 + b"]" * 30_000, "application/json"),
        (b"x" * (64 * 1024 + 1), "application/json"),
    ],
)
def test_admin_bodies_that_are_not_objects_are_4xx(live: Live, body: bytes, ctype: str) -> None:
    status = 413 if len(body) > 64 * 1024 else 400
    for headers in ({}, live.auth):
        refused(
            live,
            status,
            lambda c, h=headers: c.post(
                "/admin/resync", content=body, headers={**h, "Content-Type": ctype}
            ),
        )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token=HEADER_TEXT, cookie=HEADER_TEXT, csrf=HEADER_TEXT, body=st.binary(max_size=200))
@pytest.mark.slow
def test_fuzzed_admin_credentials_are_401(
    live: Live, token: bytes, cookie: bytes, csrf: bytes, body: bytes
) -> None:
    live.quiet()
    before = dump_all(live.db)
    sends: list[Callable[[], httpx.Response]] = [
        lambda: live.client.post(
            "/admin/resync",
            content=body,
            headers={b"Authorization": (b"Bearer " + token).strip(), b"X-CSRF-Token": csrf},
        ),
        lambda: live.client.post(
            "/admin/resync",
            content=b"csrf=" + csrf,
            headers={b"Cookie": b"syncer_session=" + cookie, b"Content-Type": FORM.encode()},
        ),
        lambda: live.client.get("/status.json", headers={b"Cookie": b"syncer_session=" + cookie}),
        lambda: live.client.get("/", params={"token": token.decode("latin-1")}),
    ]
    for send in sends:
        answer = send()
        assert answer.status_code == 401, answer.text
    assert dump_all(live.db) == before


# --- clients that go away -------------------------------------------------------------------


class Records(logging.Handler):
    """Every record at WARNING or above, and an event when ``wanted`` is logged."""

    def __init__(self, wanted: str) -> None:
        super().__init__(logging.DEBUG)
        self.wanted, self.seen, self.bad = wanted, threading.Event(), []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(self.wanted):
            self.seen.set()
        if record.levelno >= logging.WARNING:
            self.bad.append(f"{record.name}: {record.getMessage()}")


def test_a_client_closing_mid_body_is_logged_once_without_a_traceback(live: Live) -> None:
    live.quiet()
    before = dump_all(live.db)
    records = Records("webhook body cut off")
    root = logging.getLogger()
    root.addHandler(records)
    try:
        host, port = live.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as conn:
            conn.sendall(
                f"POST /webhook HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1000\r\n"
                'Content-Type: application/json\r\n\r\n{"ref": '.encode()
            )
        assert records.seen.wait(10), "the server never noticed the client leaving"
        # The same connection's end is logged before any later request is answered.
        assert live.client.get("/healthz").status_code == 200
    finally:
        root.removeHandler(records)
    assert records.bad == []
    assert dump_all(live.db) == before
