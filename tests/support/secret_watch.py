"""A watch over the whole test session: every ``Secret`` the tests create is noted, and
every log record of the session is checked for any of them as it is emitted.

tests/conftest.py installs one for the session (on the root logger and uvicorn's, which
do not propagate, with the root logger at INFO at least) and fails the session's last
teardown if a record held a secret. It sees what runs in the test process; what
subprocesses (``syncer serve``, ``syncer sync``) print is scanned by tests/test_secrets.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from syncer.values import Secret

# Shorter values ("x", "another key") could turn up in a log by chance.
MIN_LENGTH = 12
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


class SecretWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.values: set[str] = set()
        self.hits: list[str] = []
        self._guard = threading.Lock()

    def register(self, value: str) -> None:
        if len(value) >= MIN_LENGTH:
            with self._guard:
                self.values.add(value)

    def emit(self, record: logging.LogRecord) -> None:
        # The same record can reach a second logger of ours. Mark the record itself: a set
        # of id(record) would misfire, since a freed record's id is reused by the next one.
        watches: set[int] = record.__dict__.setdefault("_secret_watches", set())
        if id(self) in watches:
            return
        watches.add(id(self))
        with self._guard:
            values = tuple(self.values)
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not ours to judge
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]!r}"
        for value in values:
            if value in text:
                self.hits.append(f"{record.name}: {text[:300]}")

    @contextmanager
    def installed(self, level: int = logging.INFO) -> Iterator[SecretWatch]:
        """Note every Secret created and check every record while the block runs."""
        original: Callable[[Secret, str], None] = Secret.__init__

        def noting(secret: Secret, value: str) -> None:
            original(secret, value)
            self.register(value)

        root = logging.getLogger()
        old_level = root.level
        setattr(Secret, "__init__", noting)  # noqa: B010 (mypy refuses assigning a method)
        for name in LOGGERS:
            logging.getLogger(name).addHandler(self)
        if root.level > level or root.level == logging.NOTSET:
            root.setLevel(level)
        try:
            yield self
        finally:
            setattr(Secret, "__init__", original)  # noqa: B010
            for name in LOGGERS:
                logging.getLogger(name).removeHandler(self)
            root.setLevel(old_level)
