"""One file's triples to the rows of the ontology tables. Pure: tuples in, frozen values out.

Rules (docs/mapping.md explains them for users):
- a class is an IRI typed ``owl:Class`` or ``rdfs:Class``; its label is the first of
  ``rdfs:label``, ``skos:prefLabel`` (a lang-less or English literal preferred, then the
  smallest by text); its comment the first of ``rdfs:comment``, ``skos:definition``; its
  definition the first of ``IAO:0000115``, ``skos:definition``;
- a property is an IRI typed ``rdf:Property`` or with an OWL property type;
  ``property_type`` says which (characteristics such as ``owl:TransitiveProperty`` make an
  ``ObjectProperty``; ``owl:FunctionalProperty`` alone, like ``rdf:Property``, a ``Property``);
- an individual is an IRI that is neither class nor property, typed
  ``owl:NamedIndividual`` or with any type outside the RDF, RDFS and OWL vocabularies;
  it gets a row per such type (``owl:Thing`` when it has none);
- ``rdfs:subClassOf`` between IRIs is a hierarchy edge and a ``SubClassOf`` axiom; to a
  class expression (a blank node) it is an axiom whose object is the blank node's label
  in ``statements`` (``_:<tag>_<n>``), so the expression is one join away;
- ``owl:equivalentClass`` and ``owl:disjointWith`` are axioms, likewise;
- a triple whose predicate this file types ``owl:ObjectProperty`` (``owl:DatatypeProperty``),
  between IRIs (IRI and literal), is an ``ObjectPropertyAssertion``
  (``DataPropertyAssertion``) when its subject is not a class.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from syncer.formats.triples import OWL, RDF, RDF_TYPE, RDFS, SKOS, Obj, Triple
from syncer.model import Axiom, ClassDecl, IndividualDecl, PropertyDecl, SubclassEdge

_ASSERTION = re.compile(r"<([^<>\s]+)> <([^<>\s]+)>")
IAO_DEFINITION = "http://purl.obolibrary.org/obo/IAO_0000115"
_CLASS_TYPES = frozenset({OWL + "Class", RDFS + "Class"})
# Highest priority first: a property typed twice takes the first that applies.
_PROPERTY_TYPES = (
    (OWL + "ObjectProperty", "ObjectProperty"),
    (OWL + "DatatypeProperty", "DataProperty"),
    (OWL + "AnnotationProperty", "AnnotationProperty"),
    (OWL + "OntologyProperty", "OntologyProperty"),
    (OWL + "TransitiveProperty", "ObjectProperty"),
    (OWL + "SymmetricProperty", "ObjectProperty"),
    (OWL + "AsymmetricProperty", "ObjectProperty"),
    (OWL + "ReflexiveProperty", "ObjectProperty"),
    (OWL + "IrreflexiveProperty", "ObjectProperty"),
    (OWL + "InverseFunctionalProperty", "ObjectProperty"),
    (OWL + "FunctionalProperty", "Property"),
    (RDF + "Property", "Property"),
)
_META = (RDF, RDFS, OWL)
_NAMED_INDIVIDUAL = OWL + "NamedIndividual"
OWL_THING = OWL + "Thing"
_LABELS = (RDFS + "label", SKOS + "prefLabel")
_COMMENTS = (RDFS + "comment", SKOS + "definition")
_DEFINITIONS = (IAO_DEFINITION, SKOS + "definition")
_SUBCLASS = RDFS + "subClassOf"
_VALUE_PREDICATES = frozenset(
    {*_LABELS, *_COMMENTS, *_DEFINITIONS, RDFS + "domain", RDFS + "range"}
)
_AXIOM_PREDICATES = {
    _SUBCLASS: "SubClassOf",
    OWL + "equivalentClass": "EquivalentClass",
    OWL + "disjointWith": "DisjointWith",
}


@dataclass(frozen=True)
class GraphFacts:
    classes: tuple[ClassDecl, ...] = ()
    edges: tuple[SubclassEdge, ...] = ()
    properties: tuple[PropertyDecl, ...] = ()
    axioms: tuple[Axiom, ...] = ()
    individuals: tuple[IndividualDecl, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.classes or self.edges or self.properties or self.axioms or self.individuals
        )


def pick_text(objects: Iterable[Obj]) -> str | None:
    """A deterministic choice among literals: lang-less or English first, then by text."""
    best: tuple[int, str] | None = None
    for obj in objects:
        if obj[0] != "L":
            continue
        lang = (obj[3] or "").lower()
        rank = (0 if lang in ("", "en") or lang.startswith("en-") else 1, obj[1])
        if best is None or rank < best:
            best = rank
    return None if best is None else best[1]


def literal_n3(obj: Obj) -> str:
    """A literal as N-Triples writes it: ``"text"``, ``"text"@en``, ``"5"^^<...#integer>``."""
    text = (
        obj[1].replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    if obj[3]:
        return f'"{text}"@{obj[3]}'
    if obj[2]:
        return f'"{text}"^^<{obj[2]}>'
    return f'"{text}"'


def node_name(obj: Obj) -> str:
    """An IRI as itself, a blank node as its label."""
    return str(obj[1])


def facts_from_triples(triples: Sequence[Triple]) -> GraphFacts:
    """Everything the VisionFlow tables need from one file's triples, sorted so output is
    stable whatever order the parser gave."""
    types: dict[str, set[str]] = {}
    # Only the predicates read below: keying every triple was most of this function's own
    # time (cProfile on the FIBO-shaped modules: 0.23 s before, 0.09 s after).
    values: dict[tuple[str, str], list[Obj]] = {}
    for s, p, o in triples:
        if p == RDF_TYPE:
            if o[0] == "I":
                types.setdefault(s, set()).add(o[1])
        elif p in _VALUE_PREDICATES:
            values.setdefault((s, p), []).append(o)

    def first_text(iri: str, predicates: tuple[str, ...]) -> str | None:
        for predicate in predicates:
            text = pick_text(values.get((iri, predicate), ()))
            if text is not None:
                return text
        return None

    named = {s: t for s, t in types.items() if not s.startswith("_:")}
    class_iris = {s for s, t in named.items() if t & _CLASS_TYPES}
    property_types: dict[str, str] = {}
    for s, t in named.items():
        for rdf_type, kind in _PROPERTY_TYPES:
            if rdf_type in t:
                property_types[s] = kind
                break
    classes = tuple(
        ClassDecl(
            iri=iri,
            label=first_text(iri, _LABELS),
            comment=first_text(iri, _COMMENTS),
            definition=first_text(iri, _DEFINITIONS),
        )
        for iri in sorted(class_iris)
    )
    properties = tuple(
        PropertyDecl(
            iri=iri,
            property_type=kind,
            label=first_text(iri, _LABELS),
            domain=min(
                (node_name(o) for o in values.get((iri, RDFS + "domain"), ())), default=None
            ),
            range=min((node_name(o) for o in values.get((iri, RDFS + "range"), ())), default=None),
        )
        for iri, kind in sorted(property_types.items())
    )
    individuals: list[IndividualDecl] = []
    for iri, t in sorted(named.items()):
        if iri in class_iris or iri in property_types:
            continue
        kinds = sorted(k for k in t if not k.startswith(_META))
        if not kinds and _NAMED_INDIVIDUAL not in t:
            continue
        label = first_text(iri, _LABELS)
        individuals.extend(IndividualDecl(iri, k, label) for k in kinds or [OWL_THING])

    edges: set[SubclassEdge] = set()
    axioms: set[Axiom] = set()
    object_props = {p for p, k in property_types.items() if k == "ObjectProperty"}
    data_props = {p for p, k in property_types.items() if k == "DataProperty"}
    for s, p, o in triples:
        if s.startswith("_:"):
            continue
        axiom_type = _AXIOM_PREDICATES.get(p)
        if axiom_type is not None and o[0] != "L":
            axioms.add(Axiom(axiom_type, s, o[1]))
            if p == _SUBCLASS and o[0] == "I":
                edges.add(SubclassEdge(child=s, parent=o[1]))
        elif p in object_props and o[0] == "I" and s not in class_iris:
            axioms.add(Axiom("ObjectPropertyAssertion", s, f"<{p}> <{o[1]}>"))
        elif p in data_props and o[0] == "L":
            axioms.add(Axiom("DataPropertyAssertion", s, f"<{p}> {literal_n3(o)}"))
    return GraphFacts(
        classes=classes,
        edges=tuple(sorted(edges, key=lambda e: (e.child, e.parent))),
        properties=properties,
        axioms=tuple(sorted(axioms, key=lambda a: (a.axiom_type, a.subject, a.object))),
        individuals=tuple(individuals),
    )


def triples_from_facts(facts: GraphFacts) -> list[Triple]:
    """The triples that state ``facts``: for readers that produce rows, not RDF (Logseq
    outlines, OWL functional syntax lines), so ``statements`` holds what they say too.

    Only what RDF can say plainly: declarations, labels, comments, definitions, named
    subclass / equivalence / disjointness, property domain and range. An axiom whose object
    is written in OWL functional syntax has no triple form here and stays in ``owl_axioms``.
    """
    out: list[Triple] = []
    for c in facts.classes:
        out.append((c.iri, RDF_TYPE, ("I", OWL + "Class")))
        if c.label is not None:
            out.append((c.iri, RDFS + "label", ("L", c.label, None, None)))
        if c.comment is not None:
            out.append((c.iri, RDFS + "comment", ("L", c.comment, None, None)))
        if c.definition is not None:
            out.append((c.iri, IAO_DEFINITION, ("L", c.definition, None, None)))
    for e in facts.edges:
        out.append((e.child, _SUBCLASS, ("I", e.parent)))
    predicate_of = {v: k for k, v in _AXIOM_PREDICATES.items()}
    for a in facts.axioms:
        predicate = predicate_of.get(a.axiom_type)
        if predicate is not None and _is_iri(a.object):
            out.append((a.subject, predicate, ("I", a.object)))
        elif a.axiom_type == "ObjectPropertyAssertion":
            match = _ASSERTION.fullmatch(a.object)
            if match is not None:
                out.append((a.subject, match[1], ("I", match[2])))
    type_iri = {
        "ObjectProperty": OWL + "ObjectProperty",
        "DataProperty": OWL + "DatatypeProperty",
        "AnnotationProperty": OWL + "AnnotationProperty",
        "OntologyProperty": OWL + "OntologyProperty",
        "Property": RDF + "Property",
    }
    for prop in facts.properties:
        out.append((prop.iri, RDF_TYPE, ("I", type_iri[prop.property_type])))
        if prop.label is not None:
            out.append((prop.iri, RDFS + "label", ("L", prop.label, None, None)))
        for predicate, value in ((RDFS + "domain", prop.domain), (RDFS + "range", prop.range)):
            if value is not None and _is_iri(value):
                out.append((prop.iri, predicate, ("I", value)))
    for ind in facts.individuals:
        out.append((ind.iri, RDF_TYPE, ("I", ind.class_iri)))
    return out


def _is_iri(text: str) -> bool:
    """An absolute IRI, not OWL functional syntax such as ``ObjectSomeValuesFrom(...)``."""
    scheme, sep, rest = text.partition(":")
    return (
        bool(sep and rest)
        and scheme.isascii()
        and scheme[:1].isalpha()
        and all(ch.isalnum() or ch in "+-." for ch in scheme)
        and not any(ch in text for ch in ' <>"{}|\\^`()')
    )
