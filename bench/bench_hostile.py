"""How fast hostile input is refused (issue 12): patterns, JSON depth, YAML bombs, a crowd of TLS connects.

    python bench/bench_hostile.py

Prints one table. The "Python re" row shows what the pattern cost before the checks moved to RE2 (its time
doubles with every character, so it stops at 24).
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.builders.clusters import build_from_text
from pytest_pvemock.model.builders.scenario import ScenarioError
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.schema.registry import get_registry
from pytest_pvemock.transports.server import PveServer

OCI = (
    r"^(?:^(?:(?:[a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d-]*[a-zA-Z\d])(?:\.(?:[a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d-]*[a-zA-Z\d]))*"
    r"(?::\d+)?/)?[a-z\d]+(?:(?:[._]|__|[-]*)[a-z\d]+)*(?:/[a-z\d]+(?:(?:[._]|__|[-]*)[a-z\d]+)*)*$)$"
)


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def refused(action, *errors: type[BaseException]) -> None:
    try:
        action()
    except errors:
        return
    raise AssertionError("not refused")


def oci_rows() -> list[tuple[str, str]]:
    endpoint = get_registry("9.1").resolve("GET", "/nodes/pve1/query-oci-repo-tags")

    def check(reference: str) -> None:
        refused(lambda: endpoint.check_parameters({"node": "pve1", "reference": reference}), ParameterError)

    check("warm-up!")  # the pattern is compiled once per process
    rows = []
    for length in (20, 22, 24):
        text = "a" * length + "!"
        rows.append(
            (
                f"Python re, OCI reference of {length + 1} characters",
                f"{timed(lambda text=text: re.match(OCI, text)):.2f} s",
            )
        )
    for text in ("a" * 27 + "!", "a" * 35 + "!", "a-" * 2048 + "."):
        rows.append(
            (
                f"RE2 check, OCI reference of {len(text)} characters",
                f"{timed(lambda text=text: check(text)) * 1e3:.3f} ms",
            )
        )
    return rows


def json_row() -> tuple[str, str]:
    from pytest_pvemock.api.params import collect

    body = b'{"comment": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    seconds = timed(lambda: refused(lambda: collect("POST", "", body, "application/json", None), PVEError))
    return "JSON body nested 100,000 deep refused (500, JSON::XS message)", f"{seconds * 1e3:.1f} ms"


def yaml_row() -> tuple[str, str]:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 9)]
    text = "\n".join(lines) + "\nnodes: *l8\n"
    seconds = timed(lambda: refused(lambda: build_from_text(text, "bomb.yaml"), ScenarioError))
    return f"scenario alias bomb ({len(text)} bytes, 9**9 values) refused", f"{seconds * 1e3:.2f} ms"


def crowd_row(clients: int = 192) -> tuple[str, str]:
    with PveServer(FakeCluster.from_scenario("default")) as server:
        context = ssl.create_default_context(cafile=str(server.ca_file))
        barrier = threading.Barrier(clients)
        times: list[float] = []
        lock = threading.Lock()

        def client() -> None:
            barrier.wait()
            start = time.perf_counter()
            raw = socket.create_connection((server.address, server.port), timeout=60)
            with context.wrap_socket(raw, server_hostname=server.address) as sock:
                sock.sendall(b"GET /api2/json/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                sock.makefile("rb").readline()
            with lock:
                times.append(time.perf_counter() - start)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    times.sort()
    over = sum(t > 1 for t in times)
    return (
        f"{clients} simultaneous TLS clients (connect, handshake, answer)",
        f"{over} over 1 s; median {times[len(times) // 2] * 1e3:.0f} ms, max {times[-1] * 1e3:.0f} ms",
    )


def main() -> None:
    rows = [*oci_rows(), json_row(), yaml_row(), crowd_row()]
    width = max(len(name) for name, _ in rows)
    for name, figure in rows:
        print(f"{name:<{width}}  {figure}")


if __name__ == "__main__":
    main()
