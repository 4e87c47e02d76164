"""RDF files through rdflib: formats, sniffing, and the errors a person reads."""

from __future__ import annotations

import pytest

from syncer.formats import ContextDoc, ParseOptions, parse_file
from syncer.formats.triples import file_tag
from syncer.model import Axiom, ClassDecl, PropertyDecl, SubclassEdge

EX = "https://example.org/t/"
TURTLE = b"""@prefix ex: <https://example.org/t/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:A a owl:Class ; rdfs:label "A"@en, "A de"@de ; rdfs:comment "first" ;
    rdfs:subClassOf ex:B .
"""
TURTLE_PLAIN = b"""@prefix ex: <https://example.org/t/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:A a owl:Class ; rdfs:subClassOf ex:B .
"""
NTRIPLES = (
    f"<{EX}A> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
    "<http://www.w3.org/2002/07/owl#Class> .\n"
    f"<{EX}A> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{EX}B> .\n"
).encode()
RDFXML = f"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
         xmlns:owl="http://www.w3.org/2002/07/owl#">
  <owl:Class rdf:about="{EX}A"><rdfs:subClassOf rdf:resource="{EX}B"/></owl:Class>
</rdf:RDF>""".encode()
TRIG = f"""@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{EX}g> {{ <{EX}A> a owl:Class ; rdfs:subClassOf <{EX}B> . }}""".encode()
NQUADS = NTRIPLES.replace(b" .\n", f" <{EX}g> .\n".encode())
JSONLD = f"""{{"@context": {{"owl": "http://www.w3.org/2002/07/owl#",
  "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
  "sub": {{"@id": "rdfs:subClassOf", "@type": "@id"}}}},
  "@id": "{EX}A", "@type": "owl:Class", "sub": "{EX}B"}}""".encode()
OPTIONS = ParseOptions()


@pytest.mark.parametrize(
    ("path", "data", "fmt"),
    [
        ("a.nt", NTRIPLES, "nt"),
        ("a.owl", RDFXML, "xml"),
        ("a.rdf", RDFXML, "xml"),
        ("a.trig", TRIG, "trig"),
        ("a.nq", NQUADS, "nquads"),
        ("a.jsonld", JSONLD, "json-ld"),
        ("a.n3", NTRIPLES, "n3"),
        ("turtle-in-disguise.owl", TURTLE_PLAIN, "turtle"),
    ],
)
def test_every_rdf_format_gives_the_same_rows(path: str, data: bytes, fmt: str) -> None:
    c = parse_file(path, data, OPTIONS)
    assert (c.status, c.format, c.error) == ("ok", fmt, None)
    assert c.classes == (ClassDecl(f"{EX}A"),)
    assert c.edges == (SubclassEdge(f"{EX}A", f"{EX}B"),)
    assert c.axioms == (Axiom("SubClassOf", f"{EX}A", f"{EX}B"),)


def test_label_prefers_english_and_comment_is_kept() -> None:
    c = parse_file("a.ttl", TURTLE, OPTIONS)
    assert c.classes == (ClassDecl(f"{EX}A", "A", "first"),)


def test_properties_and_assertions() -> None:
    data = b"""@prefix ex: <https://example.org/t/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:p a owl:ObjectProperty ; rdfs:label "p" ; rdfs:domain ex:A ; rdfs:range ex:B .
ex:d a owl:DatatypeProperty .
ex:n a owl:AnnotationProperty .
ex:x ex:p ex:y ; ex:d 42 .
ex:A a owl:Class ; owl:equivalentClass ex:C ; owl:disjointWith ex:D .
"""
    c = parse_file("a.ttl", data, OPTIONS)
    assert c.properties == (
        PropertyDecl(f"{EX}d", "DataProperty"),
        PropertyDecl(f"{EX}n", "AnnotationProperty"),
        PropertyDecl(f"{EX}p", "ObjectProperty", "p", f"{EX}A", f"{EX}B"),
    )
    assert c.axioms == (
        Axiom(
            "DataPropertyAssertion",
            f"{EX}x",
            f'<{EX}d> "42"^^<http://www.w3.org/2001/XMLSchema#integer>',
        ),
        Axiom("DisjointWith", f"{EX}A", f"{EX}D"),
        Axiom("EquivalentClass", f"{EX}A", f"{EX}C"),
        Axiom("ObjectPropertyAssertion", f"{EX}x", f"<{EX}p> <{EX}y>"),
    )


def test_class_expressions_are_named_by_their_blank_node_in_statements() -> None:
    data = b"""@prefix ex: <https://example.org/t/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:A a owl:Class ; rdfs:subClassOf [ a owl:Restriction ; owl:onProperty ex:p ;
    owl:someValuesFrom [ owl:unionOf ( ex:B ex:C ) ] ] .
