"""docs/behaviour.md and the tests of its rows agree: every row has its test (named after the row's id) in a
tests/test_behaviour_*.py file, and every such test has its row."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| `(?P<id>[a-z0-9_]+)` \|")


def catalogue_ids() -> list[str]:
    text = (ROOT / "docs" / "behaviour.md").read_text(encoding="utf-8")
    return [match["id"] for line in text.splitlines() if (match := ROW.match(line))]


def behaviour_tests() -> set[str]:
    names: set[str] = set()
    for path in sorted((ROOT / "tests").glob("test_behaviour_*.py")):
        if path.name == Path(__file__).name:
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name.removeprefix("test_"))
    return names


def test_every_row_has_its_test_and_every_test_its_row():
    ids = catalogue_ids()
    assert len(ids) == len(set(ids)), "a row id is listed twice"
    tests = behaviour_tests()
    assert sorted(set(ids) - tests) == [], "rows without a test"
    assert sorted(tests - set(ids)) == [], "behaviour tests without a row"


def test_every_row_names_its_source_line_and_commit():
    text = (ROOT / "docs" / "behaviour.md").read_text(encoding="utf-8")
    commits = set(re.findall(r"^\| `?([a-z0-9-]+)`? \| `([0-9a-f]{40})` \|", text, re.MULTILINE))
    short = {name: commit[:8] for name, commit in commits}
    for line in text.splitlines():
        if ROW.match(line):
            source = line.rstrip("|").rsplit("|", 1)[-1]
            assert re.search(r"\.pm \d+", source), f"no file and line in: {line}"
            assert any(f"@{commit}" in source for commit in short.values()), f"no commit read in: {line}"
