"""Parsing alone, one process, one thread: ``parse_file`` against rdflib and pyoxigraph.

    python -m bench.parse_speed [PAGES_DIR] [--copies N]
    python -m bench.parse_speed --synthetic 8138

``measure`` is what ``python -m bench`` runs on its generated corpora: for Turtle files,
the three parse the same bytes (ours turns each into a file contribution, rdflib into a
``Graph`` as a naive caller would, pyoxigraph into a triple list). For 2026-08 pages,
ours parses whole pages (Markdown, outline, links, JSON-LD) while rdflib and pyoxigraph
parse only the pages' Class blocks, the stand-in context inlined: the JSON-LD a
general-purpose parser can read (the Page and annotation blocks name contexts nobody
publishes). The command line does the same for a folder of real pages (default: the
2026-08 sample), with the class context mapped to tests/fixtures/contexts' stand-in.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.corpus import V2_CONTEXT, V2_CONTEXT_URL
from bench.measure import median
from syncer.formats import ContextDoc, ParseOptions, parse_file

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PAGES = Path("/work/shared/corpus/visionflow-2026-08/pages")
STANDIN = ROOT / "tests" / "fixtures" / "contexts" / "standin-class-context.jsonld"
_BLOCK = re.compile(r"^```json-ld[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def class_blocks(pages: list[tuple[str, bytes]], context: dict[str, Any]) -> list[bytes]:
    """Each page's v2 Class block with ``context`` inlined, as JSON bytes."""
    blocks = []
    for _, data in pages:
        for match in _BLOCK.finditer(data.decode("utf-8", "replace")):
            try:
                doc = json.loads(match.group(1))
            except ValueError:
                continue
            context_url = doc.get("@context") if isinstance(doc, dict) else None
            if context_url == V2_CONTEXT_URL and doc.get("@type") == "Class":
                blocks.append(json.dumps({**doc, "@context": context}).encode())
    return blocks


def _best(fn: Callable[[], int], repeats: int) -> tuple[float, float, int]:
    """(best, median) seconds of ``repeats`` calls of ``fn``, and what it returned."""
    times, count = [], 0
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        count = fn()
        times.append(time.perf_counter() - started)
    return min(times), median(times), count


def measure(
    files: list[tuple[str, bytes]], kind: str, repeats: int = 3, context: bytes | None = None
) -> dict[str, Any]:
    """Seconds to parse ``files`` (kind "turtle", "fibo" or "visionflow") three ways."""
    options = ParseOptions(contexts=(ContextDoc(V2_CONTEXT_URL, context),) if context else ())

    def ours() -> int:
        return sum(parse_file(p, d, options).status == "ok" for p, d in files)

    # (bytes, format) pairs: rdflib's format names; pyoxigraph's below.
    if kind in ("turtle", "fibo"):
        inputs = [(d, "xml" if p.endswith(".rdf") else "turtle") for p, d in files]
    else:
        inlined = json.loads(context)["@context"] if context else V2_CONTEXT["@context"]
        inputs = [(block, "json-ld") for block in class_blocks(files, inlined)]

    def rdflib_naive() -> int:
        from rdflib import Graph

        total = 0
        for data, fmt in inputs:
            graph = Graph()
            graph.parse(data=data.decode(), format=fmt)
            total += len(graph)
        return total

    def oxigraph() -> int:
        import pyoxigraph

        formats = {
            "turtle": pyoxigraph.RdfFormat.TURTLE,
            "xml": pyoxigraph.RdfFormat.RDF_XML,
            "json-ld": pyoxigraph.RdfFormat.JSON_LD,
        }
        return sum(len(list(pyoxigraph.parse(d, format=formats[f]))) for d, f in inputs)

    out: dict[str, Any] = {
        "files": len(files),
        "bytes": sum(len(d) for _, d in files),
        "reference_inputs": len(inputs),
        "reference_bytes": sum(len(d) for d, _ in inputs),
    }
    for name, fn in (("ours", ours), ("rdflib", rdflib_naive), ("pyoxigraph", oxigraph)):
        best, typical, count = _best(fn, repeats)
        out[name] = {"best_s": best, "median_s": typical, "count": count}
    out["ours"]["files_ok"] = out["ours"].pop("count")
    out["rdflib"]["triples"] = out["rdflib"].pop("count")
    out["pyoxigraph"]["triples"] = out["pyoxigraph"].pop("count")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="?", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--copies", type=int, default=10)
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
        pages = [(p, t.encode()) for p, t in generated.items() if p.endswith(".md")]
        context = json.dumps(V2_CONTEXT).encode()
    else:
        one = [(f"pages/{p.name}", p.read_bytes()) for p in sorted(args.pages.glob("*.md"))]
        pages = [(f"{i}/{p}", d) for i in range(args.copies) for p, d in one]
        context = STANDIN.read_bytes()
    result = measure(pages, "visionflow", context=context)
    mb = result["bytes"] / 1e6
    print(f"{result['files']:,} pages, {mb:.1f} MB, {result['reference_inputs']:,} Class blocks")
    for name in ("ours", "rdflib", "pyoxigraph"):
        figures = result[name]
        print(
            f"{name:>10}: best {figures['best_s']:.2f} s, median {figures['median_s']:.2f} s"
            + (f", {mb / figures['best_s']:.1f} MB/s of pages" if name == "ours" else "")
            + (f", {figures['triples']:,} triples" if "triples" in figures else "")
        )


if __name__ == "__main__":
    main()
