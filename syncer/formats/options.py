"""What a parser may know besides the file: the options every format reads.

Its own module so that ``formats/__init__`` (which picks a parser) and the parsers (which
read the options) both import it, and neither imports the other at type-check time.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncer.formats.contexts import ContextDoc

# A file over this size is skipped, not parsed (SYNCER_MAX_FILE_BYTES).
DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ParseOptions:
    """Everything a parser may know besides the file: picklable, for worker processes."""

    prefixes: tuple[tuple[str, str], ...] = ()
    contexts: tuple[ContextDoc, ...] = ()
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
