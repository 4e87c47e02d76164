"""kill -9 in the middle of `syncer sync`, at seeded points: the next run converges.

A run is killed once it has committed a seeded number of files; the database must pass
integrity checks, lose no file (each is written whole or still queued), and the next
`syncer sync`, a new process like a restart, must finish exactly the files left and
bring the database to what a fresh sync of the head gives. How long that restart took
is recorded in test-artifacts/crash-report.json (tests/crash_report.py).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer_dev.gitrepo import GitRepo
from syncer_dev.snapshot import Snapshot, diff, snapshot
from tests.support.crash_report import Kill, Recorder, recorder_fixture
from tests.support.runs import fresh_db, run_sync, settings_for

# Slow together (seconds to minutes): left out of the quick loop, pytest -m "not slow".
pytestmark = pytest.mark.slow

FILES = 160
SEEDS = 8
# Fresh syncs by tree: every seed's first commit has the same tree, so one fresh sync serves.
FRESH: dict[str, Snapshot] = {}


@pytest.fixture(scope="module")
def crashes(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    yield from recorder_fixture(request, "tests/test_crash.py")


def ontology_file(i: int, version: int) -> str:
    return (
        "@prefix ex: <https://example.org/k/> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f'ex:C{i} a owl:Class ; rdfs:label "C{i} v{version}" ;\n'
        f"    rdfs:subClassOf ex:C{(i * 7 + version) % FILES} .\n"
    )


def sync_env(env: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SYNCER_")}
    return {**base, **env}


def start_sync(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "syncer", "sync"],
        env=sync_env(env),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def written_since(db: Path, marker: str) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute(
                "SELECT count(*) FROM source_files WHERE last_synced > ?", (marker,)
            ).fetchone()
            return int(row[0])
    except sqlite3.OperationalError:
        return 0  # not created or migrated yet


def kill_after(proc: subprocess.Popen[bytes], db: Path, marker: str, files: int) -> bool:
    """SIGKILL the run once `files` files are committed; False if it finished first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if written_since(db, marker) >= files:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
    proc.kill()
    raise AssertionError("the run neither progressed nor finished within 60 s")


def fresh(git_repo: GitRepo, tmp_path: Path) -> Snapshot:
    tree = git_repo.git("rev-parse", "HEAD^{tree}").strip()
    if tree not in FRESH:
        db = fresh_db(tmp_path, f"fresh-{tree[:12]}")
        assert run_sync(settings_for(git_repo, db)).status == "done"
        FRESH[tree] = snapshot(db)
    return FRESH[tree]


@pytest.mark.parametrize("seed", range(SEEDS))
def test_kill_9_during_full_and_incremental_sync_then_resume(
    git_repo: GitRepo, tmp_path: Path, seed: int, crashes: Recorder
) -> None:
    rng = random.Random(seed)
    db = tmp_path / "crash.db"
    env = {"SYNCER_GIT_DIR": str(git_repo.path), "SYNCER_DB": str(db), "SYNCER_WORKERS": "2"}
    git_repo.commit_files({f"k/f{i}.ttl": ontology_file(i, 1) for i in range(FILES)})
    kills = 0
    for phase in ("full", "incremental"):
        deleted = 0
        if phase == "incremental":
            changed = rng.sample(range(FILES), 60)
            git_repo.commit_files({f"k/f{i}.ttl": ontology_file(i, 2) for i in changed})
            for i in rng.sample(sorted(set(range(FILES)) - set(changed)), 10):
                git_repo.delete(f"k/f{i}.ttl")
            git_repo.commit()
            deleted = 10
        marker = "0" if phase == "full" else "9"
        if phase == "incremental":
            with sqlite3.connect(db) as conn:
                marker = conn.execute("SELECT max(last_synced) FROM source_files").fetchone()[0]
        upserts = FILES if phase == "full" else 60
        point = rng.randint(1, 40)
        proc = start_sync(env, tmp_path)
        landed = kill_after(proc, db, marker, point)
        queued = deletes_left = 0
        if landed:
            with sqlite3.connect(db) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
                queued, deletes_left = conn.execute(
                    "SELECT count(*) FILTER (WHERE action = 'upsert'),"
                    " count(*) FILTER (WHERE action = 'delete') FROM sync_tasks"
                ).fetchone()
            written = written_since(db, marker)
            # Every file to write is either written (whole) or still queued: none is lost.
            assert written + queued == upserts
        # The restart: a new `syncer sync` process finishes exactly the files left.
        started = time.monotonic()
        resumed = subprocess.run(
            [sys.executable, "-m", "syncer", "sync"],
            env=sync_env(env),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        seconds = time.monotonic() - started
        assert resumed.returncode == 0, resumed.stderr
        if landed:
            assert f" {queued} processed (0 failed), {deletes_left} deleted," in resumed.stdout
        problems = diff(snapshot(db), fresh(git_repo, tmp_path))
        assert problems == [], "\n".join(problems)
        with sqlite3.connect(db) as conn:
            statuses = [r[0] for r in conn.execute("SELECT status FROM sync_runs ORDER BY id")]
        assert statuses[-1] == "done"
        assert "running" not in statuses  # a cut-off run is marked interrupted
        # On a loaded machine the poller can be starved until the run has written
        # everything; such a kill hit a finished run and is not counted.
        if landed and queued + deletes_left > 0:
            kills += 1
            assert statuses[-2] == "interrupted"
            crashes.add(Kill(seed, phase, point, upserts + deleted, written, round(seconds, 3)))
    assert kills >= 1
