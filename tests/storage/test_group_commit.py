"""Group commit: submissions that arrive together share one transaction, yet each caller
hears its own result and only after its row is committed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.errors import FatalError
from syncer.storage.group_commit import GroupCommit
from syncer.storage.writer import Writer


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Writer]:
    path = tmp_path / "group.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)")
    conn.close()
    writer = Writer(path)
    yield writer
    writer.close()


def note(conn: sqlite3.Connection, text: str) -> int:
    if text.startswith("bad"):
        raise ValueError(f"refused {text}")
    return int(conn.execute("INSERT INTO notes (text) VALUES (?)", (text,)).lastrowid or 0)


def rows(writer: Writer) -> list[tuple[int, str]]:
    with sqlite3.connect(writer.db_path) as conn:
        found = conn.execute("SELECT id, text FROM notes ORDER BY id").fetchall()
    conn.close()
    return found


def test_a_burst_shares_one_transaction_and_each_caller_gets_its_row(writer: Writer) -> None:
    group = GroupCommit(writer, note)

    async def burst() -> list[int]:
        return await asyncio.gather(*(group.submit(f"n{i}") for i in range(50)))

    assert asyncio.run(burst()) == list(range(1, 51))
    assert (group.transactions, writer.transactions) == (1, 1)
    assert rows(writer) == [(i, f"n{i - 1}") for i in range(1, 51)]


def test_submissions_during_a_transaction_go_into_the_next(writer: Writer) -> None:
    group = GroupCommit(writer, note)

    async def waves() -> list[int]:
        first = asyncio.ensure_future(group.submit("first"))
        # One turn of the loop: "first" is submitted and its flush is queued ahead of the
        # later submissions, so it takes "first" alone; they arrive while it runs.
        await asyncio.sleep(0)
        later = [asyncio.ensure_future(group.submit(f"later{i}")) for i in range(3)]
        return await asyncio.gather(first, *later)

    assert asyncio.run(waves()) == [1, 2, 3, 4]
    assert group.transactions == 2
    assert rows(writer) == [(1, "first"), (2, "later0"), (3, "later1"), (4, "later2")]


def test_an_item_that_raises_fails_alone_and_leaves_no_trace(writer: Writer) -> None:
    group = GroupCommit(writer, note)

    async def burst() -> list[int | BaseException]:
        items = ("a", "bad-b", "c")
        return await asyncio.gather(*(group.submit(t) for t in items), return_exceptions=True)

    first, second, third = asyncio.run(burst())
    assert (first, third) == (1, 2)
    assert isinstance(second, ValueError) and str(second) == "refused bad-b"
    assert rows(writer) == [(1, "a"), (2, "c")]


def test_an_sqlite_error_fails_the_whole_transaction_for_everyone_in_it(writer: Writer) -> None:
    group = GroupCommit(writer, note)

    async def burst() -> list[int | BaseException]:
        # "dup" twice: the second insert breaks UNIQUE, which is the database's error, not
        # the item's, so the transaction is rolled back and all three callers hear it.
        return await asyncio.gather(
            *(group.submit(t) for t in ("x", "dup", "dup")), return_exceptions=True
        )

    results = asyncio.run(burst())
    assert [type(r) for r in results] == [FatalError, FatalError, FatalError]
    assert len({id(r) for r in results}) == 1
    assert "UNIQUE constraint failed: notes.text" in str(results[0])
    assert rows(writer) == []

    assert asyncio.run(group.submit("after")) == 1  # the next transaction is a fresh one
    assert rows(writer) == [(1, "after")]
