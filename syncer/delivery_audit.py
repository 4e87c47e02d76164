"""Which webhook deliveries GitHub sent that the service never took (issue 15, item 2).

GitHub keeps a log of a hook's recent deliveries (``GET /repos/{owner}/{repo}/hooks/
{hook_id}/deliveries``: https://docs.github.com/en/rest/repos/webhooks#list-deliveries-
for-a-repository-webhook); reading it needs admin rights on the repository's hooks, so
the audit runs only when SYNCER_GITHUB_HOOK_ID is set. A delivery is *lost* when GitHub
says it failed (a status code of 400 or more, or none: the connection failed) or when the
service has no record of its ``guid`` (the ``X-GitHub-Delivery`` id) although GitHub
says it was answered. Nothing needs redelivering for correctness (a run plans from the
branch head, and the head poll catches the missed push), but the status page shows the
lost ones and why, so an operator can fix a proxy, a secret or a firewall. Pure.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LostDelivery:
    guid: str
    delivered_at: str
    event: str
    status_code: int
    why: str


def lost_deliveries(
    listed: Iterable[Mapping[str, Any]], recorded: Collection[str]
) -> list[LostDelivery]:
    """The deliveries of GitHub's log the service did not take, newest first as listed.
    A failed one that a later redelivery (same guid) made good is not lost."""
    rows = [row for row in listed if isinstance(row.get("guid"), str)]
    delivered = {r["guid"] for r in rows if 200 <= (_code(r) or 0) < 400}
    lost = []
    for row in rows:
        guid, code = row["guid"], _code(row)
        status = str(row.get("status") or "")
        if code is None or code == 0:
            if guid in delivered or guid in recorded:
                continue
            why = f"never reached the service ({status or 'no answer'})"
        elif code >= 400:
            if guid in delivered or guid in recorded:
                continue
            why = f"answered {code} ({status})" if status else f"answered {code}"
        elif guid not in recorded:
            why = f"GitHub says it was answered {code}, but the service has no record of it"
        else:
            continue
        lost.append(
            LostDelivery(
                guid=guid,
                delivered_at=str(row.get("delivered_at") or ""),
                event=str(row.get("event") or ""),
                status_code=code or 0,
                why=why,
            )
        )
    return lost


def _code(row: Mapping[str, Any]) -> int | None:
    value = row.get("status_code")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
