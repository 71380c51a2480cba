"""Benchmark: proxmoxer ``cluster.resources.get()`` in-process against the floor, and the cost of schema validation.

One proxmoxer client (``https`` backend, logged in with a password) calls ``cluster.resources.get()`` in a loop,
at 10 and at 1000 guests, in one run, against:

- **fake**: ``pytest_pvemock.mock(cluster)`` (validation off): the whole path a test's request takes;
- **fake, validated**: the same with ``validate=True`` (what the fixtures do by default);
- **floor**: a bare ``requests`` adapter (a ``BaseAdapter`` mounted on the same proxmoxer session) that only
  serialises the same list, ``json.dumps({"data": rows})``, on every call: what answering costs at the least.
  It writes compact JSON as PVE (and the fake) do, so both bodies are the same bytes and the client's own work
  (proxmoxer, ``requests``, JSON decoding) is the same in both; only the answering differs.
 Goals: fake >= 0.8x the floor's requests per second at both sizes; validation costs <= 25% at
1000 guests. The "clock moving" rows advance the cluster's clock 1 s before each call, so that no answer repeats
(uptimes change): nothing can be served from a cache; they are for information, not a goal.

    python bench/bench_resources.py [--seconds 1.0] [--repeats 3] [--sizes 10,1000] [--profile]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import proxmoxer
from requests.adapters import BaseAdapter
from requests.models import PreparedRequest, Response
from requests.structures import CaseInsensitiveDict

from pytest_pvemock import FakeCluster, mock

SIZES = (10, 1000)


class FloorAdapter(BaseAdapter):
    """Answers every request with ``{"data": rows}``, serialised anew each time; nothing else."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Response:
        response = Response()
        response.status_code = 200
        response.reason = "OK"
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json;charset=UTF-8"})
        response._content = json.dumps({"data": self.rows}, separators=(",", ":"), ensure_ascii=False).encode()
        response._content_consumed = True
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        response.connection = self
        return response

    def close(self) -> None:
        pass


def cluster_with(guests: int) -> FakeCluster:
    """The default 3-node cluster, topped up with running VMs to ``guests`` guests."""
    cluster = FakeCluster.default()
    nodes = [node.name for node in cluster.nodes]
    vmid = 1000
    while len(cluster.guests) < guests:
        cluster.add_vm(vmid, node=nodes[vmid % len(nodes)], name=f"bench{vmid}", status="running")
        vmid += 1
    return cluster


def login(cluster: FakeCluster) -> Any:
    return proxmoxer.ProxmoxAPI(
        cluster.host, port=cluster.port, user=cluster.user, password=cluster.password, verify_ssl=False
    )


def rate(call: Callable[[], Any], seconds: float) -> float:
    """Calls per second of ``call`` over about ``seconds`` (after one warm-up call)."""
    call()
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(5):
            call()
        count += 5
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def measure(guests: int, seconds: float, repeats: int) -> dict[str, float]:
    """Best requests per second of each way of answering, interleaved so that they share the machine's noise."""
    cluster = cluster_with(guests)
    best: dict[str, float] = {}
    with mock(cluster, validate=False):
        rows = login(cluster).cluster.resources.get()
    for _ in range(repeats):
        for name, figure in runs(cluster, rows, seconds):
            best[name] = max(best.get(name, 0.0), figure)
    best["rows"] = len(rows)
    return best


def runs(cluster: FakeCluster, rows: list[dict[str, Any]], seconds: float) -> Any:
    """(name, requests per second) of each way of answering; the steady ones first, next to each other."""
    with mock(cluster, validate=False):
        api = login(cluster)
        session = api._store["session"]
        session.mount(cluster.url, FloorAdapter(rows))
        yield "floor", rate(api.cluster.resources.get, seconds)
        del session.adapters[cluster.url]
        yield "fake", rate(api.cluster.resources.get, seconds)
    with mock(cluster, validate=True):
        yield "fake, validated", rate(login(cluster).cluster.resources.get, seconds)
    with mock(cluster, validate=False):
        yield "fake, clock moving", rate(moving(cluster, login(cluster)), seconds)
    with mock(cluster, validate=True):
        yield "fake, validated, clock moving", rate(moving(cluster, login(cluster)), seconds)


def moving(cluster: FakeCluster, api: Any) -> Callable[[], Any]:
    def call() -> Any:
        cluster.clock.advance(1)
        return api.cluster.resources.get()

    return call


def profile(guests: int, seconds: float, validate: bool, clock_moving: bool) -> None:
    import cProfile
    import pstats

    cluster = cluster_with(guests)
    with mock(cluster, validate=validate):
        api = login(cluster)
        call = moving(cluster, api) if clock_moving else api.cluster.resources.get
        call()
        profiler = cProfile.Profile()
        deadline = time.perf_counter() + seconds
        profiler.enable()
        while time.perf_counter() < deadline:
            call()
        profiler.disable()
    print(f"\nprofile: {guests} guests, validate={validate}, clock moving={clock_moving}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per measurement (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many rounds (default 3)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="guest counts (default 10,1000)")
    parser.add_argument("--profile", action="store_true", help="then print a cProfile of the fake at each size")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    results = {guests: measure(guests, args.seconds, args.repeats) for guests in sizes}
    print(report(results))
    if args.profile:
        for guests in sizes:
            for validate in (False, True):
                for clock_moving in (False, True):
                    profile(guests, args.seconds, validate, clock_moving)


def report(results: dict[int, dict[str, float]]) -> str:
    lines = [
        "proxmoxer cluster.resources.get(), in-process, requests per second (best of the rounds)",
        "",
        f"{'guests':>6}  {'rows':>5}  {'answered by':<30}  {'req/s':>8}  {'vs floor':>8}  goal",
    ]
    for guests, figures in results.items():
        floor = figures["floor"]
        for name in ("floor", "fake", "fake, validated", "fake, clock moving", "fake, validated, clock moving"):
            ratio = figures[name] / floor
            goal = ""
            if name == "fake":
                goal = f">= 0.80x: {'met' if ratio >= 0.8 else 'MISSED'}"
            lines.append(
                f"{guests:>6}  {int(figures['rows']):>5}  {name:<30}  {figures[name]:>8.0f}  {ratio:>7.2f}x  {goal}"
            )
        cost = figures["fake"] / figures["fake, validated"] - 1
        moving_cost = figures["fake, clock moving"] / figures["fake, validated, clock moving"] - 1
        goal = f"<= 25%: {'met' if cost <= 0.25 else 'MISSED'}" if guests >= 1000 else "(goal at 1000 guests)"
        lines.append(f"{'':>6}  {'':>5}  {'validation cost':<30}  {cost:>8.0%}  {'':>8}  {goal}")
        lines.append(f"{'':>6}  {'':>5}  {'validation cost, clock moving':<30}  {moving_cost:>8.0%}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
