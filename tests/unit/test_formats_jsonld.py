"""```json-ld blocks in Markdown pages (the 2026-08 format): Class blocks with mapped and
unmapped contexts, the messy shapes of the real data, the fast path against rdflib, and
no network, ever. Fixture pages (tests/fixtures/pages/jsonld) and the stand-in context
(tests/fixtures/contexts) are ours."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from syncer.formats import ContextDoc, ParseOptions, parse_file
from syncer.formats.contexts import ContextResolver
from syncer.formats.jsonld_blocks import (
    BUILTIN_CLASS_CONTEXT,
    class_block_extras,
    is_class_shape,
    merge_facts,
    read_block,
)
from syncer.formats.jsonld_context import Unsupported, compile_context
from syncer.formats.jsonld_fast import expand
from syncer.formats.mapping import GraphFacts, facts_from_triples
from syncer.formats.rdf import triples_from_graph
from syncer.formats.triples import literal
from syncer.model import Axiom, ClassDecl, FileContribution, PageDecl, PageLink, PropertyDecl
from syncer.model import SubclassEdge as Edge
from syncer_dev.server import serve_in_thread
from tests.support.paths import FIXTURES


def facts_from_graph(graph: Graph) -> GraphFacts:
    """The rows syncer's mapping gives for what rdflib read."""
    return facts_from_triples(triples_from_graph(graph))


def unlabeled(axioms: Any) -> set[Axiom]:
    return {
        Axiom(a.axiom_type, a.subject, "_:" if a.object.startswith("_:") else a.object)
        for a in axioms
    }


def normalized(triples: Any) -> Any:
    return [(s, p, literal(o[1], o[2], o[3]) if o[0] == "L" else o) for s, p, o in triples]


PAGES = FIXTURES / "pages" / "jsonld"
CLASS_CTX = "https://example.org/ns/class-context.jsonld"
PAGE_CTX = "https://example.org/nowhere/page-context.jsonld"
STANDIN_BYTES = (FIXTURES / "contexts" / "standin-class-context.jsonld").read_bytes()
STANDIN = json.loads(STANDIN_BYTES)["@context"]
MAPPED = ParseOptions(contexts=(ContextDoc(CLASS_CTX, STANDIN_BYTES, "ns/ctx.jsonld", "b10b"),))
# The same terms with "relations" a JSON-LD 1.1 nest: relation names are properties of the
# class itself (the shape the benchmark's stand-in v2 context has).
NESTED = {
    **{k: v for k, v in STANDIN.items() if k != "relations"},
    **STANDIN["relations"]["@context"],
    "relations": "@nest",
}
NESTED_BYTES = json.dumps({"@context": NESTED}).encode()
MAPPED_NESTED = ParseOptions(
    contexts=(ContextDoc(CLASS_CTX, NESTED_BYTES, "ns/nested.jsonld", "4e57"),)
)
EX = "urn:example:class:"
ST = "https://example.org/standin/ns#"
REL = "urn:syncer:relation:"
SKOS = "http://www.w3.org/2004/02/skos/core#"


def parse(name: str, options: ParseOptions | None = None) -> FileContribution:
    return parse_file(f"pages/{name}", (PAGES / name).read_bytes(), options or ParseOptions())


def unmapped(line: int, url: str = CLASS_CTX, class_block: bool = True) -> str:
    tail = "read with the built-in Class-block mapping" if class_block else "block not read"
    return (
        f"json-ld block at line {line}: JSON-LD @context {url!r} is not mapped in"
        f" SYNCER_JSONLD_CONTEXTS; not fetched; {tail}"
    )


SPROCKET_EDGES = (
    Edge(EX + "sprocket", EX + "drive-part"),
    Edge(EX + "sprocket", EX + "toothed-thing"),
    Edge(EX + "sprocket", EX + "wheel"),
)
SPROCKET_TEXT = "A toothed wheel that meshes with a chain \u2014 not a gear."
SPROCKET_CLASS = ClassDecl(EX + "sprocket", "Sprocket", SPROCKET_TEXT, SPROCKET_TEXT)


