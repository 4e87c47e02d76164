"""Derive the public tables from the per-file contributions, for given keys only.

Rules (docs/mapping.md explains them for users):
- ``owl_classes``: one row per IRI that some file declares (``declared = 1``; label and
  comment from the first path, in byte order, that gives one) or that some hierarchy row
  names (``declared = 0``, so the foreign keys hold). A row goes when neither is true.
- ``owl_class_hierarchy``: the union of every file's edges, a ``[[Page]]`` parent resolved
  to the primary class of the first path whose page has that key, else its fallback IRI.
- ``owl_properties`` / ``owl_axioms``: the union of every file's, first path wins on
  disagreeing columns; an axiom's id is a SHA-256 of its key, the same in every database.
- ``kg_nodes``: every page key some file has (present) or some link names (not present);
  ``kg_edges``: the union of the links of the files that share the source page's key.
Because every rule picks by path and never by arrival, the result is independent of the
order in which files were written.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

AxiomKey = tuple[str, str, str]


@dataclass
class Affected:
    class_iris: set[str] = field(default_factory=set)
    children: set[str] = field(default_factory=set)
    properties: set[str] = field(default_factory=set)
    axioms: set[AxiomKey] = field(default_factory=set)
    pages: set[str] = field(default_factory=set)
    link_targets: set[str] = field(default_factory=set)
    individuals: set[str] = field(default_factory=set)

    def update(self, other: Affected) -> None:
        """In place: a batch gathers its files' keys without copying what it has."""
        self.individuals |= other.individuals
        self.class_iris |= other.class_iris
        self.children |= other.children
        self.properties |= other.properties
        self.axioms |= other.axioms
        self.pages |= other.pages
        self.link_targets |= other.link_targets


def _json(values: Any) -> str:
    return json.dumps(sorted(values), ensure_ascii=False)


def axiom_id(oid: str, key: AxiomKey) -> str:
    return hashlib.sha256("\x00".join((oid, *key)).encode()).hexdigest()


_RESOLVED_EDGES = """
SELECT DISTINCT e.child_iri,
       CASE WHEN e.parent_page = '' THEN e.parent_iri ELSE COALESCE(
           (SELECT p.primary_class FROM contrib_pages p INDEXED BY contrib_pages_key
             WHERE p.ontology_id = e.ontology_id AND p.page_key = e.parent_page
               AND p.primary_class IS NOT NULL
             ORDER BY p.path LIMIT 1),
           e.parent_iri) END
  FROM contrib_edges e
 WHERE e.ontology_id = ? AND e.child_iri IN (SELECT value FROM json_each(?))
"""

_UPSERT_CLASSES = """
INSERT INTO owl_classes (ontology_id, class_iri, label, comment, definition, file_sha1,
                         source_path, declared, last_synced, created_at, updated_at)
SELECT :oid, k.value,
       (SELECT c.label FROM contrib_classes c INDEXED BY contrib_classes_iri
         WHERE c.ontology_id = :oid
          AND c.class_iri = k.value AND c.label IS NOT NULL ORDER BY c.path LIMIT 1),
       (SELECT c.comment FROM contrib_classes c INDEXED BY contrib_classes_iri
         WHERE c.ontology_id = :oid
          AND c.class_iri = k.value AND c.comment IS NOT NULL ORDER BY c.path LIMIT 1),
       (SELECT c.definition FROM contrib_classes c INDEXED BY contrib_classes_iri
         WHERE c.ontology_id = :oid
          AND c.class_iri = k.value AND c.definition IS NOT NULL ORDER BY c.path LIMIT 1),
       (SELECT s.blob_sha FROM contrib_classes c INDEXED BY contrib_classes_iri JOIN source_files s
           ON s.ontology_id = c.ontology_id AND s.path = c.path
         WHERE c.ontology_id = :oid AND c.class_iri = k.value ORDER BY c.path LIMIT 1),
       (SELECT c.path FROM contrib_classes c INDEXED BY contrib_classes_iri
         WHERE c.ontology_id = :oid
          AND c.class_iri = k.value ORDER BY c.path LIMIT 1),
       EXISTS (SELECT 1 FROM contrib_classes c INDEXED BY contrib_classes_iri
         WHERE c.ontology_id = :oid
          AND c.class_iri = k.value),
       :now, :now, :now
  FROM json_each(:keys) k WHERE true
ON CONFLICT (ontology_id, class_iri) DO UPDATE SET
       label = excluded.label, comment = excluded.comment, definition = excluded.definition,
       file_sha1 = excluded.file_sha1,
       source_path = excluded.source_path, declared = excluded.declared,
       last_synced = excluded.last_synced, updated_at = excluded.updated_at
 WHERE owl_classes.label IS NOT excluded.label OR owl_classes.comment IS NOT excluded.comment
    OR owl_classes.definition IS NOT excluded.definition
    OR owl_classes.file_sha1 IS NOT excluded.file_sha1
    OR owl_classes.source_path IS NOT excluded.source_path
    OR owl_classes.declared IS NOT excluded.declared
"""

