"""Logseq outline pages: ``key:: value`` properties and the OntologyBlock.

Properties are read wherever they stand outside fenced blocks: bulleted or not, indented
with tabs or spaces, several on one line (the "flattened" OntologyBlocks, where a whole
outline was joined into one line), in any OntologyBlock of the page or after it. A page
is one concept, so every block of a page describes the same class(es). The rows
(docs/formats.md has the full table):

- the page's classes are its ``owl:class::`` values (``owl-class::`` too); the value given
  most often is the primary one (ties: the first), the others are declared too and stated
  ``EquivalentClass`` to it. A page with ontology content but no ``owl:class`` gets the
  class :func:`~syncer.formats.pages.mint_class_iri` mints from its key;
- label: the first usable ``preferred-term::``, else the page title; comment: the first
  ``definition::`` (a definition that is only a heading takes the line under it);
- ``is-subclass-of:: [[Page]]`` (``isSubclassOf``, ``subclass-of``) is a hierarchy edge from
  the primary class to whatever class that page declares (resolved across files);
  ``[[p:Name]]`` and bare ``p:Name`` values are prefixed names, expanded directly;
- ``owl:equivalentClass::`` / ``disjoint-with::`` with prefixed-name values are axioms.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from syncer.formats.curies import Prefixes
from syncer.formats.pages import WIKILINK, link_target, mint_class_iri, page_key
from syncer.model import Axiom, ClassDecl, SubclassEdge

_PROP = re.compile(r"(?<!\S)([A-Za-z_][A-Za-z0-9_:.\-]*)::(?=[ \t]|$)", re.M)
_SEPARATOR = re.compile(r"::(?=[ \t]|$)", re.M)
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:.-")
_KEY_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_BOUNDARY = re.compile(r"^[ \t]*(?:[-*+](?:[ \t]|$)|#{1,6}[ \t])", re.M)
_BLOCK_HEADING = re.compile(r"^[ \t]*(?:-[ \t]+)?#{1,6}[ \t]*ontology[ \t]*block\b", re.M | re.I)
_FLAT_TAIL = re.compile(r"(?:\s+-(?:\s+#{1,6}\s[^:]*?)?)+\s*$")
_MAX_LEAD = 64  # indentation and bullet before a property that starts its line
_HEADING_VALUE = re.compile(r"^#{1,6}\s")
CLASS_KEYS = frozenset({"owl:class", "owlclass"})
PARENT_KEYS = frozenset({"issubclassof", "subclassof", "rdfs:subclassof"})
LABEL_KEYS = frozenset({"preferredterm", "skos:preflabel"})
DEFINITION_KEYS = frozenset({"definition", "skos:definition"})
EQUIVALENT_KEYS = frozenset({"owl:equivalentclass", "equivalentclass"})
DISJOINT_KEYS = frozenset({"owl:disjointwith", "disjointwith"})
MARKER_KEYS = CLASS_KEYS | PARENT_KEYS | {"ontology"}


def normalize_key(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "")


@dataclass(frozen=True)
class Prop:
    key: str  # as written
    norm: str  # normalize_key(key)
    value: str
    start: int  # offset of the key
    value_start: int
    value_end: int
    first_on_line: bool


def _keys(text: str, inside: Callable[[int], bool]) -> list[tuple[int, int]]:
    """(key start, value start) of every ``key::`` outside fences.

    Same as ``_PROP.finditer`` but found from the ``::`` backwards: a regex that starts
    with a character class tries every offset of the page, this one only the ``::``.
    """
    found = []
    for m in _SEPARATOR.finditer(text):
        end = start = m.start()
        while start > 0 and text[start - 1] in _KEY_CHARS:
            start -= 1
        if start == end or (start > 0 and not text[start - 1].isspace()):
            continue
        while start < end and text[start] not in _KEY_START:
            start += 1  # the key proper starts with a letter or "_"
        if start < end and (start == 0 or text[start - 1].isspace()) and not inside(start):
            found.append((start, m.end()))
    return found


def scan_properties(text: str, inside: Callable[[int], bool]) -> list[Prop]:
    """Every ``key:: value`` outside fences, in order."""
    keys = _keys(text, inside)
    props = []
    line_start = line_end = -1
    for i, (start, value_start) in enumerate(keys):
        if start > line_end:  # a new line (each line's bounds are found once)
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", value_start)
            line_end = len(text) if line_end < 0 else line_end
        nxt = keys[i + 1][0] if i + 1 < len(keys) else line_end
        flattened = nxt < line_end or (i > 0 and keys[i - 1][0] >= line_start)
        end = min(nxt, line_end)
        value = text[value_start:end].strip()
        if flattened:
            value = _FLAT_TAIL.sub("", value)
        lead = start - line_start
        first = lead <= _MAX_LEAD and text[line_start:start].strip() in ("", "-", "*", "+")
        key = text[start : value_start - 2]
        props.append(Prop(key, normalize_key(key), value, start, value_start, end, first))
    return props


def page_properties(text: str, props: list[Prop], inside: Callable[[int], bool]) -> dict[str, str]:
    """The page's own properties: the leading ``key:: value`` lines before any bullet or
    heading (Logseq's first block), first value of each key."""
    boundary = len(text)
    for m in _BOUNDARY.finditer(text):
        if not inside(m.start()):
            boundary = m.start()
            break
    found: dict[str, str] = {}
    for prop in props:
        if prop.start >= boundary:
            break
        if prop.first_on_line:
            found.setdefault(prop.norm, prop.value)
    return found


def has_ontology_block(text: str, inside: Callable[[int], bool]) -> bool:
    return any(not inside(m.start()) for m in _BLOCK_HEADING.finditer(text))


@dataclass(frozen=True)
class OutlineFacts:
    ontology: bool = False
    classes: tuple[ClassDecl, ...] = ()  # primary first
    edges: tuple[SubclassEdge, ...] = ()
    axioms: tuple[Axiom, ...] = ()
    warnings: tuple[str, ...] = ()


def _strip_link(value: str) -> str:
    value = value.strip()
    if value.startswith("[[") and value.endswith("]]"):
        return link_target(value[2:-2]) or ""
    return value


def _usable(value: str) -> bool:
    return bool(value) and not value.startswith(("```", "~~~")) and "::" not in value


def _definition(text: str, prop: Prop) -> str:
    """A definition that is only a Markdown heading takes the line under it."""
    if not _HEADING_VALUE.match(prop.value):
        return prop.value
    nxt_start = text.find("\n", prop.value_end)
    if nxt_start < 0:
        return ""
    nxt_end = text.find("\n", nxt_start + 1)
    line = text[nxt_start + 1 : len(text) if nxt_end < 0 else nxt_end].strip()
    if not line or line.startswith(("-", "#", "```")) or _PROP.search(line):
        return ""
    return line


def _values(text: str, prop: Prop) -> list[tuple[str, bool]]:
    """A property's values: (target, was a [[link]]), links first, else comma-separated."""
    links = [
        (target, True)
        for m in WIKILINK.finditer(text, prop.value_start, prop.value_end)
        if (target := link_target(m.group(1))) is not None
    ]
    if links:
        return links
    return [(v, False) for part in prop.value.split(",") if (v := part.strip())]


def read_outline(
    text: str, props: list[Prop], title: str, key: str, has_block: bool, prefixes: Prefixes
) -> OutlineFacts:
    if not has_block and not any(p.norm in MARKER_KEYS for p in props):
        return OutlineFacts()
    warnings: list[str] = []

    def expand(value: str, what: str) -> str | None:
        expanded = prefixes.expand(value)
        if expanded is None:
            warnings.append(f"{what} {value[:80]!r} is not a prefixed name or IRI; ignored")
            return None
        if expanded[1] and expanded[1] not in warnings:
            warnings.append(expanded[1])
        return expanded[0]

    counts: Counter[str] = Counter()
    for prop in props:
        if prop.norm in CLASS_KEYS:
            for part in prop.value.split(","):
                value = _strip_link(part)
                if not _usable(value):
                    continue
                iri = expand(value, prop.key)
                if iri is not None:
                    counts[iri] += 1
    # Counter keeps first-insertion order, so most_common breaks ties by first occurrence.
    classes = [iri for iri, _ in counts.most_common()] or [mint_class_iri(key)]
    primary = classes[0]
    if len(classes) > 1:
        warnings.append(
            f"{len(classes)} owl:class values; primary {primary} (given most often, else"
            f" first), the others declared equivalent to it"
        )
    label = next(
        (v for p in props if p.norm in LABEL_KEYS if _usable(v := _strip_link(p.value))), None
    )
    comment = next(
        (d for p in props if p.norm in DEFINITION_KEYS if _usable(d := _definition(text, p))),
        None,
    )
    edges: dict[SubclassEdge, None] = {}
    axioms: dict[Axiom, None] = {Axiom("EquivalentClass", primary, c): None for c in classes[1:]}
    for prop in props:
        if prop.norm in PARENT_KEYS:
            for target, linked in _values(text, prop):
                curie = prefixes.link_curie(target)
                if curie is not None:
                    edges[SubclassEdge(primary, curie)] = None
                elif linked or prefixes.expand(target) is None:
                    target_key = page_key(target)
                    edges[SubclassEdge(primary, mint_class_iri(target_key), target_key)] = None
                elif (iri := expand(target, prop.key)) is not None:
                    edges[SubclassEdge(primary, iri)] = None
        elif prop.norm in EQUIVALENT_KEYS or prop.norm in DISJOINT_KEYS:
            kind = "EquivalentClass" if prop.norm in EQUIVALENT_KEYS else "DisjointWith"
            for target, linked in _values(text, prop):
                if linked:
                    iri = prefixes.link_curie(target)
                else:
                    expanded = prefixes.expand(target)
                    iri = expanded[0] if expanded else None
                if iri is not None and iri != primary:
                    axioms[Axiom(kind, primary, iri)] = None
    return OutlineFacts(
        ontology=True,
        classes=tuple(ClassDecl(c, label or title, comment) for c in classes),
        edges=tuple(edges),
        axioms=tuple(axioms),
        warnings=tuple(warnings),
    )
