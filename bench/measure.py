"""Small measuring tools: medians and percentiles, peak memory of a process tree, the fake
GitHub's request log split by host, and free loopback ports."""

from __future__ import annotations

import math
import os
import socket
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from syncer_dev.fake_github import FakeGitHubState

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else math.nan


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p50, p99, ...) of ``values``."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return float(ordered[rank - 1])


def ratio(ours: float, theirs: float) -> float:
    """``theirs / ours`` for times (how many times faster we are); nan when undefined."""
    if not ours or math.isnan(ours) or math.isnan(theirs):
        return math.nan
    return theirs / ours


@dataclass(frozen=True)
class RequestCount:
    api: int  # requests to the API routes (/repos/...)
    codeload: int  # archive downloads (the codeload host on github.com)

    @property
    def total(self) -> int:
        return self.api + self.codeload


def count_requests(state: FakeGitHubState, since: int = 0) -> RequestCount:
    """Requests the fake answered after the first ``since`` of its log."""
    paths = state.paths()[since:]
    codeload = sum(1 for p in paths if p.startswith("/_codeload/"))
    return RequestCount(api=len(paths) - codeload, codeload=codeload)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces: the ppid is after its ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants now, in KiB (Linux /proc)."""
    children = _children_map()
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            resident = int(Path(f"/proc/{current}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += resident * PAGE_KB
    return total


class TreeRssSampler:
    """Samples :func:`tree_rss_kb` of a process every ``interval`` seconds in a thread and
    keeps the peak: the sum over the process and its parse workers (shared pages counted
    in each, as ``ps`` does)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if os.path.isdir("/proc"):
                self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.started
