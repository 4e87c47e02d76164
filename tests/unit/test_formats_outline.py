"""The 2025-11 Logseq outline format: OntologyBlocks, properties, page links as parents,
OWL fences. Fixture pages (tests/fixtures/pages/outline) are ours, modelled on the quirks
the corpus README lists; every expectation is the exact set of rows."""

from __future__ import annotations

import pytest

from syncer.formats import ParseOptions, parse_file
from syncer.formats.curies import prefixes_for
from syncer.formats.fences import scan_fences
from syncer.formats.outline import scan_properties
from syncer.formats.owlfss import parse_forms, read_fss
from syncer.formats.pages import mint_class_iri, page_key, page_name_from_path
from syncer.model import Axiom, ClassDecl, FileContribution, PageDecl, PageLink, PropertyDecl
from syncer.model import SubclassEdge as Edge
from tests.support.paths import FIXTURES

PAGES = FIXTURES / "pages" / "outline"
MV = "urn:syncer:ns:mv:"
P = "urn:syncer:page:"
XSD = "http://www.w3.org/2001/XMLSchema#"


def parse(name: str, options: ParseOptions | None = None) -> FileContribution:
    return parse_file(f"pages/{name}", (PAGES / name).read_bytes(), options or ParseOptions())


def test_ontology_block_with_relationships_after_it() -> None:
    c = parse("WD-0001-widget.md")
    assert (c.status, c.format, c.error, c.warnings) == ("ok", "markdown/outline", None, ())
    assert c.classes == (
        ClassDecl(MV + "Widget", "Widget", "A small mechanical part that does one job."),
    )
    # Page-link parents: resolved across files by the store; the same link twice is one edge.
    assert c.edges == (
        Edge(MV + "Widget", P + "gadget%20base", "gadget base"),
        Edge(MV + "Widget", P + "tooling%20system", "tooling system"),
    )
    assert c.axioms == () and c.properties == ()
    assert c.page == PageDecl(
        key="wd-0001-widget",
        title="WD-0001-widget",
        aliases=("Widget", "Widgets"),
        public=True,
        classes=(MV + "Widget",),
    )
    # Links in fences and inline code are not links; [[Target|text]] names Target.
    assert c.links == (
        PageLink("gadget base", "Gadget Base", "is-subclass-of"),
        PageLink("gizmo", "Gizmo", "link"),
        PageLink("lever arm", "Lever Arm", "has-part"),
        PageLink("power source", "Power Source", "requires"),
        PageLink("spring", "Spring", "has-part"),
        PageLink("tooling system", "Tooling System", "is-subclass-of"),
        PageLink("widgets", "Widgets", "alias"),
    )


def test_block_without_owl_class_gets_the_class_minted_from_its_key() -> None:
    c = parse("Gadget Base.md")
    assert c.classes == (ClassDecl(P + "gadget%20base", "Gadget Base", None),)
    assert c.edges == (Edge(P + "gadget%20base", P + "widget%20root", "widget root"),)
    assert c.page is not None and c.page.classes == (P + "gadget%20base",)
    # A link to this page falls back to exactly this IRI: the two always meet.
    assert mint_class_iri(page_key("Gadget Base")) == P + "gadget%20base"


def test_two_owl_class_values_the_most_given_is_primary_the_other_equivalent() -> None:
    c = parse("Two Classes.md")
    xx, yy = "urn:syncer:ns:xx:TwoClasses", "urn:syncer:ns:yy:TwoClasses"
    definition = "Given twice, with two class names."
    assert c.classes == (
        ClassDecl(xx, "Two Classes", definition),
        ClassDecl(yy, "Two Classes", definition),
    )
    assert c.page is not None and c.page.classes == (yy, xx)
    # Properties after the block (a second block, a clojure fence, a Metadata section) count.
    assert c.edges == (Edge(yy, P + "gadget%20base", "gadget base"),)
    assert c.axioms == (
        Axiom("EquivalentClass", yy, xx),
        Axiom("SubClassOf", "urn:syncer:ns::TwoClasses", "urn:syncer:ns::SomethingElse"),
    )
    assert c.warnings == (
        "prefix 'xx:' is not configured (SYNCER_PREFIXES); expanded under urn:syncer:ns:xx:",
        "prefix 'yy:' is not configured (SYNCER_PREFIXES); expanded under urn:syncer:ns:yy:",
        f"2 owl:class values; primary {yy} (given most often, else first), the others"
        " declared equivalent to it",
    )


def test_flattened_block_on_one_line_and_configured_prefixes() -> None:
    options = ParseOptions(prefixes=(("zz", "https://example.org/zz#"), ("mv", "https://mv/")))
    c = parse("Flat Block.md", options)
    assert c.classes == (
        ClassDecl("https://mv/FlatBlock", "Flat Block", "Everything on one line."),
    )
    assert c.edges == (
        Edge("https://mv/FlatBlock", "https://example.org/zz#Base"),
        Edge("https://mv/FlatBlock", P + "widget%20root", "widget root"),
    )
    # Without the prefix, [[zz:Base]] is an ordinary page name.
    plain = parse("Flat Block.md")
    assert Edge(MV + "FlatBlock", P + "zz:base", "zz:base") in plain.edges