def assertion(prop: str, target: str) -> Axiom:
    return Axiom("ObjectPropertyAssertion", EX + "sprocket", f"<{prop}> <{EX}{target}>")


def test_class_block_with_unmapped_context_is_read_by_its_well_known_shape() -> None:
    c = parse("Sprocket.md")
    assert (c.status, c.format, c.error) == ("ok", "markdown/json-ld", None)
    assert c.warnings == (
        unmapped(4, PAGE_CTX, class_block=False),
        "json-ld block at line 16: duplicate key 'relatedTo'; both values kept",
        unmapped(16),
        "json-ld block at line 16: relations.subClassOf read as parent classes",
        unmapped(46, PAGE_CTX, class_block=False),
    )
    assert c.classes == (SPROCKET_CLASS,)
    # A parent listed twice is one edge; relations.subClassOf is a (misplaced) parent.
    assert c.edges == SPROCKET_EDGES
    assert c.properties == (
        PropertyDecl(REL + "bridges%20To", "ObjectProperty", "bridges To"),
        PropertyDecl(REL + "enables", "ObjectProperty", "enables"),
        PropertyDecl(REL + "partOf", "ObjectProperty", "partOf"),
        PropertyDecl(REL + "relatedTo", "ObjectProperty", "relatedTo"),
    )
    assert c.axioms == (
        Axiom("EquivalentClass", EX + "sprocket", EX + "chainwheel"),
        assertion(REL + "bridges%20To", "pulley"),
        assertion(REL + "enables", "chain-drive"),
        assertion(REL + "partOf", "bicycle"),  # a single object, not a list
        assertion(REL + "relatedTo", "cog"),  # both values of the duplicated key
        assertion(REL + "relatedTo", "gear"),
        *(Axiom("SubClassOf", e.child, e.parent) for e in SPROCKET_EDGES),
    )
    # The outline restates the block under other names: links only, no ontology rows.
    assert c.page == PageDecl("sprocket", "Sprocket", (), True, (EX + "sprocket",))
    assert c.links == (
        PageLink("chain", "Chain", "link"),
        PageLink("chain drive", "Chain Drive", "enables"),
        PageLink("something else", "Something Else", "is-subclass-of"),
        PageLink("wheel", "Wheel", "is-subclass-of"),
    )
    assert c.context_deps == ()


def test_class_block_with_mapped_context_takes_its_terms_from_it() -> None:
    c = parse("Sprocket.md", MAPPED)
    assert c.classes == (SPROCKET_CLASS,) and c.edges == SPROCKET_EDGES
    assert c.properties == (
        PropertyDecl(SKOS + "related", "ObjectProperty", "relatedTo"),
        PropertyDecl(ST + "enables", "ObjectProperty", "enables"),
        # Names the context does not define are minted, as without a context.
        PropertyDecl(REL + "bridges%20To", "ObjectProperty", "bridges To"),
        PropertyDecl(REL + "partOf", "ObjectProperty", "partOf"),
    )
    assert assertion(SKOS + "related", "cog") in c.axioms
    assert assertion(ST + "enables", "chain-drive") in c.axioms
    assert unmapped(16) not in c.warnings
    # The repository file the context came from: the page is redone when it changes.
    assert c.context_deps == (("ns/ctx.jsonld", "b10b"),)


def test_one_line_blocks_alias_after_a_fence_and_no_public_line() -> None:
    c = parse("Compact Cog.md")
    assert c.classes == (
        ClassDecl(EX + "compact-cog", "Compact Cog", "A small cog.", "A small cog."),
    )
    assert c.edges == (Edge(EX + "compact-cog", EX + "sprocket"),)
    assert c.page == PageDecl(
        "compact cog", "Compact Cog", ("Cog Wheel", "CompactCog"), None, (EX + "compact-cog",)
    )
    assert c.links == (PageLink("sprocket", "Sprocket", "is-part-of"),)
    assert c.properties == ()  # an empty relations object


