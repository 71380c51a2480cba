"""``pvemock routes [--pve-version V] [--format text|json] [--explain 'METHOD PATH'] [--summary]``: who answers.

One line per documented method of the release: the method, its schema template, the kind of route (``endpoint``,
``collection``, ``index``, ``task``, ``synthesised``) and the function or collection that answers it; then how many
methods each kind answers. ``--explain`` answers for one request instead; ``--summary`` prints the counts of every
release as the Markdown table of the README.
"""

from __future__ import annotations

import argparse
import json
import sys

from pytest_pvemock.api.router import KINDS, RouteTable, route_table
from pytest_pvemock.cli.tables import table

# The releases the README's table shows (any release may be given to --pve-version).
README_VERSIONS = ("9.1", "8.4")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pve-version", default="9.1", help="PVE release: 8.2.5, a minor (its last release), a major or latest"
    )
    parser.add_argument("--format", default="text", choices=("text", "json"), help="output format (default text)")
    parser.add_argument(
        "--summary", action="store_true", help="print the README's Markdown table of counts for every release"
    )
    parser.add_argument(
        "--explain", metavar="'METHOD PATH'", help="who answers one request, e.g. 'GET /nodes/pve1/status'"
    )


def summary(routes: RouteTable) -> dict[str, int]:
    """How many methods each kind of route answers, and the total."""
    return {**routes.counts(), "total": len(routes)}


def summary_table(versions: tuple[str, ...] = README_VERSIONS) -> str:
    """The Markdown table of the README: per release, how many methods each kind of route answers."""
    kinds = [kind for kind in KINDS if kind != "override"]
    lines = ["| PVE | " + " | ".join(kinds) + " | total |", "|---" * (len(kinds) + 2) + "|"]
    for version in versions:
        counts = summary(route_table(version))
        lines.append(f"| {version} | " + " | ".join(str(counts[kind]) for kind in [*kinds, "total"]) + " |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from pytest_pvemock.schema.registry import UnknownRelease

    try:
        routes = route_table(args.pve_version)
    except UnknownRelease as error:
        print(f"pvemock routes: {error}", file=sys.stderr)
        return 2
    if args.summary:
        print(summary_table())
        return 0
    if args.explain:
        method, _, path = str(args.explain).strip().partition(" ")
        if not path.strip():
            print("--explain takes a method and a path: 'GET /nodes/pve1/status'", file=sys.stderr)
            return 2
        print(routes.explain(method, path.strip()))
        return 0
    if args.format == "json":
        rows = [
            {"method": route.method, "path": route.template, "kind": route.kind, "answered_by": route.source}
            for route in routes
        ]
        json.dump({"pve_version": args.pve_version, "routes": rows, "counts": summary(routes)}, sys.stdout, indent=1)
        print()
        return 0
    print(table(["method", "path", "kind", "answered by"], [[r.method, r.template, r.kind, r.source] for r in routes]))
    counts = summary(routes)
    print()
    print(f"PVE {args.pve_version}: " + ", ".join(f"{counts[kind]} {kind}" for kind in counts))
    return 0
