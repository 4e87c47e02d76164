"""RDF triples to contribution rows: which classes, edges, properties and axioms a
graph states. Pure: an rdflib graph in, frozen values out.

Rules (documented in docs/mapping.md):
- a class is an IRI typed ``owl:Class`` or ``rdfs:Class``; its label is the first of
  ``rdfs:label``, ``skos:prefLabel`` (a lang-less or English literal preferred, then the
  smallest by text); its comment the first of ``rdfs:comment``, ``skos:definition``;
- ``rdfs:subClassOf`` between IRIs is a hierarchy edge and a ``SubClassOf`` axiom; to a
  class expression (a blank node) it is only an axiom, the object written in OWL
  functional syntax;
- ``owl:equivalentClass`` and ``owl:disjointWith`` are axioms;
- a triple whose predicate is declared an ``owl:ObjectProperty`` (``owl:DatatypeProperty``)
  in the same graph, between IRIs (IRI and literal), is an ``ObjectPropertyAssertion``
  (``DataPropertyAssertion``) when its subject is not a class.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from syncer.model import Axiom, ClassDecl, PropertyDecl, SubclassEdge

_PROPERTY_TYPES = {
    OWL.ObjectProperty: "ObjectProperty",
    OWL.DatatypeProperty: "DataProperty",
    OWL.AnnotationProperty: "AnnotationProperty",
}
_CLASS_TYPES = (OWL.Class, RDFS.Class)
_MAX_EXPRESSION_DEPTH = 16


@dataclass(frozen=True)
class GraphFacts:
    classes: tuple[ClassDecl, ...] = ()
    edges: tuple[SubclassEdge, ...] = ()
    properties: tuple[PropertyDecl, ...] = ()
    axioms: tuple[Axiom, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.classes or self.edges or self.properties or self.axioms)


def _pick_text(values: Iterable[Node]) -> str | None:
    """A deterministic choice among literals: lang-less or English first, then by text."""
    literals = [v for v in values if isinstance(v, Literal)]
    if not literals:
        return None

    def rank(lit: Literal) -> tuple[int, str]:
        lang = (lit.language or "").lower()
        preferred = 0 if lang in ("", "en") or lang.startswith("en-") else 1
        return (preferred, str(lit))

    return str(min(literals, key=rank))


def _first_text(graph: Graph, subject: Node, predicates: Iterable[URIRef]) -> str | None:
    for predicate in predicates:
        text = _pick_text(graph.objects(subject, predicate))
        if text is not None:
            return text
    return None


def render_expression(graph: Graph, node: Node, depth: int = 0) -> str:
    """A class expression in OWL functional syntax, e.g. ``ObjectSomeValuesFrom(<p> <C>)``."""
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3()
    if depth > _MAX_EXPRESSION_DEPTH:
        return "_:deep"
    on_property = graph.value(node, OWL.onProperty)
    for predicate, name in (
        (OWL.someValuesFrom, "ObjectSomeValuesFrom"),
        (OWL.allValuesFrom, "ObjectAllValuesFrom"),
        (OWL.hasValue, "ObjectHasValue"),
    ):
        filler = graph.value(node, predicate)
        if filler is not None and on_property is not None:
            prop = render_expression(graph, on_property, depth + 1)
            return f"{name}({prop} {render_expression(graph, filler, depth + 1)})"
    for predicate, name in (
        (OWL.minCardinality, "ObjectMinCardinality"),
        (OWL.maxCardinality, "ObjectMaxCardinality"),
        (OWL.cardinality, "ObjectExactCardinality"),
        (OWL.minQualifiedCardinality, "ObjectMinCardinality"),
        (OWL.maxQualifiedCardinality, "ObjectMaxCardinality"),
        (OWL.qualifiedCardinality, "ObjectExactCardinality"),
    ):
        count = graph.value(node, predicate)
        if count is not None and on_property is not None:
            prop = render_expression(graph, on_property, depth + 1)
            on_class = graph.value(node, OWL.onClass)
            tail = f" {render_expression(graph, on_class, depth + 1)}" if on_class else ""
            return f"{name}({count} {prop}{tail})"
    for predicate, name in (
        (OWL.intersectionOf, "ObjectIntersectionOf"),
        (OWL.unionOf, "ObjectUnionOf"),
        (OWL.oneOf, "ObjectOneOf"),
    ):
        head = graph.value(node, predicate)
        if head is not None:
            items = [render_expression(graph, item, depth + 1) for item in Collection(graph, head)]
            return f"{name}({' '.join(items)})"
    complement = graph.value(node, OWL.complementOf)
    if complement is not None:
        return f"ObjectComplementOf({render_expression(graph, complement, depth + 1)})"
    return "_:anonymous"


def facts_from_graph(graph: Graph) -> GraphFacts:
    """Everything the spec's tables need from one graph, sorted so output is stable."""
    class_iris: set[URIRef] = set()
    for class_type in _CLASS_TYPES:
        class_iris.update(s for s in graph.subjects(RDF.type, class_type) if isinstance(s, URIRef))

    classes = tuple(
        ClassDecl(
            iri=str(iri),
            label=_first_text(graph, iri, (RDFS.label, SKOS.prefLabel)),
            comment=_first_text(graph, iri, (RDFS.comment, SKOS.definition)),
        )
        for iri in sorted(class_iris)
    )

    edges: set[SubclassEdge] = set()
    axioms: set[Axiom] = set()
    for child, parent in graph.subject_objects(RDFS.subClassOf):
        if not isinstance(child, URIRef):
            continue
        if isinstance(parent, URIRef):
            edges.add(SubclassEdge(child=str(child), parent=str(parent)))
            axioms.add(Axiom("SubClassOf", str(child), str(parent)))
        elif isinstance(parent, BNode):
            axioms.add(Axiom("SubClassOf", str(child), render_expression(graph, parent)))
    for predicate, axiom_type in (
        (OWL.equivalentClass, "EquivalentClass"),
        (OWL.disjointWith, "DisjointWith"),
    ):
        for subject, obj in graph.subject_objects(predicate):
            if isinstance(subject, URIRef) and isinstance(obj, URIRef | BNode):
                rendered = str(obj) if isinstance(obj, URIRef) else render_expression(graph, obj)
                axioms.add(Axiom(axiom_type, str(subject), rendered))

    properties: list[PropertyDecl] = []
    object_props: set[URIRef] = set()
    data_props: set[URIRef] = set()
    seen: set[URIRef] = set()
    for rdf_type, property_type in _PROPERTY_TYPES.items():
        for prop in sorted(s for s in graph.subjects(RDF.type, rdf_type) if isinstance(s, URIRef)):
            if prop in seen:  # typed twice: the first of Object, Data, Annotation wins
                continue
            seen.add(prop)
            if property_type == "ObjectProperty":
                object_props.add(prop)
            elif property_type == "DataProperty":
                data_props.add(prop)
            domain = min((str(d) for d in graph.objects(prop, RDFS.domain)), default=None)
            range_ = min((str(r) for r in graph.objects(prop, RDFS.range)), default=None)
            properties.append(
                PropertyDecl(
                    iri=str(prop),
                    property_type=property_type,
                    label=_first_text(graph, prop, (RDFS.label, SKOS.prefLabel)),
                    domain=domain,
                    range=range_,
                )
            )

    for prop in object_props:
        for subject, obj in graph.subject_objects(prop):
            if (
                isinstance(subject, URIRef)
                and isinstance(obj, URIRef)
                and subject not in class_iris
            ):
                axioms.add(Axiom("ObjectPropertyAssertion", str(subject), f"<{prop}> <{obj}>"))
    for prop in data_props:
        for subject, obj in graph.subject_objects(prop):
            if isinstance(subject, URIRef) and isinstance(obj, Literal):
                axioms.add(Axiom("DataPropertyAssertion", str(subject), f"<{prop}> {obj.n3()}"))

    return GraphFacts(
        classes=classes,
        edges=tuple(sorted(edges, key=lambda e: (e.child, e.parent))),
        properties=tuple(sorted(properties, key=lambda p: p.iri)),
        axioms=tuple(sorted(axioms, key=lambda a: (a.axiom_type, a.subject, a.object))),
    )
