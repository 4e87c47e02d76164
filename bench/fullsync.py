"""Full syncs through the fake GitHub, each in a child process (bench/child.py): ours
from an empty database, ours again with nothing changed (the reconciliation), and the
two VisionFlow baselines. The parent counts requests and samples the child's memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import TreeRssSampler, count_requests
from bench.repos import FULL_NAME, Corpus, syncer_env
from syncer_dev.fake_github import FakeGitHubState, create_app
from syncer_dev.gitrepo import GitRepo
from syncer_dev.server import serve_in_thread

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Fake:
    state: FakeGitHubState
    url: str


@contextmanager
def fake_github(repo: GitRepo, latency: float) -> Iterator[Fake]:
    state = FakeGitHubState(repo.path, full_name=FULL_NAME, latency=latency)
    with serve_in_thread(create_app(state)) as url:
        yield Fake(state, url)


def run_child(args: list[str], env: dict[str, str], fake: Fake) -> dict[str, Any]:
    """Run ``python -m bench.child ARGS``; its JSON plus requests and peak memory."""
    before = len(fake.state.requests)
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCER_")}
    child_env.update(env)
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.child", *args],
        cwd=ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with TreeRssSampler(process.pid) as sampler:
        out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bench.child {' '.join(args)} failed:\n{err[-4000:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    requests = count_requests(fake.state, before)
    result["requests_api"] = requests.api
    result["requests_codeload"] = requests.codeload
    result["requests"] = requests.total
    result["tree_rss_kb"] = max(sampler.peak_kb, result["maxrss_kb"])
    result["files_per_s"] = result["files"] / result["seconds"] if result["seconds"] else 0.0
    return result


def ours(spec: Corpus, fake: Fake, db: Path) -> dict[str, Any]:
    """One ``syncer sync`` (an empty ``db``: a full sync; a synced one: a reconciliation)."""
    return run_child(["ours"], syncer_env(spec, fake.url, db), fake)


def baseline(kind: str, spec: Corpus, fake: Fake, db: Path, repo: GitRepo) -> dict[str, Any]:
    args = [kind, "--api-url", fake.url, "--db", str(db)]
    if spec.context_file is not None:
        args += ["--context-file", str(repo.path / spec.context_file)]
    return run_child(args, {}, fake)


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def full_sync_runs(
    spec: Corpus, repo: GitRepo, fake: Fake, work: Path, runs: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``runs`` full syncs into fresh databases, then ``runs`` unchanged reconciliations
    of the last one."""
    full = [ours(spec, fake, fresh(work / f"{spec.name}-ours.db")) for _ in range(runs)]
    idle = [ours(spec, fake, work / f"{spec.name}-ours.db") for _ in range(runs)]
    for result in full:
        if result["status"] != "done" or result["files"] == 0:
            raise RuntimeError(f"{spec.name}: a full sync did not complete: {result}")
    return full, idle


def baseline_runs(
    kind: str, spec: Corpus, repo: GitRepo, fake: Fake, work: Path, runs: int
) -> list[dict[str, Any]]:
    return [
        baseline(kind, spec, fake, fresh(work / f"{spec.name}-{kind}.db"), repo)
        for _ in range(runs)
    ]
