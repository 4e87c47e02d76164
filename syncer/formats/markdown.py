"""Markdown pages. Placeholder until the Markdown/Logseq formats land."""

from __future__ import annotations

from syncer.formats.contexts import ContextResolver
from syncer.model import FileContribution

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncer.formats import ParseOptions


def parse_markdown(
    path: str, data: bytes, options: ParseOptions, resolver: ContextResolver
) -> FileContribution:
    return FileContribution.skipped("no ontology content")
