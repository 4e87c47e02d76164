"""A generated ontology shaped like FIBO, for issue 13's RDF figure.

FIBO (edmcouncil/fibo, synced from a local clone in docs/performance.md) is about 300
modules, mostly RDF/XML written by Protégé-like tools with an internal DTD whose entities
nest (``<!ENTITY mod "&base;FND/Accounting/">``), some Turtle, about 260 triples a module:
classes with labels and ``skos:definition``, named parents in other modules, existential
restrictions (``rdfs:subClassOf [owl:onProperty R; owl:someValuesFrom C]``), object
properties with domains, ranges and parents, individuals with property assertions, and
``owl:imports`` between modules. This writes that shape from a seed, so the benchmark
needs no clone and no network; nothing of FIBO itself is copied.

Hierarchies only point at earlier modules (or earlier classes of the same module), so the
ontology is acyclic like FIBO's asserted hierarchy.
"""

from __future__ import annotations

import random

BASE = "https://example.org/fibo-like/ontology/"
DOMAINS = ("FND", "BE", "FBC", "SEC", "DER", "IND", "LOAN", "MD")
CLASSES = 16
PROPERTIES = 5
INDIVIDUALS = 5

_WORDS = [
    "account",
    "amount",
    "agreement",
    "asset",
    "balance",
    "bond",
    "capital",
    "claim",
    "contract",
    "currency",
    "debt",
    "entity",
    "equity",
    "exchange",
    "fund",
    "holding",
    "instrument",
    "interest",
    "issuer",
    "ledger",
    "legal",
    "market",
    "obligation",
    "party",
    "payment",
    "portfolio",
    "price",
    "rate",
    "registry",
    "security",
    "share",
    "term",
    "trade",
]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def _module(i: int) -> str:
    return f"{DOMAINS[i % len(DOMAINS)]}/M{i:03d}/"


class _Module:
    """One module's terms and the terms it points at, as (module path, local name)."""

    def __init__(self, rng: random.Random, i: int) -> None:
        self.i = i
        self.path = _module(i)
        earlier = list(range(i))

        def some_class(j: int) -> tuple[str, str]:
            if earlier and rng.random() < 0.5:
                return _module(rng.choice(earlier)), f"C{rng.randrange(CLASSES)}"
            return self.path, f"C{rng.randrange(j)}" if j else "C0"

        def some_property() -> tuple[str, str]:
            k = rng.choice(earlier) if earlier else i
            return _module(k), f"p{rng.randrange(PROPERTIES)}"

        self.classes = []
        for j in range(CLASSES):
            parent = some_class(j) if (i or j) else None
            count = rng.choice((0, 0, 0, 1, 1))
            restrictions = [(some_property(), some_class(j)) for _ in range(count)]
            label, definition = _text(rng, 3), _text(rng, rng.randint(8, 24))
            self.classes.append((f"C{j}", label, definition, parent, restrictions))
        self.properties = []
        for j in range(PROPERTIES):
            parent = some_property() if earlier and rng.random() < 0.15 else None
            domain, range_ = some_class(CLASSES), some_class(CLASSES)
            self.properties.append((f"p{j}", _text(rng, 2), domain, range_, parent))
        self.individuals = []
        for j in range(INDIVIDUALS):
            kind = (self.path, f"C{rng.randrange(CLASSES)}")
            link = (some_property(), (self.path, f"i{rng.randrange(INDIVIDUALS)}"))
            self.individuals.append((f"i{j}", _text(rng, 2), kind, link))
        self.imports = sorted({_module(k) for k in rng.sample(earlier, min(3, len(earlier)))})