_DROP_UNUSED_CLASSES = """
DELETE FROM owl_classes
 WHERE ontology_id = :oid AND class_iri IN (SELECT value FROM json_each(:keys))
   AND NOT EXISTS (SELECT 1 FROM contrib_classes c
                    WHERE c.ontology_id = :oid AND c.class_iri = owl_classes.class_iri)
   AND NOT EXISTS (SELECT 1 FROM owl_class_hierarchy h
                    WHERE h.ontology_id = :oid AND h.class_iri = owl_classes.class_iri)
   AND NOT EXISTS (SELECT 1 FROM owl_class_hierarchy h
                    WHERE h.ontology_id = :oid AND h.parent_iri = owl_classes.class_iri)
"""


def _recompute_classes(conn: sqlite3.Connection, oid: str, aff: Affected, now: str) -> None:
    children = set(aff.children)
    if aff.pages:
        # Edges naming one of these pages follow it when it changes its class.
        children.update(
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT child_iri FROM contrib_edges WHERE ontology_id = ?"
                " AND parent_page IN (SELECT value FROM json_each(?))",
                (oid, _json(aff.pages)),
            )
        )
    iris = set(aff.class_iris) | children
    new_rows: list[tuple[str, str]] = []
    if children:
        keys = _json(children)
        iris.update(
            r[0]
            for r in conn.execute(
                "SELECT parent_iri FROM owl_class_hierarchy WHERE ontology_id = ?"
                " AND class_iri IN (SELECT value FROM json_each(?))",
                (oid, keys),
            )
        )
        new_rows = [(r[0], r[1]) for r in conn.execute(_RESOLVED_EDGES, (oid, keys))]
        for child, parent in new_rows:
            iris.update((child, parent))
    if not iris:
        return
    keys = _json(iris)
    conn.execute(_UPSERT_CLASSES, {"oid": oid, "keys": keys, "now": now})
    if children:
        conn.execute(
            "DELETE FROM owl_class_hierarchy WHERE ontology_id = ?"
            " AND class_iri IN (SELECT value FROM json_each(?))",
            (oid, _json(children)),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO owl_class_hierarchy (ontology_id, class_iri, parent_iri)"
            " VALUES (?,?,?)",
            [(oid, c, p) for c, p in new_rows],
        )
    conn.execute(_DROP_UNUSED_CLASSES, {"oid": oid, "keys": keys})


