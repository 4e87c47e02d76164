"""Planning: the tree at the head against what the database holds -> what to do.

Pure. A file is (re)processed when it is new, its blob SHA changed, it was processed
by an older parser version, or a JSON-LD context file it used changed; it is deleted
when it left the tree or stopped matching the include rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from syncer.model import SourceFileState, Tree, TreeEntry


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    """A path glob as a regex: ``*`` within a segment, ``**`` across, ``?`` one character.

    A pattern without a slash matches the file name at any depth, as in .gitignore.
    """
    if "/" not in pattern:
        pattern = "**/" + pattern
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE)


def matches(path: str, patterns: Iterable[str]) -> bool:
    return any(_compile(p).match(path) for p in patterns)


def selected(path: str, include: Iterable[str], exclude: Iterable[str]) -> bool:
    return matches(path, include) and not matches(path, exclude)


@dataclass(frozen=True)
class Plan:
    commit: str
    upserts: tuple[TreeEntry, ...]  # files to fetch, parse and write
    deletes: tuple[str, ...]  # paths whose contribution goes
    unchanged: int

    @property
    def empty(self) -> bool:
        return not self.upserts and not self.deletes


def _stale(
    entry: TreeEntry,
    state: SourceFileState | None,
    parser_version: int,
    tree_shas: Mapping[str, str],
) -> bool:
    if state is None or state.blob_sha != entry.blob_sha or state.parser_version < parser_version:
        return True
    return any(tree_shas.get(path) != sha for path, sha in state.context_deps)


def plan_changes(
    tree: Tree,
    known: Mapping[str, SourceFileState],
    *,
    include: Iterable[str],
    exclude: Iterable[str],
    parser_version: int,
    force: bool = False,
) -> Plan:
    include, exclude = tuple(include), tuple(exclude)
    tree_shas = {e.path: e.blob_sha for e in tree.entries}
    wanted = sorted(
        (e for e in tree.entries if selected(e.path, include, exclude)), key=lambda e: e.path
    )
    upserts = tuple(
        e for e in wanted if force or _stale(e, known.get(e.path), parser_version, tree_shas)
    )
    wanted_paths = {e.path for e in wanted}
    deletes = tuple(sorted(path for path in known if path not in wanted_paths))
    return Plan(
        commit=tree.commit,
        upserts=upserts,
        deletes=deletes,
        unchanged=len(wanted) - len(upserts),
    )
