"""JSON-LD 1.1 contexts, compiled once and reused: the part of the fast JSON-LD path that
knows what a key means.

Only what ontology pages use is implemented: term definitions (``@id``, ``@type``
coercion to ``@id``/``@vocab``/a datatype, ``@container: @set``, ``@language``,
``@prefix``, property-scoped ``@context``), prefixes and compact IRIs, ``@vocab``, a
default ``@language``, and a term aliasing ``@nest`` in a ``"@version": 1.1`` context (the
shape of a ``"relations": {...}`` object). Everything else (``@base`` and relative IRIs,
``@reverse``, ``@nest`` spelt out or in a term definition, ``@list``, index/language/type
maps, type-scoped contexts, ``@propagate``, ``@direction``, other keyword aliases) raises
:class:`Unsupported`, and the caller hands the block to rdflib, which implements the whole
specification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

KEYWORDS = frozenset(
    {
        "@base",
        "@container",
        "@context",
        "@direction",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@prefix",
        "@propagate",
        "@protected",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    }
)
_TERM_KEYS = frozenset(
    {"@id", "@type", "@container", "@context", "@language", "@prefix", "@protected"}
)
_GEN_DELIMS = tuple(":/?#[]@")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")
_RESERVED = re.compile(r"^@[A-Za-z]+$")
_NO_SCOPE = object()
_COMMON_SCHEMES = frozenset({"urn", "http", "https", "did"})


class Unsupported(Exception):
    """A JSON-LD feature the fast path does not implement; rdflib will read the block."""


@dataclass(eq=False)
class Term:
    iri: str | None  # None: mapped to null, so keys using it are dropped
    keyword: str | None = None  # "@id", "@type" or "@nest" when the term aliases a keyword
    coerce: str | None = None  # "@id", "@vocab", a datatype IRI, or None
    container: frozenset[str] = frozenset()
    has_language: bool = False
    language: str | None = None
    scoped: Any = _NO_SCOPE  # a property-scoped context (already inlined), if any
    prefix: bool = False

    @property
    def has_scope(self) -> bool:
        return self.scoped is not _NO_SCOPE


@dataclass(eq=False)
class ActiveContext:
    terms: dict[str, Term] = field(default_factory=dict)
    vocab: str | None = None
    language: str | None = None
    _scoped: dict[int, ActiveContext] = field(default_factory=dict, repr=False)

    def copy(self) -> ActiveContext:
        return ActiveContext(dict(self.terms), self.vocab, self.language)

    def with_scope(self, term: Term) -> ActiveContext:
        """The context for the value of a term with a property-scoped context (memoized)."""
        if not term.has_scope:
            return self
        found = self._scoped.get(id(term))
        if found is None:
            found = process(self, term.scoped)
            self._scoped[id(term)] = found
        return found

    def expand_iri(self, value: str, vocab: bool) -> str | None:
        head, colon, _ = value.partition(":")
        if colon and head in _COMMON_SCHEMES and head not in self.terms:
            return value  # the common case, urn:... and http(s)://..., without the walk
        return _expand_iri(self, value, vocab, None, None)


def is_absolute(iri: str) -> bool:
    """An IRI with a scheme, or a blank node id (what may stand in a triple)."""
    head, colon, _ = iri.partition(":")
    return bool(colon) and (head == "_" or _SCHEME.match(head) is not None)


def _expand_iri(
    ctx: ActiveContext,
    value: str,
    vocab: bool,
    local: dict[str, Any] | None,
    defined: dict[str, bool] | None,
) -> str | None:
    if value in KEYWORDS:
        return value
    if _RESERVED.match(value):
        return None
    if local is not None and defined is not None and value in local and value not in defined:
        _define(ctx, local, value, defined)
    if vocab:
        term = ctx.terms.get(value)
        if term is not None:
            return term.keyword or term.iri
    colon = value.find(":")
    if colon > 0:
        prefix, suffix = value[:colon], value[colon + 1 :]
        if prefix == "_" or suffix.startswith("//"):
            return value
        if local is not None and defined is not None and prefix in local and prefix not in defined:
            _define(ctx, local, prefix, defined)
        term = ctx.terms.get(prefix)
        if term is not None and term.iri is not None:
            if not term.prefix:
                raise Unsupported(f"term {prefix!r} used as a prefix but is not one")
            return term.iri + suffix
        if _SCHEME.match(prefix):
            return value
    if vocab and ctx.vocab is not None:
        return ctx.vocab + value
    return value  # relative: callers refuse it (we have no base IRI)


def _define(ctx: ActiveContext, local: dict[str, Any], name: str, defined: dict[str, bool]) -> None:
    """Create the term definition of ``name`` from ``local`` (JSON-LD 1.1, 4.2.2)."""
    if name in defined:
        if not defined[name]:
            raise Unsupported(f"cyclic term definition {name!r}")
        return
    defined[name] = False
    value = local[name]
    if name.startswith("@"):
        defined[name] = True
        return
    if value is None:
        ctx.terms[name] = Term(iri=None)
        defined[name] = True
        return
    simple = isinstance(value, str)
    if simple:
        value = {"@id": value}
    if not isinstance(value, dict) or not set(value) <= _TERM_KEYS:
        raise Unsupported(f"term definition {name!r} uses unsupported keys")
    coerce = None
    if "@type" in value:
        kind = value["@type"]
        if not isinstance(kind, str) or kind in ("@json", "@none"):
            raise Unsupported(f"term {name!r}: @type {kind!r}")
        if kind in ("@id", "@vocab"):
            coerce = kind
        else:
            coerce = _expand_iri(ctx, kind, True, local, defined)
            if coerce is None or not is_absolute(coerce):
                raise Unsupported(f"term {name!r}: datatype {kind!r} is not an IRI")
    keyword = iri = None
    target = value.get("@id", name)
    if "@id" in value and target is None:
        pass  # explicitly null
    elif not isinstance(target, str):
        raise Unsupported(f"term {name!r}: @id is not a string")
    elif target in ("@id", "@type"):
        keyword = target
    elif target == "@nest" and local.get("@version") == 1.1 and set(value) == {"@id"}:
        # @nest is JSON-LD 1.1 only; rdflib honours it only in a 1.1 context, so do we.
        keyword = target
    elif target.startswith("@"):
        raise Unsupported(f"term {name!r} aliases {target}")
    elif target == name and ":" not in name[1:]:
        if "/" in name or ctx.vocab is None:
            raise Unsupported(f"term {name!r} has no IRI")
        iri = ctx.vocab + name
    else:
        iri = _expand_iri(ctx, target, True, local, defined)
        if iri is None or not is_absolute(iri):
            raise Unsupported(f"term {name!r} does not expand to an IRI")
    container = value.get("@container", ())
    containers = frozenset([container] if isinstance(container, str) else container)
    if "@prefix" in value:
        prefix = value["@prefix"] is True
    else:
        prefix = simple and iri is not None and iri.endswith(_GEN_DELIMS)
    ctx.terms[name] = Term(
        iri=iri,
        keyword=keyword,
        coerce=coerce,
        container=containers,
        has_language="@language" in value,
        language=value.get("@language"),
        scoped=value.get("@context", _NO_SCOPE),
        prefix=prefix and ":" not in name and "/" not in name,
    )
    defined[name] = True


def process(active: ActiveContext, local: Any) -> ActiveContext:
    """The active context after ``local`` (an inlined context: object, list or null)."""
    result = active.copy()
    for item in local if isinstance(local, list) else [local]:
        if item is None:
            result = ActiveContext()
        elif isinstance(item, list):
            result = process(result, item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if not key.startswith("@"):
                    continue
                if key == "@version":
                    if value != 1.1:
                        raise Unsupported("@version other than 1.1")
                elif key == "@vocab":
                    if value is None:
                        result.vocab = None
                    else:
                        vocab = _expand_iri(result, str(value), True, None, None)
                        if vocab is None or not is_absolute(vocab):
                            raise Unsupported("relative @vocab")
                        result.vocab = vocab
                elif key == "@language":
                    result.language = value if isinstance(value, str) or value is None else None
                elif key != "@protected":
                    raise Unsupported(f"context keyword {key}")
            defined: dict[str, bool] = {}
            for name in item:
                if not name.startswith("@"):
                    _define(result, item, name, defined)
        else:
            raise Unsupported("a context that is not an object")
    return result


def compile_context(inlined: Any) -> ActiveContext:
    """The active context of a document whose top-level ``@context`` is ``inlined``."""
    return process(ActiveContext(), inlined)
