"""Benchmark: a large cluster, 10,000 guests on 50 nodes: build time, memory, and ``cluster.resources.get()`` with
the clock moving against the floor.

The default scenario's 3 nodes are topped up to ``--nodes`` nodes and its guests to ``--guests`` running VMs
(spread over the nodes); the build is timed and its memory measured twice: ``tracemalloc`` (bytes allocated by
the build and still held) and the process's resident set size (``ru_maxrss`` growth). Then one proxmoxer client
calls ``cluster.resources.get()`` (validation off, then on), the cluster's clock moving 1 s before each call, and
the same client against the floor (a bare ``requests`` adapter that serialises the same rows anew on every call,
see ``bench_resources.py``). Goal (issue 13): the clock-moving GET within 2x of the floor.

    python bench/bench_large.py [--guests 10000] [--nodes 50] [--calls 10] [--profile]
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_resources import FloorAdapter, login

from pytest_pvemock import FakeCluster, mock


def large_cluster(guests: int, nodes: int, scan_names: bool = False) -> FakeCluster:
    """The default cluster with ``nodes`` nodes and ``guests`` guests (the added ones running VMs).

    ``add_vm`` names each new VM's disk after scanning every guest's config for names taken on its storage
    (``FakeCluster._first_volname``): quadratic, ~3.5 min for 10,000 guests. Unless ``scan_names``, the bench
    names them itself with what the scan finds for a fresh VMID on ``local-lvm`` (``vm-VMID-disk-0``).
    """
    cluster = FakeCluster.default()
    if not scan_names:
        cluster._first_volname = lambda kind, storage, vmid, disk_gib, template: f"vm-{vmid}-disk-0"  # type: ignore[method-assign]
    for index in range(len(cluster.nodes) + 1, nodes + 1):
        cluster.add_node(f"pve{index}")
    names = [node.name for node in cluster.nodes]
    vmid = 1000
    count = len(cluster.guests)
    while count < guests:
        if cluster.find_guest(vmid) is not None:
            vmid += 1
            continue
        cluster.add_vm(vmid, node=names[vmid % len(names)], name=f"vm{vmid}", status="running")
        vmid += 1
        count += 1
    if not scan_names:
        del cluster._first_volname  # type: ignore[attr-defined]
    return cluster


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(call: Callable[[], Any], calls: int) -> float:
    """Median seconds of ``calls`` calls (after one warm-up)."""
    call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guests", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--calls", type=int, default=10, help="timed calls per way (median; default 10)")
    parser.add_argument("--profile", action="store_true", help="then profile the clock-moving GET")
    parser.add_argument("--scan-names", action="store_true", help="build through add_vm's own disk naming (slow)")
    args = parser.parse_args()

    FakeCluster.default()  # schemas, scenario file and imports: not part of the build
    gc.collect()
    rss_before = rss_mib()
    tracemalloc.start()
    start = time.perf_counter()
    cluster = large_cluster(args.guests, args.nodes, args.scan_names)
    build = time.perf_counter() - start
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_built = rss_mib()

    with mock(cluster, validate=False):
        api = login(cluster)
        rows = api.cluster.resources.get()
        session = api._store["session"]
        session.mount(cluster.url, FloorAdapter(rows))
        floor = timed(api.cluster.resources.get, args.calls)
        del session.adapters[cluster.url]

        def moving() -> Any:
            cluster.clock.advance(1)
            return api.cluster.resources.get()

        fake = timed(moving, args.calls)
        steady = timed(api.cluster.resources.get, args.calls)
    with mock(cluster, validate=True):
        validated_api = login(cluster)

        def moving_validated() -> Any:
            cluster.clock.advance(1)
            return validated_api.cluster.resources.get()

        validated = timed(moving_validated, args.calls)
    rss_after = rss_mib()

    print(f"{args.guests} guests on {args.nodes} nodes ({len(rows)} rows of /cluster/resources)")
    print(f"  build                          {build:8.3f} s")
    print(f"  memory held by the cluster     {held / 2**20:8.1f} MiB (tracemalloc; peak {peak / 2**20:.1f} MiB)")
    print(f"  resident set growth            {rss_built - rss_before:8.1f} MiB built, {rss_after - rss_before:.1f} MiB")
    print("                                             after the GETs (ru_maxrss)")
    print(f"  floor (json.dumps + client)    {floor * 1000:8.1f} ms")
    print(f"  fake, clock moving             {fake * 1000:8.1f} ms  {fake / floor:.2f}x the floor's time", end="")
    print(f"  goal <= 2x: {'met' if fake <= 2 * floor else 'MISSED'}")
    print(f"  fake, validated, clock moving  {validated * 1000:8.1f} ms  {validated / floor:.2f}x")
    print(f"  fake, same answer              {steady * 1000:8.1f} ms  {steady / floor:.2f}x")

    if args.profile:
        import cProfile
        import pstats

        with mock(cluster, validate=False):
            api = login(cluster)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.calls):
                moving()
            profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
