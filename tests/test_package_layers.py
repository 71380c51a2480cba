"""The package's layers, read from its imports: errors (and the JSON and YAML readers), schema and cassette files
(data) at the bottom, then model <- api <- transports.

Every import is read from the source (module level, inside functions and under ``TYPE_CHECKING`` alike): a layer
imports only from itself and the layers below it. Module-level imports (those that run when a module is imported)
form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_pvemock"
# Each layer may import the layers listed before it; modules outside these (plugin, cli, mocking, cassette, ...)
# are the top and may import anything.
LAYERS = (
    ("errors", "json_nesting", "pve_data", "safe_yaml"),
    ("schema",),
    ("cassette",),
    ("model",),
    ("api",),
    ("transports",),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, bool]]:
    """``(imported module, at module level)`` for every import of a package module in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, bool]] = []
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                inner = False
            if isinstance(child, ast.Import):
                found.extend((alias.name, top) for alias in child.names if alias.name in known)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parent = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                for alias in child.names:
                    target = f"{base}.{alias.name}"
                    if target in known:
                        found.append((target, top))
                    elif base in known:
                        found.append((base, top))
            visit(child, inner)

    visit(tree, True)
    return found


def layer(module: str) -> int | None:
    parts = module.split(".")
    return next((index for index, names in enumerate(LAYERS) if len(parts) > 1 and parts[1] in names), None)


def test_no_module_imports_from_a_layer_above_its_own():
    known = modules()
    upward = []
    for name, path in known.items():
        own = layer(name)
        if own is None:
            continue
        for target, _top in imports(name, path, known):
            theirs = layer(target)
            if theirs is None or theirs > own:
                upward.append(f"{name} imports {target}")
    assert upward == []


def test_module_level_imports_form_no_cycle():
    known = modules()
    graph = {name: {target for target, top in imports(name, path, known) if top} for name, path in known.items()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                walk(target)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert cycles == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from pytest_pvemock.model.cluster import FakeCluster\n", [("pytest_pvemock.model.cluster", True)]),
        ("def f():\n    from pytest_pvemock.api import router\n", [("pytest_pvemock.api.router", False)]),
        ("from ..errors import PVEError\n", [("pytest_pvemock.errors", True)]),
    ],
)
def test_imports_are_read_at_every_depth(tmp_path, source, expected):
    (tmp_path / "example.py").write_text(source, encoding="utf-8")
    assert imports("pytest_pvemock.schema.example", tmp_path / "example.py", modules()) == expected
