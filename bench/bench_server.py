"""Benchmark: server mode, proxmoxer ``cluster.resources.get()`` with 10 and 1000 guests, requests per second.

Each server runs in its own process on loopback (so the client does not share the server's interpreter), and
one proxmoxer client (one keep-alive connection, TLS) calls ``cluster.resources.get()`` in a loop. When
``fakepve`` can be installed into a throwaway virtualenv (never a dependency of this project) the same client
measures it in the same run and the ratio is printed (goal: pytest-pvemock at least 1.5x).

    python bench/bench_server.py                       # both, if fakepve can be installed
    python bench/bench_server.py --no-fakepve          # pytest-pvemock only
    python bench/bench_server.py --fakepve-venv DIR    # reuse a virtualenv that has fakepve
    python bench/bench_server.py --native wrk          # a native load generator instead (wrk or h2load --h1):
                                                       # 1 and 16 keep-alive connections, realtime clock on

With ``--native``, pytest-pvemock's server runs with ``clock="realtime"`` (the clock catches up before every
request, so the answer is made anew every second), and the load generator sends ``GET /api2/json/cluster/resources``
with a ticket cookie over TLS on 1 and 16 keep-alive connections for ``--seconds`` each.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

SIZES = (10, 1000)
SECONDS_PER_RUN = 2.0
REPEATS = 3  # best of, against the noise of a shared machine
PASSWORD = "bench-secret"


# -- the servers -----------------------------------------------------------------------------------------------


def serve_pvemock(guests: int, clock: str = "instant") -> None:
    """Child process: a cluster with ``guests`` guests behind PveServer; prints the port, serves until killed."""
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.transports.server import PveServer

    cluster = FakeCluster.default()
    cluster.access.users["root@pam"].password = PASSWORD
    nodes = [node.name for node in cluster.nodes]
    vmid = 1000
    while len(cluster.guests) < guests:
        cluster.add_vm(vmid, node=nodes[vmid % len(nodes)], name=f"bench{vmid}", status="running")
        vmid += 1
    with PveServer(cluster, port=0, validate=False, clock=clock) as server:
        print(server.port, flush=True)
        while True:
            time.sleep(3600)


def start_pvemock(guests: int, clock: str = "instant") -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-pvemock", str(guests), "--clock", clock], stdout=subprocess.PIPE, text=True
    )
    return process, int(process.stdout.readline())


def start_fakepve(venv: Path, guests: int, workdir: Path) -> tuple[subprocess.Popen[str], int]:
    guest_file = workdir / f"guests-{guests}.json"
    rows = [{"vmid": 1000 + i, "name": f"bench{i}", "node": "pve1", "status": "running"} for i in range(guests)]
    guest_file.write_text(json.dumps({"guests": rows}))
    port = free_port()
    process = subprocess.Popen(
        [
            str(venv / "bin" / "fakepve"),
            str(guest_file),
            *("--host", "127.0.0.1", "--port", str(port)),
            "--password",
            PASSWORD,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    if "listening" not in line:
        process.kill()
        raise RuntimeError(f"fakepve did not start: {line!r}")
    return process, port


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fakepve_venv(given: str | None, workdir: Path) -> Path | None:
    """A virtualenv with fakepve: the one given, or a fresh one in ``workdir``; ``None`` if it cannot be had."""
    if given:
        return Path(given)
    venv = workdir / "fakepve-venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        subprocess.run(
            # fakepve makes its certificate with cryptography without declaring it
            [str(venv / "bin" / "pip"), "install", "--quiet", "fakepve", "cryptography"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as error:
        print(f"fakepve could not be installed ({error}); measuring pytest-pvemock alone", file=sys.stderr)
        return None
    return venv


# -- the client ------------------------------------------------------------------------------------------------


def requests_per_second(port: int, expected_guests: int) -> float:
    from proxmoxer import ProxmoxAPI

    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    api = ProxmoxAPI("127.0.0.1", port=port, user="root@pam", password=PASSWORD, verify_ssl=False)
    guests = [r for r in api.cluster.resources.get() if r.get("type") in ("qemu", "lxc")]
    if len(guests) < expected_guests:
        raise RuntimeError(f"the server lists {len(guests)} guests, expected {expected_guests}")
    for _ in range(5):
        api.cluster.resources.get()
    best = 0.0
    for _ in range(REPEATS):
        calls = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < SECONDS_PER_RUN:
            api.cluster.resources.get()
            calls += 1
        best = max(best, calls / elapsed)
    return best


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds of process ``pid`` so far (Linux ``/proc``; ``None`` elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def native_requests_per_second(
    tool: str, port: int, connections: int, seconds: float, guests: int, pid: int | None = None
) -> tuple[float, float | None]:
    """``wrk`` or ``h2load --h1``: GET /cluster/resources with a ticket cookie on ``connections`` keep-alive
    connections for ``seconds``; the requests per second it reports (every answer must be a 200), and the
    server's (process ``pid``) CPU microseconds per request during the run."""
    import requests

    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    base = f"https://127.0.0.1:{port}/api2/json"
    login = requests.post(f"{base}/access/ticket", data={"username": "root@pam", "password": PASSWORD}, verify=False)
    cookie = f"PVEAuthCookie={login.json()['data']['ticket']}"
    rows = requests.get(f"{base}/cluster/resources", headers={"Cookie": cookie}, verify=False, timeout=60).json()
    if sum(1 for row in rows["data"] if row.get("type") in ("qemu", "lxc")) < guests:
        raise RuntimeError("the server lists fewer guests than expected")
    url = f"{base}/cluster/resources"
    before = cpu_seconds(pid) if pid is not None else None
    rate = _run_native(tool, url, cookie, connections, seconds)
    after = cpu_seconds(pid) if pid is not None else None
    cpu = (after - before) / (rate * seconds) * 1e6 if before is not None and after is not None and rate else None
    return rate, cpu


