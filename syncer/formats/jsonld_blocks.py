"""One ```json-ld block of a Markdown page: its rows, or why it gave none.

- The JSON is read with duplicate keys merged (both values kept, as if the author had
  written one array; for ``@``-keywords the last wins, as in plain JSON) and reported.
- The ``@context`` is resolved offline (:class:`ContextResolver`), compiled once per
  process and reused. A context nobody mapped is a warning for the block, never a fetch.
  A block of the well-known *Class block* shape (``"@type": "Class"`` and an ``@id``)
  is still read when its context is not mapped, with the built-in mapping
  :data:`BUILTIN_CLASS_CONTEXT`; any other block with an unmapped context gives nothing.
- Triples come from the fast reader (:mod:`syncer.formats.jsonld_fast`) or, for
  features it leaves out, from rdflib; rows from the same rules as an RDF file.
- Class blocks add what the triples of most contexts do not carry (docs/formats.md):
  ``relations`` (ObjectPropertyAssertion axioms, one ObjectProperty per relation name),
  ``relations.subClassOf`` (a misplaced parent: a hierarchy edge) and ``sameAs``
  (EquivalentClass axioms).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from syncer.errors import ParseError
from syncer.formats.contexts import ContextDoc, ContextResolver, UnresolvableContext
from syncer.formats.curies import W3C_PREFIXES
from syncer.formats.jsonld_context import ActiveContext, Unsupported, compile_context, is_absolute
from syncer.formats.jsonld_fast import expand
from syncer.formats.mapping import GraphFacts, facts_from_triples, triples_from_facts
from syncer.formats.pages import iri_escape
from syncer.formats.triples import BlankLabels, Triple, literal
from syncer.model import Axiom, PropertyDecl, SubclassEdge

RELATION_NAMESPACE = "urn:syncer:relation:"
BUILTIN_CLASS_CONTEXT: dict[str, Any] = {
    **{prefix: W3C_PREFIXES[prefix] for prefix in ("owl", "rdfs", "skos", "xsd")},
    "Class": "owl:Class",
    "label": "rdfs:label",
    "definition": "skos:definition",
    "subClassOf": {"@id": "rdfs:subClassOf", "@type": "@id"},
}
_BUILTIN = compile_context(BUILTIN_CLASS_CONTEXT)
_PARENT_KEYS = frozenset({"subclassof", "issubclassof"})
_MEMO_LIMIT = 256
_Memo = tuple[ActiveContext | tuple[str, str], tuple[tuple[str, ContextDoc], ...]]
_memo: dict[tuple[str, tuple[ContextDoc, ...]], _Memo] = {}


@dataclass(frozen=True)
class BlockResult:
    facts: GraphFacts = field(default_factory=GraphFacts)
    classes: tuple[str, ...] = ()  # class IRIs the block declares, its own @id first
    warnings: tuple[str, ...] = ()
    error: str | None = None  # set when the block gave nothing
    triples: int = 0
    class_block: bool = False
    # The block's triples, blank nodes already named for the file, plus the triples
    # stating what a Class block's relations add.
    statements: tuple[Triple, ...] = ()


def _merging_hook(duplicates: list[str]) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key not in out:
                out[key] = value
                continue
            old = out[key]
            if key.startswith("@") or old == value:
                duplicates.append(f"{key!r} (the same value twice)" if old == value else f"{key!r}")
                out[key] = value
            else:
                duplicates.append(f"{key!r}; both values kept")
                out[key] = (old if isinstance(old, list) else [old]) + (
                    value if isinstance(value, list) else [value]
                )
        return out

    return hook


def is_class_shape(doc: Any) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("@id"), str):
        return False
    kind = doc.get("@type")
    return kind == "Class" or (isinstance(kind, list) and "Class" in kind)


def context_for(
    value: Any, contexts: tuple[ContextDoc, ...], resolver: ContextResolver
) -> ActiveContext:
    """The compiled context for a block's ``@context`` value, memoized per process.

    Records the documents used in ``resolver`` (for ``context_deps``) on every call.
    """
    if value is None:
        return ActiveContext()
    key = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    hit = _memo.get((key, contexts))
    if hit is None:
        fresh = ContextResolver(contexts)
        result: ActiveContext | tuple[str, str]
        try:
            result = compile_context(fresh.inline({"@context": value})["@context"])
        except UnresolvableContext as exc:
            result = ("unresolvable", exc.url)
        except ParseError as exc:
            result = ("error", str(exc))
        except (Unsupported, RecursionError) as exc:
            result = ("unsupported", str(exc))
        hit = (result, tuple(fresh.used.items()))
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        _memo[(key, contexts)] = hit
    result, used = hit
    resolver.used.update(used)
    if isinstance(result, ActiveContext):
        return result
    kind, detail = result
    if kind == "unresolvable":
        raise UnresolvableContext(detail)
    raise (ParseError(detail) if kind == "error" else Unsupported(detail))


def _other_reader(document: Any) -> list[Triple]:
    """Blocks the fast reader leaves out: pyoxigraph, then rdflib (syncer.formats.rdf)."""
    from syncer.formats.rdf import read_triples

    triples, _ = read_triples(json.dumps(document).encode(), "json-ld", ContextResolver(()), None)
    return triples


def _normalized(triples: list[Triple]) -> list[Triple]:
    """Literals as formats.triples.literal keeps them (xsd:string implied, tags lower case)."""
    return [(s, p, literal(o[1], o[2], o[3]) if o[0] == "L" else o) for s, p, o in triples]


def _target_ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("@id"), str):
            out.append(item["@id"])
        elif isinstance(item, str):
            out.append(item)
    return out


def _relation_iri(name: str, ctx: ActiveContext) -> str:
    try:
        iri = ctx.expand_iri(name, vocab=True)
    except Unsupported:
        iri = None
    if iri is not None and is_absolute(iri) and not iri.startswith(("_:", "@")):
        return iri_escape(iri)
    return RELATION_NAMESPACE + iri_escape(name).replace("#", "%23").replace("?", "%3F")


def class_block_extras(
    doc: dict[str, Any], ctx: ActiveContext, where: str
) -> tuple[GraphFacts, list[str]]:
    """Rows of a Class block's ``relations`` and ``sameAs`` (see the module docstring)."""
    warnings: list[str] = []
    try:
        subject = ctx.expand_iri(doc["@id"], vocab=False)
    except Unsupported:
        subject = None
    if subject is None or not is_absolute(subject) or subject.startswith("_:"):
        return GraphFacts(), warnings

    def target(raw: str) -> str | None:
        try:
            iri = ctx.expand_iri(raw, vocab=False)
        except Unsupported:
            iri = None
        if iri is None or not is_absolute(iri) or iri.startswith("_:"):
            warnings.append(f"{where}: {raw[:100]!r} is not an IRI; ignored")
            return None
        return iri_escape(iri)

    edges: set[SubclassEdge] = set()
    axioms: set[Axiom] = set()
    properties: dict[str, PropertyDecl] = {}
    relations = doc.get("relations")
    relations_term = ctx.terms.get("relations")
    inner = ctx.with_scope(relations_term) if relations_term is not None else ctx
    if isinstance(relations, dict):
        for name, value in relations.items():
            if name.startswith("@"):  # a keyword names no relation (JSON-LD drops it too)
                warnings.append(f"{where}: relations.{name} is a keyword; ignored")
                continue
            targets = [t for t in map(target, _target_ids(value)) if t is not None]
            if name.replace("-", "").replace("_", "").lower() in _PARENT_KEYS:
                if targets:
                    warnings.append(f"{where}: relations.{name} read as parent classes")
                for parent in targets:
                    edges.add(SubclassEdge(subject, parent))
                    axioms.add(Axiom("SubClassOf", subject, parent))
                continue
            prop = _relation_iri(name, inner)
            properties.setdefault(prop, PropertyDecl(prop, "ObjectProperty", label=name))
            for obj in targets:
                axioms.add(Axiom("ObjectPropertyAssertion", subject, f"<{prop}> <{obj}>"))
    elif relations is not None:
        warnings.append(f"{where}: relations is not an object; ignored")
    for same in filter(None, map(target, _target_ids(doc.get("sameAs", [])))):
        if same != subject:
            axioms.add(Axiom("EquivalentClass", subject, same))
    return (
        GraphFacts(
            edges=tuple(sorted(edges, key=lambda e: (e.child, e.parent))),
            properties=tuple(sorted(properties.values(), key=lambda p: p.iri)),
            axioms=tuple(sorted(axioms, key=lambda a: (a.axiom_type, a.subject, a.object))),
        ),
        warnings,
    )


