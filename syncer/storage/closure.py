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
# From this many nodes on, an empty entailed_edge is filled with its indexes built after
# (_fill_empty); below it the DDL is not worth it.
BULK_MIN_NODES = 2000
SORTER_CACHE = -1024  # KiB, while _fill_empty builds the indexes

_TYPE_VOCABULARIES = ("owl:", "rdf:", "rdfs:")
_CLASS_TYPES = frozenset({"owl:Class", "rdfs:Class"})
_PROPERTY_TYPES = frozenset(
    {"owl:ObjectProperty", "owl:DatatypeProperty", "owl:AnnotationProperty", "rdf:Property"}
)
_EDGE_PREDICATES = (
    "rdfs:subClassOf",
    "rdfs:subPropertyOf",
    "rdf:type",
    "owl:onProperty",
    "owl:someValuesFrom",
)


def _named(node: str) -> bool:
    return not node.startswith("_:")


class _Graph:
    """The direct edges the closure walks, read from ``statements`` node by node as the
    walk reaches them and kept for one chunk of nodes.

    Walked in Python rather than in one recursive CTE per chunk: the CTE re-walked every
    node's ancestors through temp B-trees and cost 4.2 s of FIBO's 13 s sync (py-spy,
    issue 13); here each look-up is one index probe (``statements_spo``) and the walks
    are plain set operations.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._out: dict[str, dict[str, list[str]]] = {}
        self._up: dict[tuple[str, str], frozenset[str]] = {}
        self._lifted: dict[str, frozenset[tuple[str, str]]] = {}

    def out(self, node: str, predicate: str) -> list[str]:
        edges = self._out.get(node)
        if edges is None:
            edges = {}
            for pred, obj in self._conn.execute(
                "SELECT predicate, object FROM statements INDEXED BY statements_spo"
                " WHERE subject = ? AND predicate IN (?,?,?,?,?) AND object IS NOT NULL",
                (node, *_EDGE_PREDICATES),
            ):
                edges.setdefault(pred, []).append(obj)
            self._out[node] = edges
        return edges.get(predicate, [])

    def up(self, node: str, predicate: str) -> frozenset[str]:
        """``node`` and everything named above it by ``predicate`` (cycles are fine)."""
        known = self._up.get((node, predicate))
        if known is not None:
            return known
        seen = {node}
        todo = [node]
        while todo:
            for parent in self.out(todo.pop(), predicate):
                if _named(parent) and parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        found = self._up[(node, predicate)] = frozenset(seen)
        return found

    def lifted(self, cls: str) -> frozenset[tuple[str, str]]:
        """(R', B') for each ``cls rdfs:subClassOf [owl:onProperty R; owl:someValuesFrom
        B]``, R' above R and B' above B: kept per class, as every class below it needs it."""
        known = self._lifted.get(cls)
        if known is not None:
            return known
        pairs: set[tuple[str, str]] = set()
        for restriction in self.out(cls, "rdfs:subClassOf"):
            if _named(restriction):
                continue
            fillers = [f for f in self.out(restriction, "owl:someValuesFrom") if _named(f)]
            for prop in self.out(restriction, "owl:onProperty"):
                if not _named(prop):
                    continue
                for relation in self.up(prop, "rdfs:subPropertyOf"):
                    for filler in fillers:
                        pairs.update((relation, t) for t in self.up(filler, "rdfs:subClassOf"))
        found = self._lifted[cls] = frozenset(pairs)
        return found

    def _is_object_of(self, node: str, predicate: str) -> bool:
        return (
            self._conn.execute(
                "SELECT 1 FROM statements INDEXED BY statements_o WHERE object = ?"
                " AND predicate = ? AND subject NOT GLOB '_:*' LIMIT 1",
                (node, predicate),
            ).fetchone()
            is not None
        )

    def _reflexive(self, node: str, predicate: str, types: frozenset[str]) -> bool:
        # A class (property) is one typed so, or on either side of a named edge.
        return (
            any(t in types for t in self.out(node, "rdf:type"))
            or any(_named(p) for p in self.out(node, predicate))
            or self._is_object_of(node, predicate)
        )

    def edges(self, node: str) -> set[tuple[str, str, str]]:
        """Every ``entailed_edge`` row of ``node`` (see the module docstring)."""
        rows: set[tuple[str, str, str]] = set()
        up = self.up(node, "rdfs:subClassOf")
        rows.update((node, "rdfs:subClassOf", a) for a in up if a != node)
        if self._reflexive(node, "rdfs:subClassOf", _CLASS_TYPES):
            rows.add((node, "rdfs:subClassOf", node))
        pup = self.up(node, "rdfs:subPropertyOf")
        rows.update((node, "rdfs:subPropertyOf", a) for a in pup if a != node)
        if self._reflexive(node, "rdfs:subPropertyOf", _PROPERTY_TYPES):
            rows.add((node, "rdfs:subPropertyOf", node))
        for kind in self.out(node, "rdf:type"):
            if _named(kind) and not kind.startswith(_TYPE_VOCABULARIES):
                rows.update((node, "rdf:type", a) for a in self.up(kind, "rdfs:subClassOf"))
        for ancestor in up:
            rows.update((node, relation, t) for relation, t in self.lifted(ancestor))
        return rows


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
    named = (n for n in nodes if _named(n))
    if (
        len(nodes) >= BULK_MIN_NODES
        and not conn.execute("SELECT 1 FROM entailed_edge LIMIT 1").fetchone()
    ):
        _fill_empty(conn, named)
        return
    for chunk in _chunks(named):
        conn.execute(
            "DELETE FROM entailed_edge WHERE subject IN (SELECT value FROM json_each(?))",
            (json.dumps(chunk),),
        )
        _insert(conn, chunk)


def _insert(conn: sqlite3.Connection, chunk: list[str]) -> None:
    graph = _Graph(conn)  # per chunk, so memory stays bounded on any repository
    conn.executemany(
        "INSERT OR IGNORE INTO entailed_edge (subject, predicate, object) VALUES (?,?,?)",
        (row for node in chunk for row in sorted(graph.edges(node))),
    )


def _fill_empty(conn: sqlite3.Connection, nodes: Iterable[str]) -> None:
    """Fill an empty ``entailed_edge`` (an initial sync, a forced rebuild) with its
    secondary indexes dropped and built again afterwards from their own stored SQL.

    Rows arrive sorted by subject, so the table's own B-tree grows at its end, but the
    index by object took them in random order: on the FIBO-shaped benchmark ontology the
    140,000 rows took 1.56 s to insert with the indexes and 0.32 s + 0.54 s to build them
    after (issue 13). DDL is transactional in SQLite: readers keep seeing the last commit
    with its indexes, and an error rolls the drop back with the rest of the transaction.
    """
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
        " AND tbl_name = 'entailed_edge' AND sql IS NOT NULL ORDER BY name"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    for chunk in _chunks(nodes):
        _insert(conn, chunk)
    # SQLite's sorter may hold as much as the page cache in memory while it builds an
    # index: with the writer's 8 MiB that was 10 MB more peak RSS at 10,000 pages, so the
    # cache is shrunk meanwhile and the sorter spills to temporary files sooner.
    (cache,) = conn.execute("PRAGMA cache_size").fetchone()
    conn.execute(f"PRAGMA cache_size = {SORTER_CACHE}")
    try:
        for _, sql in indexes:
            conn.execute(sql)
    finally:
        conn.execute(f"PRAGMA cache_size = {int(cache)}")


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
