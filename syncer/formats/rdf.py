"""RDF files (Turtle, RDF/XML, N-Triples, N3, TriG, N-Quads, JSON-LD) through rdflib."""

from __future__ import annotations

import json
import re
from typing import Any

from rdflib import Dataset, Graph
from rdflib.plugins.parsers.notation3 import BadSyntax

from syncer.errors import ParseError
from syncer.formats.contexts import ContextResolver
from syncer.formats.sandbox import no_io
from syncer.mapping import facts_from_graph
from syncer.model import STATUS_OK, STATUS_SKIPPED, FileContribution

# Extension -> rdflib format name.
EXTENSIONS = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".owl": "xml",
    ".rdf": "xml",
    ".nt": "nt",
    ".n3": "n3",
    ".trig": "trig",
    ".nq": "nquads",
    ".jsonld": "json-ld",
    ".json-ld": "json-ld",
}
_QUAD_FORMATS = ("trig", "nquads")


def sniff(data: bytes, by_extension: str) -> str:
    """Correct the extension's guess by the content (``.owl`` is often Turtle or OWL/XML)."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<?xml", b"<rdf:RDF", b"<!DOCTYPE")):
        return "xml"
    if head.startswith((b"@prefix", b"@base", b"PREFIX", b"BASE", b"prefix")):
        if by_extension in ("turtle", "n3", "trig"):
            return by_extension
        return "turtle"
    if head.startswith((b"Prefix(", b"Ontology(")):
        return "owl-functional"
    if head.startswith((b"{", b"[")) and by_extension in ("json-ld", "xml"):
        return "json-ld"
    return by_extension


_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*\[(.*?)\]\s*>", re.DOTALL)
_ENTITY = re.compile(rb"<!ENTITY\s+(%\s*)?([^\s\"']+)\s+(SYSTEM|PUBLIC|\"[^\"]*\"|'[^']*')")
_MAX_ENTITIES = 1000


def check_xml_entities(data: bytes) -> None:
    """Refuse the entity tricks before expat sees them.

    Internal entities that stand for plain text (Protege writes ``<!ENTITY owl
    "http://www.w3.org/2002/07/owl#">``) are fine. External entities would read a file
    or URL the input names, and entities built from other entities are how an
    expansion bomb ("billion laughs") grows; expat's own amplification limit only stops
    one after minutes of work, so we refuse both up front.
    """
    match = _DOCTYPE.search(data, 0, 1 << 20)
    if match is None:
        return
    entities = _ENTITY.findall(match.group(1))
    if len(entities) > _MAX_ENTITIES:
        raise ParseError(
            f"xml: {len(entities)} entity declarations; refused (limit {_MAX_ENTITIES})"
        )
    for parameter, name, value in entities:
        label = name.decode("utf-8", "replace")
        if parameter:
            raise ParseError(f"xml: parameter entity %{label} refused")
        if value in (b"SYSTEM", b"PUBLIC"):
            raise ParseError(f"xml: external entity &{label}; refused: it would read a file or URL")
        if b"&" in value or b"%" in value:
            raise ParseError(
                f"xml: entity &{label}; is built from other entities (entity expansion); refused"
            )


def load_json(text: bytes | str) -> Any:
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ParseError("JSON nests too deeply") from exc
    except ValueError as exc:
        raise ParseError(f"invalid JSON: {exc}") from exc


def graph_from_bytes(data: bytes, rdf_format: str, resolver: ContextResolver) -> Graph:
    """Parse with rdflib, no I/O allowed; JSON-LD contexts inlined from the resolver."""
    if rdf_format == "owl-functional":
        raise ParseError("OWL functional syntax is not supported; use Turtle or RDF/XML")
    head = data[:4096]
    if (
        b"<Ontology" in head
        and b"http://www.w3.org/2002/07/owl#" in head
        and b"rdf:RDF" not in head
    ):
        raise ParseError("OWL/XML is not supported; save the ontology as RDF/XML or Turtle")
    if rdf_format == "xml":
        check_xml_entities(data)
    # No namespace binding: a third of rdflib's parse time goes to binding its default
    # prefixes on every new graph, and we never serialise.
    graph: Graph = Dataset() if rdf_format in _QUAD_FORMATS else Graph(bind_namespaces="none")
    try:
        with no_io():
            if rdf_format == "json-ld":
                document = resolver.inline(load_json(data))
                graph.parse(data=document, format="json-ld")
            else:
                graph.parse(data=data, format=rdf_format)
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError(f"{rdf_format}: input nests too deeply") from exc
    except Exception as exc:  # rdflib raises many unrelated types for bad input
        raise ParseError(f"{rdf_format}: {describe_rdflib_error(exc)}") from exc
    if isinstance(graph, Dataset):
        merged = Graph()
        for s, p, o, _ in graph.quads((None, None, None, None)):
            merged.add((s, p, o))
        return merged
    return graph


def describe_rdflib_error(exc: Exception) -> str:
    """One line a person can act on: rdflib's Turtle/N3 errors print Python bytes reprs."""
    if isinstance(exc, BadSyntax):
        # BadSyntax keeps the document as UTF-8 bytes and the offset of the failure in them
        # (rdflib.plugins.parsers.notation3); show the line's text up to the failure.
        text: bytes = exc._str
        at = max(0, min(exc._i, len(text)))
        start = text.rfind(b"\n", 0, at) + 1
        end = text.find(b"\n", at)
        end = len(text) if end < 0 else end
        before = text[max(start, at - 60) : at].decode("utf-8", "replace")
        after = text[at : min(end, at + 40)].decode("utf-8", "replace")
        return f"line {exc.lines + 1}: {exc._why}, at ^ in: {(before + '^' + after).strip()!r}"
    message = " ".join(str(exc).split())[:500]
    return message or type(exc).__name__


def parse_rdf(data: bytes, extension: str, resolver: ContextResolver) -> FileContribution:
    rdf_format = sniff(data, EXTENSIONS[extension])
    graph = graph_from_bytes(data, rdf_format, resolver)
    facts = facts_from_graph(graph)
    if not facts:
        return FileContribution(
            status=STATUS_SKIPPED,
            format=rdf_format,
            error=f"no classes, properties or axioms in {len(graph)} triples",
            context_deps=resolver.deps(),
        )
    return FileContribution(
        status=STATUS_OK,
        format=rdf_format,
        classes=facts.classes,
        edges=facts.edges,
        properties=facts.properties,
        axioms=facts.axioms,
        context_deps=resolver.deps(),
    )