def _recompute_properties(conn: sqlite3.Connection, oid: str, props: set[str], now: str) -> None:
    if not props:
        return
    keys = _json(props)
    conn.execute(
        "DELETE FROM owl_properties WHERE ontology_id = ?"
        " AND property_iri IN (SELECT value FROM json_each(?))",
        (oid, keys),
    )
    # Index seeks per key (migration 0003): popular properties have a row in every file,
    # and reading them all on every write made a full sync quadratic.
    first: dict[str, dict[str, Any]] = {}
    for iri in sorted(props):
        args = (oid, iri)
        row = conn.execute(
            "SELECT path, property_type FROM contrib_properties INDEXED BY contrib_properties_iri"
            " WHERE ontology_id = ? AND property_iri = ? ORDER BY path LIMIT 1",
            args,
        ).fetchone()
        if row is None:
            continue
        agg: dict[str, Any] = {"path": row[0], "type": row[1]}
        for column in ("label", "domain", "range"):
            value = conn.execute(
                f"SELECT {column} FROM contrib_properties INDEXED BY contrib_properties_{column}"
                f" WHERE ontology_id = ? AND property_iri = ? AND {column} IS NOT NULL"
                " ORDER BY path LIMIT 1",
                args,
            ).fetchone()
            agg[column] = None if value is None else value[0]
        first[iri] = agg
    conn.executemany(
        "INSERT INTO owl_properties (ontology_id, property_iri, label, property_type, domain,"
        " range, source_path, last_synced) VALUES (?,?,?,?,?,?,?,?)",
        [
            (oid, iri, a.get("label"), a["type"], a.get("domain"), a.get("range"), a["path"], now)
            for iri, a in first.items()
        ],
    )


def _recompute_axioms(conn: sqlite3.Connection, oid: str, axioms: set[AxiomKey], now: str) -> None:
    if not axioms:
        return
    conn.execute(
        # By id alone (it hashes the ontology id in): with "ontology_id = ?" as well,
        # SQLite's planner picks the subject index and scans the whole ontology.
        "DELETE FROM owl_axioms WHERE id IN (SELECT value FROM json_each(?))",
        (_json(axiom_id(oid, k) for k in axioms),),
    )
    # The keys go into a temp table and are joined to contrib_axioms in one statement
    # (CROSS JOIN keeps them the outer loop, so each is one index look-up; a join against
    # json_each would scan contrib_axioms). One query per key cost 10,834 round trips
    # for 974 pages (issue 13's profile).
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS axiom_keys (axiom_type TEXT, subject TEXT, object TEXT)"
    )
    conn.execute("DELETE FROM temp.axiom_keys")
    conn.executemany("INSERT INTO temp.axiom_keys VALUES (?,?,?)", axioms)
    first: dict[AxiomKey, tuple[str, str | None]] = {}
    for axiom_type, subject, obj, path, notes in conn.execute(
        "SELECT c.axiom_type, c.subject, c.object, c.path, c.annotations"
        "  FROM temp.axiom_keys k CROSS JOIN contrib_axioms c INDEXED BY contrib_axioms_key"
        "    ON c.ontology_id = ? AND c.axiom_type = k.axiom_type AND c.subject = k.subject"
        "   AND c.object = k.object"
        " ORDER BY c.axiom_type, c.subject, c.object, c.path",
        (oid,),
    ):
        key = (axiom_type, subject, obj)
        seen = first.get(key)
        if seen is None:
            first[key] = (path, notes)
        elif seen[1] is None and notes is not None:
            # The first file's path; the first annotations any file (by path) gives.
            first[key] = (seen[0], notes)
    conn.execute("DELETE FROM temp.axiom_keys")
    conn.executemany(
        "INSERT INTO owl_axioms (id, ontology_id, axiom_type, subject, object, annotations,"
        " source_path, last_synced) VALUES (?,?,?,?,?,?,?,?)",
        [(axiom_id(oid, k), oid, *k, ann, path, now) for k, (path, ann) in first.items()],
    )


