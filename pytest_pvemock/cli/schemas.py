"""``pvemock schemas pack|build|check|diff``: store PVE's schemas, write a release's JSON Schemas, check, compare.

``diff A B`` prints what changed in the API from release A to release B (``schema/release_diff.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pytest_pvemock import json_nesting

__all__ = ["add_arguments", "run"]

_REPO_ROOT = Path(__file__).resolve().parents[2]
_VERSION_HELP = "a release (8.2.5), a minor (8.2: its last release), a major (8: its newest) or latest"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="schemas_command", metavar="SUBCOMMAND", required=True)
    pack = sub.add_parser(
        "pack",
        help="store every schema INDEX.json names, deduplicated, in third_party/pve-api/pve-api-releases.json.xz",
    )
    pack.add_argument(
        "sources", nargs="+", type=Path, help="directories holding the pve-apidoc-<release>.json.gz files"
    )
    pack.add_argument(
        "--out", type=Path, default=_REPO_ROOT / "third_party" / "pve-api", help="directory with INDEX.json"
    )
    build = sub.add_parser("build", help="write a release's JSON Schemas into <out>/pve-<release>/ (for reading)")
    build.add_argument("--pve-version", default="latest", help=_VERSION_HELP + "; 'all' for every stored schema")
    build.add_argument("--source", type=Path, help="an apidoc .json.gz instead of the stored schema of the release")
    build.add_argument("--out", type=Path, default=Path("schemas"), help="output directory (default: schemas/)")
    check = sub.add_parser("check", help="validate a saved answer (JSON file, '-' for stdin) against its endpoint")
    check.add_argument("method")
    check.add_argument("path", help="concrete API path, e.g. /nodes/pve1/qemu/100/status/current")
    check.add_argument("file")
    check.add_argument("--pve-version", default="latest", help=_VERSION_HELP)
    diff = sub.add_parser(
        "diff", help="what changed in the API from release A to release B (methods, parameters, returns)"
    )
    diff.add_argument("old", metavar="A", help=_VERSION_HELP)
    diff.add_argument("new", metavar="B", help=_VERSION_HELP)
    diff.add_argument("--format", default="text", choices=("text", "json"), help="output format (default text)")


def run(args: argparse.Namespace) -> int:
    """Run one ``pvemock schemas`` subcommand; the exit status."""
    from pytest_pvemock.schema.registry import UnknownRelease

    try:
        if args.schemas_command == "pack":
            return _pack(args)
        if args.schemas_command == "build":
            return _build(args)
        if args.schemas_command == "diff":
            return _diff(args)
        return _check(args)
    except UnknownRelease as error:
        print(f"pvemock schemas {args.schemas_command}: {error}", file=sys.stderr)
        return 2


def _pack(args: argparse.Namespace) -> int:
    from pytest_pvemock.schema.build import compress_pack, pack_document, read_apidoc_sources
    from pytest_pvemock.schema.files import PACK_FILE_NAME

    index = json.loads((args.out / "INDEX.json").read_text(encoding="utf-8"))
    try:
        trees = read_apidoc_sources(index, args.sources)
    except FileNotFoundError as error:
        print(f"pvemock schemas pack: {error}", file=sys.stderr)
        return 2
    packed = compress_pack(pack_document(trees))
    (args.out / PACK_FILE_NAME).write_bytes(packed)
    releases = len(index["releases"])
    print(f"{len(trees)} schemas of {releases} releases -> {args.out / PACK_FILE_NAME} ({len(packed)} bytes)")
    return 0


def _build(args: argparse.Namespace) -> int:
    from pytest_pvemock.schema.build import build_version
    from pytest_pvemock.schema.files import apidoc_tree, release_index
    from pytest_pvemock.schema.registry import resolve_release

    if args.source is not None:
        if args.pve_version in ("all", "latest"):
            print("pvemock schemas build: --source needs one --pve-version naming it", file=sys.stderr)
            return 2
        if not args.source.is_file():
            print(f"pvemock schemas build: no such file: {args.source}", file=sys.stderr)
            return 2
        counts = build_version(args.source, args.out, args.pve_version)
        print(f"PVE {args.pve_version}: {counts['paths']} paths, {counts['methods']} methods")
        return 0
    if args.pve_version == "all":
        firsts: dict[str, str] = {}
        for entry in release_index()["releases"]:
            firsts.setdefault(entry["file"], entry["version"])
        versions = sorted(firsts.values(), key=lambda v: resolve_release(v).key)
    else:
        versions = [resolve_release(args.pve_version).version]
    for version in versions:
        release = resolve_release(version)
        counts = build_version(apidoc_tree(release.file), args.out, release.version, release.file)
        target = args.out / f"pve-{release.version}"
        print(f"PVE {release.version}: {counts['paths']} paths, {counts['methods']} methods -> {target}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from pytest_pvemock.schema.release_diff import diff_releases, format_text

    diff = diff_releases(args.old, args.new)
    if args.format == "json":
        print(json.dumps(diff.as_json(), indent=1, sort_keys=True))
    else:
        print(format_text(diff))
    return 0


def _check(args: argparse.Namespace) -> int:
    from pytest_pvemock.schema.validation import SchemaValidationError, validate_response

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        body = json_nesting.loads(text)
    except OSError as error:
        print(f"pvemock schemas check: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    except json_nesting.NestingError as error:
        line = text.count("\n", 0, error.offset) + 1
        print(f"pvemock schemas check: {args.file}:{line}: not JSON PVE would send: {error}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as error:
        print(
            f"pvemock schemas check: {args.file}:{error.lineno}:{error.colno}: not JSON: {error.msg}", file=sys.stderr
        )
        return 2
    from pytest_pvemock.schema.registry import resolve_release

    version = resolve_release(args.pve_version).version
    try:
        validate_response(args.method, args.path, body, pve_version=version)
    except SchemaValidationError as error:
        print(error)
        return 1
    print(f"OK: {args.method.upper()} {args.path} matches the PVE {version} schema")
    return 0
