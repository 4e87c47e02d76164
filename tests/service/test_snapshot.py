"""What the coordinator hands the status page and /metrics: figures the run keeps itself,
whether or not anybody is watching (issue 14: the chart used to fill only while a browser
polled /status.json)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from syncer.sources.git import GitSource
from syncer.storage import runs
from syncer.storage.writer import Writer
from syncer.sync.coordinator import Service, Snapshot
from syncer.sync.progress import RunObserver
from syncer_dev.gitrepo import GitRepo
from tests.support.live import ttl
from tests.support.runs import settings_for


class Recorder:
    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []
        self.parsed = 0

    def run_ended(self, kind: str, status: str, seconds: float) -> None:
        assert seconds >= 0
        self.runs.append((kind, status))

    def file_parsed(self, seconds: float) -> None:
        assert seconds >= 0
        self.parsed += 1


def test_a_run_nobody_watched_leaves_its_throughput_trigger_and_observations(
    git_repo: GitRepo, db_path: Path
) -> None:
    head = git_repo.commit_files({f"c{i}.ttl": ttl(f"C{i}", "Thing", f"C{i}") for i in range(30)})
    settings = settings_for(git_repo, db_path, poll_interval=0)
    recorder = Recorder()
    observer: RunObserver = recorder

    async def go() -> tuple[Snapshot, list[runs.RunRow]]:
        writer = Writer(db_path)
        service = Service(settings, GitSource(git_repo.path), writer, observer=observer)
        await service.start()
        try:
            await service.request("resync", False, "admin resync")
            await asyncio.wait_for(service.idle.wait(), 60)
            return service.snapshot(), await writer.read(runs.recent_runs, settings.ontology_id)
        finally:
            await service.stop()
            writer.close()

    snap, recent = asyncio.run(go())
    assert snap.run is None and snap.last_run is not None
    points = snap.last_run.throughput
    assert len(points) >= 2  # the first commit of files and the end of the run
    assert points[-1][1] == 30 and all(a[0] <= b[0] for a, b in itertools.pairwise(points))
    assert (recent[0].kind, recent[0].status, recent[0].trigger) == (
        "resync",
        "done",
        "admin resync",
    )
    assert recent[0].target_commit == head
    assert recorder.runs == [("resync", "done")] and recorder.parsed == 30
