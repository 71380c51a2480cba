"""The HA daemons of a whole cluster and the loop that runs them (``TestHardware::run``'s inner part).

A host (the case simulator, or the FakeCluster) owns one :class:`HAStack`. Per loop, each powered node runs
one CRM round then one LRM round, in node order; after each node every watchdog is checked. Daemons that
exit (shutdown, reboot, LRM restart) ask the host to act through ``node_command``, with the same command
strings as the simulator's cmdlist (``power node1 off``, ``crm node1 stop``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .crm import CRM
from .environment import DaemonEnv, HAHost
from .guests import ResourceAgents
from .lrm import LRM, LRMShared


class HAStackError(Exception):
    """A daemon exited in a way the stack cannot follow."""


@dataclass
class NodeDaemons:
    name: str
    crm_env: DaemonEnv
    lrm_env: DaemonEnv
    crm: CRM | None = None
    lrm: LRM | None = None
    lrm_restart: bool = False
    lrm_stop: bool = False
    crm_stop: bool = False
    crm_restart: bool = False


class HAStack:
    def __init__(
        self,
        host: HAHost,
        nodes: list[str],
        node_command: Callable[[str, str], None],
        seconds_per_round: int = 1,
    ) -> None:
        self.host = host
        self.node_command = node_command
        self.shared = LRMShared(ResourceAgents())
        self.nodes = {
            name: NodeDaemons(
                name,
                DaemonEnv(host, name, "crm", seconds_per_round),
                DaemonEnv(host, name, "lrm", seconds_per_round),
            )
            for name in sorted(nodes)
        }

    # -- node power ------------------------------------------------------------------------------------------
    def start_daemons(self, name: str) -> None:
        """The node booted: start its CRM and LRM."""
        node = self.nodes[name]
        if node.crm is None:
            node.crm = CRM(node.crm_env)
        if node.lrm is None:
            node.lrm = LRM(node.lrm_env, self.shared)
        node.lrm_restart = False

    def kill_daemons(self, name: str) -> None:
        """The node lost power: its daemons die and its watchdogs are gone."""
        node = self.nodes[name]
        if node.crm is not None:
            node.crm_env.log("info", "killed by poweroff")
            node.crm = None
        if node.lrm is not None:
            node.lrm_env.log("info", "killed by poweroff")
            node.lrm = None
            node.lrm_restart = False
        self.host.watchdogs.reset_node(name)

    def request_shutdown(self, name: str) -> None:
        """The node is being shut down or rebooted (the host already records which)."""
        lrm = self.nodes[name].lrm
        if lrm is not None:
            lrm.shutdown_request()

    def restart_lrm(self, name: str) -> None:
        node = self.nodes[name]
        if node.lrm is not None:
            node.lrm_stop = False
            node.lrm_restart = True
            node.lrm.shutdown_request()

    def stop_lrm(self, name: str) -> None:
        """``systemctl stop pve-ha-lrm`` on a node that keeps running: the LRM goes through the same shutdown
        request as a restart (mode ``restart``, its services frozen) and stays down until started."""
        node = self.nodes[name]
        if node.lrm is not None:
            node.lrm_restart = False
            node.lrm_stop = True
            node.lrm.shutdown_request()

    def start_lrm(self, name: str) -> None:
        """``systemctl start pve-ha-lrm``: a new LRM, or, while the old one is still stopping, one right after."""
        node = self.nodes[name]
        if node.lrm is None:
            node.lrm = LRM(node.lrm_env, self.shared)
        elif node.lrm_stop:
            node.lrm_stop = False
            node.lrm_restart = True

    def stop_crm(self, name: str) -> None:
        node = self.nodes[name]
        if node.crm is not None:
            node.crm_stop = True
            node.crm_restart = False
            node.crm.shutdown_request()

    def start_crm(self, name: str) -> None:
        node = self.nodes[name]
        if node.crm is None:
            node.crm = CRM(node.crm_env)
        elif node.crm_stop:
            node.crm_restart = True

    def restart_crm(self, name: str) -> None:
        """``systemctl restart pve-ha-crm``: the CRM stops (a master gives up its lock) and a new one starts."""
        self.stop_crm(name)
        self.start_crm(name)

    # -- the loop --------------------------------------------------------------------------------------------
    def run_loop(
        self, skip_crm: bool = False, skip_lrm: bool = False, on_skip: Callable[[str], None] | None = None
    ) -> None:
        """One pass over all nodes: CRM round, LRM round, watchdog checks."""
        names = sorted(self.nodes)
        for position, name in enumerate(names):
            self._run_node(self.nodes[name], skip_crm, skip_lrm, on_skip if position == 0 else None)
            for other in names:
                if not self.host.watchdogs.check(other, self.host.now()):
                    self.node_command(f"power {other} off", "watchdog")
                    self.host.write_log(
                        "info", self.host.now(), "hardware", f"server '{other}' stopped by poweroff (watchdog)"
                    )
                    self.nodes[other].crm = None
                    self.nodes[other].lrm = None

    def sync_clocks(self) -> None:
        """Forced time update of every daemon at the end of a loop."""
        for node in self.nodes.values():
            node.lrm_env.loop_start_hook()
            node.crm_env.loop_start_hook()

    def _advance_host_time(self, env: DaemonEnv) -> None:
        """In the simulator each daemon round takes a virtual second and the hardware clock follows the
        daemons (a host with ``advance_to``); a host whose clock moves on its own has no such method."""
        advance = getattr(self.host, "advance_to", None)
        if advance is not None:
            advance(env.cur_time)

    def _daemon_round(
        self, daemon: CRM | LRM, env: DaemonEnv, name: str, skip: bool, on_skip: Callable[[str], None] | None
    ) -> bool:
        """One round of a node's CRM or LRM (or a note that it was skipped), then the clock moves on.
        True when the daemon ended in that round; it has then logged its exit."""
        exited = False
        if not skip:
            exited = not daemon.do_one_iteration()
        elif on_skip:
            on_skip(f"skipping {name} round")
        self._advance_host_time(env)
        if exited:
            env.log("info", "exit (loop end)")
        return exited

    def _run_node(
        self, node: NodeDaemons, skip_crm: bool, skip_lrm: bool, on_skip: Callable[[str], None] | None
    ) -> None:
        if node.crm is not None and self._daemon_round(node.crm, node.crm_env, "CRM", skip_crm, on_skip):
            node.crm = None
            shutdown, reboot = self.host.node_shutdown_request(node.name)
            if reboot:
                self.node_command(f"power {node.name} off", "reboot")
                self.node_command(f"power {node.name} on", "reboot")
            elif shutdown:
                self.node_command(f"power {node.name} off", "shutdown")
            elif not node.crm_stop:
                raise HAStackError("unexpected CRM exit - not implemented")
            elif node.crm_restart:
                node.crm = CRM(node.crm_env)
            node.crm_stop = node.crm_restart = False
        if node.lrm is not None and self._daemon_round(node.lrm, node.lrm_env, "LRM", skip_lrm, on_skip):
            node.lrm = None
            shutdown, reboot = self.host.node_shutdown_request(node.name)
            if node.lrm_restart:
                node.lrm_restart = False
                node.lrm = LRM(node.lrm_env, self.shared)
            elif node.lrm_stop:
                node.lrm_stop = False
            elif shutdown:
                self.node_command(f"crm {node.name} stop", "reboot" if reboot else "shutdown")
            else:
                raise HAStackError("unexpected LRM exit - not implemented")
