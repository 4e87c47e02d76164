"""A run's live figures (:class:`Progress`), frozen views of them, a run's result, and the
observer told of each run and each parsed file (the /metrics histograms)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

# The throughput chart: one sample a second at most, the last 120 of them.
SAMPLE_SECONDS = 1.0
SAMPLES = 120


@dataclass
class Progress:
    """Live figures of the current run, for the progress bar and the status page."""

    run_id: int = 0
    kind: str = "sync"
    commit: str | None = None
    planned: int = 0
    processed: int = 0
    failed: int = 0
    deleted: int = 0
    busy_workers: int = 0
    started: float = field(default_factory=time.monotonic)
    phase: str = "starting"
    # (epoch seconds, files done) at most every SAMPLE_SECONDS while files are committed:
    # the status page's throughput chart, filled by the run itself, whoever watches.
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=SAMPLES))

    @property
    def done(self) -> int:
        return self.processed + self.deleted

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def eta_seconds(self) -> float | None:
        rate = self.rate()
        if rate <= 0:
            return None
        return max(0.0, (self.planned - self.done) / rate)

    def sample(self, now: float | None = None) -> None:
        """Note (now, done) for the chart, unless the last sample is under SAMPLE_SECONDS old."""
        now = time.time() if now is None else now
        if not self.samples or now - self.samples[-1][0] >= SAMPLE_SECONDS or self.finished:
            self.samples.append((now, self.done))

    @property
    def finished(self) -> bool:
        return self.phase in ("done", "interrupted", "failed")

    def view(self) -> RunView:
        rate = self.rate()
        eta = self.eta_seconds()
        return RunView(
            run_id=self.run_id,
            kind=self.kind,
            phase=self.phase,
            commit=self.commit,
            planned=self.planned,
            done=self.done,
            failed=self.failed,
            busy_workers=self.busy_workers,
            files_per_second=round(rate, 2),
            eta_seconds=None if eta is None else round(eta, 1),
            throughput=tuple(self.samples),
        )


@dataclass(frozen=True)
class RunView:
    """A run's figures at one moment, frozen: what the status page and metrics read."""

    run_id: int
    kind: str
    phase: str
    commit: str | None
    planned: int
    done: int
    failed: int
    busy_workers: int
    files_per_second: float
    eta_seconds: float | None
    throughput: tuple[tuple[float, int], ...]


@dataclass(frozen=True)
class RunResult:
    run_id: int
    status: str  # done, interrupted, failed
    commit: str | None
    planned: int
    processed: int
    failed: int
    deleted: int
    unchanged: int
    requests: int
    seconds: float
    error: str | None = None
    failures: tuple[tuple[str, str], ...] = ()  # (path, error) of files that failed


class RunObserver(Protocol):
    """Told of what happens as it happens, for distributions that a snapshot cannot give
    (web/metrics.py feeds its histograms from it). Calls must be cheap and thread-safe."""

    def run_ended(self, kind: str, status: str, seconds: float) -> None: ...

    def file_parsed(self, seconds: float) -> None: ...


class NoObserver:
    def run_ended(self, kind: str, status: str, seconds: float) -> None:
        return None

    def file_parsed(self, seconds: float) -> None:
        return None
