"""No I/O while parsing: an audit hook that refuses network and file access.

Parsers are handed bytes. A hostile file can still ask a parser to reach out: an XML
external entity naming ``/etc/passwd``, a JSON-LD ``@context`` URL, an ``owl:imports``.
We resolve what we allow before parsing (contexts from a configured map) and, as a
second wall, refuse every socket connection, URL open and file open that happens on
the parsing thread while :func:`no_io` is active (PEP 578 audit hooks; the events are
listed at https://docs.python.org/3/library/audit_events.html).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from syncer.errors import ParseError

_state = threading.local()
_installed = False
_install_lock = threading.Lock()
_BLOCKED_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.getaddrinfo",
        "urllib.Request",
        "open",
        "os.open",
        "subprocess.Popen",
    }
)


class BlockedIO(ParseError):
    """A parser tried to open a file or a connection named by its input."""


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in _BLOCKED_EVENTS or not getattr(_state, "active", False):
        return
    if event == "open" and args and isinstance(args[0], int):
        return  # an already-open descriptor, not a path from the input
    target = args[0] if args else ""
    if event == "open" and _is_interpreter_file(target):
        return  # lazy imports read modules; that is not the input naming a file
    _state.active = False  # let the exception machinery itself open what it needs
    raise BlockedIO(f"parsing tried to reach {_describe(event, target)}; refused")


def _is_interpreter_file(target: object) -> bool:
    name = str(target)
    return name.endswith((".py", ".pyc", ".so", ".pyi")) or "/__pycache__/" in name


def _describe(event: str, target: object) -> str:
    if event.startswith("socket"):
        return "the network"
    if event == "urllib.Request":
        return f"a URL ({str(getattr(target, 'full_url', target))[:200]})"
    return f"a local file ({str(target)[:200]})"


def install() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True


@contextmanager
def no_io() -> Iterator[None]:
    """Refuse network and file access on this thread for the duration."""
    install()
    previous = getattr(_state, "active", False)
    _state.active = True
    try:
        yield
    finally:
        _state.active = previous
