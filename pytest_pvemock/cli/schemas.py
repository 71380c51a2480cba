"""``pvemock schemas build|check``: generate the JSON Schemas, or check one saved answer against them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_arguments", "run"]

_REPO_ROOT = Path(__file__).resolve().parents[2]
_VERSIONS = ("9.1", "8.4")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="schemas_command", metavar="SUBCOMMAND", required=True)
    build = sub.add_parser("build", help="convert PVE's apidoc JSON into schemas/pve-<version>/")
    build.add_argument("--pve-version", default="all", choices=(*_VERSIONS, "all"))
    build.add_argument(
        "--source", type=Path, help="apidoc .json.gz (default: third_party/pve-api/pve-apidoc-V.json.gz)"
    )
    build.add_argument("--out", type=Path, default=Path("schemas"), help="output directory (default: schemas/)")
    check = sub.add_parser("check", help="validate a saved answer (JSON file, '-' for stdin) against its endpoint")
    check.add_argument("method")
    check.add_argument("path", help="concrete API path, e.g. /nodes/pve1/qemu/100/status/current")
    check.add_argument("file")
    check.add_argument("--pve-version", default="9.1", choices=_VERSIONS)


def run(args: argparse.Namespace) -> int:
    if args.schemas_command == "build":
        return _build(args)
    return _check(args)


def _build(args: argparse.Namespace) -> int:
    from pytest_pvemock.schema.build import build_version, default_source

    versions = _VERSIONS if args.pve_version == "all" else (args.pve_version,)
    if args.source is not None and len(versions) > 1:
        print("pvemock schemas build: --source needs one --pve-version", file=sys.stderr)
        return 2
    for version in versions:
        source = args.source or default_source(_REPO_ROOT, version)
        if not source.is_file():
            print(f"pvemock schemas build: no such file: {source}", file=sys.stderr)
            return 2
        counts = build_version(source, args.out, version)
        print(f"PVE {version}: {counts['paths']} paths, {counts['methods']} methods -> {args.out / ('pve-' + version)}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from pytest_pvemock.schema.validation import SchemaValidationError, validate_response

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        body = json.loads(text)
    except OSError as error:
        print(f"pvemock schemas check: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as error:
        print(
            f"pvemock schemas check: {args.file}:{error.lineno}:{error.colno}: not JSON: {error.msg}", file=sys.stderr
        )
        return 2
    try:
        validate_response(args.method, args.path, body, pve_version=args.pve_version)
    except SchemaValidationError as error:
        print(error)
        return 1
    print(f"OK: {args.method.upper()} {args.path} matches the PVE {args.pve_version} schema")
    return 0
