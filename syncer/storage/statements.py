"""Writing the triple layer: ``statements``, ``statement_sources`` and ``prefix``.

A file's triples are replaced inside the file's savepoint (store.write_file): its
``statement_sources`` rows go, the triples it states now are added to ``statements``
where missing and pointed at. Triples that lost their last source are removed once, at
the end of the batch (:func:`drop_orphans`), so a triple moved from one file to another
in the same batch is never deleted and re-added. What changed in ``statements`` is
collected for the closure (syncer/storage/closure.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from syncer.storage.closure import CLOSURE_PREDICATES

_INCOMING = """
CREATE TEMP TABLE IF NOT EXISTS incoming (
    stanza TEXT, subject TEXT, predicate TEXT, object TEXT, value TEXT, datatype TEXT,
    language TEXT
)
"""
# `IS` so that NULL equals NULL (semantic-sql keeps object NULL for literals and value
# NULL for nodes); SQLite uses statements_spo / statements_spv for these look-ups.
_MATCH = (
    "s.subject = i.subject AND s.predicate = i.predicate AND s.object IS i.object"
    " AND s.value IS i.value AND s.datatype IS i.datatype AND s.language IS i.language"
)
_ADD_MISSING = f"""
INSERT INTO statements (stanza, subject, predicate, object, value, datatype, language)
SELECT i.stanza, i.subject, i.predicate, i.object, i.value, i.datatype, i.language
  FROM temp.incoming i
 WHERE NOT EXISTS (SELECT 1 FROM statements s WHERE {_MATCH})
RETURNING subject, predicate, object
"""
_POINT = f"""
INSERT OR IGNORE INTO statement_sources (ontology_id, path, statement_id)
SELECT ?, ?, s.id FROM temp.incoming i JOIN statements s ON {_MATCH}
"""


@dataclass
class Changes:
    """What a batch did to ``statements``, for the end of the batch."""

    orphans: set[int] = field(default_factory=set)  # ids that lost a source
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


def add_file(
    conn: sqlite3.Connection,
    oid: str,
    path: str,
    rows: Sequence[tuple[str | None, ...]],
    changes: Changes,
) -> None:
    """Point the file at its triples, adding those ``statements`` does not hold yet."""
    if not rows:
        return
    conn.execute(_INCOMING)
    conn.execute("DELETE FROM temp.incoming")
    conn.executemany("INSERT INTO temp.incoming VALUES (?,?,?,?,?,?,?)", rows)
    for subject, predicate, obj in conn.execute(_ADD_MISSING).fetchall():
        changes.saw(subject, predicate, obj)
    conn.execute(_POINT, (oid, path))
    conn.execute("DELETE FROM temp.incoming")


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
