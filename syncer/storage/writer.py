"""The one writer: a single thread owns the SQLite write connection.

Workers parse in parallel and hand each file's write to this thread, which runs it in
one ``BEGIN IMMEDIATE`` transaction. Serialising writes here means SQLite never sees two
writers of ours, and a busy database (another process) is waited out in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from syncer.errors import FatalError, RetryableError
from syncer.storage.db import classify, connect, immediate, restore_sidecars

T = TypeVar("T")

BUSY_ATTEMPTS = 8


class Writer:
    """Run functions ``fn(conn, *args)`` in a transaction on the writer thread."""

    def __init__(self, db_path: Path, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.db_path = Path(db_path)
        self._sleep = sleep
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="syncer-writer")
        self._conn: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
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

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...], transaction: bool) -> T:
        reopened = False
        for attempt in range(BUSY_ATTEMPTS):
            try:
                conn = self._connection()
                if not transaction:
                    return fn(conn, *args)
                with immediate(conn):
                    result = fn(conn, *args)
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

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Synchronously run ``fn`` in a transaction (for code not on an event loop)."""
        return self._executor.submit(self._call, fn, args, True).result()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one BEGIN IMMEDIATE transaction on the writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn, args, True)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` on the writer's connection without a transaction."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn, args, False)

    def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)
