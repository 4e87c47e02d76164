"""Group commit for files: parsed files share transactions, each file in a savepoint.

Workers parse in parallel and hand each file over without waiting for it to be written;
one committer takes whatever has arrived while the previous transaction was committing
(at least one file, at most :data:`MAX_FILES` files or :data:`MAX_ROWS` triples) and
writes it in one ``BEGIN IMMEDIATE`` transaction on the writer thread:

- each file in its own ``SAVEPOINT``: its rows, triples, ``source_files`` row and the
  deletion of its task appear together or not at all. A file whose write raises is rolled
  back to its savepoint and recorded ``failed`` with the error; the others commit;
- then, once for the batch, the public tables are derived for the union of the keys its
  files touched, orphaned triples go and the closure is updated (store.finish_batch).

A single pushed file still commits at once (nothing waits for a batch to fill), while an
initial sync of thousands of files commits in a few dozen transactions instead of one
per file. A kill -9 loses at most the batch being committed; its tasks are still in
``sync_tasks`` and the next run redoes them (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from syncer.model import FileContribution, TreeEntry
from syncer.storage import files as store
from syncer.storage import runs
from syncer.storage.writer import BACKGROUND, Writer

log = logging.getLogger("syncer.file_batches")

MAX_FILES = 512
MAX_ROWS = 250_000
# While several repositories share the writer, a batch is sized to take about this long
# (from the time the last one took per row), so a one-file push to one repository waits
# for one short transaction of another's big sync, not for a 512-file one that takes
# seconds (issue 15: fairness between repositories; docs/performance.md).
SHARED_BATCH_SECONDS = 0.1
# Shared, with no other repository asking: longer batches (fewer transactions, less
# derive overhead), still short enough that a push arriving meanwhile waits little.
IDLE_SHARED_BATCH_SECONDS = 0.5
SHARED_MAX_FILES = MAX_FILES
# ... and a batch waits until no other call has ended for this long: another repository's
# run makes its calls one after the other, each a short gap after the last; without the
# wait the next batch would slip into every gap.
SHARED_GAP_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class FileWrite:
    entry: TreeEntry
    contribution: FileContribution
    # The source could not deliver the bytes: the file is recorded with parser
    # version 0 ("read by no parser"), so the planner asks for it again next run.
    unread: bool = False

    @property
    def rows(self) -> int:
        return len(self.contribution.statements) + 1


@dataclass(frozen=True, slots=True)
class FileDelete:
    path: str

    @property
    def rows(self) -> int:
        return 1


Item = FileWrite | FileDelete


@dataclass(frozen=True, slots=True)
class Written:
    """One item's outcome, reported after its transaction committed."""

    item: Item
    contribution: FileContribution | None  # what was recorded (None for a delete)


def take_batch(
    first: Item, pending: list[Item], max_files: int = MAX_FILES, max_rows: int = MAX_ROWS
) -> tuple[list[Item], list[Item]]:
    """The next batch: ``first`` and what follows it, within the caps; and the rest."""
    taken, rows = 0, first.rows
    while taken < len(pending) and taken + 1 < max_files and rows + pending[taken].rows <= max_rows:
        rows += pending[taken].rows
        taken += 1
    return [first, *pending[:taken]], pending[taken:]


def write_batch(
    conn: sqlite3.Connection, oid: str, parser_version: int, items: Sequence[Item], now: str
) -> list[Written]:
    """Write ``items`` in the caller's transaction, each in a savepoint; derive once."""
    batch = store.Batch()
    out: list[Written] = []
    seen: set[str] = set()
    for item in items:
        path = item.entry.path if isinstance(item, FileWrite) else item.path
        if path in seen:
            # A path twice in one batch (the engine never does this): store what is
            # staged first, so the second write replaces the first's triples.
            store.add_staged(conn, oid, batch)
            seen.clear()
        seen.add(path)
        conn.execute("SAVEPOINT file")
        # What the file touched is noted apart and kept only if its savepoint is.
        own = store.Batch()
        try:
            out.append(_write_one(conn, oid, parser_version, item, now, own))
        except sqlite3.Error:
            raise  # a storage fault fails the transaction; the writer sorts it out
        except Exception as exc:  # a bug on one file must not cost the others
            conn.execute("ROLLBACK TO file")
            log.exception("writing %s failed", path)
            failed = FileContribution.failed(f"internal error while writing: {exc}")
            if not isinstance(item, FileWrite):
                raise
            own = store.Batch()
            out.append(
                _write_one(conn, oid, parser_version, FileWrite(item.entry, failed), now, own)
            )
        conn.execute("RELEASE file")
        batch.merge(own)
    store.finish_batch(conn, oid, batch, now)
    return out


