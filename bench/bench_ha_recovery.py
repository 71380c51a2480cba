"""Benchmark: 1000 HA services on 10 nodes; one node loses power; run until every service is recovered.

Prints the CPU seconds spent from the power loss until every service is ``started`` and running again
(goal: under 1 s). Run with ``python bench/bench_ha_recovery.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

from pytest_pvemock.model.ha.case_files import HACase
from pytest_pvemock.model.ha.simulator import SimHardware

NODES = [f"node{i}" for i in range(1, 11)]
SERVICES = 1000
LOST_NODE = "node3"


def build_cluster() -> SimHardware:
    case = HACase(
        directory=Path("."),
        cmdlist=[],
        hardware_status={node: {"power": "off", "network": "off"} for node in NODES},
        manager_status={},
        service_config={f"vm:{1000 + i}": {"node": NODES[i % len(NODES)], "state": "started"} for i in range(SERVICES)},
    )
    return SimHardware(case)


def all_running(sim: SimHardware, avoiding: str | None = None) -> bool:
    ss = sim.manager_status.get("service_status") or {}
    return len(ss) == SERVICES and all(
        sd["state"] == "started" and sd.get("running") and sd["node"] != avoiding for sd in ss.values()
    )


def run_until_all_running(sim: SimHardware, avoiding: str | None = None, max_loops: int = 100) -> int:
    for loops in range(1, max_loops + 1):
        sim.step_loop()
        if all_running(sim, avoiding):
            return loops
    raise RuntimeError("services did not all reach started/running")


def main() -> None:
    sim = build_cluster()
    for node in NODES:
        sim.hardware_command(f"power {node} on", "bench")
    run_until_all_running(sim)

    on_lost_node = sum(1 for sd in sim.manager_status["service_status"].values() if sd["node"] == LOST_NODE)
    started_at = sim.cur_time
    cpu = time.process_time()
    sim.hardware_command(f"power {LOST_NODE} off", "bench")
    loops = run_until_all_running(sim, avoiding=LOST_NODE)
    cpu = time.process_time() - cpu

    print(
        f"recovered {on_lost_node} of {SERVICES} HA services from {LOST_NODE} ({len(NODES)} nodes) "
        f"in {sim.cur_time - started_at} simulated s ({loops} loops): {cpu:.3f} CPU s"
    )


if __name__ == "__main__":
    main()
