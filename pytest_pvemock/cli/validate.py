"""``pvemock validate PATH... [--pve-version V] [--junit-xml FILE]``: check recorded answers against PVE's schemas.

Exit status 0 when every answer matches its endpoint's schema, 1 on any violation or unreadable cassette, 2 when no
cassette was found.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from pytest_pvemock.cassette.validation import (
    CassetteReport,
    cassette_paths,
    format_report,
    validate_cassette,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="cassette files, or folders to search for them")
    parser.add_argument(
        "--pve-version",
        default=None,
        help="the PVE release to check against (8.2.5, a minor, a major or latest): the answers and requests that "
        "would no longer hold on it (default: the release each cassette recorded in GET /version, else latest)",
    )
    parser.add_argument("--junit-xml", metavar="FILE", help="also write the results as JUnit XML, for CI systems")


def junit_xml(reports: Sequence[CassetteReport]) -> str:
    """One test suite per cassette, one test case per endpoint (a failure lists its violations)."""
    suites = ET.Element("testsuites", name="pvemock validate")
    for report in reports:
        suite = ET.SubElement(suites, "testsuite", name=str(report.path))
        cases = 0
        failures = errors = 0
        if report.error:
            case = ET.SubElement(suite, "testcase", classname=str(report.path), name="read cassette")
            ET.SubElement(case, "error", message=report.error).text = report.error
            cases, errors = 1, 1
        else:
            grouped = report.violations_by_endpoint()
            for endpoint, count in sorted(report.checked.items()):
                case = ET.SubElement(suite, "testcase", classname=str(report.path), name=endpoint)
                ET.SubElement(case, "properties").append(ET.Element("property", name="answers", value=str(count)))
                cases += 1
                violations = grouped.get(endpoint, [])
                if violations:
                    failures += 1
                    message = f"{len(violations)} schema violation(s) against {report.version_note}"
                    failure = ET.SubElement(case, "failure", message=message, type="SchemaViolation")
                    failure.text = "\n".join(violation.describe() for violation in violations)
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def run(args: argparse.Namespace) -> int:
    paths = cassette_paths(args.paths)
    if not paths:
        print("pvemock validate: no cassette found in " + ", ".join(args.paths), file=sys.stderr)
        return 2
    from pytest_pvemock.schema.registry import UnknownRelease

    try:
        reports = [validate_cassette(path, against=args.pve_version) for path in paths]
    except UnknownRelease as error:
        print(f"pvemock validate: {error}", file=sys.stderr)
        return 2
    for report in reports:
        print(format_report(report))
    bad = [report for report in reports if not report.ok]
    violations = sum(len(report.violations) for report in reports)
    print(
        f"\n{len(reports)} cassette(s), {sum(sum(r.checked.values()) for r in reports)} answer(s) checked, "
        f"{violations} violation(s), {sum(1 for r in reports if r.error)} unreadable"
    )
    if args.junit_xml:
        Path(args.junit_xml).write_text(junit_xml(reports), encoding="utf-8")
    return 1 if bad else 0
