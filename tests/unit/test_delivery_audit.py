"""Which deliveries of GitHub's log the service never took (issue 15, item 2)."""

from __future__ import annotations

from syncer.delivery_audit import LostDelivery, lost_deliveries


def row(
    guid: str, code: int | None, status: str = "OK", redelivery: bool = False
) -> dict[str, object]:
    return {
        "id": hash(guid) & 0xFFFF,
        "guid": guid,
        "delivered_at": "2026-12-03T10:00:00Z",
        "redelivery": redelivery,
        "status": status,
        "status_code": code,
        "event": "push",
    }


def test_failed_unanswered_and_unrecorded_deliveries_are_lost_and_say_why() -> None:
    listed = [
        row("ok-recorded", 202, "Accepted"),
        row("bad-gateway", 502, "Bad Gateway"),
        row("timeout", 0, "timed out"),
        row("ok-unrecorded", 202, "Accepted"),
        row("made-good", 200, "OK", redelivery=True),
        row("made-good", 503, "Service Unavailable"),  # failed first, then redelivered
        row("refused-then-recorded", 401, "Unauthorized"),
        {"guid": None, "status_code": 500},  # no guid: not a delivery to reason about
    ]
    recorded = {"ok-recorded", "made-good", "refused-then-recorded"}
    assert lost_deliveries(listed, recorded) == [
        LostDelivery(
            "bad-gateway", "2026-12-03T10:00:00Z", "push", 502, "answered 502 (Bad Gateway)"
        ),
        LostDelivery(
            "timeout", "2026-12-03T10:00:00Z", "push", 0, "never reached the service (timed out)"
        ),
        LostDelivery(
            "ok-unrecorded",
            "2026-12-03T10:00:00Z",
            "push",
            202,
            "GitHub says it was answered 202, but the service has no record of it",
        ),
    ]
    assert lost_deliveries([], set()) == []
