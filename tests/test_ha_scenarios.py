"""Walking guests through HA transitions on the virtual clock, as a user of the fake would."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pvemock.model.ha.case_files import HACase
from pytest_pvemock.model.ha.simulator import SimHardware
from pytest_pvemock.model.ha.status import guest_hastate, ha_status_current, is_primary, node_hastate

NODES = ("node1", "node2", "node3")


def cluster(services: dict[str, dict], datacenter: dict | None = None) -> SimHardware:
    case = HACase(
        directory=Path("."),
        cmdlist=[],
        hardware_status={node: {"power": "off", "network": "off"} for node in NODES},
        manager_status={},
        service_config=services,
        datacenter=datacenter or {},
    )
    sim = SimHardware(case)
    for node in NODES:
        sim.hardware_command(f"power {node} on", "test")
    steps(sim, 3)
    return sim


def steps(sim: SimHardware, loops: int) -> None:
    for _ in range(loops):
        sim.step_loop()


def sd(sim: SimHardware, sid: str) -> dict:
    return sim.manager_status["service_status"][sid]


def hastate(sim: SimHardware, sid: str) -> str | None:
    return guest_hastate(sid, sim.manager_status, sim.read_service_config())


def running_on(sim: SimHardware, sid: str) -> str | None:
    return next((node for node in NODES if sim.guest_running(node, sid)), None)


def primary(sim: SimHardware, sid: str) -> list[str]:
    ms, resources, where = sim.manager_status, sim.read_service_config(), running_on(sim, sid)
    return [n for n in NODES if is_primary(sid, n, manager_status=ms, resources=resources, running_on=where)]


def test_power_loss_fences_then_recovers_the_guest_elsewhere() -> None:
    sim = cluster({"vm:100": {"node": "node3", "state": "started"}})
    assert hastate(sim, "vm:100") == "started" and primary(sim, "vm:100") == ["node3"]
    lost_at = sim.cur_time
    sim.hardware_command("power node3 off", "test")
    seen: list[tuple[int, tuple]] = []
    while sim.cur_time - lost_at < 300:
        sim.step_loop()
        state = (hastate(sim, "vm:100"), sd(sim, "vm:100")["node"], node_hastate("node3", sim.manager_status))
        if not seen or seen[-1][1] != state:
            seen.append((sim.cur_time - lost_at, state))
    # hastate stays 'started' while node3 is only 'unknown'; 60 s later guest and node are 'fence'; once
    # node3's agent lock has expired (120 s after its last renewal) the guest goes fence -> recovery ->
    # started on another node within one CRM round, and node3 drops back to 'unknown'
    assert [state for _, state in seen] == [
        ("started", "node3", "unknown"),
        ("fence", "node3", "fence"),
        ("started", "node1", "unknown"),
    ]
    # fenced 60 s after the CRM last saw node3 online (one loop before the power loss)
    assert 40 <= seen[1][0] <= 60
    assert any("'vm:100': state changed from 'fence' to 'recovery'" in line for line in sim.lines)
    assert running_on(sim, "vm:100") == "node1" and primary(sim, "vm:100") == ["node1"]
    assert sim.service_config["vm:100"]["node"] == "node1"  # recovery moved the guest config


def test_losing_the_master_node_delays_recovery_until_a_new_master_takes_over() -> None:
    sim = cluster({"vm:100": {"node": "node1", "state": "started"}})
    sim.hardware_command("power node1 off", "test")
    steps(sim, 15)
    assert sim.manager_status["master_node"] in ("node2", "node3")
    assert hastate(sim, "vm:100") == "started" and sd(sim, "vm:100")["node"] != "node1"
    assert running_on(sim, "vm:100") == sd(sim, "vm:100")["node"]


def test_status_current_follows_a_migration() -> None:
    sim = cluster({"vm:100": {"node": "node1", "state": "started"}})
    sim.hardware_command("service vm:100 migrate node2", "test")

    def service_row() -> dict:
        rows = ha_status_current(
            node="node1",
            quorate=True,
            manager_status=sim.manager_status,
            lrm_status=sim.lrm_status,
            resources=sim.read_service_config(),
            now=sim.cur_time,
        )
        return rows[-1]

    sim.step_loop()
    assert service_row()["status"] == "vm:100 (node1, migrate)"
    assert primary(sim, "vm:100") == []  # in transit: primary nowhere
    steps(sim, 1)
    assert service_row()["status"] in ("vm:100 (node2, starting)", "vm:100 (node2, started)")
    steps(sim, 1)
    assert service_row()["status"] == "vm:100 (node2, started)"
    assert primary(sim, "vm:100") == ["node2"]


def test_error_is_sticky_until_disabled() -> None:
    # fa:1900 fails to start 9 times in a row: two tries on each of two nodes, then error
    sim = cluster({"fa:1900": {"node": "node1", "state": "started"}})
    steps(sim, 10)
    assert hastate(sim, "fa:1900") == "error"
    sim.hardware_command("service fa:1900 started", "test")
    sim.hardware_command("service fa:1900 migrate node3", "test")
    steps(sim, 3)
    assert hastate(sim, "fa:1900") == "error"
    sim.hardware_command("service fa:1900 disabled", "test")
    steps(sim, 1)
    assert hastate(sim, "fa:1900") == "stopped"


@pytest.mark.parametrize("policy", ["migrate", "freeze"])
def test_reboot_under_a_shutdown_policy(policy: str) -> None:
    sim = cluster({"vm:100": {"node": "node1", "state": "started"}}, {"ha": {"shutdown_policy": policy}})
    sim.hardware_command("reboot node1", "test")
    states = set()
    for _ in range(15):
        sim.step_loop()
        states.add(hastate(sim, "vm:100"))
    if policy == "migrate":
        assert "migrate" in states
        assert any("node came back from maintenance" in line for line in sim.lines)
    else:
        assert "freeze" in states
    assert hastate(sim, "vm:100") == "started" and sd(sim, "vm:100")["node"] == "node1"


def test_node_maintenance_moves_guests_away_and_back() -> None:
    sim = cluster({"vm:100": {"node": "node1", "state": "started"}, "ct:200": {"node": "node1", "state": "started"}})
    sim.hardware_command("crm node1 enable-node-maintenance", "test")
    steps(sim, 3)
    assert node_hastate("node1", sim.manager_status) == "maintenance"
    assert sd(sim, "vm:100")["node"] != "node1" and sd(sim, "ct:200")["node"] != "node1"
    assert any("'ct:200': state changed from 'started' to 'relocate'" in line for line in sim.lines)
    sim.hardware_command("crm node1 disable-node-maintenance", "test")
    steps(sim, 4)
    assert node_hastate("node1", sim.manager_status) == "online"
    assert sd(sim, "vm:100")["node"] == "node1" and sd(sim, "ct:200")["node"] == "node1"
