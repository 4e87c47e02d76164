"""``entailed_edge``: the closure semantic-sql's relation-graph computes, kept per push.

For a named entity X (CURIEs, as in ``statements``):
- X ``rdfs:subClassOf`` A for every A in up*(X): up is named ``rdfs:subClassOf``, and the
  edge to X itself is there when X is a class (typed ``owl:Class`` / ``rdfs:Class``, or on
  either side of a named ``rdfs:subClassOf``);
- X ``rdfs:subPropertyOf`` Q likewise, for properties;
- X ``rdf:type`` A for every named type C of X outside the OWL/RDF/RDFS vocabularies and
  every A in up*(C) (types lifted);
- X R' B' when some A in up*(X) has ``rdfs:subClassOf [owl:onProperty R;
  owl:someValuesFrom B]``, B' in up*(B) and R' in R's ``rdfs:subPropertyOf``
  closure (existential restrictions lifted on both sides; R is not chained with itself:
  relation-graph does that only for transitive R, which we leave out).

Kept per run (issue 12, "a push recomputes what it touches, not the world"): batches note
the nodes whose triples changed (:func:`note`, table ``closure_pending``) and the end of
the run recomputes what depends on them once (:func:`catch_up`). X's edges
depend only on the direct edges of the nodes its old closure names, as objects (its
ancestors and its fillers' ancestors) or as predicates (its properties' ancestors). So
when a batch changes the triples about a set D of nodes, the entities to recompute are D
and every X with an old ``entailed_edge`` (X, p, o) where o or p is in D; nodes named only
as objects of changed edges get their own (cheap) row set recomputed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

# The predicates whose triples feed the closure, as statements holds them.
CLOSURE_PREDICATES = frozenset({"rdfs:subClassOf", "rdfs:subPropertyOf", "rdf:type"})
_CHUNK = 5000

_COMPUTE = """
WITH RECURSIVE
seed(node) AS (SELECT value FROM json_each(:nodes)),
up(node, anc) AS (
    SELECT node, node FROM seed
    UNION
    SELECT up.node, s.object FROM up JOIN statements s INDEXED BY statements_spo
        ON s.subject = up.anc AND s.predicate = 'rdfs:subClassOf'
     WHERE s.object NOT GLOB '_:*'
),
pup(node, anc) AS (
    SELECT node, node FROM seed
    UNION
    SELECT pup.node, s.object FROM pup JOIN statements s INDEXED BY statements_spo
        ON s.subject = pup.anc AND s.predicate = 'rdfs:subPropertyOf'
     WHERE s.object NOT GLOB '_:*'
),
typed(node, anc) AS (
    SELECT s.subject, s.object FROM seed JOIN statements s INDEXED BY statements_spo
        ON s.subject = seed.node AND s.predicate = 'rdf:type'
     WHERE s.object NOT GLOB '_:*' AND s.object NOT GLOB 'owl:*'
       AND s.object NOT GLOB 'rdf:*' AND s.object NOT GLOB 'rdfs:*'
    UNION
    SELECT typed.node, s.object FROM typed JOIN statements s INDEXED BY statements_spo
        ON s.subject = typed.anc AND s.predicate = 'rdfs:subClassOf'
     WHERE s.object NOT GLOB '_:*'
),
some(node, prop, filler) AS (
    SELECT up.node, p.object, f.object
      FROM up
      JOIN statements sc INDEXED BY statements_spo
        ON sc.subject = up.anc AND sc.predicate = 'rdfs:subClassOf'
      JOIN statements p INDEXED BY statements_spo
        ON p.subject = sc.object AND p.predicate = 'owl:onProperty'
      JOIN statements f INDEXED BY statements_spo
        ON f.subject = sc.object AND f.predicate = 'owl:someValuesFrom'
     WHERE sc.object GLOB '_:*' AND p.object NOT GLOB '_:*' AND f.object NOT GLOB '_:*'
),
fillers(node, prop, anc) AS (
    SELECT node, prop, filler FROM some
    UNION
    SELECT fillers.node, fillers.prop, s.object FROM fillers
      JOIN statements s INDEXED BY statements_spo
        ON s.subject = fillers.anc AND s.predicate = 'rdfs:subClassOf'
     WHERE s.object NOT GLOB '_:*'
),
props(prop, anc) AS (
    SELECT DISTINCT prop, prop FROM some
    UNION
    SELECT props.prop, s.object FROM props JOIN statements s INDEXED BY statements_spo
        ON s.subject = props.anc AND s.predicate = 'rdfs:subPropertyOf'
     WHERE s.object NOT GLOB '_:*'
)
SELECT node, 'rdfs:subClassOf', anc FROM up WHERE node <> anc
UNION
SELECT node, 'rdfs:subClassOf', node FROM seed WHERE
    EXISTS (SELECT 1 FROM statements s INDEXED BY statements_spo
             WHERE s.subject = seed.node AND s.predicate = 'rdf:type'
               AND s.object IN ('owl:Class', 'rdfs:Class'))
    OR EXISTS (SELECT 1 FROM statements s INDEXED BY statements_spo
                WHERE s.subject = seed.node AND s.predicate = 'rdfs:subClassOf'
                  AND s.object NOT GLOB '_:*')
    OR EXISTS (SELECT 1 FROM statements s INDEXED BY statements_o
                WHERE s.object = seed.node AND s.predicate = 'rdfs:subClassOf'
                  AND s.subject NOT GLOB '_:*')
