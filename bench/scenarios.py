"""The benchmark's measurements, one function per group, each returning plain figures
(medians of several runs, with the raw runs kept) for ``results.json``."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from bench import fullsync, parse_speed, service
from bench.corpus import V2_CONTEXT
from bench.measure import count_requests, median, percentile
from bench.repos import Corpus, build, clone, syncer_env
from syncer_dev.gitrepo import GitRepo


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "seconds": median([r["seconds"] for r in runs]),
        "files": runs[0]["files"],
        "files_per_s": median([r["files_per_s"] for r in runs]),
        "requests": median([r["requests"] for r in runs]),
        "requests_api": median([r["requests_api"] for r in runs]),
        "requests_codeload": median([r["requests_codeload"] for r in runs]),
        "maxrss_mb": median([r["maxrss_kb"] for r in runs]) / 1024,
        "tree_rss_mb": median([r["tree_rss_kb"] for r in runs]) / 1024,
        "runs": runs,
    }


def full_sync(
    spec: Corpus,
    work: Path,
    *,
    latency: float,
    runs: int,
    baseline_runs: int,
    change_runs: int = 0,
) -> dict[str, Any]:
    """Full syncs and unchanged reconciliations of ``spec``; with ``baseline_runs``, the
    two baselines on the same repository too; with ``change_runs``, that many one-page
    changes synced into the synced database (VisionFlow corpora)."""
    repo = build(spec, work)
    out: dict[str, Any] = {"corpus": spec.name, "files": spec.files, "latency_s": latency}
    with fullsync.fake_github(repo, latency) as fake:
        full, idle = fullsync.full_sync_runs(spec, repo, fake, work, runs)
        out["ours"] = _summary(full)
        out["reconcile"] = _summary(idle)
        for kind in ("batch", "streaming") if baseline_runs else ():
            out[kind] = _summary(
                fullsync.baseline_runs(kind, spec, repo, fake, work, baseline_runs)
            )
    if spec.kind == "visionflow" and change_runs:
        out["one_change"] = _one_change(spec, repo, work, latency, change_runs)
    return out


def _one_change(
    spec: Corpus, repo: GitRepo, work: Path, latency: float, runs: int
) -> dict[str, Any]:
    """``syncer sync`` after a commit that changes one page, on the synced database:
    ``runs`` times, each a new commit (a private clone, so the cached corpus keeps its
    one commit)."""
    copy = clone(repo, work / f"{spec.name}-change-repo")
    db = work / f"{spec.name}-change.db"
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{work / f'{spec.name}-ours.db'}{suffix}")
        target = Path(f"{db}{suffix}")
        target.unlink(missing_ok=True)
        if source.exists():
            shutil.copyfile(source, target)
    samples = []
    with fullsync.fake_github(copy, latency) as fake:
        for round_ in range(runs):
            service.change_pages(copy, 1, round_)
            result = fullsync.ours(spec, fake, db)
            if result["status"] != "done" or result["files"] != 1:
                raise RuntimeError(f"{spec.name}: the one-file sync went wrong: {result}")
            samples.append(result)
    return {
        "seconds": median([r["seconds"] for r in samples]),
        "max_s": max(r["seconds"] for r in samples),
        "requests": median([r["requests"] for r in samples]),
        "runs": samples,
    }


def service_figures(
    spec: Corpus,
    work: Path,
    *,
    latency: float,
    runs: int,
    senders: int,
    rounds: int,
) -> dict[str, Any]:
    """Through ``syncer serve``: the initial sync by webhook, pushes of 1 and 20 files
    (``runs`` each), then ``rounds`` bursts of ``senders`` simultaneous deliveries."""
    repo = clone(build(spec, work), work / f"{spec.name}-service-repo")
    db = fullsync.fresh(work / f"{spec.name}-service.db")
    out: dict[str, Any] = {"corpus": spec.name, "latency_s": latency}
    with fullsync.fake_github(repo, latency) as fake:
        log = work / f"{spec.name}-service.log"
        with service.serve(syncer_env(spec, fake.url, db), log) as port:
            out["initial"] = asyncio.run(service.push_and_wait(port, db, repo.head()))
            for count in (1, 20):
                out[f"push_{count}"] = _pushes(repo, fake, port, db, count, runs)
            # The same one-file push with no added latency: what is ours, not the network's.
            fake.state.latency = 0.0
            out["push_1_no_latency"] = _pushes(repo, fake, port, db, 1, runs)
            fake.state.latency = latency
            serial = asyncio.run(service.ack_latency(port, repo.head(), 1, 100))
            acks = asyncio.run(service.ack_latency(port, repo.head(), senders, rounds))
            out["ack"] = {
                "senders": senders,
                "rounds": rounds,
                "samples": len(acks),
                "p50_s": percentile(acks, 50),
                "p99_s": percentile(acks, 99),
                "max_s": max(acks),
                "one_sender_p50_s": percentile(serial, 50),
            }
    return out


def _pushes(
    repo: GitRepo, fake: fullsync.Fake, port: int, db: Path, count: int, runs: int
) -> dict[str, Any]:
    """``runs`` pushes of ``count`` changed files, one at a time."""
    samples = []
    for _ in range(runs):
        head = service.change_pages(repo, count, len(fake.state.requests))
        before = len(fake.state.requests)
        sample = asyncio.run(service.push_and_wait(port, db, head))
        sample["requests"] = count_requests(fake.state, before).total
        samples.append(sample)
    latencies = [s["ack_to_committed_s"] for s in samples]
    return {
        "files": count,
        "p50_s": median(latencies),
        "max_s": max(latencies),
        "ack_p50_s": median([s["ack_s"] for s in samples]),
        "requests": median([s["requests"] for s in samples]),
        "runs": samples,
    }


def parsing(spec: Corpus, repeats: int) -> dict[str, Any]:
    """Parse speed on ``spec``'s generated files (in memory, one thread)."""
    files = [
        (p, t.encode()) for p, t in spec.generate().items() if p.endswith((".md", ".ttl", ".rdf"))
    ]
    context = json.dumps(V2_CONTEXT).encode() if spec.kind == "visionflow" else None
    result = parse_speed.measure(files, spec.kind, repeats, context)
    result["corpus"] = spec.name
    return result
