"""The crash tests' kill points and how long each restart took to resume.

Each crash test module records its kills in a :class:`Recorder`; when the module ends
they are merged into ``test-artifacts/crash-report.json`` (one section per module, so
running one module keeps the other's last figures) and a summary is printed.
"""

from __future__ import annotations

import contextlib
import json
import statistics
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.paths import ARTIFACTS

REPORT = ARTIFACTS / "crash-report.json"


@dataclass(frozen=True)
class Kill:
    seed: int
    phase: str  # full, incremental, push, reconcile, resync, forced resync
    kill_point: int  # the seeded number of committed files the kill waited for
    planned: int  # files the cut-off run had to write or delete
    written: int  # files committed when the process died (counted afterwards)
    resume_seconds: float  # restart until the database is at the head and idle


class Recorder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.kills: list[Kill] = []

    def add(self, kill: Kill) -> None:
        self.kills.append(kill)

    def flush(self) -> list[str]:
        """Merge this module's kills into the report; the summary lines to print."""
        report: dict[str, Any] = {"sources": {}}
        if REPORT.exists():
            with contextlib.suppress(ValueError):
                report = json.loads(REPORT.read_text(encoding="utf-8"))
        sources: dict[str, Any] = report.setdefault("sources", {})
        sources[self.source] = {
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "kills": [asdict(k) for k in self.kills],
        }
        every = [k for s in sources.values() for k in s["kills"]]
        summary = summarise(every)
        report["summary"] = summary
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        mine = summarise([asdict(k) for k in self.kills])
        return [
            f"crash report ({REPORT.name}): {self.source}: {describe(mine)}",
            f"crash report, all modules: {describe(summary)}",
        ]


def summarise(kills: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [float(k["resume_seconds"]) for k in kills]
    phases: dict[str, int] = {}
    for k in kills:
        phases[k["phase"]] = phases.get(k["phase"], 0) + 1
    return {
        "kills": len(kills),
        "by_phase": dict(sorted(phases.items())),
        "resume_seconds_median": round(statistics.median(seconds), 2) if seconds else None,
        "resume_seconds_max": round(max(seconds), 2) if seconds else None,
    }


def describe(summary: dict[str, Any]) -> str:
    phases = ", ".join(f"{n} {p}" for p, n in summary["by_phase"].items())
    return (
        f"{summary['kills']} kills ({phases}); time to resume median"
        f" {summary['resume_seconds_median']} s, max {summary['resume_seconds_max']} s"
    )


def recorder_fixture(request: pytest.FixtureRequest, source: str) -> Iterator[Recorder]:
    recorder = Recorder(source)
    yield recorder
    if not recorder.kills:
        return
    lines = recorder.flush()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    # Teardown output is captured; the summary is meant for the terminal.
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)
