"""OWL functional syntax in Logseq pages: ```clojure fences written as S-expressions,
``(SubClassOf :A :B)``, and functional-syntax lines, ``SubClassOf(ai:A ai:B)``.

Both spellings parse to the same tree (``Head(args)`` and ``(Head args)``). What they
give (docs/formats.md says why):
- ``SubClassOf``, ``EquivalentClasses``, ``DisjointClasses``, ``ObjectPropertyAssertion``
  and ``DataPropertyAssertion`` become axioms; a class expression is written back in
  functional syntax with full IRIs, as :func:`syncer.formats.mapping.render_expression` does;
- ``Declaration(ObjectProperty(p))`` (and Data-, AnnotationProperty) declares a property,
  with its ``rdfs:label`` annotation and domain and range;
- nothing here declares a class or adds a hierarchy edge: these fences restate the page's
  own OntologyBlock under other names (``:Adas`` for ``mv:ADAS``), and the hierarchy comes
  from the OntologyBlock.
Prefixes come from ``Prefix(p:=<iri>)`` in the same text, then the prefix table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rdflib import Literal, URIRef

from syncer.formats.curies import Prefixes
from syncer.formats.pages import iri_escape
from syncer.model import Axiom, PropertyDecl

_TOKEN = re.compile(
    r"\s+|[;#][^\n]*|(?P<open>\()|(?P<close>\))|(?P<iri><[^>\s]*>)"
    r'|(?P<str>"(?:[^"\\]|\\.)*")(?:@(?P<lang>[A-Za-z][A-Za-z0-9\-]*)|\^\^(?P<dt><[^>\s]*>|[^\s()]+))?'
    r'|(?P<atom>[^\s()<>"]+)',
    re.S,
)
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_PROPERTY_KINDS = {
    "ObjectProperty": "ObjectProperty",
    "DataProperty": "DataProperty",
    "AnnotationProperty": "AnnotationProperty",
}
_MAX_DEPTH = 64
_PAREN = re.compile(r'\\.|[()"]', re.S)  # an escape, a parenthesis or a quote
_STATEMENT_CHARS = 8000
_PAGE_STEPS = 200_000
FSS_LINE = re.compile(
    r"^[ \t]*(?:-[ \t]+)?(?=(?:SubClassOf|EquivalentClasses|DisjointClasses|Declaration"
    r"|ObjectPropertyAssertion|DataPropertyAssertion|Prefix)\()",
    re.M,
)


@dataclass(frozen=True)
class Lit:
    lexical: str
    lang: str | None = None
    datatype: str | None = None  # as written: <iri> or a prefixed name


@dataclass
class Form:
    head: str
    args: list[Form | Lit | str] = field(default_factory=list)


Node = Form | Lit | str


def _unescape(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


def parse_forms(text: str) -> list[Form]:
    """The top-level forms of ``text``; unbalanced or stray tokens are dropped."""
    stack: list[Form] = [Form("")]
    last_atom_end = -1
    for m in _TOKEN.finditer(text):
        if m.group("open"):
            parent = stack[-1]
            previous = parent.args[-1] if parent.args else None
            if last_atom_end == m.start() and isinstance(previous, str):
                parent.args.pop()
                form = Form(previous)  # Head( ... ): functional syntax
            else:
                form = Form("")  # ( Head ... ): S-expression, head filled below
            if len(stack) > _MAX_DEPTH:
                return []
            parent.args.append(form)
            stack.append(form)
        elif m.group("close"):
            if len(stack) > 1:
                stack.pop()
        elif m.group("str") is not None:
            stack[-1].args.append(Lit(_unescape(m.group("str")), m.group("lang"), m.group("dt")))
        elif m.group("iri") or m.group("atom"):
            token = m.group("iri") or m.group("atom")
            form = stack[-1]
            if not form.head and not form.args and form is not stack[0]:
                form.head = token
            else:
                form.args.append(token)
            last_atom_end = m.end()
    return [f for f in stack[0].args if isinstance(f, Form)]


@dataclass
class FssFacts:
    axioms: list[Axiom] = field(default_factory=list)
    properties: list[PropertyDecl] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Reader:
    def __init__(self, prefixes: Prefixes) -> None:
        self.table = dict(prefixes.table)
        self.prefixes = prefixes
        self.facts = FssFacts()
        self.declared: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.domains: dict[str, str] = {}
        self.ranges: dict[str, str] = {}

    def iri(self, token: Node) -> str | None:
        if not isinstance(token, str):
            return None
        if token.startswith("<") and token.endswith(">"):
            return token[1:-1] or None
        prefix, colon, local = token.partition(":")
        if not colon:
            return None
        if prefix in self.table:
            return self.table[prefix] + iri_escape(local)
        expanded = Prefixes(self.table).expand(token)
        if expanded is None:
            return None
        if expanded[1] and expanded[1] not in self.facts.warnings:
            self.facts.warnings.append(expanded[1])
        return expanded[0]

    def render(self, node: Node, depth: int = 0) -> str | None:
        if isinstance(node, Lit):
            return self.literal(node)
        if isinstance(node, str):
            iri = self.iri(node)
            return None if iri is None else f"<{iri}>"
        if depth > _MAX_DEPTH or not node.head:
            return None
        parts = [self.render(arg, depth + 1) for arg in node.args]
        if any(p is None for p in parts):
            return None
        return f"{node.head}({' '.join(p for p in parts if p is not None)})"

    def literal(self, lit: Lit) -> str:
        datatype = self.iri(lit.datatype) if lit.datatype else None
        return str(
            Literal(
                lit.lexical, lang=lit.lang, datatype=URIRef(datatype) if datatype else None
            ).n3()
        )

    def class_ref(self, node: Node) -> str | None:
        """An IRI as a plain string (as mapping.py writes named classes), else an expression."""
        iri = self.iri(node) if isinstance(node, str) else None
        return iri if iri is not None else self.render(node)

    def read(self, form: Form) -> None:
        head, args = form.head, [a for a in form.args if not _is_annotation(a)]
        if head == "Prefix" and len(args) == 2 and isinstance(args[0], str):
            iri = self.iri(args[1]) if isinstance(args[1], str) else None
            if args[0].endswith(":=") and iri is not None:
                self.table[args[0][:-2]] = iri
        elif head == "Ontology":
            for arg in args:
                if isinstance(arg, Form):
                    self.read(arg)
        elif head == "SubClassOf" and len(args) == 2:
            self._pairwise("SubClassOf", args[:1], args[1:])
        elif head in ("EquivalentClasses", "DisjointClasses") and len(args) >= 2:
            kind = "EquivalentClass" if head == "EquivalentClasses" else "DisjointWith"
            self._pairwise(kind, args[:1], args[1:])
        elif head in ("ObjectPropertyAssertion", "DataPropertyAssertion") and len(args) == 3:
            prop, subject = self.iri(args[0]), self.iri(args[1])
            literal = isinstance(args[2], Lit)
            obj = self.render(args[2]) if literal == (head == "DataPropertyAssertion") else None
            if prop and subject and obj:
                self.facts.axioms.append(Axiom(head, subject, f"<{prop}> {obj}"))
        elif head == "Declaration" and len(args) == 1 and isinstance(args[0], Form):
            entity = _PROPERTY_KINDS.get(args[0].head)
            declared = self.iri(args[0].args[0]) if entity and len(args[0].args) == 1 else None
            if entity and declared:
                self.declared.setdefault(declared, entity)
        elif head == "AnnotationAssertion" and len(args) == 3 and isinstance(args[2], Lit):
            if self.iri(args[0]) == _RDFS_LABEL and (subject := self.iri(args[1])):
                self.labels.setdefault(subject, args[2].lexical)
        elif head.endswith(("PropertyDomain", "PropertyRange")) and len(args) == 2:
            prop, value = self.iri(args[0]), self.iri(args[1])
            if prop and value:
                target = self.domains if head.endswith("Domain") else self.ranges
                target.setdefault(prop, value)

    def _pairwise(self, kind: str, left: list[Node], right: list[Node]) -> None:
        subject = self.iri(left[0])
        if subject is None:
            return  # a general class axiom (expression on the left): not a table row
        for node in right:
            obj = self.class_ref(node)
            if obj is not None:
                self.facts.axioms.append(Axiom(kind, subject, obj))

    def finish(self) -> FssFacts:
        for iri, kind in self.declared.items():
            self.facts.properties.append(
                PropertyDecl(
                    iri,
                    kind,
                    label=self.labels.get(iri),
                    domain=self.domains.get(iri),
                    range=self.ranges.get(iri),
                )
            )
        return self.facts


def _is_annotation(node: Node) -> bool:
    return isinstance(node, Form) and node.head == "Annotation"


def read_fss(texts: list[str], prefixes: Prefixes) -> FssFacts:
    """Axioms and property declarations of the given OWL texts (one prefix scope each)."""
    merged = FssFacts()
    for text in texts:
        reader = _Reader(prefixes)
        for form in parse_forms(text):
            reader.read(form)
        facts = reader.finish()
        merged.axioms.extend(facts.axioms)
        merged.properties.extend(facts.properties)
        merged.warnings.extend(w for w in facts.warnings if w not in merged.warnings)
    return merged


def fss_statements(text: str, inside: Callable[[int], bool]) -> list[str]:
    """Functional-syntax statements written as outline lines (not in fences).

    Each starts at a line beginning ``SubClassOf(`` (or another axiom head) and runs until
    its parentheses balance, across lines, within :data:`_STATEMENT_CHARS`; a page gets
    :data:`_PAGE_STEPS` parenthesis steps in all, so unbalanced text stays linear.
    """
    found: list[str] = []
    steps = 0
    covered = -1
    for m in FSS_LINE.finditer(text):
        pos = m.end()
        if pos < covered or inside(pos):
            continue  # inside the statement before, or in a fence
        depth, in_string = 0, False
        limit = min(len(text), pos + _STATEMENT_CHARS)
        for token in _PAREN.finditer(text, pos, limit):
            steps += 1
            if steps > _PAGE_STEPS:
                return found
            c = token.group()
            if in_string:
                in_string = c != '"'
            elif c == '"':
                in_string = True
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    found.append(text[pos : token.end()])
                    covered = token.end()
                    break
    return found
