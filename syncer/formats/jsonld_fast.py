"""A fast JSON-LD reader for the blocks ontology pages hold, with rdflib's result.

rdflib reads JSON-LD at about 8k triples/s, most of it building term objects and graph
indexes that a single small block does not need. Here a parsed JSON object becomes
plain tuples (:func:`expand`, JSON-LD 1.1 expansion and RDF conversion for the subset of
:mod:`syncer.formats.jsonld_context`), the same triples pyoxigraph and rdflib give for
the block. Whatever is outside that subset raises :class:`Unsupported` and the block goes
to pyoxigraph (rdflib after it); tests compare the paths.
"""

from __future__ import annotations

import re
from typing import Any

from syncer.formats.jsonld_context import ActiveContext, Term, Unsupported, is_absolute
from syncer.formats.triples import RDF_TYPE, XSD, Obj, Triple

XSD_BOOLEAN, XSD_INTEGER, XSD_DOUBLE = XSD + "boolean", XSD + "integer", XSD + "double"
_BAD_IRI = re.compile(r"[\x00-\x20<>\"{}|\\^`]")
_MAX_DEPTH = 64

__all__ = ["Obj", "Triple", "Unsupported", "expand"]


def _double(value: float) -> str:
    """JSON-LD's canonical xsd:double form: 0.55 -> "5.5E-1"."""
    mantissa, exponent = f"{value:.15E}".split("E")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}E{int(exponent)}"


def _native(value: bool | int | float, datatype: str | None) -> Obj:
    if isinstance(value, bool):
        return ("L", "true" if value else "false", datatype or XSD_BOOLEAN, None)
    if isinstance(value, float) and (not value.is_integer() or datatype == XSD_DOUBLE):
        return ("L", _double(value), datatype or XSD_DOUBLE, None)
    if isinstance(value, int) and datatype == XSD_DOUBLE:
        return ("L", _double(float(value)), datatype, None)
    return ("L", str(int(value)), datatype or XSD_INTEGER, None)


