"""The HA stack hosted by something other than the case simulator, as the FakeCluster will host it.

``MiniCluster`` is the smallest host: it inherits the HA files (:class:`HAFiles`) and adds the world —
a clock, membership, guests and their config location. PVE's daemons loop about every 10 s, all at the
same moment, so the host runs :meth:`HAStack.run_loop` every 10 s with ``seconds_per_round=0``.
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.model.ha.ha_files import HAFiles
from pytest_pvemock.model.ha.stack import HAStack
from pytest_pvemock.model.ha.status import guest_hastate, node_hastate

ROUND = 10


class MiniCluster(HAFiles):
    def __init__(self, nodes: list[str], services: dict[str, dict[str, Any]]) -> None:
        super().__init__(service_config=services)
        self.clock = 1_700_000_000
        self.power = dict.fromkeys(nodes, True)
        self.running: dict[str, set[str]] = {node: set() for node in nodes}
        self.log_lines: list[str] = []
        self.stack = HAStack(self, nodes, self.node_command, seconds_per_round=0)
        for node in nodes:
            self.stack.start_daemons(node)

    # the world part of HAHost
    def now(self) -> int:
        return self.clock

    def write_log(self, level: str, time: int, origin: str, message: str) -> None:
        self.log_lines.append(f"{time - 1_700_000_000:4d} {origin}: {message}")

    def node_membership(self) -> tuple[dict[str, bool], bool]:
        online = dict(self.power)
        quorate = sum(online.values()) > len(online) // 2
        return (online if quorate else dict.fromkeys(online, False)), quorate

    def cluster_fs_ok(self, node: str, what: str) -> bool:
        return True

    def node_shutdown_request(self, node: str) -> tuple[bool, bool]:
        return False, False

    def node_version(self, node: str) -> str:
        return "9.1.1"

    def static_node_stats(self) -> dict[str, dict[str, Any]]:
        return {node: {"maxcpu": 16, "maxmem": 64 * 1024**3} for node in self.power}

    def guest_running(self, node: str, sid: str) -> bool:
        return sid in self.running[node]

    def set_guest_running(self, node: str, sid: str, running: bool) -> None:
        (self.running[node].add if running else self.running[node].discard)(sid)

    def forget_guest(self, node: str, sid: str) -> None:
        self.running[node].discard(sid)

    def start_migration(self, node: str, sid: str, target: str, online: bool) -> None:
        return None

    def guest_lock(self, sid: str) -> str | None:
        return None

    def remove_guest_lock(self, sid: str, lock: str) -> str | None:
        return None

    # driving
    def node_command(self, command: str, origin: str) -> None:
        verb, node, action = command.split()
        if verb == "power" and action == "off":
            self.power_off(node)

    def power_off(self, node: str) -> None:
        self.power[node] = False
        self.stack.kill_daemons(node)
        self.running[node].clear()

    def advance(self, seconds: int) -> None:
        for _ in range(seconds // ROUND):
            self.clock += ROUND
            self.stack.sync_clocks()
            self.stack.run_loop()


def test_failover_with_pve_round_timing() -> None:
    cluster = MiniCluster(["node1", "node2", "node3"], {"vm:100": {"node": "node3", "state": "started"}})
    cluster.advance(30)
    ms = cluster.manager_status
    assert ms["master_node"] == "node1" and ms["service_status"]["vm:100"]["state"] == "started"
    assert cluster.guest_running("node3", "vm:100")

    cluster.power_off("node3")
    lost_at = cluster.clock
    timeline = {}
    while cluster.clock - lost_at < 240:
        cluster.advance(ROUND)
        state = guest_hastate("vm:100", cluster.manager_status, cluster.service_config)
        timeline.setdefault(state, cluster.clock - lost_at)
    # fenced 60 s after node3 was last seen, recovered once its agent lock (renewed every 10 s) expired
    assert node_hastate("node3", cluster.manager_status) == "unknown"
    assert 50 <= timeline["fence"] <= 70
    assert cluster.manager_status["service_status"]["vm:100"]["node"] != "node3"
    assert cluster.service_config["vm:100"]["node"] != "node3"
    recovered = [line for line in cluster.log_lines if "from 'recovery' to 'started'" in line]
    assert recovered and 110 <= int(recovered[0].split()[0]) - (lost_at - 1_700_000_000) <= 140
    new_node = cluster.manager_status["service_status"]["vm:100"]["node"]
    assert cluster.guest_running(new_node, "vm:100")


def test_requests_through_the_crm_command_queue() -> None:
    cluster = MiniCluster(["node1", "node2", "node3"], {"vm:100": {"node": "node1", "state": "started"}})
    cluster.advance(30)
    cluster.queue_crm_command("migrate vm:100 node2")
    cluster.advance(30)
    assert cluster.manager_status["service_status"]["vm:100"]["node"] == "node2"
    assert cluster.guest_running("node2", "vm:100") and not cluster.guest_running("node1", "vm:100")
    cluster.queue_crm_command("stop vm:100 0")
    cluster.advance(30)
    assert cluster.service_config["vm:100"]["state"] == "stopped"  # the stop command rewrites the request
    assert cluster.manager_status["service_status"]["vm:100"]["state"] == "stopped"
    assert not cluster.guest_running("node2", "vm:100")