def test_a_two_cycle_is_two_plain_edges() -> None:
    a, b = parse("Loop A.md"), parse("Loop B.md")
    assert a.edges == (Edge(EX + "loop-a", EX + "loop-b"),)
    assert b.edges == (Edge(EX + "loop-b", EX + "loop-a"),)


def test_owl_thing_parent_and_json_examples_in_prose_are_not_data() -> None:
    c = parse("Top Thing.md")
    thing = "http://www.w3.org/2002/07/owl#Thing"
    assert c.classes == (
        ClassDecl(
            EX + "top-thing", "Top Thing", "A root of the hierarchy.", "A root of the hierarchy."
        ),
    )
    assert c.edges == (Edge(EX + "top-thing", thing),)
    assert c.warnings == (unmapped(5),)


def test_a_broken_block_is_a_warning_when_another_gives_rows() -> None:
    c = parse("Half Broken.md")
    assert c.status == "ok"
    assert c.classes == (
        ClassDecl(
            EX + "half-broken",
            "Half Broken",
            "The second block is fine.",
            "The second block is fine.",
        ),
    )
    assert c.warnings[0].startswith("json-ld block at line 1: invalid JSON: Expecting property")


def test_a_page_whose_only_block_is_broken_fails() -> None:
    c = parse("Only Broken.md")
    assert (c.status, c.format, c.page, c.classes) == ("failed", "markdown/json-ld", None, ())
    assert c.error is not None
    assert c.error.startswith("json-ld block at line 3: invalid JSON:")
    assert c.warnings == ()


def test_a_page_block_with_an_unmapped_context_alone_fails_with_the_reason() -> None:
    c = parse("Page Block Only.md")
    assert c.status == "failed"
    assert c.error == unmapped(1, PAGE_CTX, class_block=False)


def test_duplicate_keys_keep_both_values_keywords_keep_the_last() -> None:
    body = (
        '{"@context": "urn:x:ctx", "@id": "urn:x:a", "@id": "urn:x:b", "@type": "Class",'
        ' "label": "One", "label": "One", "maturity": "a", "maturity": "b",'
        ' "subClassOf": "urn:x:p", "subClassOf": ["urn:x:q"]}'
    )
    result = read_block(body, 7, (), ContextResolver(()))
    assert result.facts.edges == (Edge("urn:x:b", "urn:x:p"), Edge("urn:x:b", "urn:x:q"))
    assert result.classes == ("urn:x:b",)
    assert result.warnings[:3] == (
        "json-ld block at line 7: duplicate key '@id'",
        "json-ld block at line 7: duplicate key 'label' (the same value twice)",
        "json-ld block at line 7: duplicate key 'maturity'; both values kept",
    )


# --- The fast path against rdflib --------------------------------------------------


def class_blocks() -> list[dict[str, Any]]:
    docs = []
    for page in sorted(PAGES.glob("*.md")):
        for chunk in page.read_text(encoding="utf-8").split("```json-ld\n")[1:]:
            try:
                doc = json.loads(chunk.split("\n```", 1)[0])
            except ValueError:
                continue
            if doc.get("@type") == "Class":
                docs.append(doc)
    return docs


def to_graph(triples: list[tuple[str, str, tuple[Any, ...]]]) -> Graph:
    def node(o: tuple[Any, ...]) -> Any:
        if o[0] == "I":
            return URIRef(o[1])
        if o[0] == "B":
            return BNode(o[1][2:])
        if o[2] and o[2].endswith(("#double", "#decimal", "#integer")):
            return Literal(str(float(o[1])), datatype=URIRef(o[2]))
        return Literal(o[1], datatype=URIRef(o[2]) if o[2] else None, lang=o[3])

    graph = Graph()
    for s, p, o in triples:
        graph.add((BNode(s[2:]) if s.startswith("_:") else URIRef(s), URIRef(p), node(o)))
    return graph


def rdflib_graph(doc: dict[str, Any], context: Any) -> Graph:
    graph = Graph()
    graph.parse(data={**doc, "@context": context}, format="json-ld")
    numeric = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and str(o.datatype).endswith(("#double", "#decimal", "#integer")):
            o = Literal(str(float(o)), datatype=o.datatype)
        numeric.add((s, p, o))
    return numeric


