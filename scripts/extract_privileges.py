"""Extract PVE's privileges and their groups per major release from pve-access-control's ``AccessControl.pm``.

``$privgroups`` names, per category (VM, Sys, Datastore, SDN, User, Pool, Mapping), the privileges of its root,
admin, user and audit level; ``create_roles`` derives the built-in roles from it, and ``$valid_privs`` adds the
privileges no group holds. They differ per release line (7.x has no Mapping or Sys.AccessNetwork, 9.x drops
VM.Monitor for the VM.GuestAgent privileges), so ``AccessControl.pm`` is read at three commits (the ``stable-7``
and ``stable-bookworm`` branches and ``master`` for 9) and ``third_party/pve-access-control/privileges.json`` is
written::

    python scripts/extract_privileges.py --git-dir /path/to/pve-access-control.git
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path
from typing import Any

from extract_storage_plugins import perl_literal

OUTPUT = Path(__file__).resolve().parent.parent / "third_party" / "pve-access-control" / "privileges.json"
BRANCHES = {"7": "stable-7", "8": "stable-bookworm", "9": "master"}
PATH = "src/PVE/AccessControl.pm"


def privileges_of(source: str) -> dict[str, Any]:
    """``$privgroups`` (category -> level -> privileges, in the file's order) and the privileges ``$valid_privs``
    lists outside every group."""
    groups = re.search(r"^my \$privgroups = (\{.*?^\});", source, re.MULTILINE | re.DOTALL)
    if groups is None:
        raise ValueError("no $privgroups in AccessControl.pm")
    valid = re.search(r"^my \$valid_privs = (\{.*?\});", source, re.MULTILINE | re.DOTALL)
    extra = sorted(perl_literal(valid[1])) if valid is not None else []
    return {"groups": perl_literal(groups[1]), "ungrouped": extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--git-dir", required=True, help="a clone of pve-access-control (bare is fine)")
    args = parser.parse_args()
    result: dict[str, Any] = {"commits": {}, "majors": {}}
    for major, branch in BRANCHES.items():
        commit = subprocess.run(["git", "--git-dir", args.git_dir, "rev-parse", branch], capture_output=True,
                                text=True, check=True).stdout.strip()  # fmt: skip
        source = subprocess.run(["git", "--git-dir", args.git_dir, "show", f"{commit}:{PATH}"], capture_output=True,
                                text=True, check=True).stdout  # fmt: skip
        result["commits"][major] = commit
        result["majors"][major] = privileges_of(source)
    OUTPUT.write_text(json.dumps(result, indent=1, sort_keys=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
