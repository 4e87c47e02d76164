"""Per-file writes: replace what one file contributes; re-derive what a batch touched.

Files are written in batches that share one ``BEGIN IMMEDIATE`` transaction, each file in
its own savepoint (syncer/storage/file_batches.py). :func:`write_file` and :func:`delete_file`
replace one file's contributions and triples and note the keys they touched in the
:class:`Batch`; :func:`finish_batch` then derives the public tables for the union of those
keys once (see derive.py), drops the triples no file states any more and notes what the
closure must catch up on at the end of the run (closure.py), so a batch costs what its
files say, not what the repository holds.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from syncer.model import FileContribution, SourceFileState
from syncer.storage import closure, statements
from syncer.storage.derive import Affected, recompute

_CONTRIB_TABLES = (
    "contrib_classes",
    "contrib_edges",
    "contrib_properties",
    "contrib_axioms",
    "contrib_pages",
    "contrib_links",
    "contrib_individuals",
)


@dataclass
class Batch:
    """What the files written in one transaction touched, derived once at its end."""

    affected: Affected = field(default_factory=Affected)
    changes: statements.Changes = field(default_factory=statements.Changes)

    def merge(self, other: Batch) -> None:
        """Take in what one file's write noted (after its savepoint was released)."""
        self.affected.update(other.affected)
        self.changes.orphans |= other.changes.orphans
        self.changes.staged |= other.changes.staged
        self.changes.subjects |= other.changes.subjects
        self.changes.objects |= other.changes.objects


@dataclass(frozen=True)
class FileRecord:
    """What source_files gets besides the parse outcome."""

    path: str
    blob_sha: str
    size: int | None
    parser_version: int


def _keys_of_path(conn: sqlite3.Connection, oid: str, path: str) -> Affected:
    """The keys a file's current contribution touches (read before replacing it)."""
    args = (oid, path)
    classes = {
        r[0]
        for r in conn.execute(
            "SELECT class_iri FROM contrib_classes WHERE ontology_id=? AND path=?", args
        )
    }
    children = set()
    iris = set(classes)
    for child, parent in conn.execute(
        "SELECT child_iri, parent_iri FROM contrib_edges WHERE ontology_id=? AND path=?", args
    ):
        children.add(child)
        iris.update((child, parent))
    properties = {
        r[0]
        for r in conn.execute(
            "SELECT property_iri FROM contrib_properties WHERE ontology_id=? AND path=?", args
        )
    }
    axioms = {
        tuple(r)
        for r in conn.execute(
            "SELECT axiom_type, subject, object FROM contrib_axioms WHERE ontology_id=? AND path=?",
            args,
        )
    }
    pages = {
        r[0]
        for r in conn.execute(
            "SELECT page_key FROM contrib_pages WHERE ontology_id=? AND path=?", args
        )
    }
    targets = {
        r[0]
        for r in conn.execute(
            "SELECT target_key FROM contrib_links WHERE ontology_id=? AND path=?", args
        )
    }
    individuals = {
        r[0]
        for r in conn.execute(
            "SELECT individual_iri FROM contrib_individuals WHERE ontology_id=? AND path=?", args
        )
    }
    return Affected(
        individuals=individuals,
        class_iris=iris,
        children=children,
        properties=properties,
        axioms={(a, b, c) for a, b, c in axioms},
        pages=pages,
        link_targets=targets,
    )


def _keys_of_contribution(c: FileContribution) -> Affected:
    iris = {d.iri for d in c.classes}
    for edge in c.edges:
        iris.update((edge.child, edge.parent))
    return Affected(
        individuals={i.iri for i in c.individuals},
        class_iris=iris,
        children={e.child for e in c.edges},
        properties={p.iri for p in c.properties},
        axioms={(a.axiom_type, a.subject, a.object) for a in c.axioms},
        pages={c.page.key} if c.page else set(),
        link_targets={link.target_key for link in c.links},
    )


