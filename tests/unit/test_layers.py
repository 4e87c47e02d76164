"""The house's floors, checked from the imports (docs/architecture.md): the pure core does
no I/O, and no layer imports one above it. Read with ``ast``, so a lazy import inside a
function counts as much as one at the top."""

from __future__ import annotations

import ast

import pytest

from tests.support.paths import ROOT

PACKAGE = ROOT / "syncer"
# The pure core: decisions over bytes and mappings (gidgethub's sansio.py is the model).
PURE = ("config", "errors", "model", "planner", "webhook", "retry")
# What the pure core may never import: the database, the event loop, the network, processes,
# and every layer with I/O.
IO_MODULES = ("sqlite3", "asyncio", "httpx", "socket", "subprocess", "starlette", "uvicorn")
# Layer -> the syncer subpackages it must not import.
FORBIDDEN = {
    "pure": ("syncer.storage", "syncer.sources", "syncer.sync", "syncer.web", "syncer.cli"),
    "formats": ("syncer.storage", "syncer.sources", "syncer.sync", "syncer.web", "syncer.cli"),
    "sources": ("syncer.storage", "syncer.sync", "syncer.web", "syncer.cli"),
    "storage": ("syncer.sources", "syncer.sync", "syncer.web", "syncer.cli"),
    "sync": ("syncer.web", "syncer.cli"),
    "web": ("syncer.cli",),
}


def imports_of(path: str) -> set[str]:
    tree = ast.parse((PACKAGE / path).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from syncer import x` names the module syncer.x
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def layer_of(path: str) -> str:
    top = path.split("/")[0]
    if top.endswith(".py"):
        return "pure" if top.removesuffix(".py") in PURE else "top"
    return top


def modules() -> list[str]:
    return sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py"))


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("path", [m for m in modules() if layer_of(m) in ("pure", "formats")])
def test_the_pure_core_does_no_io(path: str) -> None:
    assert sorted(n for n in imports_of(path) if under(n, IO_MODULES)) == []


@pytest.mark.parametrize("path", [m for m in modules() if layer_of(m) in FORBIDDEN])
def test_no_layer_imports_one_above_it(path: str) -> None:
    upward = FORBIDDEN[layer_of(path)]
    assert sorted(n for n in imports_of(path) if under(n, upward)) == []


def test_only_storage_opens_sqlite() -> None:
    """SQL and connections live in storage/; everything else asks it (issue 11)."""
    opening = [m for m in modules() if "sqlite3" in imports_of(m)]
    outside = [m for m in opening if not m.startswith("storage/")]
    assert outside == ["cli/__init__.py"]  # except sqlite3.Error, a type: it opens nothing


def test_the_installed_package_holds_no_test_helpers() -> None:
    assert not (PACKAGE / "testing").exists()
    assert [m for m in modules() if "syncer_dev" in " ".join(imports_of(m))] == []


def test_the_checks_see_every_module() -> None:
    """A guard on the guard: the walk finds the layers it checks."""
    layers = {layer_of(m) for m in modules()}
    assert layers == {"pure", "top", "cli", "formats", "sources", "storage", "sync", "web"}