def _run_native(tool: str, url: str, cookie: str, connections: int, seconds: float) -> float:
    import re

    if tool == "wrk":
        threads = str(min(connections, 2))
        command = ["wrk", "-t", threads, "-c", str(connections), "-d", f"{seconds:.0f}s", "-H", f"Cookie: {cookie}"]
        command.append(url)
        output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
        if "Non-2xx" in output:
            raise RuntimeError(f"wrk saw errors: {output}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    command = ["h2load", "--h1", "-c", str(connections), "-D", f"{seconds:.0f}", "-H", f"cookie: {cookie}", url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    status = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output)
    if status is None or any(int(n) for n in status.groups()[1:]):
        raise RuntimeError(f"h2load saw errors: {output}")
    return float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", output).group(1))  # type: ignore[union-attr]


def measure(start: object, guests: int) -> float:
    process, port = start(guests)  # type: ignore[operator]
    try:
        return requests_per_second(port, guests)
    finally:
        process.kill()
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-fakepve", action="store_true", help="measure pytest-pvemock only")
    parser.add_argument("--fakepve-venv", help="a virtualenv where fakepve is installed")
    parser.add_argument("--native", choices=("wrk", "h2load"), help="measure with a native load generator")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per native run (default: 5)")
    parser.add_argument("--serve-pvemock", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--clock", default="instant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_pvemock is not None:
        serve_pvemock(args.serve_pvemock, args.clock)
        return 0
    if args.native:
        return native(args)
    with tempfile.TemporaryDirectory(prefix="pvemock-bench-") as tmp:
        workdir = Path(tmp)
        venv = None if args.no_fakepve else fakepve_venv(args.fakepve_venv, workdir)
        print(
            f"proxmoxer cluster.resources.get() over HTTPS, one keep-alive client, "
            f"best of {REPEATS} runs of {SECONDS_PER_RUN:.0f} s"
        )
        print(f"{'guests':>7} {'pytest-pvemock req/s':>21} {'fakepve req/s':>14} {'ratio':>6}")
        for guests in SIZES:
            ours = measure(start_pvemock, guests)
            theirs = measure(lambda n: start_fakepve(venv, n, workdir), guests) if venv else None
            ratio = f"{ours / theirs:.2f}x" if theirs else "-"
            theirs_text = f"{theirs:.0f}" if theirs else "-"
            print(f"{guests:>7} {ours:>21.0f} {theirs_text:>14} {ratio:>6}", flush=True)
    return 0


def native(args: argparse.Namespace) -> int:
    import shutil

    if shutil.which(args.native) is None:
        package = "wrk" if args.native == "wrk" else "nghttp2-client"
        print(f"{args.native} is not installed (Debian: apt-get install {package})", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pvemock-bench-") as tmp:
        workdir = Path(tmp)
        venv = None if args.no_fakepve else fakepve_venv(args.fakepve_venv, workdir)
        what = "GET /cluster/resources over HTTPS with a ticket, keep-alive"
        print(f"{args.native}: {what}, {args.seconds:.0f} s a run; pytest-pvemock with its realtime clock")
        print("(us/req: the server process's CPU time per request during the run)")
        print(
            f"{'guests':>7} {'conns':>5} {'pytest-pvemock req/s':>21} {'us/req':>6} {'fakepve req/s':>14} "
            f"{'us/req':>6} {'ratio':>6}"
        )
        for guests in SIZES:
            for connections in (1, 16):
                process, port = start_pvemock(guests, "realtime")
                try:
                    ours, our_cpu = native_requests_per_second(
                        args.native, port, connections, args.seconds, guests, process.pid
                    )
                finally:
                    process.kill()
                    process.wait()
                theirs, their_cpu = None, None
                if venv is not None:
                    process, port = start_fakepve(venv, guests, workdir)
                    try:
                        theirs, their_cpu = native_requests_per_second(
                            args.native, port, connections, args.seconds, guests, process.pid
                        )
                    finally:
                        process.kill()
                        process.wait()
                ratio = f"{ours / theirs:.2f}x" if theirs else "-"
                theirs_text = f"{theirs:.0f}" if theirs else "-"
                print(
                    f"{guests:>7} {connections:>5} {ours:>21.0f} {_figure(our_cpu):>6} {theirs_text:>14} "
                    f"{_figure(their_cpu):>6} {ratio:>6}",
                    flush=True,
                )
    return 0


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    sys.exit(main())
