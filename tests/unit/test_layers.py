"""Imports point downward: the layers of the package, checked on its source text."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import streamsettle

PACKAGE = Path(streamsettle.__file__).parent
EDGES = ("api", "web", "cli")


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[:2] == ("db", "migrations"):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(("streamsettle", *parts)), path


def _imports(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            assert node.module is not None
            found.add(node.module)
            # ``from streamsettle.services import ingest`` names a module too
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _area(module: str) -> str:
    """The first component below ``streamsettle`` ('' for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "streamsettle" else ""


MODULES = dict(_modules())


def test_the_walker_sees_the_package() -> None:
    assert "streamsettle.domain.pricing" in MODULES
    assert "streamsettle.services.ingest.flusher" in MODULES
    assert "streamsettle.api.deps" in _imports(MODULES["streamsettle.api.routers.auth"])


@pytest.mark.parametrize("module", [m for m in MODULES if _area(m) == "domain"])
def test_domain_imports_only_the_standard_library(module: str) -> None:
    outside = {
        name
        for name in _imports(MODULES[module])
        if name.split(".")[0] not in sys.stdlib_module_names and _area(name) != "domain"
    }
    assert not outside, f"{module} imports {sorted(outside)}"


@pytest.mark.parametrize("module", [m for m in MODULES if _area(m) not in (*EDGES, "app")])
def test_nothing_below_the_edges_imports_an_edge(module: str) -> None:
    upward = {n for n in _imports(MODULES[module]) if _area(n) in (*EDGES, "app")}
    assert not upward, f"{module} imports {sorted(upward)}"


@pytest.mark.parametrize(("edge", "other"), [("api", "web"), ("web", "api")])
def test_the_http_edges_do_not_import_each_other(edge: str, other: str) -> None:
    crossing = {
        f"{module} -> {name}"
        for module, path in MODULES.items()
        if _area(module) == edge
        for name in _imports(path)
        if _area(name) == other
    }
    assert not crossing


@pytest.mark.parametrize(
    "module", [m for m in MODULES if _area(m) in ("domain", "db", "sessions", "services")]
)
def test_the_synthetic_data_stays_out_of_the_product(module: str) -> None:
    tooling = {n for n in _imports(MODULES[module]) if _area(n) == "synthetic"}
    assert not tooling, f"{module} imports {sorted(tooling)}"