def merge_facts(parts: list[GraphFacts]) -> GraphFacts:
    """Several blocks' facts as one: first label/comment wins per class, rows deduplicated."""
    classes: dict[str, Any] = {}
    for part in parts:
        for decl in part.classes:
            old = classes.get(decl.iri)
            if old is None:
                classes[decl.iri] = decl
            elif (
                (old.label is None and decl.label)
                or (old.comment is None and decl.comment)
                or (old.definition is None and decl.definition)
            ):
                classes[decl.iri] = type(decl)(
                    decl.iri,
                    old.label or decl.label,
                    old.comment or decl.comment,
                    old.definition or decl.definition,
                )
    properties: dict[str, PropertyDecl] = {}
    for part in parts:
        for prop in part.properties:
            properties.setdefault(prop.iri, prop)
    return GraphFacts(
        classes=tuple(classes.values()),
        edges=tuple(dict.fromkeys(e for part in parts for e in part.edges)),
        properties=tuple(properties.values()),
        axioms=tuple(dict.fromkeys(a for part in parts for a in part.axioms)),
        individuals=tuple(dict.fromkeys(i for part in parts for i in part.individuals)),
    )


def read_block(
    body: str,
    line: int,
    contexts: tuple[ContextDoc, ...],
    resolver: ContextResolver,
    labels: BlankLabels | None = None,
) -> BlockResult:
    """Read one block; ``labels`` names its blank nodes for the file (a page's blocks
    share one :class:`BlankLabels`)."""
    labels = labels or BlankLabels("")
    where = f"json-ld block at line {line}"
    duplicates: list[str] = []
    try:
        doc = json.loads(body, object_pairs_hook=_merging_hook(duplicates))
    except RecursionError:
        return BlockResult(error=f"{where}: JSON nests too deeply")
    except ValueError as exc:
        return BlockResult(error=f"{where}: invalid JSON: {exc}")
    warnings = [f"{where}: duplicate key {what}" for what in dict.fromkeys(duplicates)]
    class_block = is_class_shape(doc)
    ctx: ActiveContext | None = None
    builtin = False
    try:
        ctx = context_for(
            doc.get("@context") if isinstance(doc, dict) else None, contexts, resolver
        )
    except (UnresolvableContext, ParseError) as exc:
        if not class_block:
            return BlockResult(warnings=tuple(warnings), error=f"{where}: {exc}; block not read")
        warnings.append(f"{where}: {exc}; read with the built-in Class-block mapping")
        ctx, builtin = _BUILTIN, True
    except Unsupported:
        ctx = None
    try:
        if ctx is None or not isinstance(doc, dict):
            raise Unsupported("another reader reads this block")
        found = expand(doc, ctx)
    except Unsupported:
        try:
            if builtin:
                document: Any = {**doc, "@context": BUILTIN_CLASS_CONTEXT}
            else:
                document = resolver.inline(doc)
            found = _other_reader(document)
        except ParseError as exc:
            return BlockResult(warnings=tuple(warnings), error=f"{where}: {exc}")
    labels.new_scope()
    statements = labels.relabel(_normalized(found))
    facts = facts_from_triples(statements)
    triples = len(statements)
    if class_block and isinstance(doc, dict):
        extras, more = class_block_extras(doc, ctx or _BUILTIN, where)
        facts = merge_facts([facts, extras])
        statements.extend(triples_from_facts(extras))
        warnings.extend(more)
    declared = [c.iri for c in facts.classes]
    if class_block and ctx is not None:
        try:
            own = ctx.expand_iri(doc["@id"], vocab=False)
        except Unsupported:
            own = None
        if own in declared:
            declared.remove(own)
            declared.insert(0, own)
    return BlockResult(
        facts=facts,
        classes=tuple(declared),
        warnings=tuple(warnings),
        triples=triples,
        class_block=class_block,
        statements=tuple(statements),
    )
