"""Group commit: many small writes that arrive together share one transaction.

A burst of webhook deliveries (GitHub sends one per push, and a busy repository or a
redelivery sweep sends many at once) would otherwise queue one ``BEGIN IMMEDIATE`` ...
``COMMIT`` per delivery on the writer thread, each waiting for all before it plus a thread
hop back to the event loop. Here the first caller starts a flush; callers that arrive while
a transaction is running wait for the next one, which takes all of them. Every caller still
gets its answer only after its row is committed, so acknowledging a delivery keeps meaning
"recorded durably".
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar

from syncer.storage.writer import ConnFn, Writer

Result = TypeVar("Result")
P = ParamSpec("P")
# One submission's arguments, kept until its transaction runs.
Call = tuple[tuple[Any, ...], dict[str, Any]]

# Cap on one transaction, so a flood cannot hold the write lock for long.
MAX_BATCH = 256


@dataclass(frozen=True)
class Failed:
    """One item's own error: the others in its transaction are committed regardless."""

    error: Exception


def each_in_savepoint(
    fn: Callable[..., Result],
) -> Callable[[sqlite3.Connection, Sequence[Call]], list[Result | Failed]]:
    """``fn(conn, *args, **kwargs)`` for every call of a batch, each in a savepoint: an item
    that raises leaves no trace and fails alone; an SQLite error (a full disk, a read-only
    file) fails the whole transaction, which the writer classifies as usual."""

    def apply(conn: sqlite3.Connection, batch: Sequence[Call]) -> list[Result | Failed]:
        results: list[Result | Failed] = []
        for args, kwargs in batch:
            conn.execute("SAVEPOINT item")
            try:
                results.append(fn(conn, *args, **kwargs))
            except sqlite3.Error:
                raise
            except Exception as exc:  # handed to that item's caller
                conn.execute("ROLLBACK TO item")
                results.append(Failed(exc))
            conn.execute("RELEASE item")
        return results

    return apply


class GroupCommit(Generic[P, Result]):
    """``await submit(*args)`` runs ``fn(conn, *args)`` in a transaction shared with the
    other submissions that arrived meanwhile, and returns its result. Typed with ParamSpec:
    ``submit`` takes exactly ``fn``'s arguments after the connection."""

    def __init__(self, writer: Writer, fn: ConnFn[P, Result]) -> None:
        self._writer = writer
        self._apply = each_in_savepoint(fn)
        self._pending: list[tuple[Call, asyncio.Future[Result]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self.transactions = 0

    async def submit(self, *args: P.args, **kwargs: P.kwargs) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append(((args, kwargs), future))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        batch: list[tuple[Call, asyncio.Future[Result]]] = []
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    results = await self._writer.run(self._apply, [call for call, _ in batch])
                except Exception as exc:  # the whole transaction failed: each caller hears it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self.transactions += 1
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # its caller went away (cancelled): committed anyway
                        continue
                    if isinstance(result, Failed):
                        future.set_exception(result.error)
                    else:
                        future.set_result(result)
        finally:
            self._flushing = None
            leftover, self._pending = batch + self._pending, []
            for _, future in leftover:  # cancelled mid-flush (shutdown); no-op when done
                future.cancel()
