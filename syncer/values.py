"""Setting values that need more than a string: secrets that never print themselves, the
JSON-LD context map and the prefix list. Below config.py and repositories.py, which both
read them; import them from here."""

from __future__ import annotations

from dataclasses import dataclass

from syncer.errors import ConfigError


class Secret:
    """A string that never shows itself in ``repr``/``str``, so it cannot leak into logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class ContextSource:
    """Where the document for one JSON-LD ``@context`` URL lives: the repository or disk."""

    url: str
    kind: str  # "repo" or "file"
    path: str


def split_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_contexts(value: str) -> tuple[ContextSource, ...]:
    sources = []
    for item in split_list(value):
        url, sep, target = item.rpartition("=")
        kind, colon, path = target.partition(":")
        if not sep or not url or not colon or kind not in ("repo", "file") or not path:
            raise ConfigError(
                f"SYNCER_JSONLD_CONTEXTS entry {item!r} is not URL=repo:PATH or URL=file:PATH"
            )
        sources.append(ContextSource(url=url, kind=kind, path=path))
    return tuple(sources)


def parse_prefixes(value: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in split_list(value):
        prefix, sep, iri = item.partition("=")
        if not sep or not prefix or not iri:
            raise ConfigError(f"SYNCER_PREFIXES entry {item!r} is not PREFIX=IRI")
        pairs.append((prefix.strip(), iri.strip()))
    return tuple(pairs)
