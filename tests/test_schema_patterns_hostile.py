"""Pattern and format checks never backtrack: hostile values are answered at once, with PVE's error.

Two 9.1 parameters (``reference`` of ``query-oci-repo-tags`` and ``oci-registry-pull``) carry
``[a-z\\d]+(?:(?:[._]|__|[-]*)[a-z\\d]+)*``: with Python's backtracking ``re``, 27 characters took 14 s under the
server's lock. Every pattern of every shipped schema is now matched by RE2 (``schema/linear_regex.py``), except
the ones listed with a proof in ``patterns.BACKTRACKING_BOUNDED``. The adversarial run below is bounded by that
construction; it runs in a child process only so that a regression fails the test instead of hanging the suite.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from proxmoxer import ResourceException

from pytest_pvemock.schema.files import release_index
from pytest_pvemock.schema.linear_regex import LinearRegex, to_re2
from pytest_pvemock.schema.patterns import BACKTRACKING_BOUNDED, compile_pattern
from pytest_pvemock.schema.registry import get_registry

OCI_REFERENCE_SLOW = "a" * 27 + "!"  # 14 s with Python's re


def _walk(node: object, found: dict[str, int]) -> None:
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            limit = node.get("maxLength")
            found[pattern] = max(found.get(pattern, 0), limit if isinstance(limit, int) else 4096)
        for key in node.get("patternProperties", {}) if isinstance(node.get("patternProperties"), dict) else ():
            found.setdefault(key, 4096)
        for value in node.values():
            _walk(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk(value, found)


def schema_patterns() -> dict[str, int]:
    """Every pattern of every release's schema (parameters, answers, pattern properties) -> the longest text to try."""
    found: dict[str, int] = {}
    files: dict[str, str] = {}
    for entry in release_index()["releases"]:
        files.setdefault(entry["file"], entry["version"])
    for version in sorted(files.values()):
        registry = get_registry(version)
        for template, entry in sorted(registry.paths.items()):
            if "file" in entry:
                _walk(registry.template_body(template), found)
    return found


PATTERNS = schema_patterns()


def test_every_schema_pattern_is_matched_by_rE2_or_has_a_proof():
    assert len(PATTERNS) > 90  # both versions were read
    backtracking = {pattern for pattern in PATTERNS if not compile_pattern(pattern).linear}
    assert backtracking == set(BACKTRACKING_BOUNDED)


ODD_CHARACTERS = (
    "\n",
    "\x0b",
    "\x1c",
    "\xa0",
    "\u212a",  # KELVIN SIGN: [a-z] under (?i) matches it in Python's re
    "\u017f",  # LATIN SMALL LETTER LONG S, likewise
    "\u0663",  # ARABIC-INDIC DIGIT THREE: \d and \w
    "\u00e9",
    "\ud800",  # a lone surrogate (JSON "\ud800")
    "\ufffd",
    "\U0010ffff",
    "\x00",
    "..",
    "__",
    "--",
)


def _spoil(text: str, where: int, what: str) -> str:
    where = where % (len(text) + 1)
    return text[:where] + what + text[where:]


@settings(max_examples=1500, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_linear_engine_matches_exactly_what_pythons_re_matches(data):
    pattern = data.draw(st.sampled_from(sorted(p for p in PATTERNS if compile_pattern(p).linear)))
    text = data.draw(st.from_regex(pattern, fullmatch=True) | st.text(max_size=12))
    if data.draw(st.booleans()):
        text = _spoil(text, data.draw(st.integers(0, 64)), data.draw(st.sampled_from(ODD_CHARACTERS)))
    if data.draw(st.booleans()):
        text += "\n"  # Python's (and Perl's) '$' also matches before a final newline
    if len(text) > 18:  # Python's re is the reference here, and it backtracks: keep its texts short
        text = text[:9] + text[-9:]
    assert compile_pattern(pattern).search(text) == (re.search(pattern, text) is not None), (pattern, text)


def test_dollar_inside_the_pattern_is_refused_where_rE2_would_differ():
    # '$' then more text: (?:\n?\z) would consume the newline Python's '$' only looks at
    with pytest.raises(ValueError):
        to_re2(r"^a$\n")
    with pytest.raises(ValueError):
        LinearRegex(r"(?m)^a$")
    assert LinearRegex(r"^(?:(?:^a$))$").search("a\n")


_ADVERSARIAL = r"""
import json, sys
from pytest_pvemock.schema.formats import FormatError, check_format, is_known_format
from pytest_pvemock.schema.patterns import compile_pattern

patterns, formats = json.load(sys.stdin)
alphabet = [chr(c) for c in range(32, 127)] + ["\n", "\u00e9"]
tails = ["", "!", "\x00", ".", "-", "..", "\n\n", ":", "@"]
checked = 0
for pattern, limit in patterns:
    search = compile_pattern(pattern).search
    for first in alphabet:
        for second in ("", "-", ".", "_", ",", ";", ":", "/", "="):
            unit = first + second
            body = unit * (limit // len(unit))
            for tail in tails:
                search(body[: max(0, limit - len(tail))] + tail)
                checked += 1
for name in formats:
    for first in alphabet:
        for second in ("", "-", ".", ":", "/", "="):
            body = (first + second) * 2048
            for text in ("images=" + body + ".", body + "!", body):
                try:
                    check_format(name, text)
                except FormatError:
                    pass
                checked += 1
print(checked)
"""


def test_adversarial_texts_up_to_max_length_are_checked_without_backtracking():
    from pytest_pvemock.schema.build import formats_used
    from pytest_pvemock.schema.formats import is_known_format

    registry = get_registry("9.1")
    used = set().union(*(formats_used(registry.template_body(t)) for t, e in registry.paths.items() if "file" in e))
    formats = sorted(name for name in used if is_known_format(name))
    payload = json.dumps([sorted(PATTERNS.items()), formats])
    # The timeout only turns a regression into a failure instead of a hung suite; nothing here measures speed.
    done = subprocess.run(
        [sys.executable, "-c", _ADVERSARIAL], input=payload, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 100_000


@pytest.mark.pve_cluster(version="9.1")
@pytest.mark.parametrize("reference", [OCI_REFERENCE_SLOW, "a" * 4096 + "!", "a-" * 2000 + "."])
def test_hostile_oci_reference_gets_pves_pattern_error(pve_api, reference):
    with pytest.raises(ResourceException) as raised:
        pve_api.nodes("pve1")("query-oci-repo-tags").get(reference=reference)
    assert (raised.value.status_code, raised.value.content) == (400, "Parameter verification failed.")
    assert raised.value.errors == {"reference": "value does not match the regex pattern"}


def test_valid_oci_reference_still_passes_the_check():
    tags = get_registry("9.1").resolve("GET", "/nodes/pve1/query-oci-repo-tags")
    reference = "registry.example.com:5000/library/debian"
    assert tags.check_parameters({"node": "pve1", "reference": reference})["reference"] == reference
    pull = get_registry("9.1").resolve("POST", "/nodes/pve1/storage/local/oci-registry-pull")
    tagged = reference + ":trixie-slim"
    assert pull.check_parameters({"node": "pve1", "storage": "local", "reference": tagged})["reference"] == tagged
