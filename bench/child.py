"""One full sync in a process of its own, so its peak memory is its own.

    python -m bench.child ours       (settings from the SYNCER_* environment)
    python -m bench.child batch|streaming --api-url URL --db FILE [--context-file FILE]

Prints one JSON object on stdout: seconds (the sync alone, not the interpreter start),
files, status, and ``maxrss_kb``, this process's peak resident memory (``VmHWM``). The
parent samples the whole process tree (parse workers included) and counts the requests
on the fake GitHub's side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench import baselines
from bench.corpus import V2_CONTEXT_URL
from syncer.config import load_settings
from syncer.formats import ContextDoc, ParseOptions
from syncer.sources import build_source
from syncer.storage.migrate import ensure_schema
from syncer.storage.writer import Writer
from syncer.sync.engine import SyncEngine

REPO = "bench/ontology"
REF = "main"


async def ours() -> dict[str, Any]:
    """What ``syncer sync`` does, timed around the run itself."""
    settings = load_settings(environ=dict(os.environ), env_file=None)
    ensure_schema(settings.db_path)
    source = build_source(settings)
    writer = Writer(settings.db_path)
    try:
        engine = SyncEngine(settings, source, writer)
        started = time.perf_counter()
        result = await engine.sync()
        seconds = time.perf_counter() - started
    finally:
        await source.aclose()
        writer.close()
    return {
        "seconds": seconds,
        "files": result.processed,
        "failed": result.failed,
        "status": result.status,
        "requests_by_kind": dict(source.stats.by_kind),
        "workers": settings.workers,
    }


async def baseline(kind: str, api_url: str, db: Path, context_file: Path | None) -> dict[str, Any]:
    contexts: tuple[ContextDoc, ...] = ()
    if context_file is not None:
        contexts = (ContextDoc(V2_CONTEXT_URL, context_file.read_bytes()),)
    options = ParseOptions(contexts=contexts)
    run = baselines.batch if kind == "batch" else baselines.streaming
    result = await run(api_url, REPO, REF, db, options)
    return {"seconds": result.seconds, "files": result.files, "status": "done"}


def peak_rss_kb() -> int:
    """This process's peak resident memory. ``VmHWM`` (Linux) belongs to the process
    image: ``getrusage``'s ``ru_maxrss`` survives ``exec`` and so starts at the RSS of the
    parent that forked us (the benchmark, holding corpora and the fake GitHub)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["ours", "batch", "streaming"])
    parser.add_argument("--api-url")
    parser.add_argument("--db", type=Path)
    parser.add_argument("--context-file", type=Path)
    args = parser.parse_args(argv)
    if args.mode == "ours":
        out = asyncio.run(ours())
    else:
        if args.api_url is None or args.db is None:
            parser.error("baselines need --api-url and --db")
        out = asyncio.run(baseline(args.mode, args.api_url, args.db, args.context_file))
    out["maxrss_kb"] = peak_rss_kb()
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