UNION
SELECT node, 'rdfs:subPropertyOf', anc FROM pup WHERE node <> anc
UNION
SELECT node, 'rdfs:subPropertyOf', node FROM seed WHERE
    EXISTS (SELECT 1 FROM statements s INDEXED BY statements_spo
             WHERE s.subject = seed.node AND s.predicate = 'rdf:type'
               AND s.object IN ('owl:ObjectProperty', 'owl:DatatypeProperty',
                                'owl:AnnotationProperty', 'rdf:Property'))
    OR EXISTS (SELECT 1 FROM statements s INDEXED BY statements_spo
                WHERE s.subject = seed.node AND s.predicate = 'rdfs:subPropertyOf'
                  AND s.object NOT GLOB '_:*')
    OR EXISTS (SELECT 1 FROM statements s INDEXED BY statements_o
                WHERE s.object = seed.node AND s.predicate = 'rdfs:subPropertyOf'
                  AND s.subject NOT GLOB '_:*')
UNION
SELECT node, 'rdf:type', anc FROM typed
UNION
SELECT fillers.node, props.anc, fillers.anc FROM fillers JOIN props ON props.prop = fillers.prop
"""


def _chunks(items: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def dependents(conn: sqlite3.Connection, changed: set[str]) -> set[str]:
    """``changed`` and every entity whose current closure names one of them."""
    found = set(changed)
    for chunk in _chunks(changed):
        keys = json.dumps(chunk)
        found.update(
            r[0]
            for r in conn.execute(
                "SELECT subject FROM entailed_edge INDEXED BY entailed_edge_object"
                " WHERE object IN (SELECT value FROM json_each(?))",
                (keys,),
            )
        )
        found.update(
            r[0]
            for r in conn.execute(
                "SELECT subject FROM entailed_edge INDEXED BY entailed_edge_relation"
                " WHERE predicate IN (SELECT value FROM json_each(?)) AND predicate NOT IN"
                " ('rdfs:subClassOf', 'rdf:type', 'rdfs:subPropertyOf')",
                (keys,),
            )
        )
    return {n for n in found if not n.startswith("_:")}


def recompute(conn: sqlite3.Connection, nodes: set[str]) -> None:
    """Replace the ``entailed_edge`` rows of ``nodes`` with what the statements entail."""
    for chunk in _chunks(n for n in nodes if not n.startswith("_:")):
        keys = json.dumps(chunk)
        conn.execute(
            "DELETE FROM entailed_edge WHERE subject IN (SELECT value FROM json_each(?))",
            (keys,),
        )
        conn.execute(
            "INSERT OR IGNORE INTO entailed_edge (subject, predicate, object) " + _COMPUTE,
            {"nodes": keys},
        )


def note(conn: sqlite3.Connection, subjects: set[str], objects: set[str]) -> None:
    """Remember that the triples about ``subjects`` changed (``objects``: the named objects
    of those triples, whose reflexive edge may change), in the batch's transaction."""
    conn.executemany(
        "INSERT INTO closure_pending (node, expand) VALUES (?, 0) ON CONFLICT DO NOTHING",
        [(n,) for n in objects - subjects if not n.startswith("_:")],
    )
    conn.executemany(
        "INSERT INTO closure_pending (node, expand) VALUES (?, 1)"
        " ON CONFLICT DO UPDATE SET expand = 1",
        [(n,) for n in subjects if not n.startswith("_:")],
    )


def catch_up(conn: sqlite3.Connection) -> int:
    """Bring ``entailed_edge`` in line with ``statements`` for every pending node (the end
    of a run): once per run, not once per batch, so an initial sync of thousands of files
    computes each closure once. Returns how many nodes were recomputed."""
    pending = conn.execute("SELECT node, expand FROM closure_pending").fetchall()
    if not pending:
        return 0
    subjects = {node for node, expand in pending if expand}
    nodes = dependents(conn, subjects) | {node for node, expand in pending if not expand}
    recompute(conn, nodes)
    conn.execute("DELETE FROM closure_pending")
    return len(nodes)


def rebuild(conn: sqlite3.Connection) -> None:
    """Every row again, from the statements (forced runs)."""
    conn.execute("DELETE FROM entailed_edge")
    conn.execute("DELETE FROM closure_pending")
    nodes = {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT subject FROM statements WHERE predicate IN"
            " ('rdfs:subClassOf', 'rdfs:subPropertyOf', 'rdf:type') AND subject NOT GLOB '_:*'"
            " UNION SELECT DISTINCT object FROM statements WHERE predicate IN"
            " ('rdfs:subClassOf', 'rdfs:subPropertyOf') AND object NOT GLOB '_:*'"
        )
    }
    recompute(conn, nodes)
