"""Markdown pages end to end: status, the knowledge graph, text quirks, and page links
that follow the pages they name through `syncer sync`, in any order of events."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.formats import ParseOptions, parse_file
from syncer.model import ClassDecl, PageLink
from syncer.values import ContextSource
from syncer_dev.gitrepo import GitRepo
from syncer_dev.snapshot import diff, snapshot
from tests.support.paths import FIXTURES
from tests.support.runs import fresh_db, run_sync, settings_for, shuffler

OUTLINE = FIXTURES / "pages" / "outline"
JSONLD = FIXTURES / "pages" / "jsonld"
P = "urn:syncer:page:"
MV = "urn:syncer:ns:mv:"


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute(sql).fetchall(), key=repr)


def parents(db: Path, child: str) -> list[str]:
    return sorted(
        str(r[0])
        for r in rows(db, f"SELECT parent_iri FROM owl_class_hierarchy WHERE class_iri = '{child}'")
    )


def copy_pages(repo: GitRepo, *folders: Path) -> None:
    for folder in folders:
        for page in folder.glob("*.md"):
            target = repo.path / "pages" / page.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, target)


def test_text_quirks_bom_crlf_invalid_utf8_no_trailing_newline() -> None:
    data = (
        b"\xef\xbb\xbfpublic:: true\r\n\r\n- ### OntologyBlock\r\n  - owl:class:: mv:X\xff\r\n  - x"
    )
    c = parse_file("pages/Quirky.md", data, ParseOptions())
    assert c.status == "ok"
    assert c.classes == (ClassDecl(MV + "X\ufffd", "Quirky", None),)
    assert c.page is not None and c.page.public is True
    assert c.warnings == ("not valid UTF-8 (byte 61); undecodable bytes replaced",)


def test_a_data_file_saved_as_markdown_is_read_by_its_content() -> None:
    jsonld = (
        b'{"@context": {"owl": "http://www.w3.org/2002/07/owl#"},'
        b' "@id": "urn:t:a", "@type": "owl:Class", "urn:t:see": "[[Not A Link]]"}'
    )
    c = parse_file("pages/Data.md", jsonld, ParseOptions())
    assert (c.status, c.format, c.classes, c.links) == (
        "ok",
        "markdown/json-ld",
        (ClassDecl("urn:t:a"),),
        (),
    )
    turtle = b"@prefix owl: <http://www.w3.org/2002/07/owl#> .\n<urn:t:b> a owl:Class .\n"
    c = parse_file("pages/Turtle.md", turtle, ParseOptions())
    assert (c.status, c.format, c.classes) == ("ok", "markdown/turtle", (ClassDecl("urn:t:b"),))


def test_every_page_is_a_node_even_an_empty_one() -> None:
    c = parse_file("pages/Empty.md", b"", ParseOptions())
    assert (c.status, c.error) == ("skipped", "no ontology content; kept as a knowledge-graph page")
    assert c.page is not None and (c.page.key, c.page.title) == ("empty", "Empty")


def test_links_in_properties_prose_fences_and_comments() -> None:
    text = (
        "title:: The Real Title\n"
        "- related:: [[A]], [[B|bee]] and [[ C ]]\n"
        "- prose [[A]] `[[code]]` [[]]\n"
        '```json-ld\n{"raw": "[[InFence]]"}\n```\n'
    )
    c = parse_file("pages/links.md", text.encode(), ParseOptions())
    assert c.page is not None and c.page.title == "The Real Title" and c.page.key == "links"
    assert c.links == (
        PageLink("a", "A", "link"),
        PageLink("a", "A", "related"),
        PageLink("b", "B", "related"),
        PageLink("c", "C", "related"),
    )


def test_sample_like_outline_pages_through_sync(tmp_path: Path, git_repo: GitRepo) -> None:
    copy_pages(git_repo, OUTLINE)
    git_repo.commit()
    db = fresh_db(tmp_path, "outline")
    result = run_sync(settings_for(git_repo, db))
    assert result.failed == 0
    statuses = dict((str(k), str(v)) for k, v in rows(db, "SELECT path, status FROM source_files"))
    assert statuses["pages/Prose Only.md"] == "skipped"
    assert {v for k, v in statuses.items() if "Citizens" not in k and "Prose" not in k} == {"ok"}
    # [[Gadget Base]] resolves to the class that page mints; [[OB-0002-thing]] to the
    # owl:class of ob-0002-thing.md (case-insensitively); [[Name/Sub?]] to Name___Sub%3F.md.
    assert parents(db, MV + "Widget") == [P + "gadget%20base", P + "tooling%20system"]
    # [[OB-0002-thing]] and [[bc:Thing2]] meet in one row.
    assert parents(db, P + "linker") == sorted(
        [
            P + "citizens’%20forum",
            P + "plain%20page",
            MV + "NameSub",
            "urn:syncer:ns:bc:Thing2",
            "urn:syncer:ns:unknownns:Base",
        ]
    )
    declared = dict(
        (str(k), int(str(v))) for k, v in rows(db, "SELECT class_iri, declared FROM owl_classes")
    )
    assert declared[P + "tooling%20system"] == 0 and declared[P + "gadget%20base"] == 1
    nodes = {
        str(r[0]): (r[1], r[2]) for r in rows(db, "SELECT id, present, class_iri FROM kg_nodes")
    }
    assert nodes["gadget base"] == (1, P + "gadget%20base")
    assert nodes["missing page"] == (0, None)
    assert nodes["citizens' forum"] == (1, None) and nodes["citizens’ forum"] == (1, None)
    assert ("prose only", "missing page", "link") in rows(
        db, "SELECT source_id, target_id, kind FROM kg_edges"
    )


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.slow
def test_page_links_follow_the_page_through_add_rename_change_delete(
    tmp_path: Path, git_repo: GitRepo, seed: int
) -> None:
    child = "- ### OntologyBlock\n  - owl:class:: mv:Child\n  - is-subclass-of:: [[Parent Page]]\n"
    git_repo.commit_files({"pages/Child.md": child})
    db = fresh_db(tmp_path, "incremental")
    settings = settings_for(git_repo, db)
    steps = [
        ({}, P + "parent%20page"),  # no such page: the fallback, not declared
        ({"pages/Parent Page.md": "- ### OntologyBlock\n  - owl:class:: mv:P1\n"}, MV + "P1"),
        ({"pages/Parent Page.md": "- ### OntologyBlock\n  - owl:class:: mv:P2\n"}, MV + "P2"),
        ({"pages/Parent Page.md": "- ### OntologyBlock\n  - term-id:: X\n"}, P + "parent%20page"),
    ]
    for files, expected in steps:
        if files:
            git_repo.commit_files(files)
        run_sync(settings, order=shuffler(seed))
        assert parents(db, MV + "Child") == [expected]
    git_repo.write({"pages/Parent Page.md": "- ### OntologyBlock\n  - owl:class:: mv:P3\n"})
    git_repo.commit()
    git_repo.rename("pages/Parent Page.md", "pages/parent page.md")  # same key
    git_repo.commit()
    run_sync(settings, order=shuffler(seed))
    assert parents(db, MV + "Child") == [MV + "P3"]
    git_repo.rename("pages/parent page.md", "pages/Other Name.md")
    git_repo.commit()
    run_sync(settings, order=shuffler(seed))
    assert parents(db, MV + "Child") == [P + "parent%20page"]
    git_repo.delete("pages/Other Name.md")
    git_repo.commit()
    run_sync(settings, order=shuffler(seed))
    assert parents(db, MV + "Child") == [P + "parent%20page"]
    fresh = fresh_db(tmp_path, "fresh")
    run_sync(settings_for(git_repo, fresh))
    assert diff(snapshot(db), snapshot(fresh)) == []


def test_json_ld_pages_with_a_repository_context_and_cycles(
    tmp_path: Path, git_repo: GitRepo
) -> None:
    copy_pages(git_repo, JSONLD)
    context = (FIXTURES / "contexts" / "standin-class-context.jsonld").read_text()
    git_repo.commit_files({"ns/class-context.jsonld": context})
    db = fresh_db(tmp_path, "jsonld")
    source = ContextSource(
        "https://example.org/ns/class-context.jsonld", "repo", "ns/class-context.jsonld"
    )
    settings = settings_for(git_repo, db, jsonld_contexts=(source,))
    run_sync(settings)
    statuses = dict((str(k), str(v)) for k, v in rows(db, "SELECT path, status FROM source_files"))
    assert statuses["pages/Only Broken.md"] == "failed"
    assert statuses["pages/Sprocket.md"] == "ok"
    # The 2-cycle is stored as two rows; nothing walks it.
    assert parents(db, "urn:example:class:loop-a") == ["urn:example:class:loop-b"]
    assert parents(db, "urn:example:class:loop-b") == ["urn:example:class:loop-a"]
    enables = "<https://example.org/standin/ns#enables> <urn:example:class:chain-drive>"
    assert rows(db, f"SELECT subject FROM owl_axioms WHERE object = '{enables}'") == [
        ("urn:example:class:sprocket",)
    ]
    # Changing the context file in the repository redoes the pages that used it.
    git_repo.commit_files(
        {"ns/class-context.jsonld": context.replace('"st:enables"', '"st:powers"')}
    )
    run_sync(settings)
    powers = enables.replace("#enables", "#powers")
    assert rows(db, f"SELECT subject FROM owl_axioms WHERE object = '{powers}'") == [
        ("urn:example:class:sprocket",)
    ]
    fresh = fresh_db(tmp_path, "jsonld-fresh")
    run_sync(settings_for(git_repo, fresh, jsonld_contexts=(source,)))
    assert diff(snapshot(db), snapshot(fresh)) == []


PIECES = [
    "\n",
    "- ",
    "\t",
    "  ",
    "```",
    "```json-ld\n",
    "```clojure\n",
    "```turtle\n",
    "~~~",
    "[[",
    "]]",
    "|",
    "::",
    " owl:class:: ",
    "is-subclass-of:: ",
    "mv:A",
    "### OntologyBlock",
    "{",
    "}",
    '"@context": ',
    '"@id": "urn:a", ',
    '"@type": "Class"',
    "SubClassOf(",
    "(SubClassOf :A :B)",
    ")",
    "`",
    "%2F",
    "é",
    "\r\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=3).filter(lambda t: "\x00" not in t)))
@pytest.mark.slow
def test_any_page_parses_to_a_contribution_without_raising(pieces: list[str]) -> None:
    c = parse_file(
        "pages/Fuzz.md", "".join(pieces).encode("utf-8", "surrogatepass"), ParseOptions()
    )
    assert c.status in ("ok", "failed", "skipped")
    assert (c.page is None) == (c.status == "failed")


@pytest.mark.parametrize(
    "text",
    [
        "[![build](https://ci.example/badge.svg)](https://ci.example)\n\n# My ontology\n",
        "[[Some Page]] is where it starts.\n",
        "# Notes\n\nNothing but prose, and [a link](https://example.org).\n",
    ],
    ids=["badge", "wikilink", "prose"],
)
def test_markdown_without_an_rdf_block_is_skipped_whatever_its_first_line(text: str) -> None:
    c = parse_file("README.md", text.encode(), ParseOptions())
    assert (c.status, c.error, c.statements) == (
        "skipped",
        "no ontology content; kept as a knowledge-graph page",
        (),
    )
