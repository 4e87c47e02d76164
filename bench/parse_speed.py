"""Single-core parse speed of Markdown pages: ``parse_file`` against naive rdflib.

    python -m bench.parse_speed [PAGES_DIR] [--copies N]
    python -m bench.parse_speed --synthetic 8138

Every page of PAGES_DIR (default: the 2026-08 VisionFlow sample) is parsed N times in
memory (default 100, under distinct paths), one process, one thread, twice: with the v2
class context unmapped (the built-in Class-block mapping) and mapped to our stand-in
context (tests/fixtures/contexts). The baselines parse the same JSON-LD blocks with the
stand-in context inlined: rdflib as a naive caller would (``Graph().parse``, default
namespace binding), and pyoxigraph when it is installed. Numbers go to stdout.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from syncer.formats import ContextDoc, ParseOptions, parse_file
from syncer.formats.jsonld_context import compile_context
from syncer.formats.jsonld_fast import expand

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PAGES = Path("/work/shared/corpus/visionflow-2026-08/pages")
STANDIN = ROOT / "tests" / "fixtures" / "contexts" / "standin-class-context.jsonld"
V2 = "https://narrativegoldmine.com/ns/v2.jsonld"
FULL_CORPUS_BYTES = 118_663_355
FULL_CORPUS_PAGES = 8_138
_BLOCK = re.compile(r"^```json-ld[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def _pages(directory: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(directory.glob("*.md"))]


def _time_parse(pages: list[tuple[str, bytes]], copies: int, options: ParseOptions) -> float:
    started = time.perf_counter()
    for i in range(copies):
        for name, data in pages:
            parse_file(f"pages/{i}/{name}", data, options)
    return time.perf_counter() - started


def _v2_blocks(pages: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    blocks = []
    for _, data in pages:
        for m in _BLOCK.finditer(data.decode("utf-8", "replace")):
            try:
                doc = json.loads(m.group(1))
            except ValueError:
                continue
            if isinstance(doc, dict) and doc.get("@context") == V2 and doc.get("@type") == "Class":
                blocks.append(doc)
    return blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="?", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument(
        "--synthetic",
        type=int,
        metavar="N",
        help="parse N generated pages (bench.corpus, 2026-08 shape) instead of PAGES, once",
    )
    args = parser.parse_args()
    if args.synthetic:
        from bench.corpus import visionflow_pages

        generated = visionflow_pages(args.synthetic)
        pages = [(Path(p).name, t.encode()) for p, t in generated.items() if p.endswith(".md")]
        args.copies = 1
    else:
        pages = _pages(args.pages)
    size = sum(len(d) for _, d in pages)
    standin_doc = STANDIN.read_bytes()
    standin = json.loads(standin_doc)["@context"]
    blocks = _v2_blocks(pages)
    triples = sum(len(set(expand(b, compile_context(standin)))) for b in blocks)
    print(f"{len(pages)} pages, {size:,} bytes, {len(blocks)} Class blocks, {triples:,} triples")

    statuses = Counter(parse_file(f"pages/{n}", d, ParseOptions()).status for n, d in pages)
    print("statuses:", dict(statuses))
    for label, options in (
        ("unmapped v2 (built-in)", ParseOptions()),
        ("v2 mapped to stand-in", ParseOptions(contexts=(ContextDoc(V2, standin_doc),))),
    ):
        runs = [_time_parse(pages, args.copies, options) for _ in range(3)]
        best = min(runs)
        n, mb = len(pages) * args.copies, size * args.copies / 1e6
        print(
            f"parse_file, {label}: {n:,} pages in {best:.2f} s"
            f" (median {statistics.median(runs):.2f}):"
            f" {n / best:,.0f} pages/s, {mb / best:.1f} MB/s, Class-block triples"
            f" {triples * args.copies / best:,.0f}/s; full corpus estimate by bytes"
            f" {FULL_CORPUS_BYTES / 1e6 / (mb / best):.1f} s, by pages"
            f" {FULL_CORPUS_PAGES / (n / best):.1f} s"
        )

    from rdflib import Graph

    docs = [{**b, "@context": standin} for b in blocks]
    started = time.perf_counter()
    count = 0
    for doc in docs:
        graph = Graph()
        graph.parse(data=doc, format="json-ld")
        count += len(graph)
    seconds = time.perf_counter() - started
    print(
        f"rdflib Graph().parse, Class blocks only: {count:,} triples in {seconds:.2f} s:"
        f" {count / seconds:,.0f} triples/s, {len(docs) / seconds:,.0f} blocks/s"
    )
    started = time.perf_counter()
    count = sum(len(expand(b, compile_context(standin))) for b in blocks)
    seconds = time.perf_counter() - started
    print(f"fast path (expand), Class blocks only: {count / seconds:,.0f} triples/s")
    try:
        import pyoxigraph
    except ImportError:
        return
    payloads = [json.dumps(doc).encode() for doc in docs]
    started = time.perf_counter()
    count = sum(
        len(list(pyoxigraph.parse(p, format=pyoxigraph.RdfFormat.JSON_LD))) for p in payloads
    )
    seconds = time.perf_counter() - started
    print(
        f"pyoxigraph.parse, Class blocks only: {count:,} triples, {count / seconds:,.0f} triples/s"
    )


if __name__ == "__main__":
    main()
