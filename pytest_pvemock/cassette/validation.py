"""Check every recorded answer of a cassette against the schema of its endpoint and PVE version.

The version comes from the cassette's own ``GET /version`` answer when it has one, else from the caller (default
latest). It is resolved to a release (``resolve_release``: a minor is its last release), and the report says which
release's schema was used. Answers that are errors (HTTP status >= 400) or not JSON are not checked; paths the
schema does not know are reported as such.

Used by ``pvemock validate`` and by the pytest option ``--pvemock-validate-cassettes``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_pvemock.cassette.answers import RecordedAnswer, read_answers, recorded_pve_version
from pytest_pvemock.cassette.file_format import CassetteFormatError

DEFAULT_PVE_VERSION = "latest"


@dataclass(frozen=True)
class Violation:
    """One place where a recorded answer departs from its endpoint's schema."""

    answer: RecordedAnswer
    endpoint: str  # "GET /nodes/{node}/qemu"
    pointer: str  # JSON pointer into the answer's data, "/0/vmid"
    expected: str
    actual: str

    def describe(self) -> str:
        return (
            f"{self.pointer}: expected {self.expected}; actual {self.actual}  ({self.answer.path}, {self.answer.where})"
        )


@dataclass
class CassetteReport:
    """What checking one cassette found. ``error`` is set when the file could not be read at all."""

    path: Path
    pve_version: str = DEFAULT_PVE_VERSION
    version_note: str = ""
    checked: dict[str, int] = field(default_factory=dict)  # endpoint -> answers checked
    violations: list[Violation] = field(default_factory=list)
    unknown: list[RecordedAnswer] = field(default_factory=list)
    #: Recorded requests the release checked against would refuse: (answer, why). Filled by ``against=``.
    requests: list[tuple[RecordedAnswer, str]] = field(default_factory=list)
    skipped: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.violations and not self.requests

    def violations_by_endpoint(self) -> dict[str, list[Violation]]:
        grouped: dict[str, list[Violation]] = {}
        for violation in self.violations:
            grouped.setdefault(violation.endpoint, []).append(violation)
        return grouped


def supported_versions() -> tuple[str, ...]:
    """Every release with a schema, oldest first."""
    from pytest_pvemock.schema.registry import known_releases

    return tuple(release.version for release in known_releases())


def schema_version_for(recorded: str) -> str:
    """The release whose schema a recording of ``recorded`` is checked against (``resolve_release``; a version
    that names no release, such as a newer one, gets the nearest older release, else the oldest)."""
    from pytest_pvemock.schema.registry import UnknownRelease, known_releases, resolve_release

    try:
        return resolve_release(recorded).version
    except UnknownRelease:
        pass
    wanted = tuple(int(part) for part in re.findall(r"\d+", recorded)[:3])
    releases = known_releases()
    older = [release for release in releases if release.key[: len(wanted)] <= wanted]
    return (older[-1] if older else releases[0]).version


_PROBLEM = re.compile(r"^(?P<pointer>.*?): expected (?P<expected>.*?)(?:; actual:? |, got )(?P<actual>.*)$", re.DOTALL)


def split_problem(problem: str) -> tuple[str, str, str]:
    """``"/0/vmid: expected integer; actual '103'"`` (the schema layer's line) -> pointer, expected, actual."""
    match = _PROBLEM.match(problem)
    if not match:
        return "/", problem, ""
    return match["pointer"] or "/", match["expected"], match["actual"]


def _answer_data(answer: RecordedAnswer) -> Any:
    document = answer.document
    return document["data"] if isinstance(document, dict) and "data" in document else document


def check_answers(answers: Iterable[RecordedAnswer], report: CassetteReport) -> CassetteReport:
    from pytest_pvemock.schema.registry import get_registry

    registry = get_registry(report.pve_version)
    for answer in answers:
        if answer.status >= 400 or answer.document is None:
            report.skipped += 1
            continue
        endpoint = registry.resolve(answer.method, answer.path)
        if endpoint is None:
            report.unknown.append(answer)
            continue
        name = f"{endpoint.method} {endpoint.template}"
        report.checked[name] = report.checked.get(name, 0) + 1
        for problem in endpoint.validate_returns(_answer_data(answer)):
            pointer, expected, actual = split_problem(problem)
            report.violations.append(Violation(answer, name, pointer, expected, actual))
    return report


