"""The prefix map of the ``prefix`` table and of every CURIE in ``statements``.

It must not depend on which files are synced or in which order (SPEC, "The triple
layer"), so it is built from kept maps only, never from a file's ``@prefix`` lines:
1. ``SYNCER_PREFIXES`` (the operator's word wins);
2. the few names semantic-sql and OAK query by (``oio``, ``IAO``... see ``_SEMSQL``);
3. prefixmaps' ``obo`` context (OBO PURLs: ``http://purl.obolibrary.org/obo/IAO_0000115``
   reads ``IAO:0000115``) and its ``linked_data`` context (rdf, rdfs, owl, skos, ...);
4. the W3C and VisionFlow corpus prefixes the page formats expand
   (:mod:`syncer.formats.curies`).
A namespace claimed twice keeps its first prefix, and a prefix claimed twice its first
namespace, so the map stays a bijection (curies refuses anything else). IRIs under no
namespace are written ``<IRI>``, as semantic-sql's rdftab does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import lru_cache
from importlib.metadata import version

from syncer.formats.curies import default_prefixes

# semantic-sql and OAK write these in their SQL (omo.yaml: 'oio:hasExactSynonym',
# 'IAO:0000115'), so they must win over prefixmaps' spelling (oboInOwl).
_SEMSQL = {
    "oio": "http://www.geneontology.org/formats/oboInOwl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "IAO": "http://purl.obolibrary.org/obo/IAO_",
    "RO": "http://purl.obolibrary.org/obo/RO_",
    "BFO": "http://purl.obolibrary.org/obo/BFO_",
    "obo": "http://purl.obolibrary.org/obo/",
    "schema": "http://schema.org/",
}
# IRIs compressed, kept across files (common vocabulary, shared classes). Capped low: at
# 200,000 entries this cache alone was about 50 MB, most of the peak-RSS growth between a
# 974-page and a 50,000-page sync (issue 13: memory flat per file; docs/performance.md).
# to_rows memoises within a file, so a file never pays twice for its own IRIs.
_CACHE_LIMIT = 32_768


def standard_pairs() -> list[tuple[str, str]]:
    """The kept maps, highest priority first (configured prefixes go before these)."""
    # Imported here: prefixmaps brings pydantic (a third of a second), needed once per
    # process and only by runs that parse.
    from prefixmaps import load_context

    pairs = list(_SEMSQL.items())
    for name in ("obo", "linked_data"):
        pairs.extend(load_context(name).as_dict().items())
    pairs.extend((p, iri) for p, iri in default_prefixes().items() if p)
    return pairs


def merge(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """First claim wins, on both sides, so the result is a bijection."""
    table: dict[str, str] = {}
    taken: set[str] = set()
    for prefix, base in pairs:
        if not prefix or not base or prefix in table or base in taken:
            continue
        table[prefix] = base
        taken.add(base)
    return table


class PrefixMap:
    """IRI -> CURIE (``<IRI>`` when no namespace fits), cached per IRI."""

    def __init__(self, table: dict[str, str]) -> None:
        # curies brings pydantic (a quarter of a second to import): only when a map is made.
        from curies import Converter

        self.table = dict(sorted(table.items()))
        self._converter = Converter.from_prefix_map(self.table)
        self._cache: dict[str, str] = {}

    def compress(self, iri: str) -> str:
        hit = self._cache.get(iri)
        if hit is None:
            curie = self._converter.compress(iri)
            # A CURIE whose local part would be empty or hold spaces does not round-trip.
            hit = curie if curie and not curie.endswith(":") and " " not in curie else f"<{iri}>"
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[iri] = hit
        return hit


def fingerprint(configured: tuple[tuple[str, str], ...] = ()) -> str:
    """What the map is built from, hashed: the same inputs give the same map, so a run can
    tell the stored map is current without loading prefixmaps (a third of a second)."""
    inputs = [
        list(configured),
        sorted(_SEMSQL.items()),
        sorted(default_prefixes().items()),
        version("prefixmaps"),
        version("curies"),
    ]
    return hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:32]


@lru_cache(maxsize=8)
def prefix_map(configured: tuple[tuple[str, str], ...] = ()) -> PrefixMap:
    """The map for these configured prefixes (one per process and configuration)."""
    return PrefixMap(merge([*configured, *standard_pairs()]))