def test_unclosed_fence_before_the_block_and_garbage_preferred_term() -> None:
    c = parse("Stray Fence.md")
    assert c.status == "ok"
    assert c.warnings == ("line 1: a fence opened here is never closed; read as text",)
    assert c.classes == (ClassDecl(P + "stray%20fence", "Stray Fence", None),)
    assert c.links == (PageLink("gadget base", "Gadget Base", "link"),)


def test_page_without_ontology_content_is_skipped_but_kept_as_a_node() -> None:
    c = parse("Prose Only.md")
    assert (c.status, c.format) == ("skipped", "markdown")
    assert c.error == "no ontology content; kept as a knowledge-graph page"
    assert c.classes == c.edges == c.axioms == ()
    assert c.page == PageDecl("prose only", "Prose Only", (), True, ())
    assert c.links == (
        PageLink("gadget base", "Gadget Base", "link"),
        PageLink("missing page", "Missing Page", "link"),
    )


def test_bare_subclass_property_without_a_block_makes_the_page_a_class() -> None:
    c = parse("Bare Parent.md")
    assert c.classes == (ClassDecl(P + "bare%20parent", "Bare Parent", None),)
    assert c.edges == (Edge(P + "bare%20parent", P + "gadget%20base", "gadget base"),)
    assert c.page is not None and c.page.public is False


def test_owl_fences_and_functional_syntax_lines_give_axioms_and_properties() -> None:
    c = parse("Clojure Page.md")
    page = MV + "ClojurePage"
    # A definition that is only a heading takes the line under it.
    assert c.classes == (
        ClassDecl(page, "Clojure Page", "**Clojure Page** - a page with OWL in it"),
    )
    assert c.edges == ()
    assert c.axioms == (
        Axiom(
            "DataPropertyAssertion",
            "urn:syncer:ns::ClojurePage",
            f'<urn:syncer:ns::isExample> "true"^^<{XSD}boolean>',
        ),
        Axiom("EquivalentClass", page, MV + "LispPage"),
        Axiom(
            "SubClassOf",
            "urn:syncer:ns::ClojurePage",
            "ObjectSomeValuesFrom(<urn:syncer:ns::relatedTo> <urn:syncer:ns::Gizmo>)",
        ),
        Axiom("SubClassOf", "urn:syncer:ns::ClojurePage", "urn:syncer:ns::Page"),
        Axiom("SubClassOf", page, f"ObjectSomeValuesFrom(<{MV}hasPart> <{MV}Parenthesis>)"),
    )
    assert c.properties == (
        PropertyDecl(
            "https://example.org/ex#hasPart",
            "ObjectProperty",
            "has part",
            "http://www.w3.org/2002/07/owl#Thing",
            "https://example.org/ex#Part",
        ),
    )
    # disjoint-with / ngm:relatedTo with page links are graph edges, not axioms.
    assert c.links == (
        PageLink("gizmo", "Gizmo", "ngm:related-to"),
        PageLink("turtle page", "Turtle Page", "disjoint-with"),
    )
    assert c.format == "markdown/outline+owl-functional"


def test_turtle_fence_with_undeclared_prefixes_and_a_broken_one() -> None:
    c = parse("Turtle Page.md")
    assert (c.status, c.format) == ("ok", "markdown/turtle+outline")
    assert c.classes == (
        ClassDecl("https://example.org/ex#Shell"),
        ClassDecl(MV + "TurtlePage", "Turtle Page", None),
    )
    assert c.edges == (Edge(MV + "TurtlePage", "https://example.org/ex#Document"),)
    assert c.axioms == (Axiom("SubClassOf", MV + "TurtlePage", "https://example.org/ex#Document"),)
    assert c.page is not None
    assert c.page.classes == (MV + "TurtlePage", "https://example.org/ex#Shell")
    assert c.warnings == (
        "turtle block at line 10: turtle: line 1: Keyword 'this' was ancient N3."
        " Now use @forSome and @forAll keywords., at ^ in:"
        " 'tele: <urn:syncer:ns:tele:> . @prefix : <urn:syncer:ns::> . ^this is not turtle'",
    )


def test_parent_links_curies_bare_values_and_names_with_encoding() -> None:
    c = parse("Linker.md")
    me = P + "linker"
    assert c.edges == (
        Edge(me, "urn:syncer:ns:bc:Thing2"),
        Edge(me, "urn:syncer:ns:unknownns:Base"),
        Edge(me, P + "citizens’%20forum", "citizens’ forum"),
        Edge(me, P + "name/sub%3F", "name/sub?"),
        Edge(me, P + "ob-0002-thing", "ob-0002-thing"),
        Edge(me, P + "plain%20page", "plain page"),
    )
    # inverse-is-subclass-of names a child by page: a graph edge only.
    assert PageLink("gizmo", "Gizmo", "inverse-is-subclass-of") in c.links
    assert c.warnings == (
        "prefix 'unknownns:' is not configured (SYNCER_PREFIXES); "
        "expanded under urn:syncer:ns:unknownns:",
    )


