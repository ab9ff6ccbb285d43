"""Tests for the package's shape: public names that do not depend on import order, no cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import twcreds

PACKAGE = Path(twcreds.__file__).parent
MODULES = sorted(
    "twcreds." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    for path in PACKAGE.rglob("*.py")
    if path.name not in ("__init__.py", "__main__.py")
)


@pytest.mark.parametrize("first", MODULES)
def test_every_public_name_is_the_same_object_whatever_was_imported_first(first: str) -> None:
    code = (
        "import importlib, sys, twcreds\n"
        f"importlib.import_module({first!r})\n"
        "bad = [n for n in twcreds.__all__ if n != '__version__'\n"
        "       and getattr(twcreds, n) is not getattr(\n"
        "           importlib.import_module(twcreds._EXPORTS[n]), n)]\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_no_submodule_shares_a_public_name() -> None:
    names = {module.removeprefix("twcreds.").split(".")[0] for module in MODULES}
    assert names.isdisjoint(twcreds.__all__)


def _imports(path: Path) -> set[str]:
    """The twcreds modules a file imports, lazy ones included, TYPE_CHECKING ones not."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_in_the_package() -> None:
    graph = {
        "twcreds." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts): _imports(path)
        for path in PACKAGE.rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    }
    assert graph["twcreds.clients"] >= {"twcreds.sources", "twcreds._twython"}
    assert _cycle(graph) is None


def _readme_module_order() -> list[str]:
    """The modules of the README's "Where things live" table, top to bottom."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Where things live", 1)[1].split("\n\n", 3)[2]
    names = [row.split("`")[1] for row in table.splitlines() if row.startswith("| `")]
    return ["twcreds." + name.removesuffix(".py").rstrip("/") for name in names]


def _layer(module: str, order: list[str]) -> int:
    """A module's row in the table; a module of ``testing/`` is in that package's row."""
    for row, name in enumerate(order):
        if module == name or module.startswith(name + "."):
            return row
    raise AssertionError(f"{module} is missing from the README's module map")


def test_the_readme_module_map_names_every_module_and_imports_only_go_down_it() -> None:
    order = _readme_module_order()
    assert order[0] == "twcreds.errors"
    assert "twcreds.cli" in order
    upward = [
        f"{module} imports {dep}"
        for path in PACKAGE.rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
        for module in ["twcreds." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)]
        for dep in sorted(_imports(path))
        if _layer(dep, order) > _layer(module, order)
    ]
    assert upward == []
