"""RDF files (Turtle, RDF/XML, N-Triples, N3, TriG, N-Quads, JSON-LD): pyoxigraph first,
rdflib when pyoxigraph refuses a document."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.plugins.parsers.notation3 import BadSyntax

from syncer.errors import ParseError
from syncer.formats import rdflib_log
from syncer.formats.contexts import ContextResolver
from syncer.formats.mapping import facts_from_triples
from syncer.formats.options import ParseOptions
from syncer.formats.prefixes import prefix_map
from syncer.formats.sandbox import no_io
from syncer.formats.triples import BlankLabels, Obj, Triple, dedupe, file_tag, literal, to_rows
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
_OX_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "xml": ox.RdfFormat.RDF_XML,
    "nt": ox.RdfFormat.N_TRIPLES,
    "n3": ox.RdfFormat.N3,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
    "json-ld": ox.RdfFormat.JSON_LD,
}


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
_REFERENCE = re.compile(rb"&([A-Za-z_][A-Za-z0-9_.\-]*);")
_MAX_ENTITIES = 1000
# What one entity may expand to. Protege's entities are namespace IRIs built from one
# another (<!ENTITY ex "&base;#">): tens of bytes. A bomb's are 10^9.
MAX_ENTITY_BYTES = 64 * 1024


def check_xml_entities(data: bytes) -> None:
    """Refuse the entity tricks before any XML parser sees them.

    Internal entities that stand for text are fine, also when built from other entities
    (``<!ENTITY ex "&base;#">``, common in Protege output): their expanded size is
    computed here and must stay under :data:`MAX_ENTITY_BYTES`, which stops an expansion
    bomb ("billion laughs") before it grows; parsers expand without such a bound.
    External and parameter entities would read a file or URL the input names: refused.
    """
    match = _DOCTYPE.search(data, 0, 1 << 20)
    if match is None:
        return
    entities = _ENTITY.findall(match.group(1))
    if len(entities) > _MAX_ENTITIES:
        raise ParseError(
            f"xml: {len(entities)} entity declarations; refused (limit {_MAX_ENTITIES})"
        )
    values: dict[bytes, bytes] = {}
    for parameter, name, value in entities:
        label = name.decode("utf-8", "replace")
        if parameter:
            raise ParseError(f"xml: parameter entity %{label} refused")
        if value in (b"SYSTEM", b"PUBLIC"):
            raise ParseError(f"xml: external entity &{label}; refused: it would read a file or URL")
        values.setdefault(name, value[1:-1])
    sizes: dict[bytes, int] = {}

    def size(name: bytes, stack: tuple[bytes, ...]) -> int:
        if name in sizes:
            return sizes[name]
        if name in stack:
            raise ParseError(f"xml: entity &{name.decode('utf-8', 'replace')}; refers to itself")
        value = values.get(name)
        if value is None:  # a predefined (&amp;) or undeclared entity: the parser decides
            return len(name) + 2
        total = len(_REFERENCE.sub(b"", value))
        for ref in _REFERENCE.findall(value):
            total += size(ref, (*stack, name))
            if total > MAX_ENTITY_BYTES:
                raise ParseError(
                    f"xml: entity &{name.decode('utf-8', 'replace')}; expands to over"
                    f" {MAX_ENTITY_BYTES} bytes (entity expansion); refused"
                )
        sizes[name] = total
        return total

    for name in values:
        size(name, ())


def load_json(text: bytes | str) -> Any:
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ParseError("JSON nests too deeply") from exc
    except ValueError as exc:
        raise ParseError(f"invalid JSON: {exc}") from exc


def _check_supported(data: bytes, rdf_format: str) -> None:
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


def _with_pyoxigraph(data: bytes, rdf_format: str, base: str | None) -> list[Triple]:
    # One pass with the term types tested inline: this loop runs once per triple and was
    # about a third of parse_file's time on the benchmark's FIBO-shaped modules (cProfile,
    # issue 13). Literals go through literal(), the one place their rules live.
    named, blank, plain = ox.NamedNode, ox.BlankNode, ox.Literal
    triples: list[Triple] = []
    append = triples.append
    for quad in ox.parse(data, format=_OX_FORMATS[rdf_format], base_iri=base):
        subject, obj = quad.subject, quad.object
        kind = type(subject)
        if kind is named:
            s = subject.value
        elif kind is blank:
            s = "_:" + subject.value
        else:
            raise ParseError("RDF 1.2 triple terms are not supported")
        kind = type(obj)
        if kind is named:
            o: Obj = ("I", obj.value)
        elif kind is plain:
            o = literal(obj.value, obj.datatype.value, obj.language)
        elif kind is blank:
            o = ("B", "_:" + obj.value)
        else:
            raise ParseError("RDF 1.2 triple terms are not supported")
        append((s, quad.predicate.value, o))
    return triples


def _rdflib_object(term: Any) -> Obj:
    if isinstance(term, URIRef):
        return ("I", str(term))
    if isinstance(term, BNode):
        return ("B", f"_:{term}")
    if isinstance(term, Literal):
        datatype = str(term.datatype) if term.datatype is not None else None
        return literal(str(term), datatype, term.language)
    raise ParseError(f"unsupported RDF term {type(term).__name__}")


def _with_rdflib(data: bytes, rdf_format: str, base: str | None) -> tuple[list[Triple], list[str]]:
    """What rdflib reads, in the form of :func:`triples_from_graph`, and what it logged on
    the way (the file's warnings, not tracebacks on stderr: formats/rdflib_log.py)."""
    with rdflib_log.captured() as logged:
        graph: Graph = Dataset() if rdf_format in _QUAD_FORMATS else Graph(bind_namespaces="none")
        with no_io():
            graph.parse(data=data, format=rdf_format, publicID=base)
        if isinstance(graph, Dataset):
            merged = Graph(bind_namespaces="none")
            for s, p, o, _ in graph.quads((None, None, None, None)):
                merged.add((s, p, o))
            graph = merged
        triples = triples_from_graph(graph)
    return triples, logged


def triples_from_graph(graph: Graph) -> list[Triple]:
    """An rdflib graph's triples, blank nodes named canonically (rdflib.compare) and
    sorted, so the output is the same on every run although rdflib names them at random."""
    if any(isinstance(node, BNode) for node in graph.all_nodes()):
        graph = to_canonical_graph(graph)
    ordered = sorted(graph, key=lambda t: tuple(x.n3() for x in t))
    return [
        (str(s) if isinstance(s, URIRef) else f"_:{s}", str(p), _rdflib_object(o))
        for s, p, o in ordered
    ]


def read_triples(
    data: bytes, rdf_format: str, resolver: ContextResolver, base: str | None = None
) -> tuple[list[Triple], tuple[str, ...]]:
    """The document's triples (blank nodes as the parser named them) and warnings.

    pyoxigraph reads every format it knows (all of ours), about 10-40x faster than rdflib
    (docs/performance.md); when it refuses a document, rdflib gets a try, since it accepts
    some things pyoxigraph validates away, and its reading is used with a warning. No I/O
    either way: contexts are inlined from the resolver, and rdflib runs in a sandbox.
    """
    _check_supported(data, rdf_format)
    if rdf_format == "json-ld":
        data = json.dumps(resolver.inline(load_json(data))).encode()
    try:
        return _with_pyoxigraph(data, rdf_format, base), ()
    except (SyntaxError, ValueError) as exc:
        first = " ".join(str(exc).split())[:300]
    try:
        triples, logged = _with_rdflib(data, rdf_format, base)
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError(f"{rdf_format}: input nests too deeply") from exc
    except Exception as exc:  # rdflib raises many unrelated types for bad input
        raise ParseError(f"{rdf_format}: {describe_rdflib_error(exc)}") from exc
    return triples, (f"read by rdflib: pyoxigraph refused it ({first})", *logged)


def base_iri(path: str) -> str:
    """What relative IRIs in a file without a base resolve against: the file's place in
    the repository, the same on every machine (rdflib would use the working directory)."""
    return "file:///" + quote(path.lstrip("/"), safe="/")


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


def parse_rdf(path: str, data: bytes, extension: str, options: ParseOptions) -> FileContribution:
    resolver = ContextResolver(options.contexts)
    rdf_format = sniff(data, EXTENSIONS[extension])
    raw, warnings = read_triples(data, rdf_format, resolver, base_iri(path))
    triples = dedupe(BlankLabels(lambda: file_tag(path, data)).relabel(raw))
    if not triples:
        return FileContribution(
            status=STATUS_SKIPPED,
            format=rdf_format,
            error="no triples",
            warnings=warnings,
            context_deps=resolver.deps(),
        )
    facts = facts_from_triples(triples)
    return FileContribution(
        status=STATUS_OK,
        format=rdf_format,
        warnings=warnings,
        classes=facts.classes,
        edges=facts.edges,
        properties=facts.properties,
        axioms=facts.axioms,
        individuals=facts.individuals,
        statements=tuple(to_rows(triples, prefix_map(options.prefixes))),
        context_deps=resolver.deps(),
    )
