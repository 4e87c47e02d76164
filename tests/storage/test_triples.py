"""The triple layer end to end (issue 12): every triple kept, as rdflib reads it; CURIEs
from a prefix map that does not depend on the files; which file asserted what; the
closure, exact and kept incrementally; the VisionFlow tables projected from the same
triples. Real git repositories and SQLite files, the syncer run as `syncer sync` runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef

from syncer.config import Settings
from syncer.formats.prefixes import prefix_map
from syncer.formats.triples import XSD_STRING
from syncer.storage import closure
from syncer.storage.db import WRITER_CACHE_KIB, connect
from syncer_dev.gitrepo import GitRepo
from syncer_dev.snapshot import diff, snapshot
from tests.support.obo_fixture import FILES, OBO, PREFIXES
from tests.support.runs import fresh_db, run_sync, settings_for

RDF_FORMATS = {".ttl": "turtle", ".owl": "xml"}


def settings(repo: GitRepo, db: Path) -> Settings:
    return settings_for(repo, db, prefixes=PREFIXES)


def rows(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return [tuple(r) for r in conn.execute(sql, args)]


def curie(term: object) -> str:
    return prefix_map(PREFIXES).compress(str(term))


def expected_rows(text: str, fmt: str) -> tuple[set[tuple[object, ...]], int]:
    """What rdflib reads, as statements rows: ground triples as a set, the count of
    triples with a blank node."""
    graph = Graph()
    graph.parse(data=text, format=fmt)
    ground: set[tuple[object, ...]] = set()
    blank = 0
    for s, p, o in graph:
        if isinstance(s, BNode) or isinstance(o, BNode):
            blank += 1
            continue
        if isinstance(o, Literal):
            datatype = None if o.datatype in (None, URIRef(XSD_STRING)) else curie(o.datatype)
            ground.add((curie(s), curie(p), None, str(o), datatype, o.language))
        else:
            ground.add((curie(s), curie(p), curie(o), None, None, None))
    return ground, blank


def test_statements_hold_every_triple_rdflib_reads_file_by_file(
    git_repo: GitRepo, db_path: Path
) -> None:
    git_repo.commit_files(FILES)
    assert run_sync(settings(git_repo, db_path)).status == "done"
    for path, text in FILES.items():
        ground, blank = expected_rows(text, RDF_FORMATS[Path(path).suffix])
        stored = rows(
            db_path,
            "SELECT subject, predicate, object, value, datatype, language FROM statement_files"
            " WHERE path = ?",
            path,
        )
        assert {r for r in stored if "_:" not in f"{r[0]}{r[2]}"} == ground, path
        assert sum(1 for r in stored if "_:" in f"{r[0]}{r[2]}") == blank, path
    # One row per distinct triple of the union, whatever number of files state it.
    total = rows(db_path, "SELECT count(*) FROM statements")[0][0]
    distinct = rows(
        db_path,
        "SELECT count(*) FROM (SELECT DISTINCT subject, predicate, object, value, datatype,"
        " language FROM statements)",
    )[0][0]
    assert total == distinct == 39


def test_curies_follow_obo_and_the_configured_prefixes(git_repo: GitRepo, db_path: Path) -> None:
    git_repo.commit_files(FILES)
    run_sync(settings(git_repo, db_path))
    assert rows(
        db_path,
        "SELECT subject, predicate, value FROM statements"
        " WHERE predicate = 'IAO:0000115' ORDER BY subject",
    ) == [
        ("TST:0000001", "IAO:0000115", "A part of an organism."),
        ("TST:0000002", "IAO:0000115", "A structure made of tissues that does one job."),
        ("TST:0000003", "IAO:0000115", "A muscular organ that pumps blood."),
    ]
    assert rows(
        db_path, "SELECT prefix, base FROM prefix WHERE prefix IN ('IAO', 'oio', 'TST')"
    ) == [
        ("IAO", OBO + "IAO_"),
        ("TST", OBO + "TST_"),
        ("oio", "http://www.geneontology.org/formats/oboInOwl#"),
    ]
    # An IRI under no prefix is written whole, as rdftab does.
    assert rows(db_path, "SELECT object FROM statements WHERE predicate = 'owl:imports'") == [
        ("obo:ro.owl",)
    ]


def test_the_prefix_table_does_not_depend_on_the_files(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.commit_files({"one.ttl": FILES["src/ontology/core.ttl"]})
    small = fresh_db(tmp_path, "small")
    run_sync(settings(git_repo, small))
    git_repo.commit_files(FILES)
    large = fresh_db(tmp_path, "large")
    run_sync(settings(git_repo, large))
    table = rows(small, "SELECT prefix, base FROM prefix ORDER BY prefix")
    assert table == rows(large, "SELECT prefix, base FROM prefix ORDER BY prefix")
    assert len(table) > 250


def test_closure_rows_are_exact(git_repo: GitRepo, db_path: Path) -> None:
    git_repo.commit_files(FILES)
    run_sync(settings(git_repo, db_path))
    heart = rows(
        db_path,
        "SELECT predicate, object FROM entailed_edge WHERE subject = 'TST:0000003'"
        " ORDER BY predicate, object",
    )
    assert heart == [
        # part of some cardiovascular system, lifted on both sides...
        ("BFO:0000050", "TST:0000001"),
        ("BFO:0000050", "TST:0000004"),
        # ... and through the property's parent
        ("RO:0002131", "TST:0000001"),
        ("RO:0002131", "TST:0000004"),
        ("rdfs:subClassOf", "TST:0000001"),
        ("rdfs:subClassOf", "TST:0000002"),
        ("rdfs:subClassOf", "TST:0000003"),
    ]
    assert rows(
        db_path,
        "SELECT predicate, object FROM entailed_edge WHERE subject = 'TST:0000005' ORDER BY object",
    ) == [("rdf:type", "TST:0000001"), ("rdf:type", "TST:0000002"), ("rdf:type", "TST:0000003")]
    assert rows(
        db_path,
        "SELECT object FROM entailed_edge WHERE subject = 'BFO:0000050'"
        " AND predicate = 'rdfs:subPropertyOf' ORDER BY object",
    ) == [("BFO:0000050",), ("RO:0002131",)]


def test_visionflow_tables_are_projected_from_the_same_triples(
    git_repo: GitRepo, db_path: Path
) -> None:
    git_repo.commit_files(FILES)
    run_sync(settings(git_repo, db_path))
    assert rows(
        db_path,
        "SELECT class_iri, label, definition, declared FROM owl_classes WHERE class_iri = ?",
        OBO + "TST_0000003",
    ) == [(OBO + "TST_0000003", "heart", "A muscular organ that pumps blood.", 1)]
    assert rows(db_path, "SELECT property_iri, property_type, label FROM owl_properties") == [
        (OBO + "BFO_0000050", "ObjectProperty", "part of"),
        (OBO + "RO_0002131", "ObjectProperty", "overlaps"),
    ]
    assert rows(db_path, "SELECT individual_iri, class_iri, label FROM owl_individuals") == [
        (OBO + "TST_0000005", OBO + "TST_0000003", "the heart of specimen 5")
    ]
    # The restriction is named by its blank node, which statements describes.
    (restriction,) = rows(
        db_path,
        "SELECT object FROM owl_axioms WHERE subject = ? AND object GLOB '_:*'",
        OBO + "TST_0000003",
    )[0]
    assert rows(
        db_path,
        "SELECT predicate, object FROM statements WHERE subject = ? ORDER BY predicate",
        restriction,
    ) == [
        ("owl:onProperty", "BFO:0000050"),
        ("owl:someValuesFrom", "TST:0000004"),
        ("rdf:type", "owl:Restriction"),
    ]
    assert rows(db_path, "SELECT path, status FROM source_files ORDER BY path") == [
        (path, "ok") for path in sorted(FILES)
    ]


def test_which_file_asserted_a_triple_and_the_last_one_takes_it_away(
    git_repo: GitRepo, db_path: Path
) -> None:
    triple = '<https://example.org/t/a> <https://example.org/t/b> "shared" .\n'
    git_repo.commit_files({"one.nt": triple, "two.nt": triple})
    config = settings(git_repo, db_path)
    run_sync(config)
    query = (
        "SELECT path FROM statement_files WHERE subject = '<https://example.org/t/a>' ORDER BY path"
    )
    assert rows(db_path, query) == [("one.nt",), ("two.nt",)]
    # A file with triples but no class, property or axiom is ok, never skipped.
    assert rows(db_path, "SELECT status FROM source_files") == [("ok",), ("ok",)]
    git_repo.delete("one.nt")
    git_repo.commit()
    run_sync(config)
    assert rows(db_path, query) == [("two.nt",)]
    git_repo.delete("two.nt")
    git_repo.commit()
    run_sync(config)
    assert rows(db_path, "SELECT count(*) FROM statements") == [(0,)]


@pytest.mark.slow
def test_incremental_equals_fresh_through_edits_renames_deletes_and_breaks(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    db = fresh_db(tmp_path, "live")
    config = settings(git_repo, db)
    core = FILES["src/ontology/core.ttl"]
    steps: list[dict[str, str | None]] = [
        dict(FILES),
        # cardiovascular system moves under organ: the heart's filler ancestors change
        {
            "src/ontology/core.ttl": core.replace(
                'obo:TST_0000004 a owl:Class ;\n    rdfs:label "cardiovascular system"@en ;\n'
                "    rdfs:subClassOf obo:TST_0000001 .",
                'obo:TST_0000004 a owl:Class ;\n    rdfs:label "cardiovascular system"@en ;\n'
                "    rdfs:subClassOf obo:TST_0000002 .",
            )
        },
        # a rename: the restriction's blank node gets a new label
        {"src/ontology/heart.owl": None, "src/anatomy/heart.owl": FILES["src/ontology/heart.owl"]},
        # the property file goes: no more lifting through overlaps
        {"src/ontology/properties.ttl": None},
        # a broken file: failed, its triples gone, nothing else changed
        {"data/individuals.ttl": "obo:TST_0000005 a <<< not turtle"},
        {"data/individuals.ttl": FILES["data/individuals.ttl"]},
    ]
    for number, step in enumerate(steps):
        for path, text in step.items():
            if text is None:
                git_repo.delete(path)
        git_repo.commit_files({p: t for p, t in step.items() if t is not None})
        assert run_sync(config).status == "done"
        reference = fresh_db(tmp_path, f"fresh{number}")
        run_sync(settings(git_repo, reference))
        assert diff(snapshot(db), snapshot(reference)) == [], f"after step {number}"
        if number == 1:
            assert ("RO:0002131", "TST:0000002") in rows(
                db, "SELECT predicate, object FROM entailed_edge WHERE subject = 'TST:0000003'"
            )
        if number == 4:
            assert rows(
                db, "SELECT status FROM source_files WHERE path = 'data/individuals.ttl'"
            ) == [("failed",)]
            assert rows(
                db, "SELECT count(*) FROM statement_files WHERE path = 'data/individuals.ttl'"
            ) == [(0,)]


def test_an_empty_closure_is_filled_with_its_indexes_built_after_and_the_same_rows(
    git_repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.commit_files(FILES)
    chunked, bulk = fresh_db(tmp_path, "chunked"), fresh_db(tmp_path, "bulk")
    indexes = (
        "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
        " AND tbl_name = 'entailed_edge' ORDER BY name"
    )
    created = rows(bulk, indexes)
    assert [name for name, _ in created] == ["entailed_edge_object", "entailed_edge_relation"]
    monkeypatch.setattr(closure, "BULK_MIN_NODES", 10**9)
    run_sync(settings(git_repo, chunked))
    fills: list[int] = []
    fill = closure._fill_empty
    monkeypatch.setattr(closure, "BULK_MIN_NODES", 0)
    monkeypatch.setattr(closure, "_fill_empty", lambda c, n: fills.append(1) or fill(c, n))
    run_sync(settings(git_repo, bulk))
    assert fills == [1]
    assert rows(bulk, indexes) == created
    everything = "SELECT * FROM entailed_edge ORDER BY 1, 2, 3"
    assert len(rows(bulk, everything)) == 19
    assert rows(bulk, everything) == rows(chunked, everything)
    # A later run finds the table filled: the rows of what it touched, in chunks.
    git_repo.delete("src/ontology/properties.ttl")
    git_repo.commit_files({})
    assert run_sync(settings(git_repo, bulk)).status == "done"
    assert fills == [1]
    reference = fresh_db(tmp_path, "reference")
    run_sync(settings(git_repo, reference))
    assert diff(snapshot(bulk), snapshot(reference)) == []


def test_a_new_prefix_map_reads_every_file_again_and_equals_a_fresh_sync(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    git_repo.commit_files(FILES)
    db = fresh_db(tmp_path, "live")
    first = run_sync(settings_for(git_repo, db))
    assert (first.status, first.processed) == ("done", len(FILES))
    assert rows(db, "SELECT count(*) FROM statements WHERE subject = 'obo:TST_0000003'") != [(0,)]
    # Nothing changed in the repository, but SYNCER_PREFIXES now names TST.
    again = run_sync(settings(git_repo, db))
    assert (again.status, again.processed, again.unchanged) == ("done", len(FILES), 0)
    assert rows(db, "SELECT count(*) FROM statements WHERE subject = 'obo:TST_0000003'") == [(0,)]
    reference = fresh_db(tmp_path, "reference")
    run_sync(settings(git_repo, reference))
    assert diff(snapshot(db), snapshot(reference)) == []
    # The same map again: nothing to do.
    last = run_sync(settings(git_repo, db))
    assert (last.processed, last.unchanged) == (0, len(FILES))


def test_filling_an_empty_closure_gives_the_page_cache_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(closure, "BULK_MIN_NODES", 0)
    conn = connect(fresh_db(tmp_path, "cache"))
    try:
        (before,) = conn.execute("PRAGMA cache_size").fetchone()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO statements (stanza, subject, predicate, object)"
            " VALUES ('ex:A', 'ex:A', 'rdfs:subClassOf', 'ex:B')"
        )
        closure.recompute(conn, {"ex:A", "ex:B"})
        conn.execute("COMMIT")
        assert tuple(conn.execute("PRAGMA cache_size").fetchone()) == (before,)
        assert before == -WRITER_CACHE_KIB != closure.SORTER_CACHE
        assert [tuple(r) for r in conn.execute("SELECT * FROM entailed_edge ORDER BY 1, 3")] == [
            ("ex:A", "rdfs:subClassOf", "ex:A"),
            ("ex:A", "rdfs:subClassOf", "ex:B"),
            ("ex:B", "rdfs:subClassOf", "ex:B"),
        ]
    finally:
        conn.close()