ex:D a owl:Class ; rdfs:subClassOf [ owl:onProperty ex:p ; owl:someValuesFrom ex:B ] .
"""
    c = parse_file("a.ttl", data, OPTIONS)
    tag = file_tag("a.ttl", data)
    # Numbered in the order pyoxigraph first reports them.
    restriction, first, union, rest, other = (f"_:{tag}_{n}" for n in range(5))
    assert c.edges == ()
    # Two distinct expressions, two distinct names: nothing merges into "_:anonymous".
    assert c.axioms == (
        Axiom("SubClassOf", f"{EX}A", restriction),
        Axiom("SubClassOf", f"{EX}D", other),
    )
    rows = {r[1:] for r in c.statements}
    ex = f"<{EX}"
    assert {
        (restriction, "owl:onProperty", f"{ex}p>", None, None, None),
        (restriction, "owl:someValuesFrom", union, None, None, None),
        (union, "owl:unionOf", first, None, None, None),
        (first, "rdf:first", f"{ex}B>", None, None, None),
        (first, "rdf:rest", rest, None, None, None),
        (rest, "rdf:first", f"{ex}C>", None, None, None),
        (rest, "rdf:rest", "rdf:nil", None, None, None),
        (other, "owl:someValuesFrom", f"{ex}B>", None, None, None),
    } <= rows
    # Every blank node hangs from the named class whose description holds it.
    assert {r[0] for r in c.statements if r[1] in (restriction, union, first, rest)} == {f"{ex}A>"}
    # The same bytes at the same path: the same labels; another path: other labels.
    assert parse_file("a.ttl", data, OPTIONS).statements == c.statements
    moved = parse_file("b.ttl", data, OPTIONS)
    assert {r[1] for r in moved.statements if r[1].startswith("_:")}.isdisjoint(
        {r[1] for r in c.statements}
    )


@pytest.mark.parametrize(
    ("path", "data", "status", "message"),
    [
        ("bad.ttl", b"ex:A a <<<", "failed", "turtle: "),
        ("bad.owl", b"<?xml version='1.0'?><rdf:RDF", "failed", "xml: "),
        ("bad.jsonld", b"{not json", "failed", "invalid JSON"),
        ("fss.owl", b"Prefix(:=<http://x/>)\nOntology()", "failed", "functional syntax"),
        ("empty.ttl", b"", "skipped", "no triples"),
        ("bin.ttl", b"\x00\x01\x02", "skipped", "binary file"),
        ("notes.txt", b"hello", "skipped", "no parser for .txt"),
        ("deep.jsonld", b"[" * 100000 + b"]" * 100000, "failed", "nests too deeply"),
    ],
)
def test_bad_input_is_a_clear_outcome_not_an_exception(
    path: str, data: bytes, status: str, message: str
) -> None:
    c = parse_file(path, data, OPTIONS)
    assert c.status == status
    assert c.error is not None and message in c.error, c.error
    assert c.classes == c.edges == c.axioms == ()


def test_turtle_syntax_errors_name_the_line_and_show_text_not_bytes() -> None:
    data = '@prefix ex: <http://e/> .\nex:a ex:b "café" junk .\n'.encode()
    c = parse_file("bad.ttl", data, OPTIONS)
    assert c.status == "failed"
    assert c.error == (
        "turtle: line 2: expected '.' or '}' or ']' at end of statement,"
        " at ^ in: 'ex:a ex:b \"café\"^ junk .'"
    )


def test_files_over_the_size_limit_are_skipped_unparsed() -> None:
    c = parse_file("big.ttl", TURTLE, ParseOptions(max_file_bytes=10))
    assert (c.status, c.error) == (
        "skipped",
        f"file is {len(TURTLE)} bytes, over the 10-byte limit",
    )


def test_xml_external_entities_are_not_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY leak SYSTEM "file://{secret}">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
         xmlns:owl="http://www.w3.org/2002/07/owl#">
  <owl:Class rdf:about="{EX}A"><rdfs:label>x&leak;</rdfs:label></owl:Class>
</rdf:RDF>""".encode()
    c = parse_file("xxe.owl", data, OPTIONS)
    assert (c.status, c.error) == (
        "failed",
        "xml: external entity &leak; refused: it would read a file or URL",
    )
    assert "TOP-SECRET" not in repr(c)


def test_plain_internal_entities_as_protege_writes_them_are_fine() -> None:
    data = f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
    <!ENTITY owl "http://www.w3.org/2002/07/owl#" >
    <!ENTITY ex "{EX}" >
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
         xmlns:owl="http://www.w3.org/2002/07/owl#">
  <owl:Class rdf:about="&ex;A"><rdfs:subClassOf rdf:resource="&ex;B"/></owl:Class>