def _rdfxml(m: _Module) -> str:
    def ref(term: tuple[str, str]) -> str:
        module, name = term
        return f"&base;{module}{name}" if module != m.path else f"&mod;{name}"

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!DOCTYPE rdf:RDF [",
        f'  <!ENTITY base "{BASE}">',
        f'  <!ENTITY mod "&base;{m.path}">',
        '  <!ENTITY owl "http://www.w3.org/2002/07/owl#">',
        '  <!ENTITY xsd "http://www.w3.org/2001/XMLSchema#">',
        "]>",
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"',
        '    xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"',
        '    xmlns:owl="http://www.w3.org/2002/07/owl#"',
        '    xmlns:skos="http://www.w3.org/2004/02/skos/core#"',
        '    xmlns:dct="http://purl.org/dc/terms/"',
        '    xmlns:mod="&mod;" xml:base="&mod;">',
        '  <owl:Ontology rdf:about="&mod;">',
        f"    <rdfs:label>module {m.i}</rdfs:label>",
        f'    <dct:modified rdf:datatype="&xsd;date">2026-0{1 + m.i % 9}-01</dct:modified>',
        *(f'    <owl:imports rdf:resource="&base;{k}"/>' for k in m.imports),
        "  </owl:Ontology>",
    ]
    for name, label, definition, parent, restrictions in m.classes:
        out.append(f'  <owl:Class rdf:about="&mod;{name}">')
        out.append(f'    <rdfs:label xml:lang="en">{label}</rdfs:label>')
        out.append(f"    <skos:definition>{definition}</skos:definition>")
        out.append(f"    <skos:editorialNote>{label} note</skos:editorialNote>")
        out.append(f'    <dct:source rdf:datatype="&xsd;anyURI">{BASE}source/{name}</dct:source>')
        if parent:
            out.append(f'    <rdfs:subClassOf rdf:resource="{ref(parent)}"/>')
        for prop, filler in restrictions:
            out += [
                "    <rdfs:subClassOf>",
                "      <owl:Restriction>",
                f'        <owl:onProperty rdf:resource="{ref(prop)}"/>',
                f'        <owl:someValuesFrom rdf:resource="{ref(filler)}"/>',
                "      </owl:Restriction>",
                "    </rdfs:subClassOf>",
            ]
        out.append("  </owl:Class>")
    for name, label, domain, range_, parent in m.properties:
        out.append(f'  <owl:ObjectProperty rdf:about="&mod;{name}">')
        out.append(f'    <rdfs:label xml:lang="en">{label}</rdfs:label>')
        out.append(f'    <rdfs:domain rdf:resource="{ref(domain)}"/>')
        out.append(f'    <rdfs:range rdf:resource="{ref(range_)}"/>')
        if parent:
            out.append(f'    <rdfs:subPropertyOf rdf:resource="{ref(parent)}"/>')
        out.append("  </owl:ObjectProperty>")
    for name, label, kind, (prop, target) in m.individuals:
        out.append(f'  <owl:NamedIndividual rdf:about="&mod;{name}">')
        out.append(f'    <rdf:type rdf:resource="{ref(kind)}"/>')
        out.append(f"    <rdfs:label>{label}</rdfs:label>")
        # A property of another module: its namespace declared on the element itself.
        out.append(f'    <{prop[1]} xmlns="&base;{prop[0]}" rdf:resource="{ref(target)}"/>')
        out.append("  </owl:NamedIndividual>")
    out.append("</rdf:RDF>")
    return "\n".join(out) + "\n"


def _turtle(m: _Module) -> str:
    def ref(term: tuple[str, str]) -> str:
        module, name = term
        return f"mod:{name}" if module == m.path else f"<{BASE}{module}{name}>"

    out = [
        f"@prefix mod: <{BASE}{m.path}> .",
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        "",
        f'<{BASE}{m.path}> a owl:Ontology ; rdfs:label "module {m.i}"'
        + "".join(f" ;\n    owl:imports <{BASE}{k}>" for k in m.imports)
        + " .",
    ]
    for name, label, definition, parent, restrictions in m.classes:
        lines = [
            f'mod:{name} a owl:Class ; rdfs:label "{label}"@en',
            f'skos:definition "{definition}"',
        ]
        if parent:
            lines.append(f"rdfs:subClassOf {ref(parent)}")
        lines += [
            f"rdfs:subClassOf [ a owl:Restriction ; owl:onProperty {ref(p)} ;"
            f" owl:someValuesFrom {ref(f)} ]"
            for p, f in restrictions
        ]
        out.append(" ;\n    ".join(lines) + " .")
    for name, label, domain, range_, parent in m.properties:
        lines = [
            f'mod:{name} a owl:ObjectProperty ; rdfs:label "{label}"@en',
            f"rdfs:domain {ref(domain)} ; rdfs:range {ref(range_)}",
        ]
        if parent:
            lines.append(f"rdfs:subPropertyOf {ref(parent)}")
        out.append(" ;\n    ".join(lines) + " .")
    for name, label, kind, (prop, target) in m.individuals:
        out.append(
            f'mod:{name} a owl:NamedIndividual, {ref(kind)} ; rdfs:label "{label}" ;\n'
            f"    {ref(prop)} {ref(target)} ."
        )
    return "\n".join(out) + "\n"


def fibo_files(n: int = 300, seed: int = 11) -> dict[str, str]:
    """``n`` modules as {path: text}: two in three RDF/XML, the rest Turtle."""
    rng = random.Random(seed)
    files = {}
    for i in range(n):
        module = _Module(rng, i)
        if i % 3 == 2:
            files[f"ontology/{module.path.rstrip('/')}.ttl"] = _turtle(module)
        else:
            files[f"ontology/{module.path.rstrip('/')}.rdf"] = _rdfxml(module)
    return files
