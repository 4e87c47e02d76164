"""When to try again: the wait before retrying an interrupted run (a pure decision).

An interrupted run (GitHub down, network) is retried after 5 s, doubling while runs keep
being interrupted, up to 5 minutes, plus up to half again as jitter so that restarts do not
retry in step. A rate-limit reset the source knows of wins: GitHub asks for no request
before it (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).
A storage fault (read-only file, full disk) is retried at least every 30 s: the retry is a
cheap probe, and the operator who frees the disk expects the service back at once, not
after a 5-minute backoff grown while the disk was full.
"""

from __future__ import annotations

RETRY_BASE, RETRY_CAP = 5.0, 300.0
STORAGE_RETRY_CAP = 30.0
# A reset further away than this is nonsense (GitHub's windows are an hour): capped.
RATE_LIMIT_CAP = 3600.0


def retry_delay(
    interruptions: int,
    *,
    jitter: float,
    storage: bool = False,
    rate_limit_wait: float | None = None,
) -> float:
    """Seconds before retrying after the ``interruptions``-th interrupted run in a row.

    ``jitter`` is a draw from [0, 1); ``rate_limit_wait`` the seconds until the source's
    rate limit resets, when it is limited. A rate limit is waited out instead of the backoff,
    except after a storage fault, which GitHub has nothing to do with.
    """
    if rate_limit_wait is not None and not storage:
        return max(1.0, min(RATE_LIMIT_CAP, rate_limit_wait))
    step = RETRY_BASE * 2.0 ** min(max(interruptions - 1, 0), 16)
    cap = STORAGE_RETRY_CAP if storage else RETRY_CAP
    return min(cap, step * (1.0 + jitter / 2))


# A failing head poll backs off to at most this (or the interval, if longer): a GitHub
# outage is not hammered every 2 minutes, and the poll is back within half an hour after it.
POLL_BACKOFF_CAP = 1800.0


def poll_delay(
    interval: float, failures: int, *, jitter: float, rate_limit_wait: float | None = None
) -> float:
    """Seconds to the next head poll: the interval, doubled for each failure in a row (up to
    POLL_BACKOFF_CAP, with up to half again as jitter), and never before a rate-limit reset."""
    if failures <= 0:
        delay = interval
    else:
        cap = max(interval, POLL_BACKOFF_CAP)
        delay = min(cap, interval * 2.0 ** min(failures, 16)) * (1.0 + jitter / 2)
    if rate_limit_wait is not None:
        delay = max(delay, min(RATE_LIMIT_CAP, rate_limit_wait))
    return delay