def _write_one(
    conn: sqlite3.Connection,
    oid: str,
    parser_version: int,
    item: Item,
    now: str,
    batch: store.Batch,
) -> Written:
    if isinstance(item, FileDelete):
        store.delete_file(conn, oid, item.path, batch)
        runs.finish_task(conn, oid, item.path)
        return Written(item, None)
    entry = item.entry
    version = 0 if item.unread else parser_version
    record = store.FileRecord(entry.path, entry.blob_sha, entry.size, version)
    store.write_file(conn, oid, record, item.contribution, now, batch)
    runs.finish_task(conn, oid, entry.path)
    return Written(item, item.contribution)


class FileCommitter:
    """``await put(item)`` hands a file over; :meth:`run` commits batches until
    :meth:`close`, calling ``on_written`` with each committed batch's outcomes."""

    def __init__(
        self,
        writer: Writer,
        oid: str,
        parser_version: int,
        clock: Callable[[], str],
        on_written: Callable[[list[Written]], None],
    ) -> None:
        self._writer = writer
        self._oid = oid
        self._parser_version = parser_version
        self._clock = clock
        self._on_written = on_written
        # Bounded, so parsing never runs far ahead of writing (memory stays flat).
        self._queue: asyncio.Queue[Item | None] = asyncio.Queue(maxsize=MAX_FILES)
        self.transactions = 0
        self._seconds_per_row: float | None = None  # what the last batch took

    def _caps(self) -> tuple[int, int]:
        """(files, rows) for the next batch: the full caps alone on the writer; shared,
        what should take SHARED_BATCH_SECONDS at the last batch's pace."""
        if self._writer.services <= 1 or self._seconds_per_row is None:
            return MAX_FILES, MAX_ROWS
        target = SHARED_BATCH_SECONDS if self._writer.busy > 1 else IDLE_SHARED_BATCH_SECONDS
        rows = int(target / max(self._seconds_per_row, 1e-6))
        return SHARED_MAX_FILES, max(1, min(MAX_ROWS, rows))

    async def put(self, item: Item) -> None:
        await self._queue.put(item)

    async def close(self) -> None:
        await self._queue.put(None)

    async def run(self) -> None:
        pending: list[Item] = []
        closed = False
        while not (closed and not pending):
            if not pending:
                first = await self._queue.get()
                if first is None:
                    return
                pending.append(first)
            while not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    closed = True
                    break
                pending.append(nxt)
            if self._writer.busy > 1:
                while (
                    quiet := time.monotonic() - self._writer.foreground_done
                ) < SHARED_GAP_SECONDS:
                    await asyncio.sleep(SHARED_GAP_SECONDS - quiet)
            max_files, max_rows = self._caps()
            batch, pending = take_batch(pending[0], pending[1:], max_files, max_rows)
            began = time.monotonic()
            # Bulk work: after any other call waiting for the writer (writer.BACKGROUND).
            token = BACKGROUND.set(True)
            try:
                written = await self._writer.run(
                    write_batch, self._oid, self._parser_version, batch, self._clock()
                )
            finally:
                BACKGROUND.reset(token)
            rows = sum(item.rows for item in batch)
            self._seconds_per_row = (time.monotonic() - began) / max(1, rows)
            self.transactions += 1
            self._on_written(written)
