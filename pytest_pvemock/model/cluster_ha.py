"""The HA manager of a FakeCluster: ``cluster.ha``, the host of one :class:`.stack.HAStack`.

:class:`ClusterHA` implements :class:`.environment.HAHost` on the cluster's model (node power and network,
quorum, guests running, their config node and lock, the cluster clock) and is the cluster's ``ha_provider``
(``hastate``, the guest's ``ha`` object, HA starts/stops/migrations of guests).

Timing: PVE's daemons loop every 10 s; the CRM and LRM of every powered node run one round at each multiple
of 10 s of cluster time the clock passes (:meth:`Clock.every`), so a node that loses power is fenced after
~60 s and its services are recovered once its agent lock has expired (~120 s), as on PVE.

In task mode ``instant`` a request (a start, stop, migration, a new resource) is followed at once by as many
rounds as it takes to settle, without moving the clock: a test sees ``started`` right after a start. Node
failures still need time (``cluster.clock.advance(...)``). In ``manual`` mode only ``advance()`` and
``settle()`` move HA (``settle()`` goes on, 10 s at a time, until HA is quiet).

Migrations and relocations run as the cluster's own tasks (:mod:`.cluster_ha_migration`): the LRM of the source
starts them and checks them each round, the guest keeps its ``migrate`` lock on the source until the task ends
(:mod:`pytest_pvemock.model.guest_migration` says how long that takes). In ``instant`` mode they end at once.

HA is dormant (no rounds, empty ``manager_status``) until a resource is configured, as on a cluster where HA
was never set up.
"""

from __future__ import annotations

import copy
import hashlib
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.cluster_ha_migration import ClusterMigration
from pytest_pvemock.model.ha.chaos import HAChaos
from pytest_pvemock.model.ha.environment import DaemonEnv, HAConfigError
from pytest_pvemock.model.ha.ha_files import HAFiles
from pytest_pvemock.model.ha.rules import parse_section_config, section_config_text
from pytest_pvemock.model.ha.service_requests import check_service_state, request_move, request_state, request_stop
from pytest_pvemock.model.ha.simulator import format_log_line
from pytest_pvemock.model.ha.stack import HAStack, NodeDaemons
from pytest_pvemock.model.ha.status import (
    guest_ha_status,
    guest_hastate,
    is_ha_managed,
    is_primary,
    node_hastate,
    sid_of,
)
from pytest_pvemock.model.start_stop_all import start_all

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest
    from pytest_pvemock.model.nodes.node import Node
    from pytest_pvemock.model.tasks import Task

ROUND_SECONDS = 10
#: Rounds run at one moment after a request in ``instant`` mode (a start or a migration needs 2-4).
INSTANT_ROUNDS = 12
#: Rounds ``clock.settle()`` may add while HA is still busy (10 min of cluster time).
SETTLE_ROUNDS = 60
TRANSITIONAL = frozenset(
    {"request_start", "request_start_balance", "request_stop", "migrate", "relocate", "fence", "recovery"}
)
SHUTDOWN_POLICIES = ("conditional", "freeze", "failover", "migrate")
RULE_TYPES = frozenset({"node-affinity", "resource-affinity"})
GROUP_TYPES = frozenset({"group"})
RESOURCE_OPTIONS = ("state", "group", "max_restart", "max_relocate", "failback", "comment")


