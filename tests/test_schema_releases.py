"""Every PVE release's schema, stored once: lossless, rebuilt byte for byte, resolved from what users write."""

from __future__ import annotations

import hashlib
import json
import lzma
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_pvemock.schema.build import compress_pack, pack_document
from pytest_pvemock.schema.files import PACK_FILE_NAME, apidoc_json, apidoc_tree, data_dir, load_pack, release_index
from pytest_pvemock.schema.registry import UnknownRelease, get_registry, known_releases, resolve_release

REPO = Path(__file__).resolve().parent.parent
PVE_API = REPO / "third_party" / "pve-api"


def test_every_stored_schema_comes_back_exactly_as_the_shared_file_hashed():
    pack = load_pack()
    files = {entry["file"] for entry in release_index()["releases"]}
    assert files == set(pack["schemas"])
    for file_name, stored in pack["schemas"].items():
        text = apidoc_json(file_name)
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == stored["sha256"], file_name


def test_repacking_the_stored_schemas_gives_the_committed_pack_byte_for_byte():
    trees = {file_name: apidoc_tree(file_name) for file_name in load_pack()["schemas"]}
    text = pack_document(trees)
    committed = (PVE_API / PACK_FILE_NAME).read_bytes()
    assert text.encode("utf-8") == lzma.decompress(committed)
    assert compress_pack(text) == committed


def test_method_counts_match_the_index():
    for release in known_releases():
        methods = sum(len(node.get("info") or {}) for node in _walk(apidoc_tree(release.file)))
        assert methods == release.methods, release.version


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.get("children") or [])


@pytest.mark.parametrize(
    ("given", "release"),
    [
        ("8.2.5", "8.2.5"),
        ("8.2", "8.2.5"),  # a minor is its last release
        ("8", "8.4.2"),  # a major is its newest, by version (8.4.2 was bumped on stable-bookworm after 9.0.0)
        ("7.2", "7.2-5"),
        ("7.2-3", "7.2-3"),
        ("7.2.3", "7.2-3"),
        ("9.1", "9.1.5"),
        ("latest", "9.1.5"),
        (8.4, "8.4.2"),
        (9, "9.1.5"),
    ],
)
def test_a_version_resolves_to_one_release(given, release):
    assert resolve_release(given).version == release


@pytest.mark.parametrize("given", ["8.5", "10", "8.2.99", "eight", "", "8.2.5.1"])
def test_an_unknown_version_names_what_may_be_given(given):
    with pytest.raises(UnknownRelease, match=r"is not a known release: give a release \(7\.0-1 to 9\.1\.5\)"):
        resolve_release(given)


def test_releases_with_the_same_schema_share_it_and_differ_where_the_api_did():
    # 8.0.0 is the bump commit of PVE 8 and still carries 7.4's schema (third_party/pve-api/SOURCE.md)
    assert len(get_registry("8.0.0").endpoints()) == len(get_registry("7.4").endpoints()) == 540
    assert resolve_release("7.4-1").file == resolve_release("7.4-2").file
    assert len(get_registry("9.1.3").endpoints()) == 649
    assert len(get_registry("9.1").endpoints()) == 667
    assert get_registry("8.2") is get_registry("8.2.5")
    assert get_registry("8.1.1").paths is get_registry("8.1.4").paths  # one schema, converted once


def test_the_wheel_data_is_the_checkouts():
    assert (data_dir() / "INDEX.json").read_bytes() == (PVE_API / "INDEX.json").read_bytes()
    assert json.loads((PVE_API / "INDEX.json").read_text(encoding="utf-8"))["releases"][-1]["version"] == "9.1.5"


def test_importing_the_package_reads_no_schema():
    code = (
        "import sys, pytest_pvemock, pytest_pvemock.schema\n"
        "from pytest_pvemock.schema import files\n"
        "assert files.load_pack.cache_info().currsize == 0\n"
        "assert files.release_index.cache_info().currsize == 0\n"
        "assert 'jsonschema' not in sys.modules and 'lzma' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
