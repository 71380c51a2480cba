"""``pvemock realism [--scenario NAME]... [--pve-version V]... [--verbose]``: count the GET answers a real PVE would
never send (placeholder words, empty objects in lists, ids the cluster does not have, times off its clock, errors PVE
would not answer for that cluster).

Prints one line per method with a problem (how many of its answers, and the first problem), then the methods no
scenario could judge on objects it has (no backup job, no snapshot ... to ask about), then the totals.
Exit status 0 when no answer has a problem, 1 otherwise.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from pytest_pvemock.api.realism_check import SCENARIOS, VERSIONS, measure


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", action="append", help=f"built-in scenario (repeatable; default {SCENARIOS})")
    parser.add_argument("--pve-version", action="append", help=f"PVE version (repeatable; default {VERSIONS})")
    parser.add_argument("--verbose", action="store_true", help="print every problem, not only the first")


def run(args: argparse.Namespace) -> int:
    results = measure(tuple(args.scenario or SCENARIOS), tuple(args.pve_version or VERSIONS))
    by_method: dict[str, list[list[str]]] = defaultdict(list)
    judged_in: dict[str, set[str]] = defaultdict(set)
    asked: dict[str, set[str]] = defaultdict(set)
    for _scenario, version, answer in results:
        asked[answer.template].add(version)
        if answer.judged:
            judged_in[answer.template].add(version)
        if answer.problems:
            by_method[answer.template].append(answer.problems)
    for template in sorted(by_method):
        found = by_method[template]
        shown = [problem for problems in found for problem in problems] if args.verbose else found[0][:1]
        print(f"GET {template}: {len(found)} answer(s); {'; '.join(shown)}")
    never = sorted(template for template, versions in asked.items() if versions - judged_in[template])
    for template in never:
        missing = ", ".join(sorted(asked[template] - judged_in[template]))
        print(f"GET {template}: not judged (no scenario holds the objects it names; {missing})")
    bad = sum(len(found) for found in by_method.values())
    judged = sum(1 for _scenario, _version, answer in results if answer.judged)
    print(
        f"{bad} of {len(results)} GET answers hold a problem ({len(by_method)} methods); {judged} judged on objects "
        f"the cluster has; {len(never)} methods never judged"
    )
    return 1 if bad or never else 0
