"""The public surface: what the README shows is importable from ``pytest_pvemock`` itself, and documented."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_pvemock

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def package_classes_and_functions() -> set[str]:
    """Top-level public classes and functions defined anywhere in the package."""
    names = set()
    for path in (ROOT / "pytest_pvemock").rglob("*.py"):
        if path.name == "plugin.py":  # fixtures and hooks are pytest's surface, not imports
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and not node.name.startswith("_"):
                names.add(node.name)
    return names


def readme_names() -> set[str]:
    """Names of the library the README uses: imported from it, dotted from it, or written as a class name."""
    names = set()
    for imported in re.findall(r"from pytest_pvemock import ([\w, ]+)", README):
        names.update(name.strip() for name in imported.split(","))
    dotted = re.findall(r"`pytest_pvemock\.(?:[a-z_]+\.)*(\w+)[`(]", README)
    names.update(name for name in dotted if not name.startswith("__"))
    defined = package_classes_and_functions()
    names.update(word for word in re.findall(r"`([A-Z]\w+)[`(.]", README) if word in defined)
    return names


def test_the_readme_names_come_from_the_package_itself():
    used = readme_names()
    assert {"FakeCluster", "mock", "PveServer", "open_cassette", "route_table"} <= used
    assert sorted(used - set(pytest_pvemock.__all__)) == []


def test_the_readme_imports_nothing_from_deep_modules():
    deep = re.findall(r"from pytest_pvemock\.[\w.]+ import|`pytest_pvemock\.[a-z_]+\.[\w.]+`", README)
    assert deep == []


@pytest.mark.parametrize("name", [name for name in pytest_pvemock.__all__ if name != "__version__"])
def test_every_public_name_is_importable_and_documented(name):
    value = getattr(pytest_pvemock, name)
    doc = value.__doc__ or ""
    assert doc.strip() and not doc.startswith(f"{name}("), f"{name} has no docstring of its own"


def test_importing_the_package_loads_none_of_its_parts():
    code = "import sys, pytest_pvemock; print(sorted(m for m in sys.modules if m.startswith('pytest_pvemock.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
    assert "open_cassette" in dir(pytest_pvemock)
