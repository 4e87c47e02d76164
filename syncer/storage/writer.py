"""The one writer: a single thread owns the SQLite write connection.

Workers parse in parallel and hand each file's write to this thread, which runs it in
one ``BEGIN IMMEDIATE`` transaction. Serialising writes here means SQLite never sees two
writers of ours, and a busy database (another process) is waited out in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from syncer.errors import FatalError, RetryableError
from syncer.storage.db import classify, connect, immediate, restore_sidecars

T = TypeVar("T")
P = ParamSpec("P")
# What the writer runs: a function of the connection and the caller's arguments, typed
# end to end with ParamSpec as starlette's run_in_threadpool is, so mypy checks each call.
ConnFn = Callable[Concatenate[sqlite3.Connection, P], T]

BUSY_ATTEMPTS = 8
# Set while a caller hands over bulk work (a run's file batches): its calls run after any
# other call waiting for the writer. A one-file push to one repository, a delivery being
# recorded or a run's bookkeeping then waits for at most the one batch in progress, not
# for every batch queued by another repository's initial sync (issue 15: fairness).
BACKGROUND: ContextVar[bool] = ContextVar("syncer_writer_background", default=False)


class PriorityThread(Executor):
    """A single thread running submitted calls in order, calls submitted under
    :data:`BACKGROUND` after all others (first come, first served within each class)."""

    def __init__(self, name: str) -> None:
        self._ready = threading.Condition()
        self._heap: list[tuple[int, int, Future[Any], Callable[..., Any], tuple[Any, ...]]] = []
        self._order = itertools.count()
        self._closed = False
        # When the last foreground call ended: bulk work lets a caller that is making a
        # series of calls (a run's bookkeeping) take its next turn (file_batches.py).
        self.foreground_done = 0.0
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if kwargs:
            raise TypeError("PriorityThread.submit takes positional arguments only")
        future: Future[T] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("cannot schedule new calls after shutdown")
            rank = 1 if BACKGROUND.get() else 0
            heapq.heappush(self._heap, (rank, next(self._order), future, fn, args))
            self._ready.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._heap and not self._closed:
                    self._ready.wait()
                if not self._heap:
                    return
                rank, _, future, fn, args = heapq.heappop(self._heap)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller, as an executor does
                future.set_exception(exc)
            finally:
                if rank == 0:
                    self.foreground_done = time.monotonic()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        if wait:
            self._thread.join()


def _bind(
    fn: ConnFn[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> Callable[[sqlite3.Connection], T]:
    def bound(conn: sqlite3.Connection) -> T:
        return fn(conn, *args, **kwargs)

    return bound


class Writer:
    """Run functions ``fn(conn, *args, **kwargs)`` on the writer thread: writes in a
    transaction (:meth:`run`, :meth:`call`), reads without one (:meth:`read`), as datasette's
    Database does with execute_write_fn and execute_fn. Callers never open connections."""

    def __init__(self, db_path: Path, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.db_path = Path(db_path)
        self._sleep = sleep
        self._executor = PriorityThread("syncer-writer")
        self._conn: sqlite3.Connection | None = None
        # Coordinators writing through this writer (several with several repositories),
        # and those with work now: file batches are sized by them (file_batches.py).
        self.services = 0
        self.busy = 0
        # Reads for the status page, metrics and health: their own thread and connection,
        # so a long write transaction never delays them (WAL: they see the last commit).
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="syncer-reader")
        self._read_conn: sqlite3.Connection | None = None
        self.transactions = 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.db_path)
        return self._conn

    def _drop(self) -> None:
        """Forget the connection: the next call opens a fresh one, which sees the file as it
        is then (SQLite opens a read-only file read-only and keeps it so for good)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _call(self, fn: Callable[[sqlite3.Connection], T], transaction: bool) -> T:
        reopened = False
        for attempt in range(BUSY_ATTEMPTS):
            try:
                conn = self._connection()
                if not transaction:
                    return fn(conn)
                with immediate(conn):
                    result = fn(conn)
                self.transactions += 1
                return result
            except sqlite3.Error as exc:
                error = classify(exc)
                if isinstance(error, RetryableError) and attempt + 1 < BUSY_ATTEMPTS:
                    self._sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
                    continue
                # A storage fault (read-only, full, I/O): start afresh next time. A connection
                # opened while the file was read-only stays read-only after the fault clears,
                # so that one case is tried once more at once on a fresh connection.
                self._drop()
                if "read-only" in str(error) and not reopened:
                    reopened = True
                    restore_sidecars(self.db_path)
                    continue
                raise error from exc
        raise FatalError("unreachable")  # pragma: no cover

    @property
    def foreground_done(self) -> float:
        """time.monotonic() when the last call not made under BACKGROUND ended."""
        return self._executor.foreground_done

    def call(self, fn: ConnFn[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Synchronously run ``fn`` in a transaction (for code not on an event loop)."""
        bound = _bind(fn, *args, **kwargs)
        result: T = self._executor.submit(self._call, bound, True).result()
        return result

    async def run(self, fn: ConnFn[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(conn, ...)`` in one BEGIN IMMEDIATE transaction on the writer thread."""
        bound = _bind(fn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, bound, True)

    async def read(self, fn: ConnFn[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(conn, ...)`` on the writer's connection without a transaction."""
        bound = _bind(fn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, bound, False)

    def _query(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            if self._read_conn is None:
                self._read_conn = connect(self.db_path)
            return fn(self._read_conn)
        except sqlite3.Error as exc:
            conn, self._read_conn = self._read_conn, None
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            raise classify(exc) from exc

    async def query(self, fn: ConnFn[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(conn, ...)`` on the reader connection: reads that must not wait for the
        writer (what the status page, /metrics and /healthz show)."""
        bound = _bind(fn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, self._query, bound)

    def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        def _close_reader() -> None:
            if self._read_conn is not None:
                self._read_conn.close()
                self._read_conn = None

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)
        self._reader.submit(_close_reader).result()
        self._reader.shutdown(wait=True)
