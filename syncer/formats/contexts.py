"""JSON-LD ``@context`` documents, resolved offline from a configured map.

The spec forbids fetching: a context URL is either mapped (to a file in the synced
repository, read at the same commit, or on local disk, read when settings load) or it
is an error for the block that uses it. We inline every mapped context (including
``@import`` and contexts nested in other contexts) before rdflib sees the document, so
rdflib never has a URL to dereference.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from syncer.errors import ParseError

_MAX_NESTING = 32


class UnresolvableContext(ParseError):
    """A ``@context`` names a document we have no offline copy of."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"JSON-LD @context {url!r} is not mapped in SYNCER_JSONLD_CONTEXTS; not fetched"
        )
        self.url = url


@dataclass(frozen=True)
class ContextDoc:
    """One context document: its URL, its bytes, and where in the repository it came from."""

    url: str
    document: bytes
    repo_path: str | None = None
    blob_sha: str | None = None


class ContextResolver:
    """Inline mapped contexts into JSON-LD documents; remember which ones were used."""

    def __init__(self, docs: Sequence[ContextDoc]) -> None:
        self._docs = {doc.url: doc for doc in docs}
        self._parsed: dict[str, Any] = {}
        self.used: dict[str, ContextDoc] = {}

    def _context_of(self, url: str, depth: int) -> Any:
        doc = self._docs.get(url)
        if doc is None:
            raise UnresolvableContext(url)
        self.used[url] = doc
        if url not in self._parsed:
            try:
                parsed = json.loads(doc.document)
            except ValueError as exc:
                raise ParseError(f"JSON-LD context {url!r} is not valid JSON: {exc}") from exc
            if not isinstance(parsed, dict) or "@context" not in parsed:
                raise ParseError(f"JSON-LD context {url!r} has no top-level @context")
            self._parsed[url] = self._inline_context(parsed["@context"], depth + 1)
        return self._parsed[url]

    def _inline_context(self, value: Any, depth: int) -> Any:
        if depth > _MAX_NESTING:
            raise ParseError("JSON-LD contexts nest too deeply (a cycle?)")
        if isinstance(value, str):
            return self._context_of(value, depth)
        if isinstance(value, list):
            return [self._inline_context(item, depth) for item in value]
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if key == "@import" and isinstance(item, str):
                    imported = self._context_of(item, depth)
                    if isinstance(imported, dict):
                        for k, v in imported.items():
                            out.setdefault(k, v)
                    continue
                # Scoped contexts sit inside term definitions: {"term": {"@context": ...}}.
                if isinstance(item, dict) and "@context" in item:
                    item = dict(item)
                    item["@context"] = self._inline_context(item["@context"], depth + 1)
                out[key] = item
            return out
        return value

    def inline(self, data: Any, depth: int = 0) -> Any:
        """A copy of ``data`` in which every ``@context`` is an inline object."""
        if depth > 256:
            raise ParseError("JSON-LD document nests too deeply")
        if isinstance(data, list):
            return [self.inline(item, depth + 1) for item in data]
        if isinstance(data, dict):
            out = {}
            for key, value in data.items():
                if key == "@context":
                    out[key] = self._inline_context(value, 0)
                else:
                    out[key] = self.inline(value, depth + 1)
            return out
        return data

    def deps(self) -> tuple[tuple[str, str], ...]:
        """The repository files this resolver's documents used: (path, blob SHA)."""
        return tuple(
            sorted(
                (doc.repo_path, doc.blob_sha)
                for doc in self.used.values()
                if doc.repo_path is not None and doc.blob_sha is not None
            )
        )