class _Expander:
    def __init__(self) -> None:
        self.triples: list[Triple] = []
        self._fresh = 0

    def _node_id(self, iri: str) -> str:
        if not is_absolute(iri) or _BAD_IRI.search(iri):
            raise Unsupported(f"not an absolute IRI: {iri[:80]!r}")
        return "_:d" + iri[2:] if iri.startswith("_:") else iri

    @staticmethod
    def _ref(node: str) -> Obj:
        return ("B", node) if node.startswith("_:") else ("I", node)

    def node(self, obj: dict[str, Any], ctx: ActiveContext, depth: int) -> str:
        if depth > _MAX_DEPTH:
            raise Unsupported("nesting too deep")
        if depth and "@context" in obj:
            raise Unsupported("embedded @context")
        subject: str | None = None
        types: list[Any] = []
        props: list[tuple[str, Term | None, Any]] = []
        for key, value in obj.items():
            term = ctx.terms.get(key)
            keyword = key if key.startswith("@") else (term.keyword if term else None)
            if keyword is None:
                props.append((key, term, value))
            elif keyword == "@id":
                if not isinstance(value, str):
                    raise Unsupported("@id is not a string")
                expanded = ctx.expand_iri(value, vocab=False)
                subject = self._node_id(expanded or "")
            elif keyword == "@type":
                types.extend(value if isinstance(value, list) else [value])
            elif keyword == "@nest" and not key.startswith("@"):
                self._nested(value, ctx, props, depth)
            elif keyword != "@context" and keyword in _KNOWN_KEYWORDS:
                raise Unsupported(f"{keyword} in a node object")
        if subject is None:
            self._fresh += 1
            subject = f"_:f{self._fresh}"
        for kind in types:
            if not isinstance(kind, str):
                raise Unsupported("@type is not a string")
            type_term = ctx.terms.get(kind)
            if type_term is not None and type_term.has_scope:
                raise Unsupported("type-scoped context")
            iri = self._node_id(ctx.expand_iri(kind, vocab=True) or "")
            self.triples.append((subject, RDF_TYPE, self._ref(iri)))
        for key, term, value in props:
            predicate = term.iri if term is not None else ctx.expand_iri(key, vocab=True)
            if predicate is None or not is_absolute(predicate):
                continue  # JSON-LD drops keys that do not expand to an IRI
            if predicate.startswith("_:") or _BAD_IRI.search(predicate):
                raise Unsupported(f"predicate {predicate[:80]!r}")
            inner = ctx
            if term is not None:
                if term.container - {"@set"}:
                    raise Unsupported(f"container {sorted(term.container)}")
                inner = ctx.with_scope(term)
                term = inner.terms.get(key, term)
            self._values(subject, predicate, term, value, inner, depth)
        return subject

    def _nested(
        self, value: Any, ctx: ActiveContext, props: list[tuple[str, Term | None, Any]], depth: int
    ) -> None:
        """The properties inside a nest (JSON-LD 1.1, expansion step 14): they belong to
        the node the nest is in. Keywords inside one go to rdflib."""
        if depth > _MAX_DEPTH:
            raise Unsupported("nesting too deep")
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                raise Unsupported("a @nest value that is not an object")
            for key, inner in item.items():
                term = ctx.terms.get(key)
                keyword = key if key.startswith("@") else (term.keyword if term else None)
                if keyword is None:
                    props.append((key, term, inner))
                elif keyword == "@nest" and not key.startswith("@"):
                    self._nested(inner, ctx, props, depth + 1)
                else:
                    raise Unsupported(f"{keyword} in a nested object")

    def _values(
        self,
        subject: str,
        predicate: str,
        term: Term | None,
        value: Any,
        ctx: ActiveContext,
        depth: int,
    ) -> None:
        for item in value if isinstance(value, list) else [value]:
            obj = self._value(term, item, ctx, depth)
            if obj is None:
                continue
            if obj[0] == "*":
                self._values(subject, predicate, term, obj[1], ctx, depth)
            else:
                self.triples.append((subject, predicate, obj))

    def _value(self, term: Term | None, item: Any, ctx: ActiveContext, depth: int) -> Obj | None:
        if item is None:
            return None
        if isinstance(item, list):
            return ("*", item)
        if isinstance(item, dict):
            if "@value" in item:
                return self._value_object(item, ctx)
            if "@list" in item:
                raise Unsupported("@list")
            if "@set" in item:
                return ("*", item["@set"])
            return self._ref(self.node(item, ctx, depth + 1))
        coerce = term.coerce if term is not None else None
        if isinstance(item, str):
            if coerce in ("@id", "@vocab"):
                iri = ctx.expand_iri(item, vocab=coerce == "@vocab") or ""
                return self._ref(self._node_id(iri))
            if coerce is not None:
                return ("L", item, coerce, None)
            language = term.language if term is not None and term.has_language else ctx.language
            return ("L", item, None, language)
        if isinstance(item, bool | int | float):
            return _native(item, coerce if coerce not in (None, "@id", "@vocab") else None)
        raise Unsupported(f"value of type {type(item).__name__}")

    def _value_object(self, item: dict[str, Any], ctx: ActiveContext) -> Obj | None:
        if not set(item) <= {"@value", "@type", "@language"}:
            raise Unsupported("value object keys")
        value, kind, language = item["@value"], item.get("@type"), item.get("@language")
        if value is None:
            return None
        datatype = None
        if kind is not None:
            if not isinstance(kind, str) or language is not None or kind == "@json":
                raise Unsupported("value object @type")
            datatype = self._node_id(ctx.expand_iri(kind, vocab=True) or "")
        if isinstance(value, str):
            if language is not None and not isinstance(language, str):
                raise Unsupported("@language is not a string")
            return ("L", value, datatype, language)
        if isinstance(value, bool | int | float):
            return _native(value, datatype)
        raise Unsupported("@value is not a scalar")


_KNOWN_KEYWORDS = frozenset(
    {"@graph", "@reverse", "@included", "@nest", "@value", "@list", "@set", "@index"}
    | {"@language", "@direction", "@json", "@none", "@base", "@vocab", "@version"}
)


def expand(document: dict[str, Any], ctx: ActiveContext) -> list[Triple]:
    """The triples of a JSON-LD node object whose top-level context is ``ctx``."""
    expander = _Expander()
    expander.node(document, ctx, 0)
    return expander.triples