def _insert_contribution(
    conn: sqlite3.Connection, oid: str, path: str, c: FileContribution
) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO contrib_classes (ontology_id, path, class_iri, label, comment,"
        " definition) VALUES (?,?,?,?,?,?)",
        [(oid, path, d.iri, d.label, d.comment, d.definition) for d in c.classes],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO contrib_individuals (ontology_id, path, individual_iri,"
        " class_iri, label) VALUES (?,?,?,?,?)",
        [(oid, path, i.iri, i.class_iri, i.label) for i in c.individuals],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO contrib_edges (ontology_id, path, child_iri, parent_iri,"
        " parent_page) VALUES (?,?,?,?,?)",
        [(oid, path, e.child, e.parent, e.parent_page or "") for e in c.edges],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO contrib_properties (ontology_id, path, property_iri,"
        " property_type, label, domain, range) VALUES (?,?,?,?,?,?,?)",
        [(oid, path, p.iri, p.property_type, p.label, p.domain, p.range) for p in c.properties],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO contrib_axioms (ontology_id, path, axiom_type, subject, object,"
        " annotations) VALUES (?,?,?,?,?,?)",
        [(oid, path, a.axiom_type, a.subject, a.object, a.annotations) for a in c.axioms],
    )
    if c.page is not None:
        page = c.page
        conn.execute(
            "INSERT INTO contrib_pages (ontology_id, path, page_key, title, aliases, public,"
            " primary_class, classes) VALUES (?,?,?,?,?,?,?,?)",
            (
                oid,
                path,
                page.key,
                page.title,
                json.dumps(list(page.aliases), ensure_ascii=False) if page.aliases else None,
                None if page.public is None else int(page.public),
                page.classes[0] if page.classes else None,
                json.dumps(list(page.classes)) if page.classes else None,
            ),
        )
    conn.executemany(
        "INSERT OR IGNORE INTO contrib_links (ontology_id, path, target_key, kind, target_title)"
        " VALUES (?,?,?,?,?)",
        [(oid, path, link.target_key, link.kind, link.target_title) for link in c.links],
    )


def _delete_contribution(conn: sqlite3.Connection, oid: str, path: str) -> None:
    for table in _CONTRIB_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE ontology_id=? AND path=?", (oid, path))


def write_file(
    conn: sqlite3.Connection,
    oid: str,
    record: FileRecord,
    contribution: FileContribution,
    now: str,
    batch: Batch,
) -> None:
    """Replace the file's contribution, triples and source_files row; note what it touched
    in ``batch`` (derived at :func:`finish_batch`)."""
    # A path source_files does not know has no contribution and no triples (both are
    # only ever written with its source_files row): a full sync skips 15 statements a
    # file (issue 13).
    known = conn.execute(
        "SELECT 1 FROM source_files WHERE ontology_id=? AND path=?", (oid, record.path)
    ).fetchone()
    if known:
        batch.affected.update(_keys_of_path(conn, oid, record.path))
        _delete_contribution(conn, oid, record.path)
        statements.forget_file(conn, oid, record.path, batch.changes)
    if contribution.status != "failed":
        _insert_contribution(conn, oid, record.path, contribution)
        statements.stage_file(conn, record.path, contribution.statements, batch.changes)
    conn.execute(
        "INSERT OR REPLACE INTO source_files (ontology_id, path, blob_sha, status, error,"
        " warnings, format, parser_version, size, context_deps, last_synced)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            oid,
            record.path,
            record.blob_sha,
            contribution.status,
            contribution.error,
            json.dumps(list(contribution.warnings), ensure_ascii=False)
            if contribution.warnings
            else None,
            contribution.format,
            record.parser_version,
            record.size,
            json.dumps([list(d) for d in contribution.context_deps])
            if contribution.context_deps
            else None,
            now,
        ),
    )
    if contribution.status != "failed":
        batch.affected.update(_keys_of_contribution(contribution))


def delete_file(conn: sqlite3.Connection, oid: str, path: str, batch: Batch) -> None:
    """Retract exactly what the file contributed and forget it."""
    old = _keys_of_path(conn, oid, path)
    _delete_contribution(conn, oid, path)
    statements.forget_file(conn, oid, path, batch.changes)
    conn.execute("DELETE FROM source_files WHERE ontology_id=? AND path=?", (oid, path))
    batch.affected.update(old)


def add_staged(conn: sqlite3.Connection, oid: str, batch: Batch) -> None:
    """Store the triples the batch's files staged so far (also done by finish_batch)."""
    statements.add_staged(conn, oid, batch.changes)


def finish_batch(conn: sqlite3.Connection, oid: str, batch: Batch, now: str) -> None:
    """Derive once what the batch's files touched: the public tables and the triples that
    lost their last source; note what the closure must catch up on at the end of the run."""
    statements.add_staged(conn, oid, batch.changes)
    recompute(conn, oid, batch.affected, now)
    statements.drop_orphans(conn, batch.changes)
    closure.note(conn, batch.changes.subjects, batch.changes.objects)
    batch.affected = Affected()
    batch.changes = statements.Changes()


def load_file_states(conn: sqlite3.Connection, oid: str) -> dict[str, SourceFileState]:
    """What the planner compares the tree against."""
    states = {}
    for row in conn.execute(
        "SELECT path, blob_sha, parser_version, context_deps FROM source_files WHERE ontology_id=?",
        (oid,),
    ):
        deps = tuple(tuple(d) for d in json.loads(row[3])) if row[3] else ()
        states[row[0]] = SourceFileState(
            path=row[0],
            blob_sha=row[1],
            parser_version=row[2],
            context_deps=deps,
        )
    return states


def rederive_all(conn: sqlite3.Connection, oid: str, now: str) -> None:
    """Recompute every derived row of the ontology from the contributions.

    Removes rows no file backs (for instance rows a legacy database brought along) and
    repairs any drift. Used by forced runs; incremental writes never need it.
    """
    everything = Affected(
        class_iris={
            r[0]
            for r in conn.execute(
                "SELECT class_iri FROM owl_classes WHERE ontology_id=? UNION "
                "SELECT class_iri FROM contrib_classes WHERE ontology_id=? UNION "
                "SELECT child_iri FROM contrib_edges WHERE ontology_id=? UNION "
                "SELECT parent_iri FROM contrib_edges WHERE ontology_id=?",
                (oid,) * 4,
            )
        },
        children={
            r[0]
            for r in conn.execute(
                "SELECT class_iri FROM owl_class_hierarchy WHERE ontology_id=? UNION "
                "SELECT child_iri FROM contrib_edges WHERE ontology_id=?",
                (oid, oid),
            )
        },
        properties={
            r[0]
            for r in conn.execute(
                "SELECT property_iri FROM owl_properties WHERE ontology_id=? UNION "
                "SELECT property_iri FROM contrib_properties WHERE ontology_id=?",
                (oid, oid),
            )
        },
        axioms={
            (r[0], r[1], r[2])
            for r in conn.execute(
                "SELECT axiom_type, subject, object FROM owl_axioms WHERE ontology_id=? UNION "
                "SELECT axiom_type, subject, object FROM contrib_axioms WHERE ontology_id=?",
                (oid, oid),
            )
        },
        pages={
            r[0]
            for r in conn.execute(
                "SELECT id FROM kg_nodes WHERE ontology_id=? UNION "
                "SELECT page_key FROM contrib_pages WHERE ontology_id=?",
                (oid, oid),
            )
        },
        link_targets={
            r[0]
            for r in conn.execute(
                "SELECT target_key FROM contrib_links WHERE ontology_id=?", (oid,)
            )
        },
        individuals={
            r[0]
            for r in conn.execute(
                "SELECT individual_iri FROM owl_individuals WHERE ontology_id=? UNION "
                "SELECT individual_iri FROM contrib_individuals WHERE ontology_id=?",
                (oid, oid),
            )
        },
    )
    recompute(conn, oid, everything, now)
    statements.drop_unsourced(conn)
    closure.rebuild(conn)
