from __future__ import annotations

import pytest

from syncer.model import SourceFileState, Tree, TreeEntry
from syncer.planner import matches, plan_changes

INCLUDE = ("*.ttl", "*.md")
EXCLUDE = (".github/**", "drafts/**")


def tree(*entries: tuple[str, str]) -> Tree:
    return Tree("c0ffee", tuple(TreeEntry(path, sha, 10) for path, sha in entries))


def state(
    path: str, sha: str, version: int = 1, deps: tuple[tuple[str, str], ...] = ()
) -> SourceFileState:
    return SourceFileState(path, sha, version, deps)


def plan(t: Tree, known: dict[str, SourceFileState], **kw: object):  # type: ignore[no-untyped-def]
    return plan_changes(t, known, include=INCLUDE, exclude=EXCLUDE, parser_version=2, **kw)


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("a.ttl", ("*.ttl",), True),
        ("deep/dir/a.ttl", ("*.ttl",), True),
        ("A.TTL", ("*.ttl",), True),
        ("a.ttl.bak", ("*.ttl",), False),
        ("pages/x.md", ("pages/*.md",), True),
        ("pages/sub/x.md", ("pages/*.md",), False),
        ("pages/sub/x.md", ("pages/**/*.md",), True),
        ("pages/x.md", ("pages/**/*.md",), True),
        (".github/workflows/a.md", (".github/**",), True),
        ("docs/.github/a.md", (".github/**",), False),
        ("a?.ttl", ("a?.ttl",), True),
    ],
)
def test_globs(path: str, patterns: tuple[str, ...], expected: bool) -> None:
    assert matches(path, patterns) is expected


def test_new_changed_deleted_and_unchanged_files() -> None:
    t = tree(("a.ttl", "1"), ("b.ttl", "2"), ("c.md", "3"), ("README.txt", "4"))
    known = {
        "a.ttl": state("a.ttl", "1", 2),
        "b.ttl": state("b.ttl", "old", 2),
        "gone.ttl": state("gone.ttl", "9", 2),
    }
    p = plan(t, known)
    assert [e.path for e in p.upserts] == ["b.ttl", "c.md"]
    assert p.deletes == ("gone.ttl",)
    assert p.unchanged == 1
    assert p.commit == "c0ffee"


def test_older_parser_version_counts_as_changed() -> None:
    p = plan(tree(("a.ttl", "1")), {"a.ttl": state("a.ttl", "1", version=1)})
    assert [e.path for e in p.upserts] == ["a.ttl"]


def test_a_changed_context_file_reprocesses_the_files_that_used_it() -> None:
    t = tree(("a.md", "1"), ("b.md", "2"), ("ctx/v2.jsonld", "new"))
    known = {
        "a.md": state("a.md", "1", 2, deps=(("ctx/v2.jsonld", "old"),)),
        "b.md": state("b.md", "2", 2),
    }
    assert [e.path for e in plan(t, known).upserts] == ["a.md"]


def test_a_removed_context_file_reprocesses_its_users() -> None:
    known = {"a.md": state("a.md", "1", 2, deps=(("ctx/v2.jsonld", "old"),))}
    assert [e.path for e in plan(tree(("a.md", "1")), known).upserts] == ["a.md"]


def test_files_that_stop_matching_the_rules_are_deleted() -> None:
    t = tree(("drafts/a.ttl", "1"), ("b.ttl", "2"))
    known = {"drafts/a.ttl": state("drafts/a.ttl", "1", 2), "b.ttl": state("b.ttl", "2", 2)}
    p = plan(t, known)
    assert (p.upserts, p.deletes, p.unchanged) == ((), ("drafts/a.ttl",), 1)


def test_force_replans_everything_and_an_empty_plan_is_empty() -> None:
    t = tree(("a.ttl", "1"))
    known = {"a.ttl": state("a.ttl", "1", 2)}
    assert plan(t, known).empty
    assert [e.path for e in plan(t, known, force=True).upserts] == ["a.ttl"]
