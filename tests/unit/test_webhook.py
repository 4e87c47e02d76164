"""Signature checks, parsing and decisions over recorded GitHub samples (pure, no HTTP)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from syncer.errors import BadRequest, Unauthorized
from syncer.webhook import Delivery, decide, parse_delivery, sign, verify_signature
from tests.support.paths import SAMPLES

SECRET = b"It's a Secret to Everybody"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def headers(event: str, delivery: str = "d-1", ctype: str = "application/json") -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "Content-Type": ctype,
        "User-Agent": "GitHub-Hookshot/044aadd",
    }


def push(**changes: object) -> Delivery:
    base = parse_delivery(headers("push"), sample("push.json"))
    return Delivery(**{**base.__dict__, **changes})


def test_signature_matches_githubs_documented_example() -> None:
    # The worked example of the GitHub docs (validating-webhook-deliveries).
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(SECRET, b"Hello, World!") == expected
    verify_signature(SECRET, b"Hello, World!", expected)


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha1=757107ea0eb2509fc211221cce984b8a37570b6d",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",
        "sha256=",
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    ],
)
def test_bad_or_missing_signature_is_unauthorized(signature: str | None) -> None:
    with pytest.raises(Unauthorized):
        verify_signature(SECRET, b"Hello, World!", signature)


def test_signature_covers_the_raw_bytes() -> None:
    body = sample("push.json")
    good = sign(SECRET, body)
    verify_signature(SECRET, body, good)
    reformatted = json.dumps(json.loads(body)).encode()
    with pytest.raises(Unauthorized):
        verify_signature(SECRET, reformatted, good)
    with pytest.raises(Unauthorized):
        verify_signature(b"another secret", body, good)


def test_parse_push() -> None:
    d = parse_delivery(headers("push", "72d3162e-cc78-11e3-81ab-4c9367dc0958"), sample("push.json"))
    assert d == Delivery(
        id="72d3162e-cc78-11e3-81ab-4c9367dc0958",
        event="push",
        repository="acme/ontology",
        default_branch="main",
        ref="refs/heads/main",
        after="0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
        deleted=False,
    )


def test_parse_form_encoded_payload() -> None:
    body = urlencode({"payload": sample("push.json").decode()}).encode()
    d = parse_delivery(headers("push", ctype="application/x-www-form-urlencoded"), body)
    assert d.ref == "refs/heads/main" and d.repository == "acme/ontology"


def test_header_names_are_case_insensitive() -> None:
    lower = {k.lower(): v for k, v in headers("ping").items()}
    assert parse_delivery(lower, sample("ping.json")).event == "ping"


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"other=1", "application/x-www-form-urlencoded"),
        (b"payload=%7Bbroken", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_payload_is_bad_request(body: bytes, ctype: str) -> None:
    with pytest.raises(BadRequest):
        parse_delivery(headers("push", ctype=ctype), body)


def test_missing_delivery_headers_are_bad_request() -> None:
    with pytest.raises(BadRequest, match="X-GitHub-Delivery"):
        parse_delivery({"X-GitHub-Event": "push"}, sample("push.json"))
    with pytest.raises(BadRequest, match="X-GitHub-Event"):
        parse_delivery({"X-GitHub-Delivery": "x"}, sample("push.json"))


def test_push_to_followed_branch_is_queued() -> None:
    decision = decide(push(), repo="acme/ontology", branch=None)
    assert (decision.outcome, decision.status_code, decision.enqueue) == ("queued", 202, True)
    assert decide(push(), repo="ACME/Ontology", branch="main").enqueue


def test_ping_answers_200() -> None:
    ping = parse_delivery(headers("ping"), sample("ping.json"))
    assert decide(ping, repo="acme/ontology", branch=None).status_code == 200
    assert decide(ping, repo=None, branch=None).outcome == "ping"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"ref": "refs/heads/feature"}, "push to refs/heads/feature, following refs/heads/main"),
        ({"ref": "refs/tags/v1.0"}, "ref 'refs/tags/v1.0' is not a branch"),
        ({"deleted": True}, "branch main was deleted; nothing to sync"),
        ({"event": "issues"}, "event 'issues' is not handled"),
    ],
)
def test_ignored_with_reason(changes: dict[str, object], reason: str) -> None:
    decision = decide(push(**changes), repo="acme/ontology", branch=None)
    assert (decision.outcome, decision.status_code, decision.reason) == ("ignored", 202, reason)


def test_configured_branch_wins_over_default_branch() -> None:
    assert not decide(push(), repo=None, branch="release").enqueue
    assert decide(push(ref="refs/heads/release"), repo=None, branch="release").enqueue


def test_other_repository_is_refused() -> None:
    decision = decide(push(repository="evil/fork"), repo="acme/ontology", branch=None)
    assert (decision.outcome, decision.status_code) == ("refused", 403)
    assert decision.reason == "delivery for evil/fork, not acme/ontology"


def test_payload_strings_up_to_1024_characters_are_kept_longer_ones_refused() -> None:
    data = json.loads(sample("push.json"))
    data["ref"] = "refs/heads/" + "b" * 1013
    assert parse_delivery(headers("push"), json.dumps(data).encode()).ref == data["ref"]
    data["ref"] += "b"
    with pytest.raises(BadRequest) as caught:
        parse_delivery(headers("push"), json.dumps(data).encode())
    assert str(caught.value) == "malformed payload: ref longer than 1024 characters"
