"""Markdown and Logseq pages: one page, its ontology rows and its wikilinks.

Which parts of a page are read (docs/formats.md has the whole mapping):
1. ```json-ld blocks (:mod:`syncer.formats.jsonld_blocks`) and ```turtle blocks;
2. when no JSON-LD block declares a class: the Logseq outline (:mod:`syncer.formats.outline`)
   and its OWL functional syntax (```clojure fences and ``SubClassOf(...)`` lines,
   :mod:`syncer.formats.owlfss`). A page with a JSON-LD Class block (the 2026 format) has
   an outline that restates the block under older names; reading both would state each
   fact twice under two IRIs, so the block wins;
3. always: the page itself (a ``kg_nodes`` row) and its ``[[wikilinks]]`` outside fences.

Status: ``ok`` when the page gives ontology rows (problems with single blocks are
warnings); ``failed`` when it has ontology content and none of it could be used;
``skipped`` when it has none: the page and its links are still kept for the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from syncer.errors import ParseError
from syncer.formats.contexts import ContextResolver
from syncer.formats.curies import Prefixes, prefixes_for
from syncer.formats.fences import FenceScan, scan_fences, whole_file
from syncer.formats.jsonld_blocks import merge_facts, read_block
from syncer.formats.mapping import GraphFacts, facts_from_triples, triples_from_facts
from syncer.formats.options import ParseOptions
from syncer.formats.outline import (
    Prop,
    has_ontology_block,
    page_properties,
    read_outline,
    scan_properties,
)
from syncer.formats.owlfss import fss_statements, read_fss
from syncer.formats.pages import kind_of_property, page_key, page_name_from_path, wikilinks
from syncer.formats.prefixes import prefix_map
from syncer.formats.triples import BlankLabels, Triple, dedupe, file_tag, to_rows
from syncer.model import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_SKIPPED,
    FileContribution,
    PageDecl,
    PageLink,
)

JSONLD_TAGS = frozenset({"json-ld", "jsonld", "json+ld", "ld+json"})
TURTLE_TAGS = frozenset({"turtle", "ttl"})
OWL_TAGS = frozenset({"clojure", "owl", "ofn", "owl-functional", "functional-syntax"})
_MAX_WARNINGS = 200


def decode_page(data: bytes) -> tuple[str, list[str]]:
    try:
        text, warnings = data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", "replace")
        warnings = [f"not valid UTF-8 (byte {exc.start}); undecodable bytes replaced"]
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, warnings


def page_links(text: str, fences: FenceScan, props: list[Prop]) -> tuple[PageLink, ...]:
    """Wikilinks outside fences; ``kind`` is the property holding the link, else "link"."""
    spans = [(p.value_start, p.value_end, kind_of_property(p.key)) for p in props]
    links: dict[tuple[str, str], PageLink] = {}
    i = 0
    refs = [ref for start, end in fences.gaps(len(text)) for ref in wikilinks(text, start, end)]
    for ref in refs:
        while i < len(spans) and spans[i][1] <= ref.start:
            i += 1
        kind = spans[i][2] if i < len(spans) and spans[i][0] <= ref.start else "link"
        links.setdefault((ref.key, kind), PageLink(ref.key, ref.title, kind))
    return tuple(sorted(links.values(), key=lambda link: (link.target_key, link.kind)))


@dataclass
class _Page:
    """What the readers of one page found, as they go."""

    parts: list[GraphFacts] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    jsonld_class: bool = False
    triples: list[Triple] = field(default_factory=list)
    labels: BlankLabels = field(default_factory=lambda: BlankLabels(""))

    def error(self, message: str) -> None:
        """A block that gave nothing: a warning in page order, and an error if all fail."""
        self.errors.append(message)
        self.warnings.append(message)

    def saw(self, fmt: str) -> None:
        if fmt not in self.formats:
            self.formats.append(fmt)


def _read_fences(
    text: str, fences: FenceScan, options: ParseOptions, resolver: ContextResolver, page: _Page
) -> None:
    prefixes = prefixes_for(options.prefixes)
    for fence in fences.fences:
        if fence.tag in JSONLD_TAGS:
            page.saw("json-ld")
            result = read_block(
                fence.body(text), fence.line, options.contexts, resolver, page.labels
            )
            page.warnings.extend(result.warnings)
            if result.error is not None:
                page.error(result.error)
            else:
                page.parts.append(result.facts)
                page.triples.extend(result.statements)
                page.classes.extend(result.classes)
                page.jsonld_class = page.jsonld_class or bool(result.classes)
        elif fence.tag in TURTLE_TAGS:
            page.saw("turtle")
            _read_turtle(fence.body(text), fence.line, prefixes, resolver, page)


def _read_turtle(
    body: str, line: int, prefixes: Prefixes, resolver: ContextResolver, page: _Page
) -> None:
    from syncer.formats.rdf import read_triples

    # Logseq turtle blocks use prefixes they never declare; the table goes first, on the
    # block's first line (so the parser's line numbers stay the block's), and the block's
    # own @prefix lines still win.
    header = " ".join(f"@prefix {p}: <{iri}> ." for p, iri in prefixes.table.items())
    try:
        raw, warnings = read_triples(f"{header} {body}".encode(), "turtle", resolver, None)
    except ParseError as exc:
        page.error(f"turtle block at line {line}: {exc}")
        return
    page.warnings.extend(f"turtle block at line {line}: {w}" for w in warnings)
    page.labels.new_scope()
    triples = page.labels.relabel(raw)
    facts = facts_from_triples(triples)
    page.parts.append(facts)
    page.triples.extend(triples)
    page.classes.extend(c.iri for c in facts.classes)


def _read_outline(
    text: str,
    fences: FenceScan,
    props: list[Prop],
    title: str,
    key: str,
    prefixes: Prefixes,
    page: _Page,
) -> None:
    outline = read_outline(
        text, props, title, key, has_ontology_block(text, fences.inside), prefixes
    )
    if outline.ontology:
        page.saw("outline")
        page.warnings.extend(outline.warnings)
        facts = GraphFacts(outline.classes, outline.edges, (), outline.axioms)
        page.parts.append(facts)
        page.triples.extend(triples_from_facts(facts))
        page.classes[:0] = [c.iri for c in outline.classes]
    texts = [f.body(text) for f in fences.fences if f.tag in OWL_TAGS]
    texts.extend(fss_statements(text, fences.inside))
    if texts:
        owl = read_fss(texts, prefixes)
        if owl.axioms or owl.properties:
            page.saw("owl-functional")
            facts = GraphFacts((), (), tuple(owl.properties), tuple(owl.axioms))
            page.parts.append(facts)
            page.triples.extend(triples_from_facts(facts))
            page.warnings.extend(w for w in owl.warnings if w not in page.warnings)


def parse_markdown(
    path: str, data: bytes, options: ParseOptions, resolver: ContextResolver
) -> FileContribution:
    text, warnings = decode_page(data)
    name = page_name_from_path(path)
    key = page_key(name)
    prefixes = prefixes_for(options.prefixes)
    fences = scan_fences(text)
    if not fences.fences:
        fences = whole_file(text) or fences
    page = _Page(warnings=warnings, labels=BlankLabels(lambda: file_tag(path, data)))
    page.warnings.extend(
        f"line {n}: a fence opened here is never closed; read as text"
        for n in fences.unclosed_lines
    )
    props = scan_properties(text, fences.inside)
    own = page_properties(text, props, fences.inside)
    title = own.get("title") or name
    _read_fences(text, fences, options, resolver, page)
    if not page.jsonld_class:
        _read_outline(text, fences, props, title, key, prefixes, page)
    facts = merge_facts(page.parts)
    triples = dedupe(page.triples)
    fmt = "/".join(["markdown", "+".join(page.formats)]) if page.formats else "markdown"
    if not facts and not triples and page.errors:
        return FileContribution(
            status=STATUS_FAILED,
            format=fmt,
            error="; ".join(page.errors)[:2000],
            warnings=tuple(w for w in page.warnings if w not in page.errors)[:_MAX_WARNINGS],
            context_deps=resolver.deps(),
        )
    aliases = tuple(
        dict.fromkeys(
            a.strip().removeprefix("[[").removesuffix("]]").strip()
            for a in own.get("alias", "").split(",")
            if a.strip()
        )
    )
    public = own.get("public", "").strip().lower()
    decl = PageDecl(
        key=key,
        title=title,
        aliases=aliases,
        public=True if public == "true" else False if public == "false" else None,
        classes=tuple(dict.fromkeys(page.classes)),
    )
    # A page whose blocks state triples is ok even when none is a class (issue 12).
    has_rows = bool(facts) or bool(triples)
    return FileContribution(
        status=STATUS_OK if has_rows else STATUS_SKIPPED,
        format=fmt,
        error=None if has_rows else _skip_reason(page),
        warnings=tuple(page.warnings[:_MAX_WARNINGS]),
        classes=tuple(sorted(facts.classes, key=lambda c: c.iri)),
        edges=tuple(
            sorted(set(facts.edges), key=lambda e: (e.child, e.parent, e.parent_page or ""))
        ),
        properties=tuple(sorted(facts.properties, key=lambda p: p.iri)),
        axioms=tuple(sorted(set(facts.axioms), key=lambda a: (a.axiom_type, a.subject, a.object))),
        individuals=tuple(sorted(set(facts.individuals), key=lambda i: (i.iri, i.class_iri))),
        statements=tuple(to_rows(triples, prefix_map(options.prefixes))),
        page=decl,
        links=page_links(text, fences, props),
        context_deps=resolver.deps(),
    )


def _skip_reason(page: _Page) -> str:
    if page.formats:
        return f"its {' and '.join(page.formats)} content states no classes, properties or axioms"
    return "no ontology content; kept as a knowledge-graph page"
