"""Property: any history, synced at any points, forced or not, ends at a fresh sync."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer_dev.gitrepo import GitRepo
from syncer_dev.snapshot import diff, snapshot
from tests.storage.test_engine import apply_changes
from tests.support.histories import History
from tests.support.runs import fresh_db, run_sync, settings_for, shuffler

# Slow together (seconds to minutes): left out of the quick loop, pytest -m "not slow".
pytestmark = pytest.mark.slow


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    syncs=st.lists(st.sampled_from(["skip", "sync", "force"]), min_size=4, max_size=10),
    workers=st.integers(1, 4),
)
def test_histories_synced_at_random_points_converge(
    seed: int, syncs: list[str], workers: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = GitRepo.init(root / "repo")
        db = fresh_db(root, "live")
        history = History(seed)
        config = settings_for(repo, db, workers=workers)
        for step, action in enumerate(syncs):
            apply_changes(repo, history.step())
            if action != "skip":
                result = run_sync(config, force=action == "force", order=shuffler(seed + step))
                assert result.status == "done"
        assert run_sync(config).status == "done"
        fresh = fresh_db(root, "fresh")
        run_sync(settings_for(repo, fresh))
        assert diff(snapshot(db), snapshot(fresh)) == []
