"""Compare databases row for row, timestamps aside: the spec's invariant, as code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# The ontology and graph tables the invariant speaks of, plus source_files.
INVARIANT_TABLES = (
    "owl_classes",
    "owl_class_hierarchy",
    "owl_properties",
    "owl_axioms",
    "kg_nodes",
    "kg_edges",
    "source_files",
    "owl_individuals",
    # The triple layer: statement_files is statements joined to the files that assert
    # them (ids aside: they depend on the order rows were inserted), and the closure.
    "statement_files",
    "entailed_edge",
    "prefix",
)
TIMESTAMP_COLUMNS = frozenset({"last_synced", "created_at", "updated_at", "synced_at"})

Snapshot = dict[str, list[tuple[object, ...]]]


def snapshot(db: Path | sqlite3.Connection, tables: tuple[str, ...] = INVARIANT_TABLES) -> Snapshot:
    conn = sqlite3.connect(str(db)) if isinstance(db, Path) else db
    try:
        out: Snapshot = {}
        for table in tables:
            columns = [
                row[1]
                for row in conn.execute(f"PRAGMA table_info({table})")
                if row[1] not in TIMESTAMP_COLUMNS
            ]
            rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            out[table] = sorted((tuple(r) for r in rows), key=repr)
        return out
    finally:
        if isinstance(db, Path):
            conn.close()


def diff(left: Snapshot, right: Snapshot, limit: int = 10) -> list[str]:
    """Human-readable differences, empty when the snapshots are equal."""
    problems = []
    for table in sorted(set(left) | set(right)):
        a, b = set(left.get(table, [])), set(right.get(table, []))
        for row in sorted(a - b, key=repr)[:limit]:
            problems.append(f"{table}: only left  {row}")
        for row in sorted(b - a, key=repr)[:limit]:
            problems.append(f"{table}: only right {row}")
        if len(left.get(table, [])) != len(a) or len(right.get(table, [])) != len(b):
            problems.append(f"{table}: duplicate rows")
    return problems
