"""The one-line answer to "is the database in step with the branch head, and if not, why",
shown at the top of the status page and by ``syncer status`` (a pure decision)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Levels, best to worst: what an operator does about each is in docs/operations.md.
IN_STEP, SYNCING, UNKNOWN, BEHIND, FAILING = "in step", "syncing", "unknown", "behind", "failing"


@dataclass(frozen=True)
class Verdict:
    level: str
    text: str


def ago(seconds: float) -> str:
    """A duration as people say it: "40 s", "12 min", "3 h 5 min", "2 days"."""
    s = max(0, int(seconds))
    if s < 90:
        return f"{s} s"
    if s < 90 * 60:
        return f"{round(s / 60)} min"
    if s < 48 * 3600:
        hours, minutes = divmod(round(s / 60), 60)
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{round(s / 86400)} days"


def _since(stamp: str | None, now: datetime) -> str:
    if stamp is None:
        return "?"
    return ago((now - datetime.fromisoformat(stamp)).total_seconds())


def judge(
    *,
    synced_commit: str | None,
    head_commit: str | None,
    head_checked_at: str | None,
    behind_since: str | None,
    running: bool,
    problem: str | None,
    failed_files: int,
    now: datetime,
) -> Verdict:
    """``problem`` is why the service cannot write (a storage fault, a fatal last run);
    the head is the one last seen by a run or a poll (None: never checked)."""
    failed = (
        f"; {failed_files} file{'s' if failed_files != 1 else ''} failed" if failed_files else ""
    )
    if problem is not None:
        return Verdict(FAILING, f"failing: {problem}")
    if running:
        target = f" to {head_commit[:12]}" if head_commit else ""
        late = f", behind for {_since(behind_since, now)}" if behind_since else ""
        return Verdict(SYNCING, f"syncing{target}{late}")
    if synced_commit is None:
        return Verdict(UNKNOWN, "never synced")
    if head_commit is None:
        return Verdict(UNKNOWN, f"synced at {synced_commit[:12]}; the branch head is not known yet")
    if head_commit == synced_commit:
        checked = _since(head_checked_at, now)
        return Verdict(
            IN_STEP,
            f"in step with the branch head {head_commit[:12]} (checked {checked} ago){failed}",
        )
    return Verdict(
        BEHIND,
        f"behind the branch head {head_commit[:12]} for {_since(behind_since, now)}"
        f" (database at {synced_commit[:12]}){failed}",
    )


def judge_status(
    data: Mapping[str, Any], *, running: bool, problem: str | None, now: datetime
) -> Verdict:
    """:func:`judge` over the figures ``storage.views.collect`` returns (the page's and
    ``syncer status``'s data), so both say the same thing the same way."""
    return judge(
        synced_commit=data["synced_commit"],
        head_commit=data["head_commit"],
        head_checked_at=data["head_checked_at"],
        behind_since=data["behind_since"],
        running=running,
        problem=problem,
        failed_files=int(data["files_by_status"]["failed"]),
        now=now,
    )
