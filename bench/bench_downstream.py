"""Benchmark: a downstream suite of 500 tests on the ``pve_api`` fixture against the same tests on ``responses`` stubs.

Two throwaway projects are written to a temporary directory, each with the same 500 test functions (10 files of
50); every test takes a ``pve_api`` client and makes three calls (the nodes, a node's VMs, one VM's current
status) and checks what a user would check:

- **pvemock**: ``pve_api`` is pytest-pvemock's fixture (the default scenario, answers validated, as shipped);
- **responses**: a ``conftest.py`` with a ``pve_api`` fixture written by hand as a user of ``responses`` would:
  a ``RequestsMock`` with a ticket and the three answers (small JSON written out), and a ``proxmoxer`` client
  logged in through it. pytest-pvemock's plugin is not loaded there (``-p no:pvemock``), as in a project that
  does not use it.

Each suite runs as ``python -m pytest -q -p no:cacheprovider`` in a subprocess (wall time, startup and collection
included), alternately, after one run of each that is not counted (it writes the bytecode caches a user's
checkout already has), and the best of ``--repeats`` runs is kept. Goal (issue 13): pvemock <= 1.1x responses.

    python bench/bench_downstream.py [--tests 500] [--repeats 3] [--profile] [--keep DIR]

``--profile`` then runs the pvemock suite once under cProfile and prints where its time goes. Needs
``responses`` (``python -m pip install responses``; it is not one of the project's dependencies).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PER_FILE = 50

TEST = """
def test_{name}(pve_api):
    nodes = pve_api.nodes.get()
    assert sorted(node["node"] for node in nodes) == ["pve1", "pve2", "pve3"]
    vms = pve_api.nodes("pve1").qemu.get()
    assert 100 in {{vm["vmid"] for vm in vms}}
    status = pve_api.nodes("pve1").qemu(100).status.current.get()
    assert status["status"] == "running" and status["name"] == "web01"
"""

STUB_CONFTEST = """
import proxmoxer
import pytest
import responses

URL = "https://pve.test:8006/api2/json"
TICKET = {
    "username": "root@pam",
    "ticket": "PVE:root@pam:67A1B2C3::c2lnbmF0dXJl",
    "CSRFPreventionToken": "67A1B2C3:Y3NyZg",
    "cap": {},
}
NODES = [
    {"node": name, "status": "online", "type": "node", "id": f"node/{name}", "level": "", "maxcpu": 16,
     "maxmem": 68719476736, "maxdisk": 107374182400, "cpu": 0.05, "mem": 8589934592, "disk": 5368709120,
     "uptime": 864000, "ssl_fingerprint": "AA:BB"}
    for name in ("pve1", "pve2", "pve3")
]
VMS = [
    {"vmid": 100, "name": "web01", "status": "running", "uptime": 3600, "cpus": 2, "maxmem": 2147483648,
     "maxdisk": 34359738368, "disk": 0, "cpu": 0.03, "mem": 1073741824, "netin": 1000, "netout": 500,
     "diskread": 2000, "diskwrite": 1000, "pid": 4242},
    {"vmid": 101, "name": "db01", "status": "stopped", "uptime": 0, "cpus": 4, "maxmem": 4294967296,
     "maxdisk": 68719476736, "disk": 0, "cpu": 0, "mem": 0, "netin": 0, "netout": 0, "diskread": 0,
     "diskwrite": 0},
]
STATUS = {"vmid": 100, "name": "web01", "status": "running", "qmpstatus": "running", "uptime": 3600, "cpus": 2,
          "cpu": 0.03, "maxmem": 2147483648, "mem": 1073741824, "maxdisk": 34359738368, "disk": 0, "netin": 1000,
          "netout": 500, "ha": {"managed": 0}, "pid": 4242}


@pytest.fixture
def pve_api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as stubs:
        stubs.add(responses.POST, f"{URL}/access/ticket", json={"data": TICKET})
        stubs.add(responses.GET, f"{URL}/nodes", json={"data": NODES})
        stubs.add(responses.GET, f"{URL}/nodes/pve1/qemu", json={"data": VMS})
        stubs.add(responses.GET, f"{URL}/nodes/pve1/qemu/100/status/current", json={"data": STATUS})
        yield proxmoxer.ProxmoxAPI("pve.test", user="root@pam", password="secret", verify_ssl=False)
"""


def write_suites(root: Path, tests: int) -> dict[str, Path]:
    """The two projects under ``root``: same test files, a pvemock one and a responses one."""
    suites = {"pvemock": root / "pvemock", "responses": root / "responses"}
    for name, folder in suites.items():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        if name == "responses":
            (folder / "conftest.py").write_text(STUB_CONFTEST, encoding="utf-8")
        for start in range(0, tests, PER_FILE):
            body = "".join(TEST.format(name=index) for index in range(start, min(start + PER_FILE, tests)))
            (folder / f"test_part{start // PER_FILE:02d}.py").write_text(body, encoding="utf-8")
    return suites


def command(name: str) -> list[str]:
    plugins = ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly"]
    if name == "responses":
        plugins += ["-p", "no:pvemock"]
    return [sys.executable, "-m", "pytest", "-q", *plugins]


def run(name: str, folder: Path) -> float:
    """Wall seconds of one run of the suite; fails loudly when a test failed."""
    # bytecode is written as in a user's checkout: pytest keeps the assertion-rewritten modules of its plugins
    # (pytest_pvemock's included: an installed pytest11 plugin's package is rewritten) in __pycache__
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    done = subprocess.run(command(name), cwd=folder, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{name} suite failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return elapsed


def profile(folder: Path, lines: int) -> None:
    """The pvemock suite once under cProfile: the functions with the most own time, then the cumulative view."""
    out = folder / "suite.prof"
    cmd = command("pvemock")
    subprocess.run([cmd[0], "-m", "cProfile", "-o", str(out), *cmd[1:]], cwd=folder, capture_output=True, check=True)
    import pstats

    stats = pstats.Stats(str(out))
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats("pytest_pvemock", lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=500, help="tests per suite (default 500)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each suite, the best is kept (default 3)")
    parser.add_argument("--profile", action="store_true", help="then profile the pvemock suite")
    parser.add_argument("--lines", type=int, default=30, help="lines of each profile table (default 30)")
    parser.add_argument("--keep", type=Path, help="write the suites here and keep them (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pvemock-downstream-") as temp:
        root = args.keep or Path(temp)
        suites = write_suites(root, args.tests)
        for name, folder in suites.items():
            run(name, folder)  # warm-up: bytecode caches, as in a checkout where the suite ran before
        best: dict[str, float] = {}
        for _ in range(args.repeats):
            for name, folder in suites.items():
                best[name] = min(best.get(name, float("inf")), run(name, folder))
        ratio = best["pvemock"] / best["responses"]
        print(f"{args.tests} tests, each pve_api + 3 calls; wall seconds, best of {args.repeats} runs")
        print(f"  responses stubs   {best['responses']:6.2f} s")
        verdict = "met" if ratio <= 1.1 else "MISSED"
        print(f"  pytest-pvemock    {best['pvemock']:6.2f} s   {ratio:.2f}x  goal <= 1.10x: {verdict}")
        print(f"  per test          {(best['pvemock'] - best['responses']) / args.tests * 1000:6.2f} ms more")
        if args.profile:
            profile(suites["pvemock"], args.lines)


if __name__ == "__main__":
    main()
