"""The one-line verdict of the status page and ``syncer status``, and the alert figure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncer.storage.runs import SyncState
from syncer.verdict import ago, judge
from syncer.web.metrics import behind_seconds

NOW = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
A, B = "a" * 40, "b" * 40


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "0 s"),
        (89, "89 s"),
        (90, "2 min"),
        (3599, "60 min"),
        (5400, "1 h 30 min"),
        (7200, "2 h"),
        (47 * 3600, "47 h"),
        (3 * 86400, "3 days"),
        (-5, "0 s"),
    ],
)
def test_ago_says_durations_as_people_do(seconds: float, said: str) -> None:
    assert ago(seconds) == said


def verdict(**given: object) -> tuple[str, str]:
    args: dict[str, object] = {
        "synced_commit": A,
        "head_commit": A,
        "head_checked_at": "2026-12-03T11:58:00+00:00",
        "behind_since": None,
        "running": False,
        "problem": None,
        "failed_files": 0,
        "now": NOW,
        **given,
    }
    found = judge(**args)  # type: ignore[arg-type]
    return found.level, found.text


def test_every_level_of_the_verdict() -> None:
    assert verdict() == ("in step", f"in step with the branch head {A[:12]} (checked 2 min ago)")
    assert verdict(failed_files=2) == (
        "in step",
        f"in step with the branch head {A[:12]} (checked 2 min ago); 2 files failed",
    )
    assert verdict(head_commit=B, behind_since="2026-12-03T11:00:00+00:00", failed_files=1) == (
        "behind",
        f"behind the branch head {B[:12]} for 60 min (database at {A[:12]}); 1 file failed",
    )
    assert verdict(head_commit=B, behind_since="2026-12-03T11:59:30+00:00", running=True) == (
        "syncing",
        f"syncing to {B[:12]}, behind for 30 s",
    )
    assert verdict(synced_commit=None, head_commit=None) == ("unknown", "never synced")
    assert verdict(head_commit=None) == (
        "unknown",
        f"synced at {A[:12]}; the branch head is not known yet",
    )
    # A storage fault outranks everything, a run included.
    assert verdict(problem="database is read-only", running=True) == (
        "failing",
        "failing: database is read-only",
    )


def test_behind_seconds_is_zero_in_step_the_lag_when_behind_and_absent_when_unknown() -> None:
    def state(synced: str | None, head: str | None, since: str | None) -> SyncState:
        return SyncState(synced, "2026-12-03T10:00:00+00:00", head, None, since)

    assert behind_seconds(state(A, A, None), NOW) == 0.0
    assert behind_seconds(state(A, B, "2026-12-03T11:59:00+00:00"), NOW) == 60.0
    assert behind_seconds(state(None, B, "2026-12-03T11:00:00+00:00"), NOW) == 3600.0
    assert behind_seconds(state(A, None, None), NOW) is None
