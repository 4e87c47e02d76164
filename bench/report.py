"""Results to words: ratios against the baselines, targets met or missed, a Markdown
table (what docs/performance.md quotes), the printed table and a PNG chart."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.measure import ratio

LABELS = {"ours": "syncer", "batch": "(a) batch", "streaming": "(b) streaming"}


def _fmt(value: float, digits: int = 2) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _ms(seconds: float) -> str:
    return _fmt(seconds * 1000, 0 if seconds >= 0.1 else 1) + " ms"


def _by_corpus(results: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((r for r in results["full_sync"] if r["corpus"] == name), None)


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    """Ours against each baseline, for every corpus the baselines ran on: time and files/s
    as "times better", requests and memory as ours / theirs."""
    out: dict[str, Any] = {}
    for run in results["full_sync"]:
        for kind in ("batch", "streaming"):
            if kind not in run:
                continue
            ours, theirs = run["ours"], run[kind]
            out[f"{run['corpus']}/{kind}"] = {
                "speedup": ratio(ours["seconds"], theirs["seconds"]),
                "files_per_s": ours["files_per_s"] / theirs["files_per_s"],
                "requests": ours["requests"] / theirs["requests"],
                "tree_rss": ours["tree_rss_mb"] / theirs["tree_rss_mb"],
                "reconcile_vs_full": ratio(run["reconcile"]["seconds"], theirs["seconds"]),
            }
    return out


def scale_curve(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every VisionFlow full sync by size: seconds, ms a file and peak memory."""
    rows = []
    for run in results["full_sync"]:
        if run["corpus"].startswith("visionflow"):
            ours = run["ours"]
            rows.append(
                {
                    "files": ours["files"],
                    "seconds": ours["seconds"],
                    "ms_per_file": ours["seconds"] * 1000 / ours["files"],
                    "maxrss_mb": ours["maxrss_mb"],
                    "tree_rss_mb": ours["tree_rss_mb"],
                    "runs": len(ours["runs"]),
                }
            )
    return sorted(rows, key=lambda r: r["files"])


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's goals, each with our figure and whether it is met."""
    rows: list[dict[str, Any]] = []

    def add(name: str, goal: str, result: str, met: bool | None) -> None:
        rows.append({"target": name, "goal": goal, "result": result, "met": met})

    small, large = results["sizes"][0], results["sizes"][-1]
    first = _by_corpus(results, f"visionflow-{small}")
    if first is not None:
        ours = first["ours"]
        if "streaming" in first:
            speedup = ratio(ours["seconds"], first["streaming"]["seconds"])
            add(
                f"full sync, {small} files",
                ">= 30x faster than (b)",
                f"{_fmt(speedup, 1)}x",
                speedup >= 30,
            )
        add(
            f"full sync, {small} files",
            "<= 3 GitHub requests",
            f"{ours['requests_api']:.0f} API + {ours['requests_codeload']:.0f} codeload",
            ours["requests_api"] + ours["requests_codeload"] <= 3,  # codeload counts too
        )
        add(
            f"full sync, {small} files",
            "peak RSS < 120 MB",
            f"{_fmt(ours['tree_rss_mb'], 0)} MB process tree"
            f" ({_fmt(ours['maxrss_mb'], 0)} MB main process)",
            ours["tree_rss_mb"] < 120,
        )
        idle = first["reconcile"]
        add(
            "unchanged reconciliation",
            "<= 2 requests, < 1 s",
            f"{idle['requests']:.0f} requests, {_ms(idle['seconds'])}",
            idle["requests"] <= 2 and idle["seconds"] < 1,
        )
    service = results.get("service")
    if service:
        push = service["push_1"]
        add(
            "one-file push",
            "ack -> committed p50 < 250 ms",
            _ms(push["p50_s"]),
            push["p50_s"] < 0.25,
        )
        ack = service["ack"]
        add(
            f"webhook ack, {ack['senders']} concurrent senders",
            "p99 < 25 ms",
            f"p99 {_ms(ack['p99_s'])} (p50 {_ms(ack['p50_s'])})",
            ack["p99_s"] < 0.025,
        )
    curve = scale_curve(results)
    if len(curve) > 1:
        low, high = curve[0], curve[-1]
        grow = high["tree_rss_mb"] / low["tree_rss_mb"] - 1
        grow_main = high["maxrss_mb"] / low["maxrss_mb"] - 1
        add(
            f"peak RSS, {high['files']:,} vs {low['files']:,} files",
            "within 15 %",
            f"{grow:+.0%} process tree, {grow_main:+.0%} main process",
            grow <= 0.15,
        )
        slower = high["ms_per_file"] / low["ms_per_file"]
        add(
            f"time per file, {high['files']:,} vs {low['files']:,} files",
            "flat (within 1.5x)",
            f"{_fmt(slower, 2)}x ({_fmt(high['ms_per_file'])} against"
            f" {_fmt(low['ms_per_file'])} ms a file)",
            slower <= 1.5,
        )
    changed = _by_corpus(results, f"visionflow-{large}")
    if changed is not None and "one_change" in changed:
        one = changed["one_change"]
        add(
            f"one changed page, {large:,}-page database",
            "synced in < 1 s",
            f"{_ms(one['seconds'])} (max {_ms(one['max_s'])}, {one['requests']:.0f} requests)",
            one["seconds"] < 1,
        )
    # Issue 13: a full sync against parsing the same content alone, in the same run.
    for parse in results.get("parsing", []):
        synced = _by_corpus(results, parse["corpus"])
        if synced is None:
            continue
        seconds = synced["ours"]["seconds"]
        if parse["corpus"].startswith("visionflow"):
            naive = parse["rdflib"]["median_s"]
            add(
                f"full sync, {parse['corpus']}",
                "<= 0.5x naive rdflib parsing its blocks",
                f"{_fmt(seconds / naive, 1)}x ({_fmt(seconds)} s against {_fmt(naive)} s)",
                seconds <= 0.5 * naive,
            )
        else:
            alone = parse["pyoxigraph"]["median_s"]
            add(
                f"full sync, {parse['corpus']}",
                "within 2x of pyoxigraph parsing the files",
                f"{_fmt(seconds / alone, 0)}x ({_fmt(seconds)} s against {_fmt(alone, 3)} s)",
                seconds <= 2 * alone,
            )
    for parse in results.get("parsing", []):
        times = parse["ours"]["best_s"] / parse["pyoxigraph"]["best_s"]
        add(
            f"parsing, {parse['corpus']}",
            "within 3x of pyoxigraph",
            f"{_fmt(times, 1)}x",
            times <= 3,
        )
    return rows


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Latency per GitHub request {results['latency_s'] * 1000:.0f} ms; medians of"
        f" {results['runs']} runs (baselines: {results['baseline_runs']});"
        f" {results['meta']['cpus']} CPUs; {results['meta']['date']}; commit"
        f" {results['meta']['commit']}.",
        "",
        "| full sync | seconds | files/s | requests (API + codeload) | peak RSS, main /"
        " process tree | unchanged reconciliation |",
        "|---|---|---|---|---|---|",
    ]
    for run in results["full_sync"]:
        for kind in ("ours", "batch", "streaming"):
            if kind not in run:
                continue
            r = run[kind]
            idle = run["reconcile"] if kind == "ours" else None
            reconcile = f"{_ms(idle['seconds'])}, {idle['requests']:.0f} requests" if idle else ""
            lines.append(
                f"| {run['corpus']}, {LABELS[kind]}"
                f" | {_fmt(r['seconds'])} | {_fmt(r['files_per_s'], 0)}"
                f" | {r['requests_api']:.0f} + {r['requests_codeload']:.0f}"
                f" | {_fmt(r['maxrss_mb'], 0)} / {_fmt(r['tree_rss_mb'], 0)} MB | {reconcile} |"
            )
    curve = scale_curve(results)
    if len(curve) > 1:
        lines += [
            "",
            "| scale curve (VisionFlow) | seconds | ms a file | peak RSS, main / process tree"
            " | runs |",
            "|---|---|---|---|---|",
        ]
        for row in curve:
            lines.append(
                f"| {row['files']:,} files | {_fmt(row['seconds'])} | {_fmt(row['ms_per_file'])}"
                f" | {_fmt(row['maxrss_mb'], 0)} / {_fmt(row['tree_rss_mb'], 0)} MB"
                f" | {row['runs']} |"
            )
    changes = [r for r in results["full_sync"] if "one_change" in r]
    if changes:
        lines += ["", "| one changed page, synced | median | max | requests |", "|---|---|---|---|"]
        for run in changes:
            one = run["one_change"]
            lines.append(
                f"| {run['corpus']} database | {_ms(one['seconds'])} | {_ms(one['max_s'])}"
                f" | {one['requests']:.0f} |"
            )
    lines += [
        "",
        "| ours against | speedup | files/s | requests | peak RSS |",
        "|---|---|---|---|---|",
    ]
    for name, r in results["ratios"].items():
        lines.append(
            f"| {name} | {_fmt(r['speedup'], 1)}x | {_fmt(r['files_per_s'], 1)}x"
            f" | {_fmt(r['requests'], 4)}x | {_fmt(r['tree_rss'], 2)}x |"
        )
    service = results.get("service")
    if service:
        lines += [
            "",
            f"| service ({service['corpus']}) | p50 | max | GitHub requests |",
            "|---|---|---|---|",
        ]
        for count in (1, 20):
            push = service[f"push_{count}"]
            lines.append(
                f"| push of {count} file(s): ack -> committed | {_ms(push['p50_s'])}"
                f" | {_ms(push['max_s'])} | {push['requests']:.0f} |"
            )
        bare = service["push_1_no_latency"]
        lines.append(
            f"| the same, 0 ms per GitHub request | {_ms(bare['p50_s'])} | {_ms(bare['max_s'])}"
            f" | {bare['requests']:.0f} |"
        )
        ack = service["ack"]
        lines.append(f"| webhook ack, one sender at a time | {_ms(ack['one_sender_p50_s'])} | | |")
        lines.append(
            f"| webhook ack, {ack['senders']} simultaneous senders x {ack['rounds']} rounds"
            f" | {_ms(ack['p50_s'])} (p99 {_ms(ack['p99_s'])}) | {_ms(ack['max_s'])} | |"
        )
    if results.get("parsing"):
        lines += [
            "",
            "| parsing (one thread) | files | ours | rdflib | pyoxigraph | ours / pyoxigraph |",
            "|---|---|---|---|---|---|",
        ]
        for p in results["parsing"]:
            lines.append(
                f"| {p['corpus']} | {p['files']:,} ({p['bytes'] / 1e6:.1f} MB)"
                f" | {_fmt(p['ours']['best_s'], 3)} s | {_fmt(p['rdflib']['best_s'], 3)} s"
                f" | {_fmt(p['pyoxigraph']['best_s'], 3)} s"
                f" | {_fmt(p['ours']['best_s'] / p['pyoxigraph']['best_s'], 1)}x |"
            )
    lines += ["", "| target | goal | result | met |", "|---|---|---|---|"]
    for t in results["targets"]:
        met = "yes" if t["met"] else "**no**"
        lines.append(f"| {t['target']} | {t['goal']} | {t['result']} | {met} |")
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    names, seconds, colors = [], [], []
    for run in results["full_sync"]:
        for kind, color in (
            ("ours", "tab:green"),
            ("batch", "tab:red"),
            ("streaming", "tab:orange"),
        ):
            if kind in run:
                names.append(f"{run['corpus']}\n{kind}")
                seconds.append(run[kind]["seconds"])
                colors.append(color)
    left.barh(names, seconds, color=colors)
    left.set_xscale("log")
    left.set_xlabel("full sync, seconds (log scale)")
    left.invert_yaxis()
    for index, value in enumerate(seconds):
        left.annotate(f" {value:.1f} s", (value, index), va="center", fontsize=9)
    left.set_xlim(right=max(seconds) * 3)
    labels, values, goals = [], [], []
    service = results.get("service")
    if service:
        labels += [
            "push, 1 file\nack->committed\np50",
            "push, 20 files\nack->committed\np50",
            "webhook ack\np99",
        ]
        values += [
            service["push_1"]["p50_s"] * 1000,
            service["push_20"]["p50_s"] * 1000,
            service["ack"]["p99_s"] * 1000,
        ]
        goals += [250, math.nan, 25]
    first = results["full_sync"][0]
    labels.append("unchanged\nreconciliation")
    values.append(first["reconcile"]["seconds"] * 1000)
    goals.append(1000)
    bars = right.bar(labels, values, color="tab:blue")
    right.bar_label(bars, [f"{v:.0f} ms" if v >= 10 else f"{v:.1f} ms" for v in values], fontsize=9)
    right.scatter(labels, goals, marker="_", s=900, color="black", label="target")
    right.set_yscale("log")
    right.set_ylabel("milliseconds (log scale)")
    for axis in (left.xaxis, right.yaxis):  # plain numbers, no labels on minor ticks
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())
    right.tick_params(axis="x", labelsize=9)
    right.legend()
    fig.suptitle(f"syncer benchmark, {results['latency_s'] * 1000:.0f} ms per GitHub request")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def splice(doc: Path, section: str, content: str, source: str) -> None:
    """Replace what is between ``<!-- bench:SECTION:start -->`` and ``...:end -->`` in
    ``doc`` with ``content``."""
    start, end = f"<!-- bench:{section}:start -->", f"<!-- bench:{section}:end -->"
    text = doc.read_text()
    head, found, rest = text.partition(start)
    _, found_end, tail = rest.partition(end)
    if not found or not found_end:
        raise ValueError(f"{doc} has no {start} ... {end} section")
    note = f"<!-- generated by `{source}`: do not edit by hand -->"
    doc.write_text(f"{head}{start}\n{note}\n\n{content.rstrip()}\n\n{end}{tail}")
