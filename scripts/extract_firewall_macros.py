"""Extract the firewall macros (name and description) from pve-firewall's ``src/PVE/Firewall.pm``.

``GET /cluster/firewall/macros`` answers ``PVE::Firewall::get_macros()``: every key of ``$pve_fw_macros`` and the
keys of ``$pve_ipv6fw_macros`` not already there, each with its first plain string (other than ``ipv4only`` /
``ipv6only``) as ``descr``, or its own name when it has none (``init_firewall_macros``). Run it on a checkout of
pve-firewall, or on a bare repository with ``--git-dir``; it writes ``third_party/pve-firewall/macros.json``::

    python scripts/extract_firewall_macros.py --git-dir /path/to/pve-firewall.git
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

FILE = "src/PVE/Firewall.pm"
OUTPUT = Path(__file__).resolve().parent.parent / "third_party" / "pve-firewall" / "macros.json"
_ENTRY = re.compile(r"^    '(?P<name>[A-Za-z0-9_-]+)' => \[(?P<body>.*?)^    \],?$", re.MULTILINE | re.DOTALL)
_COMMENTS = re.compile(r"^\s*#.*$", re.MULTILINE)
_STRING = re.compile(r"""^\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'),?""")


def _hash_body(source: str, variable: str) -> str:
    start = source.index(f"my ${variable} = {{\n")
    end = source.index("\n};\n", start)
    return source[start:end]


def _macros(body: str) -> dict[str, str | None]:
    macros: dict[str, str | None] = {}
    for entry in _ENTRY.finditer(body):
        rest, description = _COMMENTS.sub("", entry["body"]).lstrip(), None
        while match := _STRING.match(rest):
            text = match[1] if match[1] is not None else match[2]
            if text not in ("ipv4only", "ipv6only"):
                description = text
            rest = rest[match.end() :].lstrip()
        if not rest.startswith("{"):
            raise ValueError(f"macro {entry['name']}: expected a rule after its strings, got {rest[:40]!r}")
        macros[entry["name"]] = description
    return macros


def extract(source: str) -> dict[str, str]:
    """Macro name -> the ``descr`` PVE answers for it."""
    parsed = _macros(_hash_body(source, "pve_fw_macros"))
    for name, description in _macros(_hash_body(source, "pve_ipv6fw_macros")).items():
        parsed.setdefault(name, description)
    return {name: description or name for name, description in sorted(parsed.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--git-dir", help="a pve-firewall repository (bare or not); read at --commit")
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--file", help="a Firewall.pm to read instead")
    args = parser.parse_args()
    if args.file:
        source, commit = Path(args.file).read_text(encoding="utf-8"), "unknown"
    else:
        git = ["git", f"--git-dir={args.git_dir}"] if args.git_dir else ["git"]
        commit = subprocess.run([*git, "rev-parse", args.commit], check=True, capture_output=True, text=True)
        commit = commit.stdout.strip()
        source = subprocess.run([*git, "show", f"{commit}:{FILE}"], check=True, capture_output=True, text=True).stdout
    macros = extract(source)
    document = {"source": f"pve-firewall {FILE} @{commit}", "macros": macros}
    OUTPUT.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(macros)} macros -> {OUTPUT}")


if __name__ == "__main__":
    main()