def _recompute_graph(conn: sqlite3.Connection, oid: str, aff: Affected, now: str) -> None:
    node_keys = aff.pages | aff.link_targets
    if not node_keys:
        return
    keys = _json(node_keys)
    rows: dict[str, tuple[Any, ...]] = {}
    for r in conn.execute(
        "SELECT page_key, title, path, aliases, public, primary_class"
        " FROM contrib_pages INDEXED BY contrib_pages_key"
        " WHERE ontology_id = ? AND page_key IN (SELECT value FROM json_each(?))"
        " ORDER BY page_key, path",
        (oid, keys),
    ):
        rows.setdefault(r[0], (r[1], r[2], r[3], r[4], 1, r[5]))
    missing = node_keys - rows.keys()
    if missing:
        for r in conn.execute(
            "SELECT target_key, target_title FROM contrib_links INDEXED BY contrib_links_target"
            " WHERE ontology_id = ?"
            " AND target_key IN (SELECT value FROM json_each(?))"
            " ORDER BY target_key, path, kind",
            (oid, _json(missing)),
        ):
            rows.setdefault(r[0], (r[1], None, None, None, 0, None))
    conn.executemany(
        "INSERT INTO kg_nodes (ontology_id, id, title, path, aliases, public, present, class_iri,"
        " last_synced) VALUES (?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (ontology_id, id) DO UPDATE SET title = excluded.title,"
        " path = excluded.path, aliases = excluded.aliases, public = excluded.public,"
        " present = excluded.present, class_iri = excluded.class_iri,"
        " last_synced = excluded.last_synced"
        " WHERE kg_nodes.title IS NOT excluded.title OR kg_nodes.path IS NOT excluded.path"
        " OR kg_nodes.aliases IS NOT excluded.aliases OR kg_nodes.public IS NOT excluded.public"
        " OR kg_nodes.present IS NOT excluded.present"
        " OR kg_nodes.class_iri IS NOT excluded.class_iri",
        [(oid, key, *values, now) for key, values in rows.items()],
    )
    if aff.pages:
        sources = _json(aff.pages)
        conn.execute(
            "DELETE FROM kg_edges WHERE ontology_id = ?"
            " AND source_id IN (SELECT value FROM json_each(?))",
            (oid, sources),
        )
        conn.execute(
            "INSERT OR IGNORE INTO kg_edges (ontology_id, source_id, target_id, kind)"
            " SELECT p.ontology_id, p.page_key, l.target_key, l.kind FROM contrib_pages p"
            " JOIN contrib_links l ON l.ontology_id = p.ontology_id AND l.path = p.path"
            " WHERE p.ontology_id = ? AND p.page_key IN (SELECT value FROM json_each(?))",
            (oid, sources),
        )
    conn.execute(
        "DELETE FROM kg_nodes WHERE ontology_id = :oid AND id IN (SELECT value FROM json_each(:k))"
        " AND NOT EXISTS (SELECT 1 FROM contrib_pages p WHERE p.ontology_id = :oid"
        " AND p.page_key = kg_nodes.id) AND NOT EXISTS (SELECT 1 FROM contrib_links l"
        " WHERE l.ontology_id = :oid AND l.target_key = kg_nodes.id)",
        {"oid": oid, "k": keys},
    )


def _recompute_individuals(
    conn: sqlite3.Connection, oid: str, individuals: set[str], now: str
) -> None:
    if not individuals:
        return
    keys = _json(individuals)
    conn.execute(
        "DELETE FROM owl_individuals WHERE ontology_id = ?"
        " AND individual_iri IN (SELECT value FROM json_each(?))",
        (oid, keys),
    )
    # One row per (individual, class); label and source from the first path, as classes.
    first: dict[tuple[str, str], list[Any]] = {}
    for iri, class_iri, path, label in conn.execute(
        "SELECT individual_iri, class_iri, path, label"
        " FROM contrib_individuals INDEXED BY contrib_individuals_key"
        " WHERE ontology_id = ? AND individual_iri IN (SELECT value FROM json_each(?))"
        " ORDER BY individual_iri, class_iri, path",
        (oid, keys),
    ):
        row = first.setdefault((iri, class_iri), [path, label])
        if row[1] is None:
            row[1] = label
    conn.executemany(
        "INSERT INTO owl_individuals (ontology_id, individual_iri, class_iri, label,"
        " source_path, last_synced) VALUES (?,?,?,?,?,?)",
        [(oid, iri, cls, label, path, now) for (iri, cls), (path, label) in first.items()],
    )


def recompute(conn: sqlite3.Connection, oid: str, aff: Affected, now: str) -> None:
    """Bring every derived row for the affected keys in line with the contributions."""
    _recompute_individuals(conn, oid, aff.individuals, now)
    _recompute_classes(conn, oid, aff, now)
    _recompute_properties(conn, oid, aff.properties, now)
    _recompute_axioms(conn, oid, aff.axioms, now)
    _recompute_graph(conn, oid, aff, now)
