"""What GitHub's answers mean, without a socket (syncer.sources.github_answers)."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from syncer.errors import RetryableError, SourceError
from syncer.model import TreeEntry
from syncer.sources.github_answers import (
    SubTree,
    archive_commit,
    archive_members,
    error_message,
    judge_failure,
    moved_base,
    number,
    sub_trees,
    tree_blobs,
    tree_item,
    wants_tarball,
)

NOW = 1_800_000_000.0
COMMIT = "a" * 40
BASE = "https://api.github.com/repos/acme/ontology"


def judge(
    status: int, headers: dict[str, str], message: str = "", secondary: int = 0
) -> tuple[float | None, str]:
    return judge_failure(status, headers, message, "tree x of acme/ontology", secondary, NOW)


def test_retry_after_wins_over_the_primary_headers() -> None:
    headers = {"retry-after": "30", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "9"}
    assert judge(403, headers) == (30.0, "rate limited (403, retry-after)")
    assert judge(429, {"retry-after": "soon"}) == (60.0, "rate limited (429, retry-after)")
    assert judge(429, {"retry-after": "-5"}) == (0.0, "rate limited (429, retry-after)")


def test_a_spent_primary_limit_waits_until_the_reset_and_at_least_a_second() -> None:
    spent = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 90)}
    assert judge(403, spent) == (90.0, "primary rate limit spent (403)")
    past = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) - 5)}
    assert judge(403, past) == (1.0, "primary rate limit spent (403)")


def test_a_secondary_limit_waits_a_minute_doubling_while_it_persists() -> None:
    message = "You have exceeded a secondary rate limit."
    assert judge(403, {}, message) == (60.0, "secondary rate limit (403)")
    assert judge(403, {}, message, secondary=2) == (240.0, "secondary rate limit (403)")
    assert judge(429, {}) == (60.0, "secondary rate limit (429)")


@pytest.mark.parametrize(
    ("status", "message", "error"),
    [
        (403, "Resource not accessible", "GitHub refused tree x of acme/ontology (403, no "),
        (401, "Bad credentials", "GitHub rejected the token (401) for tree x of acme/ontology"),
        (404, "Not Found", "GitHub found no tree x of acme/ontology (404): wrong name"),
        (422, "No commit found", "GitHub answered 422 for tree x of acme/ontology: No commit"),
    ],
)
def test_failures_retrying_will_not_fix_raise(status: int, message: str, error: str) -> None:
    with pytest.raises(SourceError) as caught:
        judge(status, {}, message)
    assert str(caught.value).startswith(error)


def test_a_server_error_is_backed_off_not_waited() -> None:
    assert judge(502, {}) == (None, "GitHub answered 502")


def test_numbers_and_messages_from_answers() -> None:
    assert [number("12.5"), number("x"), number(None)] == [12.5, None, None]
    assert error_message(b'{"message": "Not Found"}') == "Not Found"
    assert error_message(b"<html>bad gateway</html>") == "<html>bad gateway</html>"
    assert error_message(b'{"message": 7}' + b"x" * 400) == ('{"message": 7}' + "x" * 286)


def test_a_permanent_redirect_moves_the_base_only_on_the_api_origin() -> None:
    old = f"{BASE}/git/trees/{COMMIT}"
    new = f"https://api.github.com/repositories/42/git/trees/{COMMIT}"
    api = "https://api.github.com"
    assert moved_base(BASE, api, old, new) == "https://api.github.com/repositories/42"
    assert moved_base(BASE, api, old, new.replace("api.github.com", "evil.example")) is None
    assert moved_base(BASE, api, old, new.replace("https:", "http:")) is None
    assert moved_base(BASE, api, old, "https://api.github.com/elsewhere") is None
    assert moved_base(BASE, api, "https://other.example/x", new) is None


def test_tree_blobs_keeps_files_and_drops_symlinks_trees_and_submodules() -> None:
    answer = {
        "tree": [
            {"path": "a.md", "type": "blob", "mode": "100644", "sha": "1" * 40, "size": 5},
            {"path": "link", "type": "blob", "mode": "120000", "sha": "2" * 40, "size": 4},
            {"path": "dir", "type": "tree", "mode": "040000", "sha": "3" * 40},
            {"path": "sub", "type": "commit", "mode": "160000", "sha": "4" * 40},
            {"path": "b.ttl", "type": "blob", "mode": "100755", "sha": "5" * 40},
        ]
    }
    data = json.loads(json.dumps(answer), object_hook=tree_item)
    assert tree_blobs(data, "pages/") == [
        TreeEntry("pages/a.md", "1" * 40, 5),
        TreeEntry("pages/b.ttl", "5" * 40, None),
    ]
    assert sub_trees(data) == [SubTree("dir", "3" * 40)]


def test_a_tree_answer_read_with_tree_item_gives_the_same_files_and_keeps_no_dicts() -> None:
    body = json.dumps(
        {
            "sha": "9" * 40,
            "url": "https://api.github.com/repos/o/r/git/trees/" + "9" * 40,
            "tree": [
                {
                    "path": "a.md",
                    "type": "blob",
                    "mode": "100644",
                    "sha": "1" * 40,
                    "size": 5,
                    "url": "https://api.github.com/repos/o/r/git/blobs/" + "1" * 40,
                },
                {"path": "link", "type": "blob", "mode": "120000", "sha": "2" * 40, "size": 4},
                {"path": "dir", "type": "tree", "mode": "040000", "sha": "3" * 40},
                {"path": "sub", "type": "commit", "mode": "160000", "sha": "4" * 40},
            ],
            "truncated": True,
        }
    )
    data = json.loads(body, object_hook=tree_item)
    assert data["truncated"] is True and data["sha"] == "9" * 40
    assert data["tree"] == [TreeEntry("a.md", "1" * 40, 5), None, SubTree("dir", "3" * 40), None]
    assert tree_blobs(data, "") == [TreeEntry("a.md", "1" * 40, 5)]
    assert tree_blobs(data, "x/") == [TreeEntry("x/a.md", "1" * 40, 5)]
    assert sub_trees(data) == [SubTree("dir", "3" * 40)]


def test_the_tarball_rule_counts_files_and_bytes() -> None:
    rule = {"min_files": 16, "bytes_per_request": 1024 * 1024}
    assert wants_tarball(16, 0, **rule) is False
    assert wants_tarball(17, 0, **rule) is True
    # A 2 GB tree is worth 2,048 blob requests before its archive is.
    assert wants_tarball(2048, 2 * 1024**3, **rule) is False
    assert wants_tarball(2049, 2 * 1024**3, **rule) is True


def make_archive(commit: str | None, files: dict[str, bytes]) -> io.BytesIO:
    """A tarball shaped like GitHub's: a pax comment with the commit, one top folder."""
    buffer = io.BytesIO()
    headers = {"comment": commit} if commit else {}
    with tarfile.open(
        fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT, pax_headers=headers
    ) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"acme-ontology-{COMMIT[:7]}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def test_the_archive_names_its_commit_in_the_pax_header() -> None:
    assert archive_commit(make_archive(COMMIT, {"a.md": b"x"}), "tarball") == COMMIT
    assert archive_commit(make_archive(None, {"a.md": b"x"}), "tarball") is None
    assert archive_commit(make_archive("not a sha", {"a.md": b"x"}), "tarball") is None


def test_archive_members_yields_the_wanted_files_and_stops_when_all_are_read() -> None:
    files = {"a.md": b"alpha", "b.md": b"beta", "c.md": b"gamma"}
    a = TreeEntry("a.md", "1" * 40, 5)
    c = TreeEntry("c.md", "3" * 40, 5)
    found = list(archive_members(make_archive(COMMIT, files), {"c.md": c, "a.md": a}, "t"))
    assert found == [(a, b"alpha"), (c, b"gamma")]


def test_a_broken_archive_is_a_retryable_error() -> None:
    truncated = io.BytesIO(make_archive(COMMIT, {"a.md": b"x" * 5000}).getvalue()[:60])
    entry = TreeEntry("a.md", "1" * 40, 5000)
    with pytest.raises(RetryableError, match=r"^tarball of main could not be read: "):
        list(archive_members(truncated, {"a.md": entry}, "tarball of main"))
