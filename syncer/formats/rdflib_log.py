"""rdflib's log messages during a parse become the file's warnings, once each.

rdflib reports a literal it cannot convert (an invalid ``xsd:date``, a non-numeric
``xsd:int``) or an IRI it finds suspicious through the ``rdflib`` logger, at WARNING and with a
full traceback (rdflib/term.py, ``_castLexicalToPython``). On a real corpus that is a flood
on stderr, one traceback per literal, and the operator cannot tell which file it was about
(issue 14). During :func:`captured` the messages of the current thread are collected
(first line, plus the exception's one-line reason; repeats counted, not repeated), and the
parse returns them as the file's warnings, which the database records with the file.

Outside a capture (rdflib used by something else in the process) a message still reaches
the log, as one line without its traceback.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Enough to show what kind of trouble a file has; the rest is counted.
MAX_DISTINCT = 20

_local = threading.local()
_install_lock = threading.Lock()
_installed = False
log = logging.getLogger("syncer.formats")


# rdflib names the converter function with its memory address: not the same on two runs,
# and a file's warnings must be (fresh sync == incremental sync, issue 12).
_CONVERTER = re.compile(r",? ?Converter=<[^>]*>")


def _one_line(record: logging.LogRecord) -> str:
    text = record.getMessage()
    message = _CONVERTER.sub("", text.splitlines()[0] if text else "")
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        message += f" ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
    return f"rdflib: {message}"


class _ToFileWarnings(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sink: dict[str, int] | None = getattr(_local, "sink", None)
        try:
            line = _one_line(record)
        except Exception:  # a message that cannot be formatted is not worth a crash
            line = "rdflib: (unprintable log message)"
        if sink is None:
            log.warning("%s", line)
        elif line in sink or len(sink) < MAX_DISTINCT:
            sink[line] = sink.get(line, 0) + 1
        else:
            sink["..."] = sink.get("...", 0) + 1


def _install() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        rdflib_logger = logging.getLogger("rdflib")
        rdflib_logger.addHandler(_ToFileWarnings())
        # Not to the root logger as well: that is where the tracebacks came from.
        rdflib_logger.propagate = False
        _installed = True


@contextmanager
def captured() -> Iterator[list[str]]:
    """Collect rdflib's messages of this thread; the list is filled when the block ends."""
    _install()
    outer = getattr(_local, "sink", None)
    sink: dict[str, int] = {}
    _local.sink = sink
    result: list[str] = []
    try:
        yield result
    finally:
        _local.sink = outer
        for line, count in sink.items():
            if line == "...":
                result.append(f"rdflib: {count} more messages of other kinds")
            else:
                result.append(line if count == 1 else f"{line} [{count} times]")
