"""Prefixed names (CURIEs) such as ``bc:Blockchain`` in Logseq pages and OWL fences.

Built in: the usual W3C prefixes, and the prefixes of the VisionFlow corpus (``ai:``,
``bc:``, ``mv:``, ``rb:`` ...), which the corpus never binds to an IRI, under a namespace
we control: ``p:Local`` -> ``urn:syncer:ns:p:Local``. A prefix nobody configured gets the
same treatment with a warning. ``SYNCER_PREFIXES`` (``ParseOptions.prefixes``) overrides
any of them. docs/formats.md lists the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from syncer.formats.pages import iri_escape

CORPUS_NAMESPACE = "urn:syncer:ns:"
W3C_PREFIXES: dict[str, str] = {
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "foaf": "http://xmlns.com/foaf/0.1/",
}
# The prefixes the corpus uses in owl:class values, links and OWL fences.
CORPUS_PREFIXES = (
    "ai",
    "aigo",
    "bc",
    "cc",
    "dt",
    "mv",
    "ngm",
    "pc",
    "rb",
    "tc",
    "tele",
)
# Schemes that make ``x:y`` an absolute IRI rather than a prefixed name.
IRI_SCHEMES = frozenset({"urn", "did", "tag", "mailto", "http", "https", "file", "data"})
_CURIE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*)?:(\S.*)$")


def corpus_namespace(prefix: str) -> str:
    return f"{CORPUS_NAMESPACE}{prefix}:"


def default_prefixes() -> dict[str, str]:
    table = dict(W3C_PREFIXES)
    table.update((p, corpus_namespace(p)) for p in CORPUS_PREFIXES)
    table[""] = corpus_namespace("")  # ``:Local`` in OWL fences that bind no ``:`` prefix
    return table


@dataclass(frozen=True)
class Prefixes:
    """The prefix table in force: built-ins overridden by the configured ones."""

    table: Mapping[str, str] = field(default_factory=default_prefixes)

    def known(self, prefix: str) -> bool:
        return prefix in self.table

    def expand(self, text: str) -> tuple[str, str | None] | None:
        """``(iri, warning)`` for an IRI or prefixed name; None when ``text`` is neither.

        ``<iri>`` and ``scheme://...`` are IRIs; ``p:Local`` expands by the table; an
        unknown prefix expands under ``urn:syncer:ns:`` with a warning.
        """
        value = text.strip()
        if value.startswith("<") and value.endswith(">") and len(value) > 2:
            return iri_escape(value[1:-1]), None
        match = _CURIE.match(value)
        if match is None:
            return None
        prefix, local = match.group(1) or "", match.group(2)
        if local.startswith("//"):
            return iri_escape(value), None
        namespace = self.table.get(prefix)
        if namespace is not None:
            return namespace + iri_escape(local), None
        if prefix.lower() in IRI_SCHEMES:
            return iri_escape(value), None
        warning = (
            f"prefix {prefix + ':'!r} is not configured (SYNCER_PREFIXES); "
            f"expanded under {corpus_namespace(prefix)}"
        )
        return corpus_namespace(prefix) + iri_escape(local), warning

    def link_curie(self, target: str) -> str | None:
        """The IRI a ``[[p:Name]]`` link stands for, when ``p`` is a known prefix."""
        match = _CURIE.match(target.strip())
        if match is None or match.group(1) is None or not self.known(match.group(1)):
            return None
        local = match.group(2)
        if any(c.isspace() for c in local) or local.startswith("//"):
            return None
        return self.table[match.group(1)] + iri_escape(local)


@lru_cache(maxsize=64)
def prefixes_for(configured: tuple[tuple[str, str], ...]) -> Prefixes:
    """Built-ins overridden by ``configured`` (``ParseOptions.prefixes``), memoized."""
    table = default_prefixes()
    table.update(configured)
    return Prefixes(table)
