"""python -m bench: every measurement of issues 6 and 13, a printed table, JSON, Markdown and a PNG.

    python -m bench                  # the full run (about 25 minutes on 2 cores)
    python -m bench --quick          # small corpora, one run of each: a smoke test
    python -m bench --docs docs/performance.md   # and put the tables into the docs

Writes ``OUT/NAME.json`` (every figure and every raw run), ``OUT/NAME.md`` (the tables
docs/performance.md quotes), ``OUT/NAME.png`` and, unless quick, ``OUT/NAME-profile.txt``
(bench/profile.py). Corpora are generated once into
``--work`` (default: a folder in the system temporary directory) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import profile, report, scenarios
from bench.repos import Corpus

ROOT = Path(__file__).resolve().parent.parent


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small corpora, one run each")
    parser.add_argument("--sizes", type=_sizes, help="VisionFlow corpus sizes (974,10000)")
    parser.add_argument(
        "--scale",
        type=_sizes,
        help="more VisionFlow sizes for the scale curve, one run each (50000; none with --quick)",
    )
    parser.add_argument("--turtle", type=int, help="Turtle corpus size (the first size)")
    parser.add_argument(
        "--fibo", type=int, help="modules of the generated FIBO-shaped ontology (300)"
    )
    parser.add_argument("--runs", type=int, help="runs of each of ours, for medians (5)")
    parser.add_argument("--baseline-runs", type=int, help="runs of each baseline (3)")
    parser.add_argument(
        "--baseline-sizes", type=_sizes, help="sizes the baselines run at (the first size)"
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--senders", type=int, default=50, help="concurrent webhook senders")
    parser.add_argument("--rounds", type=int, help="bursts of simultaneous deliveries (20)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--name", help="file name of the results (latest; quick with --quick)")
    parser.add_argument("--work", type=Path, help="where corpora and databases go")
    parser.add_argument(
        "--docs", type=Path, help="also put the tables into this file (docs/performance.md)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or ([40] if quick else [974, 10000])
    args.scale = args.scale if args.scale is not None else ([] if quick else [50000])
    args.turtle = args.turtle if args.turtle is not None else args.sizes[0]
    args.fibo = args.fibo if args.fibo is not None else (30 if quick else 300)
    args.runs = args.runs or (1 if quick else 5)
    args.baseline_runs = (
        args.baseline_runs if args.baseline_runs is not None else (1 if quick else 3)
    )
    args.baseline_sizes = args.baseline_sizes or args.sizes[:1]
    args.rounds = args.rounds or (2 if quick else 20)
    args.name = args.name or ("quick" if quick else "latest")
    args.work = args.work or Path(tempfile.gettempdir()) / "syncer-bench"
    return args


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": _commit(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_before": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "command": "python -m bench " + " ".join(sys.argv[1:]),
        },
        "quick": args.quick,
        "latency_s": args.latency,
        "runs": args.runs,
        "baseline_runs": args.baseline_runs,
        "sizes": args.sizes,
        "scale": args.scale,
        "full_sync": [],
    }
    specs = [Corpus("visionflow", n) for n in args.sizes]
    if args.turtle:
        specs.append(Corpus("turtle", args.turtle))
    if args.fibo:
        specs.append(Corpus("fibo", args.fibo))
    for spec in specs:
        with_baselines = spec.kind == "visionflow" and spec.files in args.baseline_sizes
        # The one-page change is timed on the largest corpus (issue 13: the 8k one).
        with_change = spec.kind == "visionflow" and spec.files == max(args.sizes)
        _say(f"full sync: {spec.name}" + (" (and baselines)" if with_baselines else ""))
        results["full_sync"].append(
            scenarios.full_sync(
                spec,
                args.work,
                latency=args.latency,
                runs=args.runs,
                baseline_runs=args.baseline_runs if with_baselines else 0,
                change_runs=args.runs if with_change else 0,
            )
        )
    for files in args.scale:
        spec = Corpus("visionflow", files)
        _say(f"scale curve: {spec.name}, one run")
        results["full_sync"].append(
            scenarios.full_sync(spec, args.work, latency=args.latency, runs=1, baseline_runs=0)
        )
    _say(f"service: pushes and webhook acknowledgements on {specs[0].name}")
    results["service"] = scenarios.service_figures(
        specs[0],
        args.work,
        latency=args.latency,
        runs=args.runs * (1 if args.quick else 4),
        senders=args.senders,
        rounds=args.rounds,
    )
    _say("parsing alone")
    results["parsing"] = [
        scenarios.parsing(spec, 1 if args.quick else 3)
        for spec in (specs[0], *(s for s in specs if s.kind in ("turtle", "fibo")))
    ]
    results["ratios"] = report.ratios(results)
    results["targets"] = report.targets(results)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    table = report.markdown(results)
    (args.out / f"{args.name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / f"{args.name}.md").write_text(table)
    report.chart(results, args.out / f"{args.name}.png")
    command = results["meta"]["command"]
    if not args.quick:
        _say("profile of the parse and write paths")
        profile_text = profile.profile(args.sizes[0])
        (args.out / f"{args.name}-profile.txt").write_text(profile_text)
        if args.docs is not None:
            report.splice(args.docs, "profile", f"```\n{profile_text}```", command)
    if args.docs is not None:
        report.splice(args.docs, "results", table, command)
        # The results folder is not committed; the chart the docs show is, beside them.
        shutil.copyfile(args.out / f"{args.name}.png", args.docs.with_suffix(".png"))
    print(table)
    print(f"written: {args.out / args.name}.json, .md, .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
