"""Extract each storage type's options, content types, formats and secrets from pve-storage's plugins.

``POST /storage`` and ``PUT /storage/{storage}`` check a definition against its plugin: ``options`` names the
properties a type takes (``optional``, ``fixed`` once created), ``plugindata`` the content types it may hold (and
the default when none is given), its formats and its ``sensitive-properties`` (kept in ``/etc/pve/priv``, never
answered); ``Plugin.pm``'s ``@SHARED_STORAGE`` the types that are shared by nature. Each ``*Plugin.pm`` is read at
three commits, one per major release line (the ``stable-7`` and ``stable-8`` branches and ``master`` for 9), and
``third_party/pve-storage/plugins.json`` is written::

    python scripts/extract_storage_plugins.py --git-dir /path/to/pve-storage.git
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent.parent / "third_party" / "pve-storage" / "plugins.json"
BRANCHES = {"7": "stable-7", "8": "stable-8", "9": "master"}
# Plugin.pm's answer for a plugin without 'sensitive-properties' (the list the API hard-coded before).
DEFAULT_SENSITIVE = ["encryption-key", "keyring", "master-pubkey", "password"]
_TOKEN = re.compile(r"""\s*(?:(=>|[{}\[\],])|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_.-]+))""")


def perl_literal(text: str) -> Any:
    """A Perl hash or array literal of plain strings and numbers (``{ a => { fixed => 1 }, 'b-c' => [1] }``)."""
    tokens: list[str] = []
    position = 0
    text = re.sub(r"#[^\n]*", "", text).strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"unexpected Perl at {text[position : position + 40]!r}")
        tokens.append(next(group for group in match.groups() if group is not None))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    value, end = _value(tokens, 0)
    if end != len(tokens):
        raise ValueError(f"trailing Perl after the literal: {tokens[end:][:5]}")
    return value


def _value(tokens: list[str], index: int) -> tuple[Any, int]:
    token = tokens[index]
    if token in ("{", "["):
        closing, items, index = "}" if token == "{" else "]", [], index + 1
        while tokens[index] != closing:
            item, index = _value(tokens, index)
            items.append(item)
            if tokens[index] in (",", "=>"):
                index += 1
        if token == "[":
            return items, index + 1
        return dict(zip(items[::2], items[1::2], strict=True)), index + 1
    return (int(token) if token.isdigit() else token), index + 1


def _sub_body(source: str, name: str) -> str | None:
    match = re.search(rf"^sub {name} \{{\n\s*return (.*?);\n\}}", source, re.MULTILINE | re.DOTALL)
    return match[1] if match else None


def plugin(source: str) -> tuple[str, dict[str, Any]] | None:
    """(type, its definition) of one ``*Plugin.pm``; ``None`` for the base ``Plugin.pm``."""
    type_match = re.search(r"^sub type \{\n\s*return '([a-z0-9]+)';", source, re.MULTILINE)
    options, data = _sub_body(source, "options"), _sub_body(source, "plugindata")
    if not type_match or options is None or data is None:
        return None
    plugindata = perl_literal(data)
    valid, default = plugindata["content"]
    definition: dict[str, Any] = {
        "options": {
            key: {flag: True for flag in ("optional", "fixed") if spec.get(flag)}
            for key, spec in sorted(perl_literal(options).items())
        },
        "content": sorted(valid),
        "default-content": sorted(default),
        "sensitive": sorted(plugindata["sensitive-properties"]) if "sensitive-properties" in plugindata else None,
    }
    if "format" in plugindata:
        formats, default_format = plugindata["format"]
        definition["formats"], definition["default-format"] = sorted(formats), default_format
    if definition["sensitive"] is None:
        definition["sensitive"] = DEFAULT_SENSITIVE
    return type_match[1], definition


def shared_types(source: str) -> set[str]:
    """``Plugin.pm``'s ``@SHARED_STORAGE``: the types ``parse_config`` marks ``shared`` whatever the definition says."""
    match = re.search(r"^our @SHARED_STORAGE = \((.*?)\);", source, re.MULTILINE | re.DOTALL)
    if not match:
        raise ValueError("Plugin.pm: @SHARED_STORAGE not found")
    return set(re.findall(r"'([a-z0-9]+)'", match[1]))


def extract(git_dir: str) -> dict[str, Any]:
    """Release major -> storage type -> definition, with the commit each major was read at."""
    document: dict[str, Any] = {"source": "https://git.proxmox.com/?p=pve-storage.git", "commits": {}, "majors": {}}
    for major, branch in BRANCHES.items():
        commit = _git(git_dir, "rev-parse", branch).strip()
        document["commits"][major] = f"{branch} {commit}"
        shared = shared_types(_git(git_dir, "show", f"{commit}:src/PVE/Storage/Plugin.pm"))
        types: dict[str, Any] = {}
        for path in _git(git_dir, "ls-tree", "--name-only", commit, "src/PVE/Storage/").split():
            if path.endswith("Plugin.pm"):
                found = plugin(_git(git_dir, "show", f"{commit}:{path}"))
                if found:
                    types[found[0]] = {**found[1], "shared": found[0] in shared}
        document["majors"][major] = dict(sorted(types.items()))
    return document


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--git-dir", required=True, help="a pve-storage repository (bare or not)")
    args = parser.parse_args()
    git_dir = (
        args.git_dir if args.git_dir.endswith(".git") or Path(args.git_dir, "HEAD").exists() else f"{args.git_dir}/.git"
    )
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(extract(git_dir), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
