"""Seeded chaos: reproducible from the seed, and the HA stack stays sound under it."""

from __future__ import annotations

from pathlib import Path

from pytest_pvemock.model.ha.case_files import HACase
from pytest_pvemock.model.ha.chaos import HAChaos
from pytest_pvemock.model.ha.simulator import SimHardware

NODES = ["node1", "node2", "node3", "node4"]
SIDS = ["vm:100", "vm:101", "ct:102", "vm:103", "ct:104"]


def run_chaos(seed: int, loops: int = 60) -> SimHardware:
    case = HACase(
        directory=Path("."),
        cmdlist=[],
        hardware_status={node: {"power": "on", "network": "on"} for node in NODES},
        manager_status={},
        service_config={sid: {"node": NODES[i % 4], "state": "started"} for i, sid in enumerate(SIDS)},
    )
    sim = SimHardware(case)
    for node in NODES:
        sim.stack.start_daemons(node)
    chaos = HAChaos(seed, NODES, SIDS, rate=0.5)
    for _ in range(loops):
        for command in chaos.next_batch():
            sim.hardware_command(command, "chaos")
        sim.step_loop()
        for sid in SIDS:
            assert sum(sim.guest_running(node, sid) for node in NODES) <= 1, sid
    return sim


def test_the_same_seed_gives_the_same_run() -> None:
    first, second = run_chaos(7), run_chaos(7)
    assert first.lines == second.lines
    assert any("chaos: execute" in line for line in first.lines)
    assert run_chaos(8).lines != first.lines


def test_injected_start_failures_relocate_the_guest() -> None:
    chaos_lines = [line for seed in range(5) for line in run_chaos(seed).lines]
    assert any("fail-start" in line for line in chaos_lines)
    assert any("failed, relocating service" in line or "restart policy" in line for line in chaos_lines)


def test_every_service_settles_after_the_chaos() -> None:
    sim = run_chaos(3)
    for node in NODES:
        if sim.hardware[node]["power"] == "off":
            sim.hardware_command(f"power {node} on", "test")
        sim.hardware_command(f"network {node} on", "test")
    for _ in range(20):
        sim.step_loop()
    for sid, sd in sim.manager_status["service_status"].items():
        assert sd["state"] in ("started", "error"), (sid, sd)
