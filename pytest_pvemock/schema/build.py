"""Proxmox's apidoc JSON -> JSON Schemas (see schemas/README.md), and the store of every release's apidoc.

``pvemock schemas pack`` writes ``third_party/pve-api/pve-api-releases.json.xz`` (:func:`pack_document`); the
registry converts a release's templates from it in memory (:func:`template_body`); ``pvemock schemas build``
writes the same conversion as files into ``<out>/pve-<release>/`` (:func:`build_version`).

Layout, chosen so that one endpoint loads cheaply and rebuilds are byte-identical:

- ``index.json``: the source (file, sha256, pve-docs commit), every path template with its methods, its file and
  its child templates (for index listings), and the named formats the schemas use;
- ``paths/<template with '/' as '.'>.json``: per method, its metadata (name, description, permissions, protected,
  proxyto, allowtoken, ...) and its ``parameters`` and ``returns`` JSON Schemas.

Files are compact JSON with sorted keys, UTF-8, one trailing newline. Nothing depends on time or environment.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_pvemock.schema.convert import convert_method_schema
from pytest_pvemock.schema.files import PACK_FILE_NAME, body_hash, dump_compact
from pytest_pvemock.schema.formats import is_known_format
from pytest_pvemock.schema.named_property_formats import named_property_formats

__all__ = [
    "build_version",
    "compress_pack",
    "dump_json",
    "formats_used",
    "iter_paths",
    "pack_document",
    "read_apidoc_sources",
    "template_body",
    "template_entry",
    "template_file_name",
    "unknown_formats",
]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_METHOD_METADATA = ("name", "description", "permissions", "protected", "proxyto", "allowtoken", "download_allowed",
                    "expose_credentials")  # fmt: skip


def dump_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def template_file_name(template: str) -> str:
    return "paths/" + template.strip("/").replace("/", ".") + ".json"


def iter_paths(tree: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    stack = list(reversed(tree))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.get("children") or []))


def _formats_used(schema: Any, found: set[str]) -> None:
    if isinstance(schema, dict):
        if isinstance(schema.get("format"), str):
            found.add(schema["format"])
        if isinstance(schema.get("x-pve-format"), str):
            found.add(schema["x-pve-format"])
        for value in schema.values():
            _formats_used(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _formats_used(value, found)


def template_entry(node: dict[str, Any]) -> dict[str, Any]:
    """The ``index.json`` entry of one apidoc tree node: its methods, its child templates and (if any) its file."""
    info = node.get("info") or {}
    entry: dict[str, Any] = {
        "children": sorted(child["path"] for child in node.get("children") or []),
        "methods": sorted(info),
    }
    if info:
        entry["file"] = template_file_name(node["path"])
    return entry


def template_body(node: dict[str, Any], named: dict[str, Any]) -> dict[str, Any]:
    """The ``paths/<template>.json`` content of one apidoc tree node: per method, metadata and JSON Schemas."""
    template = node["path"]
    body: dict[str, Any] = {"path": template, "methods": {}}
    for method, method_info in sorted((node.get("info") or {}).items()):
        converted = convert_method_schema(template, method_info, named)
        for part in converted.values():
            part["$schema"] = SCHEMA_DIALECT
        meta = {key: method_info[key] for key in _METHOD_METADATA if key in method_info}
        body["methods"][method] = {**meta, **converted}
    return body


def build_version(
    source: Path | list[dict[str, Any]], out_dir: Path, pve_version: str, source_name: str = PACK_FILE_NAME
) -> dict[str, int]:
    """Convert one apidoc tree (or ``.json.gz`` file) into ``out_dir/pve-<version>``; returns counts for the CLI.

    The run-time registry builds the same bodies in memory (``template_body``); this writes them as files for
    reading, diffing and the byte-identity test.
    """
    if isinstance(source, Path):
        raw = gzip.decompress(source.read_bytes())
        tree: list[dict[str, Any]] = json.loads(raw)
        source_name = source.name
    else:
        tree = source
        raw = dump_compact(tree).encode("utf-8")
    named = named_property_formats(tree)
    target = out_dir / f"pve-{pve_version}"
    if target.exists():
        shutil.rmtree(target)
    (target / "paths").mkdir(parents=True)
    index_paths: dict[str, Any] = {}
    formats: set[str] = set()
    methods = 0
    for node in iter_paths(tree):
        template = node["path"]
        entry = template_entry(node)
        if "file" in entry:
            body = template_body(node, named)
            _formats_used(body, formats)
            methods += len(body["methods"])
            (target / entry["file"]).write_text(dump_json(body), encoding="utf-8")
        if template in index_paths:
            raise ValueError(f"duplicate path {template} in {source_name}")
        index_paths[template] = entry
    file_names = [template_file_name(t) for t in index_paths]
    if len(set(file_names)) != len(file_names):
        raise ValueError("two templates map to the same file name")
    unknown = unknown_formats(formats, named)
    if unknown:
        raise ValueError(f"{source_name}: no checker for the format(s) {', '.join(unknown)} (see formats.py)")
    index = {
        "pve_version": pve_version,
        "source": {
            "file": source_name,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "pve_docs_commit": _pve_docs_commit(pve_version),
            "license": "AGPL-3.0-or-later, (c) Proxmox Server Solutions GmbH; see third_party/pve-api/SOURCE.md",
        },
        "formats": sorted(formats),
        "paths": index_paths,
    }
    (target / "index.json").write_text(dump_json(index), encoding="utf-8")
    return {"paths": len(index_paths), "methods": methods}


def unknown_formats(formats: set[str], named: dict[str, Any]) -> list[str]:
    """The format names among ``formats`` that no checker (built-in or named property format) covers."""
    return sorted(name for name in formats if not is_known_format(name) and name not in named)


def formats_used(body: Any) -> set[str]:
    """Every ``format``/``x-pve-format`` name used in a converted body."""
    found: set[str] = set()
    _formats_used(body, found)
    return found


def _pve_docs_commit(pve_version: str) -> str:
    from pytest_pvemock.schema.files import release_index

    for release in release_index()["releases"]:
        if release["version"] == pve_version:
            return str(release["commit"])
    return ""


# ---- the deduplicated store of every release's apidoc (third_party/pve-api/pve-api-releases.json.xz) ----------


def _skeleton(nodes: list[dict[str, Any]], bodies: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for node in nodes:
        entry = dict(node)
        if "info" in node:
            refs = {}
            for method, info in node["info"].items():
                key = body_hash(info)
                if bodies.setdefault(key, info) != info:
                    raise ValueError(f"two method bodies share the hash {key}")
                refs[method] = key
            entry["info"] = refs
        if "children" in node:
            entry["children"] = _skeleton(node["children"], bodies)
        out.append(entry)
    return out


def pack_document(trees: dict[str, list[dict[str, Any]]]) -> str:
    """The pack's JSON text for ``{schema file name: apidoc tree}``: each distinct method body stored once."""
    bodies: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for file_name, tree in sorted(trees.items()):
        schemas[file_name] = {
            "sha256": hashlib.sha256(dump_compact(tree).encode("utf-8")).hexdigest(),
            "tree": _skeleton(tree, bodies),
        }
    return dump_compact({"format": 1, "bodies": bodies, "schemas": schemas}) + "\n"


def compress_pack(text: str) -> bytes:
    """xz at the highest preset: the same text gives the same bytes (no time stamp, no file name)."""
    return lzma.compress(text.encode("utf-8"), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                         preset=9 | lzma.PRESET_EXTREME)  # fmt: skip


def read_apidoc_sources(index: dict[str, Any], source_dirs: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """Every schema file INDEX.json names, read from the first of ``source_dirs`` that has it (``.json.gz``)."""
    trees: dict[str, list[dict[str, Any]]] = {}
    for file_name in sorted({release["file"] for release in index["releases"]}):
        for directory in source_dirs:
            path = directory / file_name
            if path.is_file():
                trees[file_name] = json.loads(gzip.decompress(path.read_bytes()))
                break
        else:
            raise FileNotFoundError(f"{file_name} (named in INDEX.json) is in none of {[str(d) for d in source_dirs]}")
    return trees
