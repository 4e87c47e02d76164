"""GitHub webhook deliveries, sans I/O: verify the signature, parse, decide.

Everything here is a pure function over bytes and header mappings, so the HTTP layer
(``app.py``) only reads the body and stores what these functions return.

- Signature: GitHub signs the raw body with HMAC-SHA256 and the webhook secret and sends
  ``X-Hub-Signature-256: sha256=<hex>``; compare with a constant-time function, over the
  bytes exactly as received, before parsing anything
  (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
  The legacy SHA-1 ``X-Hub-Signature`` alone is never accepted.
- Headers: ``X-GitHub-Event``, ``X-GitHub-Delivery`` (a GUID, the same on redelivery)
  (https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers).
- Push payload: ``ref``, ``after``, ``deleted``, ``repository.full_name`` and
  ``repository.default_branch``
  (https://docs.github.com/en/webhooks/webhook-events-and-payloads#push).
  The payload's file lists are never used: the engine diffs trees by blob SHA itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from syncer.errors import BadRequest, Unauthorized

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB

SIGNATURE_HEADER = "x-hub-signature-256"
EVENT_HEADER = "x-github-event"
DELIVERY_HEADER = "x-github-delivery"

# Outcomes recorded per delivery (and counted in /metrics).
QUEUED = "queued"
PING = "ping"
IGNORED = "ignored"
REFUSED = "refused"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Delivery:
    """A delivery whose signature has been checked and whose body has been parsed."""

    id: str
    event: str
    repository: str | None
    default_branch: str | None
    ref: str | None
    after: str | None
    deleted: bool


@dataclass(frozen=True)
class Decision:
    """What to do with a delivery: its outcome, the HTTP status and a reason for humans."""

    outcome: str
    status_code: int
    reason: str

    @property
    def enqueue(self) -> bool:
        return self.outcome == QUEUED


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Starlette's Headers are case-insensitive; a plain dict from a test may not be.
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, signature: str | None) -> None:
    """Raise :class:`Unauthorized` unless ``signature`` is GitHub's HMAC-SHA256 of ``body``."""
    if not signature:
        raise Unauthorized("missing X-Hub-Signature-256")
    if not signature.startswith("sha256="):
        raise Unauthorized("X-Hub-Signature-256 is not sha256=<hex>")
    expected = sign(secret, body)
    # compare_digest: the time taken must not reveal how much of the signature matched.
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8")):
        raise Unauthorized("signature does not match")


def _payload_object(body: bytes, content_type: str) -> dict[str, Any]:
    """The JSON object of the body; form-encoded deliveries carry it in ``payload=``."""
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        if media == "application/x-www-form-urlencoded":
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            if "payload" not in fields:
                raise BadRequest("form-encoded delivery without a payload field")
            text = fields["payload"][0]
        else:
            text = body.decode("utf-8")
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        # ValueError: not UTF-8, not JSON, or an integer over Python's 4,300 digits;
        # RecursionError: arrays or objects nested too deep for the decoder.
        raise BadRequest(f"malformed payload: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest("payload is not a JSON object")
    return data


# Longer than any ref, SHA or owner/name GitHub sends (a repository name is at most 100
# characters, an owner 39; git refs are path names, which file systems cap per component
# at 255 bytes): a longer one is refused rather than recorded in `deliveries`.
MAX_FIELD = 1024


def _str(value: object, name: str) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    if len(value) > MAX_FIELD:
        raise BadRequest(f"malformed payload: {name} longer than {MAX_FIELD} characters")
    try:
        value.encode("utf-8")  # JSON may carry lone surrogates ("\\ud800"); SQLite cannot
    except UnicodeEncodeError as exc:
        raise BadRequest("malformed payload: a string is not valid Unicode") from exc
    return value


def parse_delivery(headers: Mapping[str, str], body: bytes) -> Delivery:
    """Parse a delivery whose signature was verified; :class:`BadRequest` when malformed."""
    delivery_id = _header(headers, DELIVERY_HEADER)
    event = _header(headers, EVENT_HEADER)
    if not delivery_id or len(delivery_id) > 200:
        raise BadRequest("missing or oversized X-GitHub-Delivery")
    if not event or len(event) > 200:
        raise BadRequest("missing or oversized X-GitHub-Event")
    data = _payload_object(body, _header(headers, "content-type") or "application/json")
    repository = data.get("repository")
    repo: dict[str, Any] = repository if isinstance(repository, dict) else {}
    return Delivery(
        id=delivery_id,
        event=event,
        repository=_str(repo.get("full_name"), "repository.full_name"),
        default_branch=_str(repo.get("default_branch"), "repository.default_branch"),
        ref=_str(data.get("ref"), "ref"),
        after=_str(data.get("after"), "after"),
        deleted=data.get("deleted") is True,
    )


def decide(delivery: Delivery, *, repo: str | None, branch: str | None) -> Decision:
    """Which deliveries start a sync. ``repo``/``branch`` are SYNCER_REPO/SYNCER_BRANCH.

    A delivery from another repository is refused with 403: the secret is shared with
    it by mistake, and GitHub's delivery log should show a failure, not a success.
    """
    if (
        repo is not None
        and delivery.repository is not None
        and delivery.repository.lower() != repo.lower()
    ):
        return Decision(REFUSED, 403, f"delivery for {delivery.repository}, not {repo}")
    if delivery.event == "ping":
        return Decision(PING, 200, "pong")
    if delivery.event != "push":
        return Decision(IGNORED, 202, f"event {delivery.event!r} is not handled")
    followed = branch or delivery.default_branch
    if followed is None:
        return Decision(IGNORED, 202, "no branch configured and no default_branch in payload")
    if delivery.ref is None or not delivery.ref.startswith("refs/heads/"):
        return Decision(IGNORED, 202, f"ref {delivery.ref!r} is not a branch")
    if delivery.ref != f"refs/heads/{followed}":
        return Decision(IGNORED, 202, f"push to {delivery.ref}, following refs/heads/{followed}")
    if delivery.deleted:
        return Decision(IGNORED, 202, f"branch {followed} was deleted; nothing to sync")
    return Decision(QUEUED, 202, f"sync of {followed} queued")


def route(
    delivery: Delivery, followed: Sequence[tuple[str | None, str | None]]
) -> tuple[int | None, Decision]:
    """Which of the ``followed`` (repository, branch) pairs a delivery is for, and what it
    asks. One followed repository decides as :func:`decide` always has (another repository
    is refused with 403). With several (issue 15), a repository not followed is ignored
    with 202 and the reason, and counted: one hook may serve an organisation's repositories,
    only some of which are followed; a push goes to the pair whose branch it names."""
    if len(followed) == 1:
        repo, branch = followed[0]
        return 0, decide(delivery, repo=repo, branch=branch)
    named = (delivery.repository or "").lower()
    matches = [i for i, (repo, _) in enumerate(followed) if repo and repo.lower() == named]
    if not matches:
        shown = delivery.repository or "(no repository named)"
        return None, Decision(IGNORED, 202, f"repository {shown} is not followed here")
    decisions = [(i, decide(delivery, repo=followed[i][0], branch=followed[i][1])) for i in matches]
    return next((d for d in decisions if d[1].enqueue), decisions[0])
