"""``pvemock schemas build``: Proxmox's apidoc JSON -> ``schemas/pve-<version>/`` (see schemas/README.md).

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
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_pvemock.schema.convert import convert_method_schema
from pytest_pvemock.schema.formats import is_known_format
from pytest_pvemock.schema.named_property_formats import named_property_formats

__all__ = ["PVE_DOCS_COMMITS", "build_version", "default_source", "dump_json", "iter_paths", "template_file_name"]

PVE_DOCS_COMMITS = {
    "9.1": "02bfb50d25ece6fd1e4fb3262d50769c8f836b49",
    "8.4": "ae1bf37ed06b2fab39c9fa28a0e6c18e6435b7de",
}
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_METHOD_METADATA = ("name", "description", "permissions", "protected", "proxyto", "allowtoken", "download_allowed",
                    "expose_credentials")  # fmt: skip


def default_source(repo_root: Path, pve_version: str) -> Path:
    return repo_root / "third_party" / "pve-api" / f"pve-apidoc-{pve_version}.json.gz"


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


def build_version(source: Path, out_dir: Path, pve_version: str) -> dict[str, int]:
    """Convert one apidoc file into ``out_dir/pve-<version>``; returns counts for the CLI to print."""
    raw = gzip.decompress(source.read_bytes())
    tree = json.loads(raw)
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
        info = node.get("info") or {}
        file_name = template_file_name(template)
        entry: dict[str, Any] = {
            "children": sorted(child["path"] for child in node.get("children") or []),
            "methods": sorted(info),
        }
        if info:
            entry["file"] = file_name
            body = {"path": template, "methods": {}}
            for method, method_info in sorted(info.items()):
                converted = convert_method_schema(template, method_info, named)
                for part in converted.values():
                    part["$schema"] = SCHEMA_DIALECT
                    _formats_used(part, formats)
                meta = {key: method_info[key] for key in _METHOD_METADATA if key in method_info}
                body["methods"][method] = {**meta, **converted}
                methods += 1
            (target / file_name).write_text(dump_json(body), encoding="utf-8")
        if template in index_paths:
            raise ValueError(f"duplicate path {template} in {source}")
        index_paths[template] = entry
    file_names = [template_file_name(t) for t in index_paths]
    if len(set(file_names)) != len(file_names):
        raise ValueError("two templates map to the same file name")
    unknown = sorted(name for name in formats if not is_known_format(name) and name not in named)
    if unknown:
        raise ValueError(f"{source}: no checker for the format(s) {', '.join(unknown)} (see formats.py)")
    index = {
        "pve_version": pve_version,
        "source": {
            "file": source.name,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "pve_docs_commit": PVE_DOCS_COMMITS.get(pve_version, ""),
            "license": "AGPL-3.0-or-later, (c) Proxmox Server Solutions GmbH; see ../LICENSE.md",
        },
        "formats": sorted(formats),
        "paths": index_paths,
    }
    (target / "index.json").write_text(dump_json(index), encoding="utf-8")
    return {"paths": len(index_paths), "methods": methods}
