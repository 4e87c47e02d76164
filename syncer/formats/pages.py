"""Page names, page keys, wikilinks and the class IRI minted for a page.

One rule for every place a page is named, so that a page's own key (from its file name)
and the key of a ``[[link]]`` to it always agree:

- :func:`page_name_from_path` undoes Logseq's file-name encoding (``___`` stands for
  ``/``, ``%2F`` and other ``%XX`` escapes for the characters a file name cannot hold);
- :func:`page_key` normalizes a page name: Unicode NFC, surrounding whitespace trimmed,
  case folded. Nothing else is folded: ``Digital Citizens' Assembly`` and
  ``Digital Citizens’ Assembly`` stay two pages, as they are in Logseq;
- :func:`mint_class_iri` gives the class IRI of a page that has an OntologyBlock but no
  ``owl:class``; a ``[[link]]`` to a page falls back to the same IRI, so the two meet.
"""

from __future__ import annotations

import bisect
import posixpath
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

PAGE_CLASS_NAMESPACE = "urn:syncer:page:"

_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# Wikilinks: [[Target]] or [[Target|shown text]]; the innermost pair when nested.
WIKILINK = re.compile(r"\[\[([^\[\]\n]+?)\]\]")
# Characters an IRI may not hold literally (RFC 3987: no space, no <>"{}|\^`, no controls).
_IRI_UNSAFE = re.compile(r"[\x00-\x20<>\"{}|\\^`\x7f]|%(?![0-9A-Fa-f]{2})")
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_MARKDOWN_EXTENSIONS = (".md", ".markdown")


def _decode_percent_run(match: re.Match[str]) -> str:
    raw = match.group(0)
    try:
        return bytes.fromhex(raw.replace("%", "")).decode("utf-8")
    except UnicodeDecodeError:
        return raw


def page_name_from_path(path: str) -> str:
    """The page name a Logseq file stands for: ``pages/A___B%3F.md`` -> ``A/B?``."""
    name = posixpath.basename(path)
    lower = name.lower()
    for extension in _MARKDOWN_EXTENSIONS:
        if lower.endswith(extension):
            name = name[: -len(extension)]
            break
    name = name.replace("___", "/")
    return _PERCENT_RUN.sub(_decode_percent_run, name)


@lru_cache(maxsize=1 << 13)  # bounded memory on any repository (issue 13)
def page_key(name: str) -> str:
    """The normalized page name: the stable ``kg_nodes`` id and the key links resolve by."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def iri_escape(text: str) -> str:
    """``text`` with the characters an IRI cannot hold percent-encoded (UTF-8)."""
    if _IRI_UNSAFE.search(text) is None:
        return text
    return _IRI_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode()), text)


def mint_class_iri(key: str) -> str:
    """The class of a page that declares none: ``urn:syncer:page:<escaped key>``."""
    return PAGE_CLASS_NAMESPACE + iri_escape(key).replace("#", "%23").replace("?", "%3F")


def link_target(inner: str) -> str | None:
    """The page a wikilink's inner text names: ``Target|shown`` -> ``Target``."""
    target = inner.split("|", 1)[0].strip()
    return target or None


def kind_of_property(key: str) -> str:
    """A property name as an edge kind: ``isSubclassOf`` -> ``is-subclass-of``."""
    return _CAMEL.sub("-", key.strip()).replace("_", "-").lower()


class LinkRef(NamedTuple):
    """One ``[[wikilink]]``: the page it names, and where it sits in the text."""

    title: str
    key: str
    start: int


def wikilinks(text: str, start: int = 0, end: int | None = None) -> list[LinkRef]:
    """Every wikilink in ``text[start:end]``, in order, except those in inline code."""
    end = len(text) if end is None else end
    found = []
    code_starts, code_ends = [], []
    for m in _INLINE_CODE.finditer(text, start, end):
        code_starts.append(m.start())
        code_ends.append(m.end())
    for match in WIKILINK.finditer(text, start, end):
        i = bisect.bisect_right(code_starts, match.start()) - 1
        if i >= 0 and match.start() < code_ends[i]:
            continue
        target = link_target(match.group(1))
        if target is not None:
            found.append(LinkRef(title=target, key=page_key(target), start=match.start()))
    return found
