"""pve-ha-manager's own regression cases, run on our HA stack and compared with their ``log.expect``.

Only the lines that record state changes are compared (``service '...': state changed from ...`` and
``node '...': state changed from ...``): once in order without times, once in order with times.
Both match rates, overall and per family, are printed in the terminal summary.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from pathlib import Path

import pytest

from pytest_pvemock.model.ha.simulator import simulate_case

CASES_DIR = Path(__file__).resolve().parent.parent / "third_party" / "pve-ha-manager" / "cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "log.expect").exists())

FAMILIES = (
    "basic",
    "service-command",
    "resource-failure",
    "recovery",
    "service-ignore",
    "service-stopped",
    "stop-command",
    "reboot",
    "shutdown-policy",
    "shutdown",
    "crm-maintenance-request",
    "node-affinity",
    "erroneous-service",
    "locked-service",
    "crs",
    "disarm",
    "resource-affinity",
    "group-migrate",
)

#: Cases whose state-change lines do not match yet, with the reason. Shared by both comparisons unless listed
#: in TIMES_ONLY below.
NOT_MATCHED: dict[str, str] = {}

#: Cases that match in order but not with their times.
TIMES_ONLY: dict[str, str] = {}

_STATE_CHANGE = re.compile(r"^\S+\s+(\d+)\s+\S+: ((?:service|node) '[^']*': state changed from .*)$")

_results: dict[str, dict[str, bool]] = {"order": {}, "times": {}}


def family_of(case: str) -> str:
    """``test-shutdown-policy2`` -> ``shutdown-policy`` (longer family names are listed first)."""
    name = case.removeprefix("test-")
    for family in FAMILIES:
        if re.fullmatch(re.escape(family) + r"(\d+|-.*)", name):
            return family
    return re.sub(r"\d+$", "", name)


def state_changes(lines: list[str], with_times: bool) -> list[str]:
    changes = []
    for line in lines:
        match = _STATE_CHANGE.match(line)
        if match:
            changes.append(f"{match.group(1)} {match.group(2)}" if with_times else match.group(2))
    return changes


@functools.cache
def simulated(case: str) -> tuple[str, ...]:
    return tuple(simulate_case(CASES_DIR / case))


def expected(case: str) -> list[str]:
    return (CASES_DIR / case / "log.expect").read_text(encoding="utf-8").splitlines()


def _params(times: bool) -> list[pytest.param]:
    params = []
    for case in CASES:
        reason = NOT_MATCHED.get(case) or (TIMES_ONLY.get(case) if times else None)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(case, marks=marks, id=case))
    return params


class _MatchRateSummary:
    """Prints the match rates at the end of the run."""

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not _results["order"]:
            return
        terminalreporter.section("pve-ha-manager regression cases")
        for kind in ("order", "times"):
            results = _results[kind]
            label = "in order" if kind == "order" else "in order with times"
            total = sum(results.values())
            terminalreporter.write_line(
                f"{label}: {total}/{len(results)} cases match ({100 * total / len(results):.0f}%)"
            )
        per_family: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for case, ok in _results["order"].items():
            counts = per_family[family_of(case)]
            counts[0] += ok
            counts[1] += _results["times"].get(case, False)
            counts[2] += 1
        width = max(map(len, per_family))
        for family in sorted(per_family):
            ordered, timed, total = per_family[family]
            terminalreporter.write_line(f"  {family:<{width}}  order {ordered}/{total}  times {timed}/{total}")


@pytest.fixture(scope="module", autouse=True)
def match_rate_summary(pytestconfig: pytest.Config) -> None:
    if not pytestconfig.pluginmanager.has_plugin("ha-case-summary"):
        pytestconfig.pluginmanager.register(_MatchRateSummary(), "ha-case-summary")


@pytest.mark.parametrize("case", _params(times=False))
def test_state_changes_in_order(case: str) -> None:
    got = state_changes(list(simulated(case)), with_times=False)
    want = state_changes(expected(case), with_times=False)
    _results["order"][case] = got == want
    assert got == want


@pytest.mark.parametrize("case", _params(times=True))
def test_state_changes_in_order_with_times(case: str) -> None:
    got = state_changes(list(simulated(case)), with_times=True)
    want = state_changes(expected(case), with_times=True)
    _results["times"][case] = got == want
    assert got == want


@pytest.mark.parametrize("case", _params(times=True))
def test_whole_log_matches(case: str) -> None:
    """Beyond the state changes: every line of ``log.expect`` (LRM actions, locks, commands, errors)."""
    assert list(simulated(case)) == expected(case)


def test_required_families_match_in_order() -> None:
    """At least 90% of the cases of the core families match in order."""
    core = FAMILIES[: FAMILIES.index("crs")]
    cases = [case for case in CASES if family_of(case) in core]
    matched = [case for case in cases if case not in NOT_MATCHED]
    assert cases and len(matched) / len(cases) >= 0.9
