"""The README's examples are tests a user copies: each code block that defines a test must pass as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
# Recording needs a real cluster (or a cassette) and is exercised by tests/test_recording_*.py instead.
NEEDS_A_REAL_CLUSTER = "pve_cassette"


def readme_test_blocks() -> list[str]:
    blocks = BLOCK.findall(README.read_text(encoding="utf-8"))
    return [b for b in blocks if "def test_" in b and NEEDS_A_REAL_CLUSTER not in b]


def test_the_readme_has_examples():
    assert len(readme_test_blocks()) >= 3


@pytest.mark.parametrize("block", readme_test_blocks(), ids=lambda b: re.search(r"def (test_\w+)", b).group(1))
def test_readme_example_passes(pytester: pytest.Pytester, block: str):
    pytester.makepyfile(test_example="import proxmoxer\nimport pytest\n\n" + block)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and not outcomes.get("failed") and not outcomes.get("errors"), (
        result.stdout.str()
    )
