"""``syncer query`` and ``syncer export``: the database's rows as a table, JSON, NDJSON or
CSV, read with sqlite-utils (``storage/exports.py``). For browsing, datasette and the
sqlite-utils CLI read the same file (docs/operations.md)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any, TextIO

from syncer.config import Settings

FORMATS = ("table", "json", "ndjson", "csv")


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("query", "run a read-only SQL query against the database")
    p.add_argument("sql", help="one SELECT statement (the database is opened read-only)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_query)
    p = command("export", "write every row of a table or view")
    p.add_argument("table", help="a table or view, e.g. owl_classes, statements, entailed_edge")
    p.add_argument("--format", choices=FORMATS[1:], default="csv")
    p.add_argument("--where", help="an SQL condition, e.g. \"predicate = 'rdfs:subClassOf'\"")
    p.add_argument("--limit", type=int)
    p.set_defaults(func=cmd_export)


def cmd_query(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here: sqlite-utils imports pandas when it is installed (oaklib brings
    # it), 0.7 s that every other command, `syncer sync` included, would pay at start.
    from syncer.storage import exports

    db = exports.open_readonly(settings.db_path)
    try:
        write(exports.query(db, args.sql), args.format, sys.stdout)
    finally:
        db.conn.close()
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from syncer.storage import exports  # imported here: see cmd_query

    db = exports.open_readonly(settings.db_path)
    try:
        write(
            exports.rows(db, args.table, where=args.where, limit=args.limit),
            args.format,
            sys.stdout,
        )
    finally:
        db.conn.close()
    return 0


def write(rows: Iterable[dict[str, Any]], fmt: str, out: TextIO) -> None:
    """Stream the rows out: nothing holds the whole result but the terminal table."""
    it: Iterator[dict[str, Any]] = iter(rows)
    first = next(it, None)
    if first is None:
        if fmt == "json":
            out.write("[]\n")
        return
    rows = chain([first], it)
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(first), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    elif fmt == "ndjson":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    elif fmt == "json":
        out.write("[")
        for i, row in enumerate(rows):
            out.write(
                ("," if i else "") + "\n  " + json.dumps(row, ensure_ascii=False, default=str)
            )
        out.write("\n]\n")
    else:
        from syncer.cli.terminal import print_rows

        print_rows(list(rows), out)