</rdf:RDF>""".encode()
    c = parse_file("protege.owl", data, OPTIONS)
    assert (c.status, c.edges) == ("ok", (SubclassEdge(f"{EX}A", f"{EX}B"),))


def test_entity_expansion_bomb_is_refused() -> None:
    entities = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    data = f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [{entities}]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
         xmlns:owl="http://www.w3.org/2002/07/owl#">
  <owl:Class rdf:about="{EX}A"><rdfs:label>&a9;</rdfs:label></owl:Class>
</rdf:RDF>""".encode()
    c = parse_file("bomb.owl", data, OPTIONS)
    assert (c.status, c.error, c.statements) == (
        "failed",
        "xml: entity &a5; expands to over 65536 bytes (entity expansion); refused",
        (),
    )


def test_nested_internal_entities_are_expanded_as_protege_writes_them() -> None:
    data = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
    <!ENTITY base "https://example.org/t/" >
    <!ENTITY ex "&base;" >
    <!ENTITY owl "http://www.w3.org/2002/07/owl#" >
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#" xmlns:owl="&owl;">
  <owl:Class rdf:about="&ex;A"><rdfs:subClassOf rdf:resource="&ex;B"/></owl:Class>
</rdf:RDF>"""
    c = parse_file("nested.owl", data, OPTIONS)
    assert (c.status, c.error, c.warnings) == ("ok", None, ())
    assert c.edges == (SubclassEdge(f"{EX}A", f"{EX}B"),)


def test_jsonld_contexts_come_from_the_map_and_are_recorded_as_dependencies() -> None:
    context = (
        b'{"@context": {"owl": "http://www.w3.org/2002/07/owl#", '
        b'"sub": {"@id": "http://www.w3.org/2000/01/rdf-schema#subClassOf", "@type": "@id"}}}'
    )
    doc = ContextDoc("https://ctx.example/v2.jsonld", context, "ns/v2.jsonld", "abc123")
    data = (
        f'{{"@context": "https://ctx.example/v2.jsonld", "@id": "{EX}A", '
        f'"@type": "owl:Class", "sub": "{EX}B"}}'.encode()
    )
    c = parse_file("a.jsonld", data, ParseOptions(contexts=(doc,)))
    assert c.status == "ok"
    assert c.edges == (SubclassEdge(f"{EX}A", f"{EX}B"),)
    assert c.context_deps == (("ns/v2.jsonld", "abc123"),)


def test_an_unmapped_remote_context_is_an_error_never_a_fetch() -> None:
    data = b'{"@context": "http://127.0.0.1:9/ctx.jsonld", "@id": "urn:a", "@type": "urn:C"}'
    c = parse_file("a.jsonld", data, OPTIONS)
    assert c.status == "failed"
    assert c.error == (
        "JSON-LD @context 'http://127.0.0.1:9/ctx.jsonld' is not mapped in "
        "SYNCER_JSONLD_CONTEXTS; not fetched"
    )


def test_every_property_type_and_individuals_are_projected() -> None:
    data = b"""@prefix ex: <https://example.org/t/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
ex:name a rdf:Property ; rdfs:label "name" ; rdfs:domain ex:Person .
ex:partOf a owl:TransitiveProperty .
ex:id a owl:FunctionalProperty .
ex:priorVersion a owl:OntologyProperty .
ex:Person a rdfs:Class ; skos:definition "A human being." .
ex:alice a ex:Person , ex:Agent ; rdfs:label "Alice" .
ex:thing a owl:NamedIndividual .
ex:topic a skos:Concept .
"""
    c = parse_file("vocab.ttl", data, OPTIONS)
    assert c.status == "ok"
    assert [(p.iri.removeprefix(EX), p.property_type, p.domain) for p in c.properties] == [
        ("id", "Property", None),
        ("name", "Property", f"{EX}Person"),
        ("partOf", "ObjectProperty", None),
        ("priorVersion", "OntologyProperty", None),
    ]
    assert c.classes == (ClassDecl(f"{EX}Person", None, "A human being.", "A human being."),)
    owl_thing = "http://www.w3.org/2002/07/owl#Thing"
    skos_concept = "http://www.w3.org/2004/02/skos/core#Concept"
    assert [(i.iri.removeprefix(EX), i.class_iri, i.label) for i in c.individuals] == [
        ("alice", f"{EX}Agent", "Alice"),
        ("alice", f"{EX}Person", "Alice"),
        ("thing", owl_thing, None),
        ("topic", skos_concept, None),
    ]


def test_a_file_of_triples_without_any_class_is_ok_and_kept() -> None:
    data = b'<https://example.org/t/a> <https://example.org/t/says> "hello"@EN .\n'
    c = parse_file("notes.nt", data, OPTIONS)
    assert (c.status, c.error, c.classes, c.properties) == ("ok", None, (), ())
    assert c.statements == (
        (
            "<https://example.org/t/a>",
            "<https://example.org/t/a>",
            "<https://example.org/t/says>",
            None,
            "hello",
            None,
            "en",
        ),
    )
