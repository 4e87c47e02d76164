"""What GitHub's answers mean: pure functions over status codes, headers and bytes.

:mod:`syncer.sources.github` does the I/O (one request at a time, waits, retries); the
decisions it takes on an answer live here so they can be tested without a socket: is a
failure a rate limit (and how long to wait), an outage (back off) or final; which blobs a
tree listing names; where a permanent redirect moves the repository; which commit and
files a repository archive holds; when one archive is cheaper than a blob per file.
"""

from __future__ import annotations

import json
import tarfile
import zlib
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from syncer.errors import RetryableError, SourceError
from syncer.model import TreeEntry

SECONDARY_WAIT = 60.0  # "wait for at least one minute before retrying"


def number(value: str | None) -> float | None:
    """A header's number (``retry-after``, ``x-ratelimit-reset``), or None if it is not one."""
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def error_message(body: bytes) -> str:
    """GitHub's ``message`` field, or the start of the body."""
    try:
        message = json.loads(body)["message"]
    except (ValueError, TypeError, KeyError):
        message = None
    return message[:300] if isinstance(message, str) else body[:300].decode("utf-8", "replace")


def judge_failure(
    status: int, headers: Mapping[str, str], message: str, what: str, secondary: int, now: float
) -> tuple[float | None, str]:
    """(seconds to wait for a rate limit or None for a backoff, the problem) for a failure
    that passes; raise :class:`SourceError` for one that retrying will not fix.

    Per https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
    ("Exceeding the rate limit"): ``retry-after`` wins; else ``x-ratelimit-remaining: 0``
    means waiting until ``x-ratelimit-reset``; else a secondary limit: at least a minute,
    doubling while it persists (``secondary`` is how many came before). ``headers`` is
    case-insensitive (httpx's) and its keys are looked up in lower case.
    """
    if status in (403, 429):
        if "retry-after" in headers:  # GitHub sends seconds, not an HTTP date
            seconds = number(headers["retry-after"])
            wait = SECONDARY_WAIT if seconds is None else max(seconds, 0.0)
            return wait, f"rate limited ({status}, retry-after)"
        reset = number(headers.get("x-ratelimit-reset"))
        if headers.get("x-ratelimit-remaining") == "0" and reset is not None:
            return max(reset - now, 1.0), f"primary rate limit spent ({status})"
        if status == 429 or "rate limit" in message.lower():
            return SECONDARY_WAIT * 2**secondary, f"secondary rate limit ({status})"
        raise SourceError(f"GitHub refused {what} (403, no permission?): {message}")
    if status >= 500:
        return None, f"GitHub answered {status}"
    if status == 401:
        raise SourceError(f"GitHub rejected the token (401) for {what}: {message}")
    if status == 404:
        raise SourceError(f"GitHub found no {what} (404): wrong name, or no read access?")
    raise SourceError(f"GitHub answered {status} for {what}: {message}")


def moved_base(base: str, api_url: str, old: str, new: str) -> str | None:
    """The repository's new base URL after a permanent redirect of ``old`` to ``new``, or
    None to keep ``base``. Only a move on the API's own origin counts, since later
    requests carry the token ("you should update your code to use this URL for future
    requests": https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api)."""
    if not old.startswith(base) or _origin(new) != _origin(api_url):
        return None
    rest = old[len(base) :]
    if new.endswith(rest) and len(new) > len(rest):
        return new[: len(new) - len(rest)]
    return None


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


@dataclass(frozen=True, slots=True)
class SubTree:
    """A directory of a non-recursive ``git/trees`` answer (walked when a listing is
    truncated)."""

    path: str
    sha: str


def tree_item(obj: dict[str, Any]) -> Any:
    """``json.loads``'s ``object_hook`` for ``git/trees`` answers: each entry becomes a
    :class:`TreeEntry` (a file), a :class:`SubTree` (a directory) or None (a symlink, whose
    blob is a target, not content; a submodule, type "commit") as soon as it is read; other
    objects stay dicts.

    A recursive listing of 50,000 files parsed into dicts peaked at 49 MB of heap, against
    14 MB for the entries kept; read this way the dicts never pile up (issue 13: peak RSS
    flat from 1k to 50k files; docs/performance.md).
    """
    kind = obj.get("type")
    if "path" not in obj or "sha" not in obj or not isinstance(kind, str):
        return obj
    if kind == "tree":
        return SubTree(str(obj["path"]), str(obj["sha"]))
    if kind != "blob" or obj.get("mode") == "120000":
        return None
    size = obj.get("size")
    return TreeEntry(str(obj["path"]), str(obj["sha"]), size if isinstance(size, int) else None)


def tree_blobs(data: Mapping[str, Any], prefix: str) -> list[TreeEntry]:
    """The files of one ``git/trees`` answer read with :func:`tree_item`, their paths
    under ``prefix``."""
    files = (item for item in data["tree"] if isinstance(item, TreeEntry))
    if not prefix:
        return list(files)
    return [TreeEntry(prefix + item.path, item.blob_sha, item.size) for item in files]


def sub_trees(data: Mapping[str, Any]) -> list[SubTree]:
    """The directories of one ``git/trees`` answer read with :func:`tree_item`."""
    return [item for item in data["tree"] if isinstance(item, SubTree)]


def wants_tarball(wanted: int, tree_bytes: int, *, min_files: int, bytes_per_request: int) -> bool:
    """One archive (2 requests, every blob of the tree) rather than ``wanted`` blobs."""
    return wanted > max(min_files, tree_bytes // bytes_per_request)


def archive_commit(fileobj: IO[bytes], what: str) -> str | None:
    """The commit id ``git archive`` put in the archive's pax global header, if any."""
    fileobj.seek(0)
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as archive:
            archive.next()  # reads the global header, which comes first
            comment = archive.pax_headers.get("comment", "")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise RetryableError(f"{what} could not be read: {exc}") from exc
    is_sha = len(comment) in (40, 64) and all(c in "0123456789abcdef" for c in comment)
    return comment if is_sha else None


def archive_members(
    fileobj: IO[bytes], wanted: Mapping[str, TreeEntry], what: str
) -> Generator[tuple[TreeEntry, bytes], None, None]:
    """The wanted regular files of a GitHub archive, its ``owner-repo-sha/`` prefix cut."""
    left = len(wanted)
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as archive:
            for member in archive:
                # A TarFile remembers every member it has read, even streaming: 10,000
                # TarInfos were 5 MB by the end of the archive. We never look back.
                # (Through vars(): typeshed versions disagree on declaring `members`.)
                vars(archive)["members"].clear()
                _, sep, path = member.name.partition("/")
                entry = wanted.get(path) if sep and member.isreg() else None
                handle = archive.extractfile(member) if entry is not None else None
                if entry is not None and handle is not None:
                    yield entry, handle.read()
                    left -= 1
                    if left == 0:  # e.g. one context file: no need to read the rest
                        return
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise RetryableError(f"{what} could not be read: {exc}") from exc
