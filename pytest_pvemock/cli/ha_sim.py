"""``pvemock ha-sim CASE_DIR``: run a pve-ha-manager regression case and print its log."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("case_dir", metavar="CASE_DIR", help="a case directory (cmdlist, hardware_status, ...)")


def run(args: argparse.Namespace) -> int:
    from pytest_pvemock.model.ha.case_files import CaseFileError
    from pytest_pvemock.model.ha.simulator import SimulationError, simulate_case

    try:
        lines = simulate_case(args.case_dir)
    except CaseFileError as err:
        print(f"pvemock ha-sim: {err}", file=sys.stderr)
        return 2
    except SimulationError as err:
        print(f"pvemock ha-sim: {args.case_dir}/cmdlist: {err}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0
