"""The benchmark end to end in its quick mode (small corpora, one run of each): it runs,
writes its three files, and the figures it reports have the right shapes and counts.
Also the fix it led to: property rows derived by index seeks (migration 0003)."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import main
from syncer.model import FileContribution, PropertyDecl, TreeEntry, git_blob_sha
from syncer.storage.db import connect, immediate
from syncer.storage.file_batches import FileDelete, FileWrite, write_batch
from syncer.storage.migrate import migrate

# Slow together (seconds to minutes): left out of the quick loop, pytest -m "not slow".
pytestmark = pytest.mark.slow


def test_quick_benchmark_writes_results(tmp_path: Path) -> None:
    out, doc = tmp_path / "results", tmp_path / "performance.md"
    doc.write_text("# P\n<!-- bench:results:start -->\nold\n<!-- bench:results:end -->\nend\n")
    args = ["--quick", "--latency", "0.01", "--out", str(out), "--work", str(tmp_path / "w")]
    args += ["--scale", "60"]
    assert main([*args, "--docs", str(doc)]) == 0
    data: dict[str, Any] = json.loads((out / "quick.json").read_text())
    assert (out / "quick.png").read_bytes().startswith(b"\x89PNG")
    table = (out / "quick.md").read_text()
    assert "| target | goal | result | met |" in table
    spliced = doc.read_text()
    assert table.strip() in spliced and "old" not in spliced
    assert spliced.startswith("# P\n<!-- bench:results:start -->") and spliced.endswith("end\n")

    assert data["sizes"] == [40] and data["runs"] == 1 and data["latency_s"] == 0.01
    pages, turtle, fibo, scaled = data["full_sync"]
    assert [r["corpus"] for r in data["full_sync"]] == [
        "visionflow-40",
        "turtle-40",
        "fibo-30",
        "visionflow-60",
    ]
    assert (fibo["ours"]["files"], scaled["ours"]["files"]) == (30, 61)
    assert len(scaled["ours"]["runs"]) == 1 and "batch" not in scaled
    # One page changed after the full sync of the largest --sizes corpus: one file
    # synced, with head, tree and one blob.
    one = pages["one_change"]
    assert [r["files"] for r in one["runs"]] == [1] and one["requests"] == 3
    assert "one_change" not in scaled and "one_change" not in turtle
    ours = pages["ours"]
    assert ours["files"] == 41  # 40 pages and the JSON-LD context document
    # The branch's tarball, then the archive from codeload, then the tree: the context
    # document comes out of the archive like the pages.
    for run in (ours, turtle["ours"], fibo["ours"], scaled["ours"]):
        assert (run["requests_api"], run["requests_codeload"]) == (2, 1)
    for run in (pages, turtle, fibo, scaled):
        assert run["reconcile"]["requests"] == 2  # head and tree: nothing else to fetch
        assert run["reconcile"]["files"] == 0
    # Listing the root, pages/, static/, static/ns/, then one request per file.
    for kind in ("batch", "streaming"):
        assert pages[kind]["files"] == 41
        assert pages[kind]["requests"] == 4 + 41
    for figures in (ours, pages["batch"], pages["streaming"]):
        assert 0 < figures["seconds"] < 60
        assert figures["files_per_s"] > 0
        assert 10 < figures["maxrss_mb"] <= figures["tree_rss_mb"] < 2000

    service = data["service"]
    assert service["push_1"]["requests"] == 3  # head, tree, one blob
    assert service["push_20"]["requests"] == 4  # head, tree, tarball, codeload
    for key in ("push_1", "push_20"):
        assert 0 < service[key]["p50_s"] < 30
    ack = service["ack"]
    assert (ack["senders"], ack["samples"]) == (50, 100)
    assert 0 < ack["p50_s"] <= ack["p99_s"] <= ack["max_s"] < 30

    assert [p["corpus"] for p in data["parsing"]] == ["visionflow-40", "turtle-40", "fibo-30"]
    for parse, files in zip(data["parsing"], (40, 40, 30), strict=True):
        assert parse["ours"]["files_ok"] == files
        assert parse["rdflib"]["triples"] > 0 and parse["pyoxigraph"]["triples"] > 0
    # The FIBO-shaped modules (RDF/XML with DTD entities, and Turtle): both read them all.
    assert data["parsing"][2]["rdflib"]["triples"] == data["parsing"][2]["pyoxigraph"]["triples"]

    ratios = data["ratios"]
    assert set(ratios) == {"visionflow-40/batch", "visionflow-40/streaming"}
    assert all(not math.isnan(r["speedup"]) and r["speedup"] > 0 for r in ratios.values())
    names = [t["goal"] for t in data["targets"]]
    assert names == [
        ">= 30x faster than (b)",
        "<= 3 GitHub requests",
        "peak RSS < 120 MB",
        "<= 2 requests, < 1 s",
        "ack -> committed p50 < 250 ms",
        "p99 < 25 ms",
        "within 15 %",
        "flat (within 1.5x)",
        "synced in < 1 s",
        "<= 0.5x naive rdflib parsing its blocks",
        "within 2x of pyoxigraph parsing the files",
        "within 2x of pyoxigraph parsing the files",
        "within 3x of pyoxigraph",
        "within 3x of pyoxigraph",
        "within 3x of pyoxigraph",
    ]
    assert "| scale curve (VisionFlow) |" in table and "| 61 files |" in table
    assert "| visionflow-40 database |" in table
    assert all(isinstance(t["met"], bool) for t in data["targets"])


def _write(conn: sqlite3.Connection, path: str, *props: PropertyDecl) -> None:
    contribution = FileContribution(status="ok", properties=props)
    entry = TreeEntry(path, git_blob_sha(path.encode()), 1)
    with immediate(conn):
        write_batch(conn, "default", 1, [FileWrite(entry, contribution)], "now")


def test_property_rows_come_from_index_seeks_not_scans(tmp_path: Path) -> None:
    """The benchmark found each write re-reading every row of a property all pages use
    (quadratic over a full sync); now each column is one seek in a partial index, with
    the same first-path-wins result whatever the order of writes."""
    iri = "https://example.org/p/relatedTo"
    files = {
        "c.md": PropertyDecl(iri, "ObjectProperty", label="C", range="https://example.org/R"),
        "a.md": PropertyDecl(iri, "ObjectProperty"),
        "b.md": PropertyDecl(iri, "DataProperty", label="B", domain="https://example.org/D"),
        "d.md": PropertyDecl(iri, "ObjectProperty", label="D", domain="https://example.org/X"),
    }
    rows = []
    for order in (sorted(files), sorted(files, reverse=True)):
        db = tmp_path / f"{order[0]}.db"
        migrate(db, make_backup=False)
        conn = connect(db)
        for path in order:
            _write(conn, path, files[path])
        rows.append(
            tuple(
                conn.execute(
                    "SELECT property_type, label, domain, range, source_path FROM owl_properties"
                ).fetchall()
            )
        )
        # a.md gives nothing but the type: taking it away moves source_path, not values.
        with immediate(conn):
            write_batch(conn, "default", 1, [FileDelete("a.md")], "now")
        after = conn.execute("SELECT property_type, source_path FROM owl_properties").fetchone()
        assert tuple(after) == ("DataProperty", "b.md")
        for column in ("label", "domain", "range"):
            plan = " ".join(
                str(r[-1])
                for r in conn.execute(
                    f"EXPLAIN QUERY PLAN SELECT {column} FROM contrib_properties"
                    f" INDEXED BY contrib_properties_{column} WHERE ontology_id = 'default'"
                    f" AND property_iri = ? AND {column} IS NOT NULL ORDER BY path LIMIT 1",
                    (iri,),
                )
            )
            assert f"COVERING INDEX contrib_properties_{column}" in plan, plan
        conn.close()
    expected = (("ObjectProperty", "B", "https://example.org/D", "https://example.org/R", "a.md"),)
    assert [tuple(tuple(r) for r in found) for found in rows] == [expected, expected]


def test_fairness_benchmark_writes_its_table_json_and_chart(tmp_path: Path) -> None:
    from bench.fairness import main as fairness

    out, doc = tmp_path / "results", tmp_path / "performance.md"
    doc.write_text("<!-- bench:fairness:start -->\nold\n<!-- bench:fairness:end -->\n")
    argv = ["--pages", "60", "--runs", "1", "--out", str(out), "--work", str(tmp_path / "w")]
    assert fairness([*argv, "--docs", str(doc)]) == 0
    data: dict[str, Any] = json.loads((out / "fairness.json").read_text())
    assert sorted(data["modes"]) == ["alone", "before", "fair"]
    assert all(len(mode["runs"]) == 1 for mode in data["modes"].values())
    assert data["modes"]["alone"]["big_seconds"] == 0.0
    assert data["modes"]["fair"]["big_seconds"] > 0 and data["modes"]["before"]["big_seconds"] > 0
    assert all(mode["push_seconds"] > 0 for mode in data["modes"].values())
    assert (out / "fairness.png").read_bytes().startswith(b"\x89PNG")
    table = (out / "fairness.md").read_text()
    assert "| writer | push queued -> synced | against the push alone | the big sync |" in table
    assert table.strip() in doc.read_text() and "old" not in doc.read_text()
    assert (tmp_path / "fairness.png").is_file()  # copied beside the docs
