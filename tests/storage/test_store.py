"""Order independence of the derived tables, straight at the store.

Random contributions (classes, page-linked parents, wikilinks, properties, axioms) are
written, rewritten and deleted in random orders; the result must equal writing only
the final contributions, in yet another order, into an empty database.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from syncer.model import (
    Axiom,
    ClassDecl,
    FileContribution,
    PageDecl,
    PageLink,
    PropertyDecl,
    SubclassEdge,
    TreeEntry,
)
from syncer.storage.db import connect, immediate
from syncer.storage.file_batches import FileDelete, FileWrite, Item, write_batch
from syncer.storage.migrate import migrate
from syncer_dev.snapshot import diff, snapshot

NOW = "2026-01-01T00:00:00Z"
PAGES = ["alpha", "beta", "gamma", "delta", "epsilon"]
CLASSES = [f"urn:c:{i}" for i in range(8)]


def fallback(page: str) -> str:
    return f"urn:page:{page}"


def random_contribution(rng: random.Random, path: str) -> FileContribution:
    if rng.random() < 0.1:
        return FileContribution.failed("broken")
    page_key = rng.choice(PAGES)
    classes = tuple(sorted(set(rng.sample(CLASSES, rng.randint(0, 2)))))
    decls = tuple(ClassDecl(c, rng.choice([None, f"{c} in {path}"]), None) for c in classes)
    edges = set()
    for child in classes or (rng.choice(CLASSES),):
        for _ in range(rng.randint(0, 2)):
            if rng.random() < 0.5:
                target = rng.choice(PAGES)
                edges.add(SubclassEdge(child, fallback(target), target))
            else:
                edges.add(SubclassEdge(child, rng.choice(CLASSES)))
    links = {
        PageLink(target, target.title(), rng.choice(["link", "is-subclass-of"]))
        for target in rng.sample([*PAGES, "nowhere"], rng.randint(0, 3))
    }
    return FileContribution(
        status="ok",
        classes=decls,
        edges=tuple(sorted(edges, key=repr)),
        properties=tuple(
            PropertyDecl(f"urn:p:{i}", "ObjectProperty", rng.choice([None, path]))
            for i in rng.sample(range(3), rng.randint(0, 1))
        ),
        axioms=tuple(
            Axiom("EquivalentClass", rng.choice(CLASSES), rng.choice(CLASSES))
            for _ in range(rng.randint(0, 1))
        ),
        page=PageDecl(key=page_key, title=page_key.title(), classes=classes)
        if rng.random() < 0.8
        else None,
        links=tuple(sorted(links, key=repr)),
    )


def write(conn: sqlite3.Connection, path: str, contribution: FileContribution | None) -> None:
    item: Item = (
        FileDelete(path)
        if contribution is None
        else FileWrite(TreeEntry(path, "0" * 40, 1), contribution)
    )
    with immediate(conn):
        write_batch(conn, "default", 1, [item], NOW)


def new_db(tmp_path: Path, name: str) -> sqlite3.Connection:
    path = tmp_path / f"{name}.db"
    migrate(path, make_backup=False)
    return connect(path)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.slow
def test_any_write_order_gives_the_same_tables(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    paths = [f"p{i}.md" for i in range(6)]
    incremental = new_db(tmp_path, "incremental")
    final: dict[str, FileContribution] = {}
    for _ in range(40):
        path = rng.choice(paths)
        if path in final and rng.random() < 0.25:
            write(incremental, path, None)
            del final[path]
        else:
            final[path] = random_contribution(rng, path)
            write(incremental, path, final[path])
    fresh = new_db(tmp_path, "fresh")
    order = list(final)
    rng.shuffle(order)
    for path in order:
        write(fresh, path, final[path])
    assert diff(snapshot(incremental), snapshot(fresh)) == []
    assert incremental.execute("PRAGMA foreign_key_check").fetchall() == []


def test_page_link_follows_the_class_its_page_declares(tmp_path: Path) -> None:
    conn = new_db(tmp_path, "db")
    child = FileContribution(
        status="ok",
        classes=(ClassDecl("urn:c:child"),),
        edges=(SubclassEdge("urn:c:child", fallback("parent"), "parent"),),
        page=PageDecl("child", "Child", classes=("urn:c:child",)),
        links=(PageLink("parent", "Parent", "is-subclass-of"),),
    )
    write(conn, "child.md", child)

    def hierarchy() -> list[tuple[str, str]]:
        return [
            tuple(r)
            for r in conn.execute(
                "SELECT class_iri, parent_iri FROM owl_class_hierarchy ORDER BY 1, 2"
            )
        ]

    def classes() -> list[tuple[str, int]]:
        return [
            tuple(r) for r in conn.execute("SELECT class_iri, declared FROM owl_classes ORDER BY 1")
        ]

    # No page "parent" yet: the fallback IRI, kept as a class not declared.
    assert hierarchy() == [("urn:c:child", "urn:page:parent")]
    assert classes() == [("urn:c:child", 1), ("urn:page:parent", 0)]
    nodes = conn.execute("SELECT id, present FROM kg_nodes ORDER BY id").fetchall()
    assert [tuple(r) for r in nodes] == [("child", 1), ("parent", 0)]

    # The page appears and declares a class: the link follows.
    parent = FileContribution(
        status="ok",
        classes=(ClassDecl("urn:c:P", "P"),),
        page=PageDecl("parent", "Parent", classes=("urn:c:P",)),
    )
    write(conn, "parent.md", parent)
    assert hierarchy() == [("urn:c:child", "urn:c:P")]
    assert classes() == [("urn:c:P", 1), ("urn:c:child", 1)]

    # The page changes its class.
    write(
        conn,
        "parent.md",
        FileContribution(
            status="ok",
            classes=(ClassDecl("urn:c:Q"),),
            page=PageDecl("parent", "Parent", classes=("urn:c:Q",)),
        ),
    )
    assert hierarchy() == [("urn:c:child", "urn:c:Q")]
    assert classes() == [("urn:c:Q", 1), ("urn:c:child", 1)]

    # The page is deleted: back to the fallback.
    write(conn, "parent.md", None)
    assert hierarchy() == [("urn:c:child", "urn:page:parent")]
    assert classes() == [("urn:c:child", 1), ("urn:page:parent", 0)]


def test_labels_come_from_the_first_path_whatever_the_order(tmp_path: Path) -> None:
    conn = new_db(tmp_path, "db")
    for path, label in [("b.ttl", "from b"), ("a.ttl", None), ("c.ttl", "from c")]:
        write(conn, path, FileContribution(status="ok", classes=(ClassDecl("urn:x", label),)))
    row = conn.execute("SELECT label, source_path, declared FROM owl_classes").fetchone()
    assert tuple(row) == ("from b", "a.ttl", 1)
    write(conn, "b.ttl", None)
    row = conn.execute("SELECT label, source_path FROM owl_classes").fetchone()
    assert tuple(row) == ("from c", "a.ttl")


def test_a_cycle_is_stored(tmp_path: Path) -> None:
    conn = new_db(tmp_path, "db")
    write(
        conn,
        "a.ttl",
        FileContribution(
            status="ok", classes=(ClassDecl("urn:a"),), edges=(SubclassEdge("urn:a", "urn:b"),)
        ),
    )
    write(
        conn,
        "b.ttl",
        FileContribution(
            status="ok", classes=(ClassDecl("urn:b"),), edges=(SubclassEdge("urn:b", "urn:a"),)
        ),
    )
    rows = conn.execute("SELECT class_iri, parent_iri FROM owl_class_hierarchy ORDER BY 1")
    assert [tuple(r) for r in rows] == [("urn:a", "urn:b"), ("urn:b", "urn:a")]


def test_a_failed_file_contributes_nothing_and_says_why(tmp_path: Path) -> None:
    conn = new_db(tmp_path, "db")
    write(conn, "a.ttl", FileContribution(status="ok", classes=(ClassDecl("urn:a"),)))
    write(conn, "a.ttl", FileContribution.failed("turtle: bad syntax at line 3"))
    assert conn.execute("SELECT count(*) FROM owl_classes").fetchone()[0] == 0
    row = conn.execute("SELECT path, status, error FROM source_files").fetchone()
    assert tuple(row) == ("a.ttl", "failed", "turtle: bad syntax at line 3")
