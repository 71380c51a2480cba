"""The ``pvemock`` command. Each subcommand lives in its own module and is imported only when it runs.

A subcommand module defines ``add_arguments(parser: argparse.ArgumentParser) -> None`` and
``run(args: argparse.Namespace) -> int``; register it in :data:`COMMANDS` with a one-line summary.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

COMMANDS: dict[str, tuple[str, str]] = {
    # name: (module, one-line help)
    "demo": ("pytest_pvemock.cli.demo", "run a built-in cluster through a real proxmoxer client and show what happens"),
    "ha-sim": ("pytest_pvemock.cli.ha_sim", "run a pve-ha-manager regression case and print its log"),
    "serve": ("pytest_pvemock.cli.serve", "serve a fake cluster over HTTPS for clients in any language"),
    "ctl": ("pytest_pvemock.cli.ctl", "drive a running pvemock serve through its control API (for shell scripts)"),
    "watch": ("pytest_pvemock.cli.watch", "watch a running pvemock serve live: clock, nodes, guests, churn events"),
    "routes": ("pytest_pvemock.cli.routes", "say who answers each method of a PVE release (endpoint, collection, ...)"),
    "schemas": ("pytest_pvemock.cli.schemas", "build the JSON Schemas from PVE's API schema, or check an answer"),
    "realism": ("pytest_pvemock.cli.realism", "count the GET answers a real PVE would never send, per method"),
    "validate": ("pytest_pvemock.cli.validate", "check the answers recorded in cassettes against PVE's schemas"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pvemock", description="A fake Proxmox VE cluster for tests.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, summary) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=summary, description=summary)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args))
    except BrokenPipeError:  # `pvemock routes | head`: the reader left; no traceback for that
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
