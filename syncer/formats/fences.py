"""Fenced code blocks in Markdown and Logseq pages, found in one pass.

Rules (CommonMark, adapted to what Logseq writes):
- an opener is a line of three or more backticks or tildes, after any indentation and
  an optional list bullet (``- ```clojure``), followed by an info string (its first
  word, lower-cased, is the block's tag; a bare fence has the tag ``""``);
- a closer is an unbulleted line of the same character, at least as long, with nothing
  after it; any indentation is fine (Logseq indents closers with their bullet);
- inside a block nothing opens another block: a ```` ```clojure ```` line inside a bare
  fence is text of that fence, as in CommonMark;
- an opener that is never closed does not swallow the rest of the page (real pages
  open stray fences, some before their OntologyBlock): it is reported and ignored, and
  the lines after it are read as ordinary text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_FENCE_LINE = re.compile(r"^[ \t]*(?:([-*+])[ \t]+)?(`{3,}|~{3,})([^\n]*)$", re.M)


@dataclass(frozen=True)
class Fence:
    tag: str  # first word of the info string, lower-cased; "" for a bare fence
    start: int  # offset of the opener line
    end: int  # offset just past the closer line
    body_start: int
    body_end: int
    line: int  # 1-based line number of the opener

    def body(self, text: str) -> str:
        return text[self.body_start : self.body_end]


@dataclass(frozen=True)
class FenceScan:
    fences: tuple[Fence, ...]
    unclosed_lines: tuple[int, ...]  # 1-based lines of openers never closed
    _starts: tuple[int, ...] = ()
    _ends: tuple[int, ...] = ()

    def gaps(self, length: int) -> list[tuple[int, int]]:
        """The (start, end) spans of a text of ``length`` characters outside all fences."""
        spans, pos = [], 0
        for start, end in zip(self._starts, self._ends, strict=True):
            if start > pos:
                spans.append((pos, start))
            pos = end
        if pos < length:
            spans.append((pos, length))
        return spans

    def inside(self, pos: int) -> bool:
        """Whether offset ``pos`` lies in a fenced block (opener and closer included)."""
        i = bisect.bisect_right(self._starts, pos) - 1
        return i >= 0 and pos < self._ends[i]


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    bulleted: bool
    char: str
    length: int
    info: str

    @property
    def can_close(self) -> bool:
        return not self.bulleted and not self.info


def _candidates(text: str) -> list[_Candidate]:
    """Every fence-like line, in order.

    Found from the literal runs (``str.find``), and only their lines matched against the
    full pattern: a multi-line ``^`` pattern would be tried at every offset of the page.
    """
    found = []
    for run in ("```", "~~~"):
        pos = text.find(run)
        while pos >= 0:
            line_start = text.rfind("\n", 0, pos) + 1
            m = _FENCE_LINE.match(text, line_start)
            if m is not None and m.start(2) == pos:
                info = m.group(3).strip()
                if run[0] != "`" or "`" not in info:  # ```code``` on one line is not a fence
                    found.append(
                        _Candidate(
                            m.start(), m.end(), bool(m.group(1)), run[0], len(m.group(2)), info
                        )
                    )
            end = text.find("\n", pos)
            pos = -1 if end < 0 else text.find(run, end)
    found.sort(key=lambda c: c.start)
    return found


class _LineCounter:
    """Line numbers of increasing offsets, counting each newline once."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def __call__(self, pos: int) -> int:
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def scan_fences(text: str) -> FenceScan:
    cands = _candidates(text)
    closers: dict[str, list[int]] = {"`": [], "~": []}
    for index, cand in enumerate(cands):
        if cand.can_close:
            closers[cand.char].append(index)
    hopeless: dict[str, int] = {}  # char -> shortest opener length known to find no closer
    fences: list[Fence] = []
    unclosed: list[int] = []
    line_of = _LineCounter(text)
    i = 0
    while i < len(cands):
        opener = cands[i]
        close_at = None
        if opener.length < hopeless.get(opener.char, 1 << 30):
            pool = closers[opener.char]
            for k in range(bisect.bisect_right(pool, i), len(pool)):
                if cands[pool[k]].length >= opener.length:
                    close_at = pool[k]
                    break
        if close_at is None:
            hopeless[opener.char] = min(opener.length, hopeless.get(opener.char, 1 << 30))
            unclosed.append(line_of(opener.start))
            i += 1
            continue
        closer = cands[close_at]
        body_start = min(opener.end + 1, closer.start)
        fences.append(
            Fence(
                tag=opener.info.split(None, 1)[0].lower() if opener.info else "",
                start=opener.start,
                end=closer.end,
                body_start=body_start,
                body_end=closer.start,
                line=line_of(opener.start),
            )
        )
        i = close_at + 1
    return FenceScan(
        fences=tuple(fences),
        unclosed_lines=tuple(unclosed),
        _starts=tuple(f.start for f in fences),
        _ends=tuple(f.end for f in fences),
    )


def whole_file(text: str) -> FenceScan | None:
    """A page that is all data, no Markdown (a JSON-LD document or Turtle saved as
    ``.md``), as one block covering the text; None for an ordinary page."""
    head = text.lstrip()[:16]
    # "[" opens a JSON array only when a value follows; a page that starts with a badge
    # ("[![build](...)](...)") or a wikilink ("[[Page]]") is Markdown (issue 12).
    if head.startswith("{") or (head.startswith("[") and head[1:].lstrip()[:1] in ("{", '"', "]")):
        tag = "json-ld"
    elif head.startswith(("@prefix", "@base", "PREFIX", "BASE")):
        tag = "turtle"
    else:
        return None
    fence = Fence(tag, 0, len(text), 0, len(text), 1)
    return FenceScan((fence,), (), (0,), (len(text),))