class ClusterHA(HAFiles):
    """``cluster.ha``: the HA manager of a FakeCluster (see the module docstring for the timing)."""

    def __init__(self, cluster: FakeCluster) -> None:
        super().__init__()
        self.cluster = cluster
        self.power: dict[str, bool] = {}
        self.network: dict[str, bool] = {}
        self.shutting_down: dict[str, str] = {}
        self.log: list[str] = []
        self.groups: list[dict[str, Any]] = []
        self.rules: list[dict[str, Any]] = []
        self.stack: HAStack | None = None
        self.chaos: HAChaos | None = None
        self._ticking = False
        self._migrations: list[ClusterMigration] = []

    # ---- configuration -----------------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether the HA stack runs: a resource was configured at some point (or a status exists)."""
        return self.stack is not None

    def _boot(self) -> None:
        """Start the daemons of every powered node (the first resource makes HA run)."""
        if self.stack is not None:
            return
        names = [node.name for node in self.cluster.nodes]
        for name in names:
            node = self.cluster.find_node(name)
            self.power.setdefault(name, bool(node and node.online))
            self.network.setdefault(name, True)
        self.stack = HAStack(self, names, self.node_command, seconds_per_round=0)
        self.stack.sync_clocks()
        for name in names:
            if self.power[name]:
                self.stack.start_daemons(name)
        if not self._ticking:
            self._ticking = True
            self.cluster.clock.every(ROUND_SECONDS, self._tick, busy=self.busy)

    def node_added(self, name: str) -> None:
        """A node joined: it runs a CRM and an LRM like the others (once HA runs)."""
        node = self.cluster.find_node(name)
        self.power[name] = bool(node and node.online)
        self.network[name] = True
        if self.stack is not None and name not in self.stack.nodes:
            self.stack.nodes[name] = NodeDaemons(name, DaemonEnv(self, name, "crm", 0), DaemonEnv(self, name, "lrm", 0))
            self.stack.sync_clocks()
            if self.power[name]:
                self.stack.start_daemons(name)

    def node_removed(self, name: str) -> None:
        if self.stack is not None and name in self.stack.nodes:
            self.stack.kill_daemons(name)
            del self.stack.nodes[name]
        self.power.pop(name, None)
        self.network.pop(name, None)

    def _touch(self) -> None:
        self.revision += 1
        self.cluster.revision.touch()

    def sid(self, guest_or_sid: Any) -> str:
        """``vm:100``/``ct:200`` for a sid, a vmid (int or text) or a guest."""
        if hasattr(guest_or_sid, "vmid"):
            return sid_of(guest_or_sid.kind, guest_or_sid.vmid)
        text = str(guest_or_sid)
        if ":" in text:
            return text
        guest = self.cluster.find_guest(int(text)) if text.isdigit() else None
        if guest is None:
            raise PVEError(f"no such VM or CT '{text}'")
        return sid_of(guest.kind, guest.vmid)

    def guest_of(self, sid: str) -> Guest | None:
        kind, _, vmid = sid.partition(":")
        guest = self.cluster.find_guest(int(vmid)) if vmid.isdigit() else None
        if guest is None or guest.kind != {"vm": "qemu", "ct": "lxc"}.get(kind):
            return None
        return guest

    def add_resource(
        self,
        sid: object,
        state: str | None = "started",
        group: str | None = None,
        max_restart: int | None = None,
        max_relocate: int | None = None,
        failback: bool | int | None = None,
        comment: str | None = None,
    ) -> str:
        """Make a guest an HA resource (``ha-manager add``); ``sid`` may be ``vm:100``, ``ct:200`` or a vmid."""
        sid = self.sid(sid)
        if sid in self.service_config:
            raise PVEError(f"resource ID '{sid}' already defined")
        guest = self.guest_of(sid)
        if guest is None:
            kind, _, vmid = sid.partition(":")
            raise PVEError(f"unable to find {'VM' if kind == 'vm' else 'CT'} {vmid}" if vmid else f"invalid '{sid}'")
        options = {"state": state, "group": group, "max_restart": max_restart, "max_relocate": max_relocate}
        options.update(failback=None if failback is None else int(failback), comment=comment)
        self.service_config[sid] = {"node": guest.node, **{k: v for k, v in options.items() if v is not None}}
        self._touch()
        self._boot()
        self.after_request()
        return sid

    def update_resource(self, sid: Any, **changes: Any) -> None:
        """Change options of a resource (``None`` deletes an option); a service in ``error`` only accepts
        ``state="disabled"``."""
        sid = self.sid(sid)
        if sid not in self.service_config:
            raise PVEError(f"no such resource '{sid}'")
        if "state" in changes:
            check_service_state(self, sid, changes["state"])
        self.update_service_config({sid: changes})
        self._touch()
        self.after_request()

    def remove_resource(self, sid: Any) -> None:
        """``ha-manager remove``: HA forgets the resource; the guest stays as it is."""
        sid = self.sid(sid)
        if self.service_config.pop(sid, None) is None:
            raise PVEError(f"no such resource '{sid}'")
        self._touch()
        self.after_request()

    def resource(self, sid: Any) -> dict[str, Any] | None:
        """The resource's options as configured (no defaults), or ``None``."""
        entry = self.service_config.get(self.sid(sid))
        return {k: v for k, v in entry.items() if k != "node"} if entry is not None else None

    def load(self, resources: list[dict[str, Any]], groups: list[dict[str, Any]], rules: list[dict[str, Any]]) -> None:
        """Resources, groups and rules as scenarios write them (``{"sid": "vm:100", "state": ...}``)."""
        self.groups = [dict(group) for group in groups]
        self.rules = [dict(rule) for rule in rules]
        self.groups_config = section_config_text(self.groups, "group") if self.groups else None
        self.rules_config = section_config_text(self.rules, "rule") if self.rules else ""
        self.service_config.clear()
        for entry in resources:
            sid = self.sid(entry["sid"])
            guest = self.guest_of(sid)
            options = {k: v for k, v in entry.items() if k in (*RESOURCE_OPTIONS, "type") and v is not None}
            self.service_config[sid] = {"node": guest.node if guest else None, **options}
        self._touch()
        if self.service_config or self.groups or self.rules:
            self._boot()
            self.converge()

    def set_groups(self, groups: list[dict[str, Any]]) -> None:
        self.groups = groups
        self.groups_config = section_config_text(groups, "group") if groups else None
        self._touch()

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        self.rules = rules
        self.rules_config = section_config_text(rules, "rule") if rules else ""
        self._touch()
        self.after_request()

    def group_entries(self) -> list[dict[str, Any]]:
        """``groups.cfg`` as the API shows it (empty once PVE 9 migrated the groups to rules)."""
        return _section_entries(self.groups_config or "", GROUP_TYPES, "group")

    def rule_entries(self) -> list[dict[str, Any]]:
        """``rules.cfg`` as the API shows it (with the rules PVE 9 made of groups)."""
        return _section_entries(self.rules_config or "", RULE_TYPES, "rule")

    def groups_migrated(self) -> bool:
        """PVE 9 moves HA groups into rules (``have_groups_been_migrated``: no groups left); PVE 8 has no rules."""
        return self.cluster.has("ha-rules") and not self.group_entries()

    def config_digest(self, what: str = "resources") -> str:
        """The SHA-1 of a config file's text, as PVE's section configs carry it."""
        if what == "resources":
            entries = [
                {"sid": sid, "type": sid.split(":")[0], **(self.resource(sid) or {})} for sid in self.service_config
            ]
            text = section_config_text(entries, "sid")
        else:
            text = (self.rules_config if what == "rules" else self.groups_config) or ""
        return hashlib.sha1(text.encode()).hexdigest()

    @property
    def shutdown_policy(self) -> str:
        """The datacenter's ``ha: shutdown_policy`` (``conditional``, ``freeze``, ``failover``, ``migrate``)."""
        return str((self.datacenter.get("ha") or {}).get("shutdown_policy", "conditional"))

    @shutdown_policy.setter
    def shutdown_policy(self, policy: str) -> None:
        if policy not in SHUTDOWN_POLICIES:
            raise ValueError(f"shutdown_policy must be one of {', '.join(SHUTDOWN_POLICIES)}, not {policy!r}")
        self.datacenter.setdefault("ha", {})["shutdown_policy"] = policy

    # ---- requests (ha-manager and the API) ---------------------------------------------------------------------

    def set_state(self, sid: Any, state: str) -> None:
        """``ha-manager set <sid> --state started|stopped|disabled|ignored``."""
        request_state(self, self.sid(sid), state)
        self._touch()
        self.after_request()

    def migrate(self, sid: Any, node: str) -> dict[str, Any]:
        """``ha-manager migrate``: online migration of a VM (a container is relocated)."""
        return self._move(sid, node, "migrate")

    def relocate(self, sid: Any, node: str) -> dict[str, Any]:
        """``ha-manager relocate``: stop, move, start."""
        return self._move(sid, node, "relocate")

    def _move(self, sid: Any, node: str, task: str) -> dict[str, Any]:
        if self.cluster.find_node(node) is None:
            raise PVEError(f"no such node '{node}'")
        result = request_move(self, self.sid(sid), node, task)
        self.after_request()
        return result

    def stop(self, sid: Any, timeout: int = 0) -> None:
        """``ha-manager crm-command stop <sid> <timeout>`` (what a guest stop or shutdown asks)."""
        request_stop(self, self.sid(sid), timeout)
        self.after_request()

    def enable_maintenance(self, node: str) -> None:
        """``ha-manager crm-command node-maintenance enable <node>``: services move away, the node stays up."""
        self._need_node(node)
        self.queue_crm_command(f"enable-node-maintenance {node}")
        self.after_request()

    def disable_maintenance(self, node: str) -> None:
        self._need_node(node)
        self.queue_crm_command(f"disable-node-maintenance {node}")
        self.after_request()

    def restart_lrm(self, node: str) -> None:
        """``systemctl restart pve-ha-lrm`` on ``node`` (its services are left running)."""
        self._need_node(node)
        if self.stack is not None:
            self.stack.restart_lrm(node)
            self.after_request()

    def daemon_unit(self, node: str, unit: str, verb: str) -> None:
        """``systemctl <verb> pve-ha-lrm|pve-ha-crm`` on a running node. A stopped LRM leaves in ``restart`` mode
        (LRM.pm ``shutdown_request``: 'restart LRM, freeze all services'), so the CRM freezes its services until an
        LRM is back; a stopped master CRM gives up the manager lock for another node's CRM to take."""
        if self.stack is None or node not in self.stack.nodes:
            return
        daemons = self.stack.nodes[node]
        if unit == "pve-ha-lrm":
            if verb == "stop":
                self.stack.stop_lrm(node)
            elif verb == "start" or daemons.lrm is None:
                self.stack.start_lrm(node)
            else:
                self.stack.restart_lrm(node)
        elif unit == "pve-ha-crm":
            if verb == "stop":
                self.stack.stop_crm(node)
            elif verb == "start" or daemons.crm is None:
                self.stack.start_crm(node)
            else:
                self.stack.restart_crm(node)
        self.after_request()

    def fail_starts(self, sid: Any, count: int) -> None:
        """Make the next ``count`` starts of the guest fail (on any node): see max_restart/max_relocate."""
        self._boot()
        assert self.stack is not None
        self.stack.shared.agents.fail_starts(self.sid(sid), count)

    def fail_migrations(self, sid: Any, count: int) -> None:
        """Make the next ``count`` migrations or relocations of the guest fail."""
        self._boot()
        assert self.stack is not None
        self.stack.shared.agents.fail_migrations(self.sid(sid), count)

    def set_error(self, sid: Any) -> None:
        """Put the service in ``error`` at once (as after a failed start with no node left to try).

        Only ``state="disabled"`` gets it out (then ``started`` again), as on PVE.
        """
        sid = self.sid(sid)
        manager = self._master()
        if manager is None or sid not in manager.ss:
            raise PVEError(f"service '{sid}' is not managed by an active HA master yet")
        if manager.ss[sid]["state"] != "error":
            manager.change_service_state(sid, "error")
            manager.flush_master_status()
        self._touch()

    def enable_chaos(self, seed: int | str, rate: float = 0.3, max_down: int = 1) -> HAChaos:
        """Seeded random HA faults every round (node power/network loss and return, migrations, start and
        migration failures), the same sequence for the same seed. :meth:`disable_chaos` stops them."""
        self._boot()
        self.chaos = HAChaos(seed, [node.name for node in self.cluster.nodes], sorted(self.service_config), rate,
                             max_down)  # fmt: skip
        return self.chaos

    def disable_chaos(self) -> None:
        self.chaos = None

    def _master(self) -> Any:
        if self.stack is None:
            return None
        for daemons in self.stack.nodes.values():
            if daemons.crm is not None and daemons.crm.manager is not None:
                return daemons.crm.manager
        return None

    def _need_node(self, name: str) -> None:
        if self.cluster.find_node(name) is None:
            raise PVEError(f"no such node '{name}'")

    # ---- node events -------------------------------------------------------------------------------------------

    def set_power(self, name: str, on: bool) -> None:
        """Power a node on or off (off: its guests die at once, its daemons too, its watchdog with them)."""
        node = self.cluster.find_node(name)
        if node is None:
            raise KeyError(f"no such node '{name}'")
        was_on = self.power.get(name, node.online)
        self.power[name] = on
        self.network.setdefault(name, True)
        if on and was_on:
            if not self.network[name]:
                self.set_network(name, True)
            return
        self.shutting_down.pop(name, None)
        if on:
            self.network[name] = True
            node.go_online(self.cluster.clock.now())
            if self.stack is not None and name in self.stack.nodes:
                self.stack.sync_clocks()
                self.stack.start_daemons(name)
            # pve-guests.service at boot: 'pvesh --nooutput create /nodes/localhost/startall' (pve-manager
            # services/pve-guests.service), the guests with onboot=1 not managed by HA
            start_all(self.cluster, name, "root@pam", force=False, vmids=None)
        else:
            node.go_offline()
            for job in [job for job in self._migrations if job.source == name and job.outcome() is None]:
                job.interrupt(self.cluster.tasks)
            for guest in self.cluster.guests_on(name):
                if guest.running:
                    guest._halt()
            if self.stack is not None and name in self.stack.nodes:
                self.stack.kill_daemons(name)
        self._touch()

    def set_network(self, name: str, up: bool) -> None:
        """Cut or restore a node's network: it leaves the quorate partition but keeps running (HA fences it
        through its watchdog once it loses quorum)."""
        node = self.cluster.find_node(name)
        if node is None:
            raise KeyError(f"no such node '{name}'")
        self.power.setdefault(name, node.online)
        self.network[name] = up
        node.online = bool(up and self.power.get(name))
        self._touch()

    def shutdown_node(self, name: str, reboot: bool = False) -> None:
        """A clean shutdown or reboot of ``name``: HA applies the datacenter's shutdown_policy first."""
        node = self.cluster.find_node(name)
        if node is None:
            raise KeyError(f"no such node '{name}'")
        if self.stack is None or self.stack.nodes[name].lrm is None:
            self.set_power(name, False)
            if reboot:
                self.set_power(name, True)
            return
        self.shutting_down[name] = "reboot" if reboot else "shutdown"
        self.stack.request_shutdown(name)
        self.after_request()

    def node_command(self, command: str, origin: str) -> None:
        """What the HA stack asks of the hardware: ``power <node> on|off`` and ``crm <node> stop``."""
        verb, name, action = command.split()[:3]
        self.write_log("info", self.now(), origin, f"execute {command}")
        if verb == "power":
            self.set_power(name, action == "on")
        elif verb == "crm" and action == "stop" and self.stack is not None:
            self.stack.stop_crm(name)

    # ---- the loop ------------------------------------------------------------------------------------------------

    def _tick(self, moment: int) -> None:
        if self.stack is None:
            return
        if self.chaos is not None:
            # resources and nodes added since chaos began are fair game too
            self.chaos.nodes = [node.name for node in self.cluster.nodes]
            self.chaos.down = {name: kind for name, kind in self.chaos.down.items() if name in self.chaos.nodes}
            self.chaos.sids = sorted(self.service_config)
            for command in self.chaos.next_batch():
                self._chaos_command(command)
        self.run_round()

    def run_round(self) -> None:
        """One loop of every node's CRM and LRM at the current cluster time."""
        if self.stack is None:
            return
        self.stack.sync_clocks()
        self.stack.run_loop()
        self._touch()

    def _fingerprint(self) -> Any:
        ss = self.manager_status.get("service_status") or {}
        running = tuple((guest.vmid, guest.node, guest.run_state) for guest in self.cluster.guests)
        return (
            tuple(sorted((sid, sd.get("state"), sd.get("node")) for sid, sd in ss.items())),
            tuple(sorted((self.manager_status.get("node_status") or {}).items())),
            tuple(sorted((n, s.get("state"), s.get("mode")) for n, s in self.lrm_status.items())),
            self.manager_status.get("master_node"),
            running,
            tuple(self.crm_commands),
        )

    def converge(self, rounds: int = INSTANT_ROUNDS) -> None:
        """Run rounds at the current moment until nothing changes any more (at most ``rounds``)."""
        if self.stack is None:
            return
        before = self._fingerprint()
        for _ in range(rounds):
            self.run_round()
            after = self._fingerprint()
            if after == before and not self.busy():
                return
            before = after

    def after_request(self) -> None:
        if self.cluster.clock.instant:
            self.converge()

    def busy(self) -> bool:
        """HA still has work to do: a queued command, or a service on its way between states."""
        if self.stack is None:
            return False
        if self.crm_commands:
            return True
        ss = self.manager_status.get("service_status") or {}
        config = self.read_service_config()
        for sid, cfg in config.items():
            sd = ss.get(sid)
            if cfg.get("state") == "ignored":
                continue
            if sd is None:
                return True
            state = sd.get("state")
            if state in TRANSITIONAL:
                return True
            if state == "started" and cfg.get("state") in ("stopped", "disabled"):
                return True
            if state == "started" and self._node_up(sd.get("node")) and not self.guest_running(sd.get("node"), sid):
                return True  # the LRM is still starting it (or retrying a failed start)
            if state == "stopped" and cfg.get("state") == "started":
                return True
        return False

    def _chaos_command(self, command: str) -> None:
        words = command.split()
        if words[0] in ("power", "network"):
            on = words[2] == "on"
            (self.set_power if words[0] == "power" else self.set_network)(words[1], on)
        elif words[0] == "service":
            sid, action, param = words[1], words[2], words[3]
            try:
                if action in ("migrate", "relocate"):
                    self._move(sid, param, action)
                elif action == "fail-start":
                    self.fail_starts(sid, int(param))
                elif action == "fail-migrate":
                    self.fail_migrations(sid, int(param))
            except PVEError:
                pass

    # ---- HAHost: the world part ----------------------------------------------------------------------------------

    def now(self) -> int:
        return self.cluster.clock.now()

    def write_log(self, level: str, time: int, origin: str, message: str) -> None:
        self.log.append(format_log_line(level, time, origin, message))
        if len(self.log) > 5000:
            del self.log[:1000]

    def node_membership(self) -> tuple[dict[str, bool], bool]:
        online = {
            node.name: self.power.get(node.name, node.online) and self.network.get(node.name, True)
            for node in self.cluster.nodes
        }
        forced = self.cluster._quorum_override
        quorate = forced if forced is not None else sum(online.values()) * 2 > len(online)
        if not quorate:
            online = dict.fromkeys(online, False)
        return online, quorate

    def cluster_fs_ok(self, node: str, what: str) -> bool:
        return True

    def node_shutdown_request(self, node: str) -> tuple[bool, bool]:
        target = self.shutting_down.get(node)
        return bool(target), target == "reboot"

    def node_version(self, node: str) -> str:
        return self.cluster.full_version

    def static_node_stats(self) -> dict[str, dict[str, Any]]:
        return {node.name: {"maxcpu": node.maxcpu, "maxmem": node.maxmem} for node in self.cluster.nodes}

    def dynamic_node_stats(self) -> dict[str, dict[str, Any]]:
        return self.static_node_stats()

    def static_service_stats(self) -> dict[str, dict[str, Any]]:
        stats = {}
        for sid in self.service_config:
            guest = self.guest_of(sid)
            if guest is not None:
                stats[sid] = {"maxcpu": float(guest.maxcpu), "maxmem": float(guest.maxmem)}
        return stats

    def dynamic_service_stats(self) -> dict[str, dict[str, Any]]:
        stats = self.static_service_stats()
        for values in stats.values():
            values["cpu"], values["mem"] = values["maxcpu"] / 2, values["maxmem"] / 2
        return stats

    def read_service_config(self) -> dict[str, dict[str, Any]]:
        # the node is where the guest's config lives now (a test may have moved or removed the guest)
        for sid, cfg in self.service_config.items():
            guest = self.guest_of(sid)
            node = guest.node if guest is not None else None
            if cfg.get("node") != node:
                cfg["node"] = node
        return super().read_service_config()

    def change_service_location(self, sid: str, current_node: str, new_node: str) -> None:
        guest = self.guest_of(sid)
        if guest is not None and guest.node != current_node:
            # Env/PVE2.pm steal_service 213-217: the rename of the config file from the old node's directory fails
            folder = "qemu-server" if guest.kind == "qemu" else "lxc"
            old, new = (f"/etc/pve/nodes/{node}/{folder}/{guest.vmid}.conf" for node in (current_node, new_node))
            raise HAConfigError(f"rename '{old}' to '{new}' failed - No such file or directory")
        super().change_service_location(sid, current_node, new_node)
        if guest is not None:
            guest.node = new_node

    def guest_running(self, node: str, sid: str) -> bool:
        guest = self.guest_of(sid)
        return guest is not None and guest.node == node and guest.running

    def set_guest_running(self, node: str, sid: str, running: bool) -> None:
        guest = self.guest_of(sid)
        if guest is None or guest.node != node:
            return
        if running and not guest.running:
            guest._boot()
        elif not running and guest.running:
            guest._halt()

    def forget_guest(self, node: str, sid: str) -> None:
        # the migration moved the config to the target: a running guest now runs there (a new process)
        guest = self.guest_of(sid)
        if guest is not None and guest.running and guest.node != node:
            guest._halt()
            guest._boot()

    def start_migration(self, node: str, sid: str, target: str, online: bool) -> ClusterMigration | None:
        """The migration runs as the cluster's tasks, in cluster time (see :mod:`.cluster_ha_migration`)."""
        guest = self.guest_of(sid)
        if guest is None or guest.node != node:
            return None
        job = ClusterMigration(guest, target, online)
        self._migrations = [running for running in self._migrations if running.outcome() is None]
        if job.outcome() is None:
            self._migrations.append(job)
            job.watch(self.cluster.clock, lambda: self._worker_ended(node))
        return job

    def _worker_ended(self, node: str) -> None:
        """The LRM of ``node`` sees its worker end and writes the result to its status (LRM.pm run_workers 632-680,
        then update_lrm_status), so the CRM's next round can act on it."""
        daemons = self.stack.nodes.get(node) if self.stack is not None else None
        lrm = daemons.lrm if daemons is not None else None
        if lrm is None or not self.power.get(node, False) or lrm.state not in ("active", "maintenance"):
            return  # a later round's run_workers reports it
        lrm.env.loop_start_hook()
        lrm.check_active_workers()
        lrm.update_lrm_status()
        self._touch()

    def guest_lock(self, sid: str) -> str | None:
        guest = self.guest_of(sid)
        return guest.lock if guest is not None else None

    def remove_guest_lock(self, sid: str, lock: str) -> str | None:
        guest = self.guest_of(sid)
        if guest is None or guest.lock != lock:
            return None
        guest.unlock()
        return lock

    # ---- what the model and the API ask (the cluster's ha_provider) ---------------------------------------------

    def guest_hastate(self, guest: Guest) -> str | None:
        return guest_hastate(sid_of(guest.kind, guest.vmid), self.manager_status, self.service_config)

    def guest_ha_status(self, guest: Guest) -> dict[str, Any] | None:
        return guest_ha_status(sid_of(guest.kind, guest.vmid), self.manager_status, self.service_config)

    def node_hastate(self, node: Node) -> str | None:
        return node_hastate(node.name, self.manager_status)

    def is_ha_managed(self, guest: Guest) -> bool:
        return is_ha_managed(sid_of(guest.kind, guest.vmid), self.manager_status, self.service_config)

    def request_guest_state(self, guest: Guest, state: str, authid: str, timeout: int = 0) -> Task | None:
        """A start (``hastart``) or a stop/shutdown (``hastop``) of an HA-managed guest, as qemu-server and
        pve-container do it: a task that asks ``ha-manager``; HA does the rest in its next rounds."""
        if not self.is_ha_managed(guest):
            return None
        sid = sid_of(guest.kind, guest.vmid)
        if state == "started":
            command = f"ha-manager set {sid} --state started"
            task_type, text = "hastart", f"Requesting HA start for {guest.noun} {guest.vmid}"

            def work() -> None:
                request_state(self, sid, "started")
        else:
            command = f"ha-manager crm-command stop {sid} {int(timeout)}"
            task_type, text = "hastop", f"Requesting HA stop for {guest.noun} {guest.vmid}"

            def work() -> None:
                request_stop(self, sid, timeout)

        return self._ha_task(guest, task_type, text, command, work, authid)

    def request_guest_migration(self, guest: Guest, target: str, authid: str) -> Task | None:
        """``hamigrate``: a migration of an HA-managed guest is a request to the CRM."""
        if not self.is_ha_managed(guest):
            return None
        sid = sid_of(guest.kind, guest.vmid)
        text = f"Requesting HA migration for {guest.noun} {guest.vmid} to node {target}"

        def work() -> None:
            request_move(self, sid, target, "migrate")

        return self._ha_task(guest, "hamigrate", text, f"ha-manager migrate {sid} {target}", work, authid)

    def _ha_task(self, guest: Guest, task_type: str, text: str, command: str, request: Any, authid: str) -> Task:
        def work(task: Task) -> None:
            task.log.append(text)
            try:
                request()
            except PVEError as error:
                task.log.append(error.message.rstrip("\n"))
                raise PVEError(f"command '{command}' failed: exit code 255") from None
            self._touch()

        task = self.cluster.tasks.start(guest.node, task_type, guest.vmid, authid, duration=1, work=work)
        self.after_request()
        return task

    def is_primary(self, guest: Guest, node: str) -> bool:
        sid = sid_of(guest.kind, guest.vmid)
        running_on = guest.node if guest.running and self._node_up(guest.node) else None
        return is_primary(
            sid, node, manager_status=self.manager_status, resources=self.service_config, running_on=running_on
        )

    def _node_up(self, name: str) -> bool:
        return self.power.get(name, True) and self.network.get(name, True)

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of ``manager_status`` (for tests that compare states over time)."""
        return copy.deepcopy(self.manager_status)


def _section_entries(text: str, types: frozenset[str], id_key: str) -> list[dict[str, Any]]:
    entries = []
    for section in parse_section_config(text, types):
        entry: dict[str, Any] = {id_key: section.id, "type": section.type}
        for key, value in section.options.items():
            entry[key] = int(value) if value.isdigit() and key not in ("nodes", "resources", "comment") else value
        entries.append(entry)
    return entries
