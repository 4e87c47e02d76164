"""Triples as plain tuples, blank-node labels that are a function of the file, and the
rows of semantic-sql's ``statements`` table. Pure: no parser, no database.

Every format reader ends in a list of :data:`Triple`; the store keeps them as
``statements`` rows (docs/triples.md) and the ontology tables are projected from the same
list (:mod:`syncer.mapping`), so what the tables say and what ``statements`` holds cannot
disagree.

Blank nodes: parsers name them at random (rdflib) or by document labels that repeat from
file to file (``_:b0``). :class:`BlankLabels` renames each to ``_:<tag>_<n>``: ``tag`` is a
hash of the file's path and bytes, ``n`` the order in which the blank node first appears
in the parser's output. The same bytes at the same path and the same parser version give
the same labels, and two files never share one (SPEC: "Blank-node labels are a function
of the file's bytes ... never shared between files").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = RDF + "type"
XSD_STRING = XSD + "string"
RDF_LANGSTRING = RDF + "langString"

# An object: ("I", iri) | ("B", "_:label") | ("L", lexical, datatype or None, language or None)
Obj = tuple[Any, ...]
# (subject, predicate, object); a subject is an IRI or "_:label".
Triple = tuple[str, str, Obj]
# A row of ``statements``: (stanza, subject, predicate, object, value, datatype, language).
Row = tuple[str | None, str, str, str | None, str | None, str | None, str | None]


def file_tag(path: str, data: bytes) -> str:
    """Ten hex digits of BLAKE2b over the path and the bytes: the file's blank-node prefix."""
    digest = hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=5)
    digest.update(b"\x00")
    digest.update(data)
    return digest.hexdigest()


class BlankLabels:
    """Renames a parser's blank nodes to ``_:<tag>_<n>``, ``n`` counting first appearances.

    One instance per file; ``scope`` keeps apart the blocks of one page, whose parsers
    each start their own labels at ``b0``.
    """

    def __init__(self, tag: str | Callable[[], str]) -> None:
        # The tag hashes the whole file: computed at the first blank node only, since most
        # pages have none.
        self._tag = tag
        self._prefix = ""
        self._names: dict[tuple[int, str], str] = {}
        self._scope = 0

    def new_scope(self) -> None:
        self._scope += 1

    def label(self, raw: str) -> str:
        key = (self._scope, raw)
        name = self._names.get(key)
        if name is None:
            if not self._prefix:
                tag = self._tag if isinstance(self._tag, str) else self._tag()
                self._prefix = f"_:{tag}_"
            name = f"{self._prefix}{len(self._names)}"
            self._names[key] = name
        return name

    def relabel(self, triples: Iterable[Triple]) -> list[Triple]:
        """The triples with every blank node renamed, in the order given."""
        out: list[Triple] = []
        for s, p, o in triples:
            if s.startswith("_:"):
                s = self.label(s)
            if o[0] == "B":
                o = ("B", self.label(o[1]))
            out.append((s, p, o))
        return out


def literal(lexical: str, datatype: str | None = None, language: str | None = None) -> Obj:
    """A literal object; ``xsd:string`` and ``rdf:langString`` are implied, so not kept."""
    if language:
        return ("L", lexical, None, language.lower())
    return ("L", lexical, None if datatype in (None, XSD_STRING) else datatype, None)


def dedupe(triples: Iterable[Triple]) -> list[Triple]:
    """Distinct triples in first-seen order (RDF graphs are sets)."""
    return list(dict.fromkeys(triples))


def stanzas(triples: Sequence[Triple]) -> dict[str, str]:
    """The stanza of each blank node: the named subject its description hangs from.

    semantic-sql groups a class's axioms by the named entity they describe; a blank node
    (a restriction, a list cell) belongs to the first named subject, in sort order, that
    reaches it. A blank node no named subject reaches is its own stanza.
    """
    referrers: dict[str, list[str]] = {}
    for s, _p, o in triples:
        if o[0] == "B":
            referrers.setdefault(o[1], []).append(s)
    found: dict[str, str] = {}
    for node in referrers:
        if node in found:
            continue
        seen = {node}
        frontier = [node]
        owner: str | None = None
        while frontier and owner is None:
            nxt: list[str] = []
            for b in frontier:
                for r in referrers.get(b, ()):
                    if not r.startswith("_:"):
                        owner = r if owner is None or r < owner else owner
                    elif r not in seen:
                        seen.add(r)
                        nxt.append(r)
            frontier = sorted(nxt)
        found[node] = owner or node
    return found


def to_rows(triples: Sequence[Triple], curie: Any) -> list[Row]:
    """``statements`` rows: IRIs as CURIEs by ``curie`` (a ``PrefixMap``, see
    syncer/formats/prefixes.py), literals in ``value`` with ``datatype`` / ``language``,
    blank nodes as ``_:label``."""
    owners = stanzas(triples)
    # A local memo in front of the map's own cache: most IRIs of a file repeat (its
    # predicates, its classes), and a dict probe costs less than a method call.
    seen: dict[str, str] = {}
    lookup = seen.get
    compress = curie.compress
    rows: list[Row] = []
    append = rows.append
    for s, p, o in triples:
        subject: str | None
        if s.startswith("_:"):
            owner = owners.get(s, s)
            stanza = owner if owner.startswith("_:") else compress(owner)
            subject = s
        else:
            subject = lookup(s)
            if subject is None:
                subject = seen[s] = compress(s)
            stanza = subject
        predicate = lookup(p)
        if predicate is None:
            predicate = seen[p] = compress(p)
        kind = o[0]
        if kind == "L":
            datatype = compress(o[2]) if o[2] else None
            append((stanza, subject, predicate, None, o[1], datatype, o[3]))
        elif kind == "B":
            append((stanza, subject, predicate, o[1], None, None, None))
        else:
            obj = lookup(o[1])
            if obj is None:
                obj = seen[o[1]] = compress(o[1])
            append((stanza, subject, predicate, obj, None, None, None))
    return rows