@pytest.mark.parametrize(
    "context", [STANDIN, NESTED, BUILTIN_CLASS_CONTEXT], ids=["standin", "nested", "builtin"]
)
def test_fast_path_gives_rdflibs_triples_and_rows_for_every_fixture_block(context: Any) -> None:
    docs = class_blocks()
    assert len(docs) == 6
    for doc in docs:
        ours = expand(doc, compile_context(context))
        reference = rdflib_graph(doc, context)
        # Triples equal up to blank-node names and the spelling of numbers.
        assert isomorphic(to_graph(ours), reference), doc["@id"]
        assert facts_from_triples(normalized(ours)) == facts_from_graph(reference), doc["@id"]


IRIS = st.sampled_from(["urn:t:a", "urn:t:b", "https://e.org/x", "owl:Thing", "st:Local", "_:n1"])
TEXT = st.text(alphabet="abcAB é\u2014", max_size=6)
LABEL = st.one_of(
    TEXT,
    st.fixed_dictionaries(
        {"@value": TEXT, "@language": st.sampled_from(["en", "de", "EN-GB", "fr"])}
    ),
)
REF = st.one_of(IRIS, st.fixed_dictionaries({"@id": IRIS}, optional={"label": LABEL}))
ONE_OR_MORE = st.one_of(REF, st.lists(REF, max_size=3))
DOC = st.fixed_dictionaries(
    {"@id": IRIS, "@type": st.sampled_from(["Class", ["Class"], "owl:Class", "rdfs:Class"])},
    optional={
        "label": st.one_of(LABEL, st.lists(LABEL, max_size=3)),
        "title": LABEL,
        "definition": st.one_of(LABEL, st.lists(LABEL, max_size=2)),
        "subClassOf": ONE_OR_MORE,
        "sameAs": st.lists(REF, max_size=2),
        "relations": st.dictionaries(
            st.sampled_from(["enables", "relatedTo", "hasPart", "uses", "subClassOf"]),
            ONE_OR_MORE,
            max_size=3,
        ),
        "quality": st.floats(0, 1),
        "maturity": TEXT,
        "provenance": st.fixed_dictionaries({"attributedTo": IRIS, "inferenceRule": TEXT}),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=DOC, kind=st.sampled_from(["standin", "nested", "builtin"]))
@pytest.mark.slow
def test_read_block_equals_rdflib_plus_the_class_block_rules(
    doc: dict[str, Any], kind: str
) -> None:
    mapped = kind != "builtin"
    context = {"standin": STANDIN, "nested": NESTED, "builtin": BUILTIN_CLASS_CONTEXT}[kind]
    block = {"@context": CLASS_CTX, **doc}
    options = {"standin": MAPPED, "nested": MAPPED_NESTED, "builtin": ParseOptions()}[kind]
    result = read_block(json.dumps(block), 1, options.contexts, ContextResolver(options.contexts))
    if not mapped and not is_class_shape(block):
        assert result.error == unmapped(1, class_block=False)
        return
    reference = facts_from_graph(rdflib_graph(doc, context))
    extras, _ = class_block_extras(block, compile_context(context), "here")
    expected = merge_facts([reference, extras]) if is_class_shape(block) else reference
    assert set(result.facts.classes) == set(expected.classes)
    assert set(result.facts.edges) == set(expected.edges)
    # Blank nodes: each reader names them its own way (the file's labels come later).
    assert unlabeled(result.facts.axioms) == unlabeled(expected.axioms)
    assert set(result.facts.properties) == set(expected.properties)


def test_features_outside_the_fast_path_go_to_rdflib() -> None:
    doc = {
        "@context": {
            "owl": "http://www.w3.org/2002/07/owl#",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "parts": {"@id": "urn:t:parts", "@container": "@list"},
            "children": {"@reverse": "rdfs:subClassOf"},
        },
        "@id": "urn:t:a",
        "@type": "owl:Class",
        "parts": ["urn:t:x"],
        "children": [{"@id": "urn:t:c", "@type": "owl:Class"}],
    }
    with pytest.raises(Unsupported):
        expand(doc, compile_context(doc["@context"]))
    result = read_block(json.dumps(doc), 1, (), ContextResolver(()))
    assert result.error is None
    assert result.facts.classes == (ClassDecl("urn:t:a"), ClassDecl("urn:t:c"))
    assert result.facts.edges == (Edge("urn:t:c", "urn:t:a"),)


@pytest.mark.parametrize(
    ("version", "relations", "warning"),
    [
        # @nest is JSON-LD 1.1: the fast path wants "@version": 1.1 (rdflib nests anyway)
        (None, {"enables": "urn:t:b"}, None),
        (1.1, {"@id": "urn:t:other"}, "relations.@id is a keyword"),  # a keyword in a nest
        (1.1, ["urn:t:b"], "relations is not an object"),
    ],
    ids=["json-ld-1.0", "keyword-inside", "not-an-object"],
)
def test_nests_outside_the_fast_path_go_to_rdflib(
    version: float | None, relations: Any, warning: str | None
) -> None:
    context: dict[str, Any] = {k: v for k, v in NESTED.items() if k != "@version"}
    if version is not None:
        context["@version"] = version
    doc = {"@context": context, "@id": "urn:t:a", "@type": "Class", "relations": relations}
    with pytest.raises(Unsupported):
        expand(doc, compile_context(context))
    result = read_block(json.dumps(doc), 1, (), ContextResolver(()))
    reference = facts_from_graph(rdflib_graph(doc, context))
    # A context the fast path cannot compile leaves the Class-block rules the built-in one.
    rules = compile_context(context if version else BUILTIN_CLASS_CONTEXT)
    extras, warnings = class_block_extras(doc, rules, "here")
    assert result.error is None
    assert result.facts == merge_facts([reference, extras])
    assert warnings == ([f"here: {warning}; ignored"] if warning else [])


# --- No network ---------------------------------------------------------------------


@pytest.fixture
def counting_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback server that would serve any context, and records every request."""
    hits: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        hits.append(scope["path"])
        body = b'{"@context": {"label": "http://www.w3.org/2000/01/rdf-schema#label"}}'
        headers = [(b"content-type", b"application/ld+json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    with serve_in_thread(app) as base_url:
        yield base_url, hits


def test_remote_contexts_are_never_fetched(counting_server: tuple[str, list[str]]) -> None:
    base, hits = counting_server
    page = f"""public:: true

```json-ld
{{"@context": "{base}/class.jsonld", "@id": "urn:t:remote", "@type": "Class",
  "label": "Remote", "subClassOf": {{"@id": "urn:t:parent"}}}}
```

```json-ld
{{"@context": "{base}/page.jsonld", "@id": "urn:t:page", "@type": "Page"}}
```

```json-ld
{{"@context": {{"@import": "{base}/import.jsonld"}}, "@id": "urn:t:imp", "@type": "Class"}}
```

```json-ld
{{"@context": {{"rdfs": "http://www.w3.org/2000/01/rdf-schema#"}}, "@id": "urn:t:nested",
  "rdfs:seeAlso": {{"@context": "{base}/nested.jsonld", "@id": "urn:t:other"}}}}
```
"""
    c = parse_file("pages/Remote.md", page.encode(), ParseOptions())
    assert hits == []
    with urllib.request.urlopen(f"{base}/probe.jsonld") as response:  # the server does answer
        assert response.status == 200
    assert hits == ["/probe.jsonld"]
    assert c.status == "ok"
    assert ClassDecl("urn:t:remote", "Remote", None) in c.classes
    assert c.edges == (Edge("urn:t:remote", "urn:t:parent"),)
    assert unmapped(3, f"{base}/class.jsonld") in c.warnings
    assert unmapped(8, f"{base}/page.jsonld", class_block=False) in c.warnings
    assert any(w.startswith("json-ld block at line 16: JSON-LD @context") for w in c.warnings)
