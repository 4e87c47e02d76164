"""Writing the triple layer: ``statements``, ``statement_sources`` and ``prefix``.

A file's triples are replaced inside the file's savepoint (store.write_file): its
``statement_sources`` rows go and the triples it states now are staged in
``temp.incoming`` (:func:`stage_file`). At the end of the batch, :func:`add_staged` adds
the staged triples ``statements`` lacks and points their files at them, set-based, once
for the whole batch (issue 13: one statement per batch, not three per file), then
:func:`drop_orphans` removes the triples that lost their last source, so a triple moved
from one file to another in the same batch is never deleted and re-added. A file whose
savepoint is rolled back takes its staged rows with it (the temp database shares the
transaction). What changed in ``statements`` is collected for the closure
(syncer/storage/closure.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from syncer.storage.closure import CLOSURE_PREDICATES

_INCOMING = """
CREATE TEMP TABLE IF NOT EXISTS incoming (
    path TEXT, stanza TEXT, subject TEXT, predicate TEXT, object TEXT, value TEXT, datatype TEXT,
    language TEXT
)
"""
# `IS` so that NULL equals NULL (semantic-sql keeps object NULL for literals and value
# NULL for nodes); SQLite uses statements_spo / statements_spv for these look-ups. The
# stanza is compared too: under one prefix map it follows from the triple (below), but a
# new map (SYNCER_PREFIXES changed) renames a blank node's owner while its own triples
# keep their CURIEs, and without it they kept the old stanza for good (a test in
# tests/storage/test_triples.py found it).
_MATCH = (
    "s.subject = i.subject AND s.predicate = i.predicate AND s.object IS i.object"
    " AND s.value IS i.value AND s.datatype IS i.datatype AND s.language IS i.language"
    " AND s.stanza IS i.stanza"
)
# Grouped: two files of a batch may state the same triple, and the NOT EXISTS test sees
# only what was there before this statement (SQLite materialises a SELECT that reads the
# table it inserts into). A triple's stanza is the same in every file that states it
# (its subject, or a blank node's named owner, and blank nodes are per file).
_ADD_MISSING = f"""
INSERT INTO statements (stanza, subject, predicate, object, value, datatype, language)
SELECT i.stanza, i.subject, i.predicate, i.object, i.value, i.datatype, i.language
  FROM temp.incoming i
 WHERE NOT EXISTS (SELECT 1 FROM statements s WHERE {_MATCH})
 GROUP BY i.stanza, i.subject, i.predicate, i.object, i.value, i.datatype, i.language
RETURNING subject, predicate, object
"""
_POINT = f"""
INSERT OR IGNORE INTO statement_sources (ontology_id, path, statement_id)
SELECT ?, i.path, s.id FROM temp.incoming i JOIN statements s ON {_MATCH}
"""


@dataclass
class Changes:
    """What a batch did to ``statements``, for the end of the batch."""

    orphans: set[int] = field(default_factory=set)  # ids that lost a source
    staged: set[str] = field(default_factory=set)  # paths with rows in temp.incoming
    subjects: set[str] = field(default_factory=set)  # closure inputs that changed
    objects: set[str] = field(default_factory=set)

    def saw(self, subject: str, predicate: str, obj: str | None) -> None:
        if predicate in CLOSURE_PREDICATES:
            self.subjects.add(subject)
            if obj is not None and predicate != "rdf:type":
                self.objects.add(obj)


def forget_file(conn: sqlite3.Connection, oid: str, path: str, changes: Changes) -> None:
    """Drop the file's sources; its triples become candidates for removal."""
    changes.orphans.update(
        r[0]
        for r in conn.execute(
            "DELETE FROM statement_sources WHERE ontology_id = ? AND path = ?"
            " RETURNING statement_id",
            (oid, path),
        ).fetchall()
    )


def stage_file(
    conn: sqlite3.Connection,
    path: str,
    rows: Sequence[tuple[str | None, ...]],
    changes: Changes,
) -> None:
    """Stage the file's triples; :func:`add_staged` stores them at the end of the batch."""
    if not rows:
        return
    conn.execute(_INCOMING)
    conn.executemany(
        "INSERT INTO temp.incoming VALUES (?,?,?,?,?,?,?,?)", [(path, *row) for row in rows]
    )
    changes.staged.add(path)


def add_staged(conn: sqlite3.Connection, oid: str, changes: Changes) -> None:
    """Add the staged triples ``statements`` lacks and point each staging file at its own."""
    if not changes.staged:
        return
    for subject, predicate, obj in conn.execute(_ADD_MISSING).fetchall():
        changes.saw(subject, predicate, obj)
    conn.execute(_POINT, (oid,))
    conn.execute("DELETE FROM temp.incoming")
    changes.staged.clear()


def drop_orphans(conn: sqlite3.Connection, changes: Changes) -> None:
    """Remove the triples no file states any more (end of batch)."""
    if not changes.orphans:
        return
    ids = sorted(changes.orphans)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        marks = ",".join("?" * len(chunk))
        removed = conn.execute(
            f"DELETE FROM statements WHERE id IN ({marks}) AND NOT EXISTS"
            " (SELECT 1 FROM statement_sources f WHERE f.statement_id = statements.id)"
            " RETURNING subject, predicate, object",
            chunk,
        ).fetchall()
        for subject, predicate, obj in removed:
            changes.saw(subject, predicate, obj)
    changes.orphans.clear()


def drop_unsourced(conn: sqlite3.Connection) -> int:
    """Remove every triple without a source (forced runs: repairs any drift)."""
    return conn.execute(
        "DELETE FROM statements WHERE NOT EXISTS"
        " (SELECT 1 FROM statement_sources f WHERE f.statement_id = statements.id)"
    ).rowcount


def sync_prefixes(
    conn: sqlite3.Connection, fingerprint: str, table_of: Callable[[], dict[str, str]]
) -> bool:
    """Make ``prefix`` hold the map ``table_of`` builds, unless ``fingerprint`` says the
    stored one was built from the same inputs. True when the stored map differed (then the
    CURIEs in ``statements`` were written with another map: every file must be read again)."""
    stored = conn.execute("SELECT fingerprint FROM prefix_source").fetchone()
    if stored is not None and stored[0] == fingerprint:
        return False
    table = table_of()
    current = dict(conn.execute("SELECT prefix, base FROM prefix").fetchall())
    conn.execute(
        "INSERT INTO prefix_source (id, fingerprint) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint",
        (fingerprint,),
    )
    if current == table:
        return False
    conn.execute("DELETE FROM prefix")
    conn.executemany("INSERT INTO prefix (prefix, base) VALUES (?, ?)", sorted(table.items()))
    return bool(current) or bool(conn.execute("SELECT 1 FROM statement_sources LIMIT 1").fetchone())
