"""Injected time for the GitHub client and the coordinator: a clock that moves only when
something sleeps, and jitter pinned to the middle so every backoff is an exact figure."""

from __future__ import annotations

import random
from typing import Any

from syncer.sources.base import SourceStats
from syncer.sources.github_api import ClientOptions

T0 = 1_700_000_000.0


class FakeTime:
    """The injected clock and sleep: sleeping moves the clock, nothing really waits."""

    def __init__(self) -> None:
        self.now = T0
        self.sleeps: list[float] = []
        self.limited_until: list[float | None] = []  # stats.rate_limited_until while asleep
        self.stats: SourceStats | None = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.limited_until.append(self.stats.rate_limited_until if self.stats else None)
        self.now += seconds


class HalfRandom(random.Random):
    """Jitter pinned to the middle: each backoff is 0.75 x its exponential step."""

    def random(self) -> float:
        return 0.5


SOURCE_KEYWORDS = ("tarball_min_files", "tarball_bytes_per_request")


def split_source_options(kwargs: dict[str, Any]) -> tuple[ClientOptions, dict[str, Any]]:
    """GitHubSource's own keywords apart from the client's (ClientOptions)."""
    own = {k: kwargs.pop(k) for k in SOURCE_KEYWORDS if k in kwargs}
    return ClientOptions(**kwargs), own