@pytest.mark.parametrize(
    ("path", "name", "key"),
    [
        ("pages/Name___Sub%3F.md", "Name/Sub?", "name/sub?"),
        ("pages/TCP%2FIP.md", "TCP/IP", "tcp/ip"),
        ("pages/51% Attack.md", "51% Attack", "51% attack"),
        ("pages/RB-0001-robot.md", "RB-0001-robot", "rb-0001-robot"),
        ("pages/Citizens’ Forum.md", "Citizens’ Forum", "citizens’ forum"),
        ("pages/Citizens' Forum.md", "Citizens' Forum", "citizens' forum"),
        ("a/b/Caf\u0065\u0301.markdown", "Cafe\u0301", "caf\u00e9"),
    ],
)
def test_page_names_and_keys(path: str, name: str, key: str) -> None:
    assert page_name_from_path(path) == name
    assert page_key(name) == key


def test_link_keys_match_file_keys_case_insensitively() -> None:
    assert page_key("rb-0001-robot") == page_key(page_name_from_path("RB-0001-robot.md"))
    assert page_key(" Name/Sub? ") == page_key(page_name_from_path("Name___Sub%3F.md"))
    assert mint_class_iri("51% attack") == P + "51%25%20attack"
    assert mint_class_iri("a#b?c") == P + "a%23b%3Fc"


def test_prefix_table_defaults_and_overrides() -> None:
    defaults = prefixes_for(())
    assert defaults.expand("bc:Blockchain") == ("urn:syncer:ns:bc:Blockchain", None)
    assert defaults.expand("mv:3DScene(SXP)") == ("urn:syncer:ns:mv:3DScene(SXP)", None)
    assert defaults.expand("owl:Thing") == ("http://www.w3.org/2002/07/owl#Thing", None)
    assert defaults.expand("urn:ngm:class:x") == ("urn:ngm:class:x", None)
    assert defaults.expand("<https://e.org/a b>") == ("https://e.org/a%20b", None)
    assert defaults.expand("Robot") is None
    assert defaults.link_curie("ai:ModelArchitecture") == "urn:syncer:ns:ai:ModelArchitecture"
    assert defaults.link_curie("ETSI Domain: Data + Security") is None
    assert defaults.link_curie("zz:Base") is None
    custom = prefixes_for((("bc", "https://chain.example/"),))
    assert custom.expand("bc:Blockchain") == ("https://chain.example/Blockchain", None)


def test_properties_bulleted_tabbed_flattened_and_not_in_fences() -> None:
    text = (
        "key:: top\n"
        "\t- owl:class:: mv:A\n"
        "    - preferred-term:: A thing\n"
        "id:: x collapsed:: true - ontology:: true - definition:: Words. - #### Rel -\n"
        "```\nhidden:: no\n```\n"
        "see http://x.org/a::b and 9bad:: value\n"
    )
    fences = scan_fences(text)
    props = scan_properties(text, fences.inside)
    assert [(p.key, p.value) for p in props] == [
        ("key", "top"),
        ("owl:class", "mv:A"),
        ("preferred-term", "A thing"),
        ("id", "x"),
        ("collapsed", "true"),
        ("ontology", "true"),
        ("definition", "Words."),
    ]


def test_fences_nested_bulleted_unclosed() -> None:
    text = (
        "```clojure\n(a)\n```\n"
        "- ```\n  ```turtle\n  inner\n  ```\nafter\n"
        "\t- ```clojure\n\t  (b)\n\t  ```\n"
        "~~~~\n```\n~~~~\n"
        "```yaml\nnever closed\n"
        "inline ```code``` here\n"
    )
    scan = scan_fences(text)
    assert [(f.tag, f.body(text)) for f in scan.fences] == [
        ("clojure", "(a)\n"),
        ("", "  ```turtle\n  inner\n"),
        ("clojure", "\t  (b)\n"),
        ("", "```\n"),
    ]
    assert scan.unclosed_lines == (15,)
    assert not scan.inside(text.index("after")) and scan.inside(text.index("inner"))


def test_functional_syntax_and_s_expressions_parse_alike() -> None:
    fss = parse_forms("SubClassOf(:A ObjectSomeValuesFrom(:p :B)) ; comment")
    sexp = parse_forms("(SubClassOf :A (ObjectSomeValuesFrom :p :B)) # comment")
    assert repr(fss) == repr(sexp)
    facts = read_fss(
        [
            "Prefix(:=<https://e.org/#>) EquivalentClasses(:A :B :C) DisjointClasses(:A :D)\n"
            "ObjectPropertyAssertion(:p :a :b) SubClassOf(ObjectUnionOf(:X :Y) :Z) (SubClassOf :A"
        ],
        prefixes_for(()),
    )
    e = "https://e.org/#"
    assert facts.axioms == [
        Axiom("EquivalentClass", e + "A", e + "B"),
        Axiom("EquivalentClass", e + "A", e + "C"),
        Axiom("DisjointWith", e + "A", e + "D"),
        Axiom("ObjectPropertyAssertion", e + "a", f"<{e}p> <{e}b>"),
    ]
