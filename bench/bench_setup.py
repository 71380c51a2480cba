"""Benchmark: what a test pays before its first request. Fixture setup, and ``import pytest_pvemock``.

- **fixture setup**: what ``pve_cluster`` does for each test, without pytest around it: a ``ClusterFactory``
  with the plugin's default options (validation on) builds the cluster from its scenario and patches it in
  (``PveMock.start``), and at the end of the test unpatches it (``close``). Measured for the built-in default
  scenario (3 nodes, 7 guests) and for a scenario file with 3 nodes and 10 guests (the goal: <= 0.5 ms), warm
  (the scenario's text and parse tree are cached after the first build, as in a test session).
- **import**: ``python -c 'import pytest_pvemock'`` minus ``python -c 'pass'`` in fresh processes, best of N
  (goal: <= 100 ms); with ``-X importtime``'s own figure, and for information what pytest loads at start-up
  (``pytest_pvemock.plugin``) and the first cluster of a session (schemas and scenario loaded cold).

    python bench/bench_setup.py [--runs 15] [--setups 2000] [--profile]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_pvemock.mocking import ClusterFactory, ClusterOptions

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = ROOT / "pytest_pvemock" / "scenarios" / "default.yaml"
EXTRA_GUESTS = """
  - {vmid: 104, type: qemu, node: pve2, name: app01, status: running, cores: 2, memory: 2048, disk_gib: 32}
  - {vmid: 105, type: qemu, node: pve3, name: app02, status: stopped, cores: 2, memory: 2048, disk_gib: 32}
  - {vmid: 112, type: lxc, node: pve1, name: mail01, status: running, cores: 1, memory: 1024, disk_gib: 8}
"""


def ten_guest_scenario(folder: Path) -> Path:
    """The default scenario with three more guests: 3 nodes, 10 guests."""
    path = folder / "three-nodes-ten-guests.yaml"
    path.write_text(DEFAULT_SCENARIO.read_text().rstrip("\n") + EXTRA_GUESTS)
    # dated an hour back, like a scenario file in a repository (files changed in the last 2 s are never cached)
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    return path


def fixture_setup(scenario: str | Path) -> None:
    """One ``pve_cluster`` fixture's work: build and patch in, then unpatch."""
    factory = ClusterFactory(ClusterOptions(validate=True))
    factory(scenario)
    factory.close()


def build_only(scenario: str | Path) -> None:
    from pytest_pvemock.mocking import build_cluster

    build_cluster(ClusterOptions(scenario=scenario))


def per_call(action: object, count: int, batches: int = 5) -> float:
    """Seconds per call: the best batch's average (after a warm-up call)."""
    action()  # type: ignore[operator]
    best = float("inf")
    size = max(count // batches, 1)
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(size):
            action()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start) / size)
    return best


def fresh_process(code: str, runs: int) -> float:
    """Best wall-clock seconds of ``python -c code`` in a fresh interpreter."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        best = min(best, time.perf_counter() - start)
    return best


def timed_in_fresh_process(code: str, runs: int) -> float:
    """Best seconds that ``code`` takes inside a fresh interpreter (it prints its own duration)."""
    best = float("inf")
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        best = min(best, float(done.stdout.strip().splitlines()[-1]))
    return best


def importtime_cumulative(module: str, runs: int) -> float:
    """Best cumulative microseconds of ``module`` by ``python -X importtime``, in seconds."""
    best = float("inf")
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"], check=True, capture_output=True, text=True
        )
        for line in done.stderr.splitlines():
            match = re.match(rf"import time:\s+\d+ \|\s+(\d+) \|\s*{re.escape(module)}$", line)
            if match:
                best = min(best, int(match.group(1)) / 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per import figure (best of)")
    parser.add_argument("--setups", type=int, default=2000, help="fixture setups per figure")
    parser.add_argument("--profile", action="store_true", help="then print a cProfile of the 10-guest fixture setup")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        ten = ten_guest_scenario(Path(folder))
        setup_ten = per_call(lambda: fixture_setup(ten), args.setups)
        build_ten = per_call(lambda: build_only(ten), args.setups)
    setup_default = per_call(lambda: fixture_setup("default"), args.setups)
    build_default = per_call(lambda: build_only("default"), args.setups)

    bare = fresh_process("pass", args.runs)
    package = fresh_process("import pytest_pvemock", args.runs)
    self_time = importtime_cumulative("pytest_pvemock", args.runs)
    plugin = timed_in_fresh_process(
        "import time, pytest; t = time.perf_counter(); import pytest_pvemock.plugin; print(time.perf_counter() - t)",
        args.runs,
    )
    first_cluster = timed_in_fresh_process(
        "import time, proxmoxer; t = time.perf_counter()\n"
        "from pytest_pvemock import FakeCluster, mock\n"
        "c = FakeCluster.default()\n"
        "with mock(c, validate=True):\n"
        "    proxmoxer.ProxmoxAPI(c.host, user=c.user, password=c.password, verify_ssl=False).version.get()\n"
        "print(time.perf_counter() - t)",
        max(args.runs // 3, 3),
    )

    ms = 1000
    rows = [
        ("fixture setup, 3 nodes / 10 guests (scenario file)", setup_ten * ms, "ms", "<= 0.5 ms",
         setup_ten * ms <= 0.5),
        ("  of which building the cluster", build_ten * ms, "ms", "", None),
        ("fixture setup, built-in default (3 nodes / 7 guests)", setup_default * ms, "ms", "", None),
        ("  of which building the cluster", build_default * ms, "ms", "", None),
        ("import pytest_pvemock (wall, minus bare python)", (package - bare) * ms, "ms", "<= 100 ms",
         (package - bare) * ms <= 100),
        ("import pytest_pvemock (-X importtime, cumulative)", self_time * ms, "ms", "", None),
        ("  bare python start-up, for reference", bare * ms, "ms", "", None),
        ("import pytest_pvemock.plugin (pytest already loaded)", plugin * ms, "ms", "", None),
        ("first cluster of a session: cold build + login + 1 call", first_cluster * ms, "ms", "", None),
    ]  # fmt: skip
    print(f"{'measure':<56}  {'value':>9}  goal")
    for name, value, unit, goal, met in rows:
        verdict = "" if met is None else (": met" if met else ": MISSED")
        print(f"{name:<56}  {value:>6.3f} {unit}  {goal}{verdict}")
    if args.profile:
        profile_setup(args.setups)


def profile_setup(count: int) -> None:
    import cProfile
    import pstats

    with tempfile.TemporaryDirectory() as folder:
        ten = ten_guest_scenario(Path(folder))
        fixture_setup(ten)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            fixture_setup(ten)
        profiler.disable()
    print(f"\nprofile: {count} fixture setups, 3 nodes / 10 guests")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
