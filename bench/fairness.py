"""Fairness between repositories (issue 15): a one-file push to one repository while
another repository's initial sync holds the shared writer.

Two local git repositories in one service (a coordinator each, one writer, as
``SYNCER_REPOS`` sets up): "big" holds generated VisionFlow pages, "small" one Turtle file.
Each trial starts on a fresh database with "small" synced, starts the initial sync of
"big", waits until a tenth of its files are written, then commits a change to "small" and
queues its push. Measured: from the push being queued to "small" being synced, and the
big sync's own duration. The same trials run with the writer's fairness off (file batches
in arrival order and at full size, as before issue 15), and the push alone, side by side
in one run.

    python -m bench.fairness [--pages 2000] [--runs 5] [--docs docs/performance.md]

Prints a table; writes bench/results/fairness.{json,md,png}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from bench import corpus, report
from bench.measure import median
from bench.repos import Corpus, build
from syncer.config import Settings, each_repository
from syncer.repositories import Repository
from syncer.sources.git import GitSource
from syncer.storage import file_batches
from syncer.storage import writer as writer_module
from syncer.storage.migrate import ensure_schema
from syncer.storage.writer import Writer
from syncer.sync.coordinator import Service
from syncer.values import ContextSource
from syncer_dev.gitrepo import GitRepo

SMALL = (
    "@prefix ex: <https://example.org/s/> .\n"
    "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
    "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
    'ex:S a owl:Class ; rdfs:label "{}" .\n'
)


@contextmanager
def fairness(on: bool) -> Iterator[None]:
    """The writer as it is (on), or as it was before issue 15 (off): every call in arrival
    order, file batches at full size and sent as soon as they are ready."""
    saved = (
        file_batches.SHARED_BATCH_SECONDS,
        file_batches.IDLE_SHARED_BATCH_SECONDS,
        file_batches.SHARED_GAP_SECONDS,
        writer_module.BACKGROUND,
    )
    if not on:
        file_batches.SHARED_BATCH_SECONDS = 1e9  # the full caps (MAX_FILES, MAX_ROWS)
        file_batches.IDLE_SHARED_BATCH_SECONDS = 1e9
        file_batches.SHARED_GAP_SECONDS = 0.0
        # A context variable no caller sets: every call ranks as foreground, FIFO.
        writer_module.BACKGROUND = ContextVar("bench_fairness_off", default=False)
    try:
        yield
    finally:
        (
            file_batches.SHARED_BATCH_SECONDS,
            file_batches.IDLE_SHARED_BATCH_SECONDS,
            file_batches.SHARED_GAP_SECONDS,
            writer_module.BACKGROUND,
        ) = saved


async def trial(
    big: GitRepo, small: GitRepo, db: Path, *, with_big: bool, round_: int
) -> dict[str, float]:
    context = ContextSource(corpus.V2_CONTEXT_URL, "repo", corpus.V2_CONTEXT_PATH)
    settings = Settings(
        db_path=db,
        workers=2,
        poll_interval=0,
        repositories=(
            Repository("bench/big", git_dir=big.path, jsonld_contexts=(context,)),
            Repository("bench/small", git_dir=small.path),
        ),
    )
    ensure_schema(db)
    writer = Writer(db)
    big_settings, small_settings = each_repository(settings)
    big_service = Service(big_settings, GitSource(big.path), writer)
    small_service = Service(small_settings, GitSource(small.path), writer)
    try:
        for service in (big_service, small_service):
            await service.start()
        await small_service.request("push", False, "bench: first sync")
        await small_service.idle.wait()
        big_seconds = 0.0
        big_started = time.monotonic()
        if with_big:
            await big_service.request("push", False, "bench: initial sync")
            while True:  # a tenth of the big sync written: well under way
                progress = big_service.engine.progress
                if (
                    progress is not None
                    and progress.planned
                    and progress.done * 10 >= progress.planned
                ):
                    break
                await asyncio.sleep(0.005)
        small.commit_files({"s.ttl": SMALL.format(f"S {round_}")})
        small_service.idle.clear()
        pushed = time.monotonic()
        await small_service.request("push", False, "bench: one-file push")
        await small_service.idle.wait()
        push_seconds = time.monotonic() - pushed
        big_done_then = (
            big_service.engine.progress.done if with_big and big_service.engine.progress else 0
        )
        if with_big:
            await big_service.idle.wait()
            big_seconds = time.monotonic() - big_started
        return {
            "push_seconds": push_seconds,
            "big_seconds": big_seconds,
            "big_done_at_push_end": big_done_then,
        }
    finally:
        for service in (big_service, small_service):
            await service.stop()
            await service.source.aclose()
        writer.close()


def measure(pages: int, runs: int, work: Path) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    big = build(Corpus("visionflow", pages), work)
    results: dict[str, Any] = {"pages": pages, "runs": runs, "modes": {}}
    for mode, on, with_big in (
        ("alone", True, False),
        ("fair", True, True),
        ("before", False, True),
    ):
        figures = []
        for n in range(runs):
            small = GitRepo.init(work / "fair" / f"small-{mode}-{n}")
            small.commit_files({"s.ttl": SMALL.format("S")})
            db = work / "fair" / f"{mode}-{n}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            with fairness(on):
                figures.append(asyncio.run(trial(big, small, db, with_big=with_big, round_=n)))
            print(f"  {mode} #{n + 1}: push {figures[-1]['push_seconds']:.3f} s", file=sys.stderr)
        results["modes"][mode] = {
            "push_seconds": median([f["push_seconds"] for f in figures]),
            "big_seconds": median([f["big_seconds"] for f in figures]),
            "runs": figures,
        }
    shutil.rmtree(work / "fair", ignore_errors=True)
    return results


def markdown(results: dict[str, Any]) -> str:
    modes = results["modes"]
    alone = modes["alone"]["push_seconds"]
    rows = [
        f"One-file push to one repository while another's initial sync of {results['pages']:,}"
        f" pages runs (local git, medians of {results['runs']}):",
        "",
        "| writer | push queued -> synced | against the push alone | the big sync |",
        "|---|---|---|---|",
        f"| push alone (no other sync) | {alone * 1000:,.0f} ms | 1.0x | |",
    ]
    for mode, label in (
        ("fair", "fair (issue 15)"),
        ("before", "first come, first served (before)"),
    ):
        push, big = modes[mode]["push_seconds"], modes[mode]["big_seconds"]
        rows.append(f"| {label} | {push * 1000:,.0f} ms | {push / alone:.1f}x | {big:.1f} s |")
    return "\n".join(rows) + "\n"


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = results["modes"]
    labels = ["push alone", "fair writer", "FIFO writer (before)"]
    values = [modes[m]["push_seconds"] * 1000 for m in ("alone", "fair", "before")]
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.barh(labels, values, color=["tab:gray", "tab:green", "tab:red"])
    ax.invert_yaxis()
    ax.set_xlabel(f"one-file push, ms, while another repository syncs {results['pages']:,} pages")
    for index, value in enumerate(values):
        ax.annotate(f" {value:,.0f} ms", (value, index), va="center", fontsize=9)
    ax.set_xlim(right=max(values) * 1.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fairness", description=__doc__)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/syncer-bench"))
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--docs", type=Path, help="splice the table into this file")
    args = parser.parse_args(argv)
    results = measure(args.pages, args.runs, args.work)
    results["command"] = "python -m bench.fairness " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown(results)
    (args.out / "fairness.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "fairness.md").write_text(table)
    chart(results, args.out / "fairness.png")
    if args.docs is not None:
        report.splice(args.docs, "fairness", table, results["command"])
        shutil.copyfile(args.out / "fairness.png", args.docs.parent / "fairness.png")
    print(table)
    print(f"written: {args.out}/fairness.json, .md, .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