def validate_cassette(path: str | Path, pve_version: str | None = None, against: str | None = None) -> CassetteReport:
    """Check the cassette at ``path``; ``pve_version`` is used when the cassette recorded no ``/version``.

    ``against`` checks it against that release instead of the recorded one (``pvemock validate --pve-version``):
    the answers against its schema, and the requests against its methods and parameters, which says what would no
    longer hold after an upgrade (or a downgrade).
    """
    cassette = Path(path)
    report = CassetteReport(cassette)
    try:
        answers = read_answers(cassette)
    except CassetteFormatError as error:
        report.error = str(error)
        return report
    except OSError as error:
        report.error = f"{cassette}: cannot be read: {error.strerror or error}"
        return report
    recorded = recorded_pve_version(answers)
    if against is not None:
        from pytest_pvemock.schema.registry import resolve_release

        report.pve_version = resolve_release(against).version
        report.version_note = f"PVE {report.pve_version} (--pve-version"
        report.version_note += f"; recorded on {recorded})" if recorded else "; no /version recorded)"
        check_requests(answers, report)
        return check_answers(answers, report)
    wanted = recorded or pve_version or DEFAULT_PVE_VERSION
    report.pve_version = schema_version_for(wanted)
    source = "recorded /version" if recorded else "--pve-version" if pve_version else "default"
    report.version_note = f"PVE {wanted} ({source})"
    if report.pve_version != wanted:
        report.version_note += f", checked against the {report.pve_version} schema"
    return check_answers(answers, report)


def check_requests(answers: Iterable[RecordedAnswer], report: CassetteReport) -> CassetteReport:
    """The recorded requests the release ``report.pve_version`` would refuse: a method it does not have (PVE's
    501), or, for GET and DELETE (whose parameters the cassette holds in the URL), parameters it rejects (400).
    POST and PUT bodies are not kept by the reader, so only their method and path are checked."""
    from pytest_pvemock.errors import ParameterError
    from pytest_pvemock.schema.registry import get_registry

    registry = get_registry(report.pve_version)
    for answer in answers:
        if answer.status >= 400:
            continue  # it failed when recorded too
        endpoint = registry.resolve(answer.method, answer.path)
        if endpoint is None:
            report.requests.append((answer, f"PVE {report.pve_version} has no {answer.method} {answer.path}: 501"))
            continue
        if answer.method not in ("GET", "DELETE"):
            continue
        try:
            endpoint.check_parameters({**dict(answer.query), **endpoint.params})
        except ParameterError as error:
            problems = "; ".join(f"{name}: {text}" for name, text in sorted((error.errors or {}).items()))
            report.requests.append((answer, f"{answer.method} {answer.path}: 400 {problems}"))
    return report


def cassette_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the ``.yaml``/``.yml``/``.json`` cassettes under folders named, in a stable order."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.suffix.lower() in (".yaml", ".yml", ".json") and p.is_file())
            )
        else:
            found.append(path)
    return found


def format_report(report: CassetteReport) -> str:
    """A human-readable report: per endpoint, the JSON pointer, what the schema expects and what was recorded."""
    if report.error:
        return f"ERROR {report.error}"
    total = sum(report.checked.values())
    status = "ok" if report.ok else f"{len(report.violations) + len(report.requests)} violation(s)"
    lines = [f"{report.path}: {status}; {total} answer(s) checked against {report.version_note}"]
    for endpoint, violations in report.violations_by_endpoint().items():
        lines.append(f"  {endpoint}: {len(violations)} violation(s) in {report.checked.get(endpoint, 0)} answer(s)")
        lines.extend(f"    {violation.describe()}" for violation in violations)
    for answer, why in report.requests:
        lines.append(f"  request would no longer hold: {why}  ({answer.where})")
    for answer in report.unknown:
        lines.append(
            f"  note: {answer.method} {answer.path} is not in the PVE {report.pve_version} schema ({answer.where})"
        )
    return "\n".join(lines)
