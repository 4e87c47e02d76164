"""Per-file parsing: choose a format by extension and content, return a contribution.

:func:`parse_file` is pure (bytes in, a frozen :class:`FileContribution` out) and never
raises for bad input: a file that cannot be used is a ``failed`` or ``skipped``
contribution with a reason a person can read.
"""

from __future__ import annotations

import posixpath

from syncer.errors import ParseError
from syncer.formats.contexts import ContextDoc, ContextResolver
from syncer.formats.options import ParseOptions
from syncer.formats.rdf import EXTENSIONS as RDF_EXTENSIONS
from syncer.formats.rdf import parse_rdf, sniff
from syncer.model import FileContribution

MARKDOWN_EXTENSIONS = (".md", ".markdown")

__all__ = ["ContextDoc", "ParseOptions", "parse_file"]


def extension_of(path: str) -> str:
    name = posixpath.basename(path).lower()
    if name.endswith(".json-ld"):
        return ".json-ld"
    return posixpath.splitext(name)[1]


def _format_name(extension: str, data: bytes) -> str | None:
    if extension in RDF_EXTENSIONS:
        return sniff(data, RDF_EXTENSIONS[extension])
    return "markdown" if extension in MARKDOWN_EXTENSIONS else None


def parse_file(path: str, data: bytes, options: ParseOptions) -> FileContribution:
    """Parse one file. Bad input gives a failed/skipped contribution, never an exception."""
    if len(data) > options.max_file_bytes:
        return FileContribution.skipped(
            f"file is {len(data)} bytes, over the {options.max_file_bytes}-byte limit"
        )
    if b"\x00" in data[:8192]:
        return FileContribution.skipped("binary file (NUL bytes), not parsed")
    extension = extension_of(path)
    resolver = ContextResolver(options.contexts)
    try:
        if extension in RDF_EXTENSIONS:
            return parse_rdf(path, data, extension, options)
        if extension in MARKDOWN_EXTENSIONS:
            from syncer.formats.markdown import parse_markdown

            return parse_markdown(path, data, options, resolver)
    except ParseError as exc:
        return FileContribution.failed(str(exc), format=_format_name(extension, data))
    except MemoryError:
        return FileContribution.failed("file too large to parse in memory")
    return FileContribution.skipped(f"no parser for {extension or 'files without an extension'}")
