"""syncer: keep a SQLite database of ontology data in step with a Git repository."""

from __future__ import annotations

__version__ = "0.1.0"

# Bump when a change to parsing or mapping means files synced before must be
# parsed again: the planner treats a file recorded with an older version as changed.
PARSER_VERSION = 3
