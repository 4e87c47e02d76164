"""Where files come from: GitHub's REST API or a local git repository."""

from __future__ import annotations

from syncer.sources.base import FetchedFile, Source, SourceStats

__all__ = ["FetchedFile", "Source", "SourceStats"]
