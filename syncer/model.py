"""The frozen values that flow between the pure core and the edges.

A parser turns one file's bytes into a :class:`FileContribution`: the facts that file
contributes. The store keeps contributions per file and derives the public tables from
all of them, so the order in which files are processed never matters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_SKIPPED = "skipped"

PROPERTY_TYPES = (
    "ObjectProperty",
    "DataProperty",
    "AnnotationProperty",
    "OntologyProperty",
    "Property",
)
AXIOM_TYPES = (
    "SubClassOf",
    "EquivalentClass",
    "DisjointWith",
    "ObjectPropertyAssertion",
    "DataPropertyAssertion",
)


def git_blob_sha(data: bytes) -> str:
    """The SHA-1 git gives a blob: ``sha1(b"blob <len>\\0" + data)``."""
    h = hashlib.sha1(b"blob %d\x00" % len(data))
    h.update(data)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One file of a commit's tree."""

    path: str
    blob_sha: str
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Tree:
    commit: str
    entries: tuple[TreeEntry, ...]

    def by_path(self) -> dict[str, TreeEntry]:
        return {e.path: e for e in self.entries}


@dataclass(frozen=True, slots=True)
class ClassDecl:
    iri: str
    label: str | None = None
    comment: str | None = None
    definition: str | None = None  # IAO:0000115 or skos:definition


@dataclass(frozen=True, slots=True)
class SubclassEdge:
    """``child`` is a subclass of ``parent``.

    When the parent was named by a page link (``[[Page]]``), ``parent_page`` holds the
    page's normalized key; the store resolves it to the class that page declares, across
    files, and falls back to ``parent`` when no synced page declares one.
    """

    child: str
    parent: str
    parent_page: str | None = None


@dataclass(frozen=True, slots=True)
class PropertyDecl:
    iri: str
    property_type: str  # one of PROPERTY_TYPES
    label: str | None = None
    domain: str | None = None
    range: str | None = None


@dataclass(frozen=True, slots=True)
class IndividualDecl:
    """A named individual typed with ``class_iri`` (``owl:Thing`` when it names none)."""

    iri: str
    class_iri: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Axiom:
    axiom_type: str  # one of AXIOM_TYPES
    subject: str
    object: str
    annotations: str | None = None  # JSON text, or None


@dataclass(frozen=True, slots=True)
class PageDecl:
    """A page of the knowledge graph (Markdown/Logseq files)."""

    key: str  # normalized page name: the stable kg_nodes id
    title: str
    aliases: tuple[str, ...] = ()
    public: bool | None = None
    classes: tuple[str, ...] = ()  # class IRIs the page declares, primary first


@dataclass(frozen=True, slots=True)
class PageLink:
    """A ``[[wikilink]]`` from the file's page to another page."""

    target_key: str
    target_title: str
    kind: str = "link"  # "link" for prose, else the property that holds it


@dataclass(frozen=True, slots=True)
class FileContribution:
    """Everything one file contributes, plus how its parse went."""

    status: str  # STATUS_OK / STATUS_FAILED / STATUS_SKIPPED
    format: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    classes: tuple[ClassDecl, ...] = ()
    edges: tuple[SubclassEdge, ...] = ()
    properties: tuple[PropertyDecl, ...] = ()
    axioms: tuple[Axiom, ...] = ()
    page: PageDecl | None = None
    links: tuple[PageLink, ...] = ()
    individuals: tuple[IndividualDecl, ...] = ()
    # Every triple the file states, as ``statements`` rows (syncer.formats.triples.Row).
    statements: tuple[tuple[str | None, ...], ...] = ()
    # JSON-LD context documents read from the repository: path -> blob SHA used.
    context_deps: tuple[tuple[str, str], ...] = ()

    @classmethod
    def failed(cls, error: str, *, format: str | None = None) -> FileContribution:
        return cls(status=STATUS_FAILED, format=format, error=error)

    @classmethod
    def skipped(cls, reason: str, *, format: str | None = None) -> FileContribution:
        return cls(status=STATUS_SKIPPED, format=format, error=reason)


@dataclass(frozen=True, slots=True)
class SourceFileState:
    """What ``source_files`` remembers of a file, as the planner needs it."""

    path: str
    blob_sha: str
    parser_version: int
    context_deps: tuple[tuple[str, str], ...] = field(default_factory=tuple)
