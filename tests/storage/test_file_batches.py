"""Files group-committed (issue 13): many files per transaction, each in a savepoint;
a file that fails alone leaves no trace of its own and the batch commits the rest."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from syncer.formats import ParseOptions, parse_file
from syncer.model import TreeEntry, git_blob_sha
from syncer.storage import closure, file_batches
from syncer.storage import files as store
from syncer.storage.db import connect, immediate
from syncer.storage.file_batches import FileCommitter, FileDelete, FileWrite, Written, take_batch
from syncer.storage.writer import Writer

EX = "https://example.org/b/"


def ttl_file(path: str, name: str, parent: str) -> FileWrite:
    data = (
        f"<{EX}{name}> a <http://www.w3.org/2002/07/owl#Class> ;"
        f" <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{EX}{parent}> .\n"
    ).encode()
    entry = TreeEntry(path, git_blob_sha(data), len(data))
    return FileWrite(entry, parse_file(path, data, ParseOptions()))


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_a_file_whose_write_raises_is_recorded_failed_and_the_rest_commit(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store.write_file

    def flaky(conn: sqlite3.Connection, oid: str, record: store.FileRecord, c, now, batch):  # type: ignore[no-untyped-def]
        if record.path == "b.ttl" and c.status == "ok":
            real(conn, oid, record, c, now, batch)  # half written, then a bug
            raise RuntimeError("boom")
        real(conn, oid, record, c, now, batch)

    monkeypatch.setattr(store, "write_file", flaky)
    items = [ttl_file("a.ttl", "A", "X"), ttl_file("b.ttl", "B", "Y"), ttl_file("c.ttl", "C", "Z")]
    conn = connect(db_path)
    with immediate(conn):
        written = file_batches.write_batch(conn, "default", 3, items, "now")
    # The closure catches up at the end of the run, once, for what the batches noted.
    pending = conn.execute("SELECT node, expand FROM closure_pending ORDER BY node").fetchall()
    assert [tuple(r) for r in pending] == [(f"<{EX}{name}>", int(name in "AC")) for name in "ACXZ"]
    with immediate(conn):
        assert closure.catch_up(conn) == 4
    conn.close()
    assert [w.contribution.status for w in written if w.contribution] == ["ok", "failed", "ok"]
    with sqlite3.connect(db_path) as db:
        assert db.execute(
            "SELECT path, status, error FROM source_files ORDER BY path"
        ).fetchall() == [
            ("a.ttl", "ok", None),
            ("b.ttl", "failed", "internal error while writing: boom"),
            ("c.ttl", "ok", None),
        ]
        # Nothing of b.ttl's half-done write survived its savepoint.
        assert db.execute(
            "SELECT count(*) FROM statement_files WHERE path = 'b.ttl'"
        ).fetchone() == (0,)
        assert db.execute("SELECT child_iri FROM contrib_edges ORDER BY child_iri").fetchall() == [
            (EX + "A",),
            (EX + "C",),
        ]
        # Derived once for the batch: the hierarchy and the closure of both good files.
        assert db.execute(
            "SELECT class_iri, parent_iri FROM owl_class_hierarchy ORDER BY class_iri"
        ).fetchall() == [(EX + "A", EX + "X"), (EX + "C", EX + "Z")]
        assert db.execute(
            "SELECT count(*) FROM entailed_edge WHERE predicate = 'rdfs:subClassOf'"
        ).fetchone() == (6,)  # A, C and the parents X, Z: each itself, A X, C Z


def test_batches_are_capped_by_files_and_by_triples() -> None:
    small = [FileDelete(f"d{i}") for i in range(file_batches.MAX_FILES + 5)]
    batch, rest = take_batch(small[0], small[1:])
    assert (len(batch), len(rest)) == (file_batches.MAX_FILES, 5)
    big = ttl_file("big.ttl", "Big", "Top")
    padded = FileWrite(
        big.entry,
        type(big.contribution)(
            status="ok", statements=big.contribution.statements * (file_batches.MAX_ROWS // 2)
        ),
    )
    # The first item always goes, however large; the next waits for the next transaction.
    batch, rest = take_batch(padded, [padded, FileDelete("x")])
    assert (len(batch), len(rest)) == (1, 2)


def test_what_arrives_while_the_writer_is_busy_shares_one_transaction(db_path: Path) -> None:
    async def go() -> tuple[int, list[list[Written]]]:
        writer = Writer(db_path)
        batches: list[list[Written]] = []
        committer = FileCommitter(writer, "default", 3, lambda: "now", batches.append)
        try:
            for n in range(40):
                await committer.put(ttl_file(f"f{n:02}.ttl", f"C{n}", "Top"))
            await committer.close()
            await committer.run()
            return committer.transactions, batches
        finally:
            writer.close()

    transactions, batches = asyncio.run(go())
    assert (transactions, [len(b) for b in batches]) == (1, [40])
    assert count(db_path, "SELECT count(*) FROM source_files WHERE status = 'ok'") == 40
    assert count(db_path, "SELECT count(*) FROM owl_class_hierarchy") == 40


def test_a_path_written_twice_in_one_batch_keeps_only_the_second_writes_triples(
    db_path: Path,
) -> None:
    # The engine never does this; write_batch stores what is staged before the second
    # write replaces it, so the batch equals writing the second version alone.
    twice = [ttl_file("a.ttl", "A", "X"), ttl_file("a.ttl", "A", "Y")]
    conn = connect(db_path)
    with immediate(conn):
        file_batches.write_batch(conn, "default", 3, twice, "now")
    conn.close()
    with sqlite3.connect(db_path) as db:
        assert db.execute(
            "SELECT subject, predicate, object FROM statement_files WHERE path = 'a.ttl'"
            " ORDER BY predicate, object"
        ).fetchall() == [
            (f"<{EX}A>", "rdf:type", "owl:Class"),
            (f"<{EX}A>", "rdfs:subClassOf", f"<{EX}Y>"),
        ]
        assert db.execute("SELECT count(*) FROM statements").fetchone() == (2,)
