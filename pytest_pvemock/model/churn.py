"""Churn: a seeded, repeatable stream of the events a real cluster sees, on the cluster's clock.

Once a minute of cluster time, with a chance of ``rate`` events per hour, :class:`Churn` picks one of: a migration
(``migrate``, of a guest HA does not manage), an HA migration (``ha-migrate``), an admin putting a running guest
under HA (``ha-add``), a node lost (``node-loss``: power or network, back after 5 to 20 minutes; HA fences it and
recovers its services), a start failure (``start-failure``: an HA service whose starts fail on every node is
relocated and ends in ``error``; an admin repairs it 10 to 30 minutes later, disabling and starting it again),
maintenance (``maintenance``: ``node-maintenance enable``, disabled 10 to 30 minutes later), or a load spike
(``load-spike``: a node's CPU busy for 3 to 15 minutes). What ends later is logged when it does
(``node-return``, ``maintenance-end``, ``repair`` and ``restart``, ``load-spike-end``). Each is a
:class:`ChurnEvent` in :attr:`Churn.events`.

Everything is drawn from the seed and the cluster's state, on ticks at fixed moments of cluster time, so the same
seed on the same scenario, with the clock moved the same way, tells the same story. No HTTP here: the server wires
it (``pvemock serve --churn SEED``) and serves the events (``GET /pvemock-api/events``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

#: Seconds of cluster time between two draws.
TICK = 60
#: Events kept (the oldest are dropped).
EVENTS_KEPT = 5000
KINDS = ("migrate", "ha-migrate", "ha-add", "node-loss", "start-failure", "maintenance", "load-spike")
_WEIGHTS = {"migrate": 3, "ha-migrate": 2, "ha-add": 1, "node-loss": 1, "start-failure": 1, "maintenance": 1,
            "load-spike": 2}  # fmt: skip


@dataclass(frozen=True)
class ChurnEvent:
    """One thing that happened: when (cluster time), what kind, to what (node, guest or sid), and a sentence."""

    time: int
    kind: str
    target: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"time": self.time, "kind": self.kind, "target": self.target, "message": self.message}


@dataclass(frozen=True)
class ChurnSettings:
    """``seed``; ``rate``: events per hour of cluster time (on average); ``max_down``: nodes down at once."""

    seed: int | str
    rate: float = 12.0
    max_down: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, str)):
            raise ValueError(f"churn seed must be an integer or a string, not {self.seed!r}")
        if not 0 < self.rate <= 60:
            raise ValueError(f"churn rate must be above 0 and at most 60 events an hour, not {self.rate!r}")
        if self.max_down < 0:
            raise ValueError(f"churn max_down must be 0 or more, not {self.max_down!r}")


@dataclass
class _Undo:
    when: int
    kind: str
    target: str


@dataclass
class Churn:
    """Drives a cluster with seeded events (see the module docstring); :meth:`attach` it to a cluster."""

    settings: ChurnSettings
    events: list[ChurnEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cluster: FakeCluster | None = None
        self.rng = random.Random()
        self._undo: list[_Undo] = []
        self._spikes: dict[str, float] = {}

    def attach(self, cluster: FakeCluster) -> None:
        """Start the story (again) on ``cluster`` from now: the seed's first event comes first."""
        self.cluster = cluster
        self.rng = random.Random(f"pvemock-churn:{self.settings.seed}")
        self._undo = []
        self._spikes = {}
        self.events = []
        cluster.clock.every(TICK, self._tick)

    def settings_json(self) -> dict[str, Any]:
        return {"seed": self.settings.seed, "rate": self.settings.rate, "max_down": self.settings.max_down}

    # ---- the loop -----------------------------------------------------------------------------------------------

    def _tick(self, moment: int) -> None:
        cluster = self.cluster
        if cluster is None:
            return
        for undo in [undo for undo in self._undo if undo.when <= moment]:
            self._undo.remove(undo)
            self._run_undo(undo)
        if self.rng.random() >= self.settings.rate / (3600 / TICK):
            return
        kinds = [kind for kind in KINDS if self._possible(kind)]
        if not kinds:
            return
        kind = self.rng.choices(kinds, weights=[_WEIGHTS[kind] for kind in kinds])[0]
        try:
            getattr(self, "_" + kind.replace("-", "_"))()
        except PVEError as error:  # the cluster refused (a lock, no quorum): that is part of the story too
            self._log(kind, "-", f"{kind} refused: {error.message.strip()}")
        cluster.revision.touch()

    def _log(self, kind: str, target: str, message: str) -> None:
        assert self.cluster is not None
        self.events.append(ChurnEvent(self.cluster.clock.now(), kind, target, message))
        if len(self.events) > EVENTS_KEPT:
            del self.events[: EVENTS_KEPT // 5]

    def _later(self, low: int, high: int, kind: str, target: str) -> None:
        assert self.cluster is not None
        self._undo.append(_Undo(self.cluster.clock.now() + self.rng.randint(low, high) * 60, kind, target))

    # ---- what may happen now --------------------------------------------------------------------------------------

    def _up_nodes(self) -> list[str]:
        assert self.cluster is not None
        busy = {undo.target for undo in self._undo if undo.kind in ("node-loss", "maintenance")}
        return [node.name for node in self.cluster.nodes if node.online and node.name not in busy]

    def _ha_sids(self, running: bool = True) -> list[str]:
        cluster = self.cluster
        assert cluster is not None
        if not cluster.ha.active:
            return []
        status = cluster.ha.manager_status.get("service_status") or {}
        repairing = {undo.target for undo in self._undo if undo.kind in ("start-failure", "restart")}
        found = []
        for sid in sorted(cluster.ha.service_config):
            guest = cluster.ha.guest_of(sid)
            state = (status.get(sid) or {}).get("state")
            if guest is None or sid in repairing or (running and (state != "started" or not guest.running)):
                continue
            found.append(sid)
        return found

    def _plain_guests(self) -> list[Any]:
        cluster = self.cluster
        assert cluster is not None
        return [
            guest
            for guest in sorted(cluster.guests, key=lambda guest: guest.vmid)
            if guest.lock is None
            and not guest.config.get("template")
            and cluster.find_node(guest.node) is not None
            and cluster.node(guest.node).online
            and not (cluster.ha.active and cluster.ha.is_ha_managed(guest))
        ]

    def _pending(self, kind: str) -> int:
        return sum(1 for undo in self._undo if undo.kind == kind)

    def _possible(self, kind: str) -> bool:
        cluster = self.cluster
        assert cluster is not None
        up = self._up_nodes()
        if kind == "migrate":
            return len(up) > 1 and bool(self._plain_guests())
        if kind == "ha-migrate":
            return len(up) > 1 and bool(self._ha_sids())
        if kind == "ha-add":
            managed = len(cluster.ha.service_config)
            return managed * 2 < len(cluster.guests) and any(guest.running for guest in self._plain_guests())
        # nodes down or in maintenance: at most max_down at once (at least one node stays free for HA to use)
        away = sum(1 for node in cluster.nodes if not node.online) + self._pending("maintenance")
        if kind == "node-loss":
            quorum_left = (len(cluster.nodes) - away - 1) * 2 > len(cluster.nodes)
            return away < self.settings.max_down and quorum_left and bool(up)
        if kind == "start-failure":
            return len(up) > 1 and bool(self._ha_sids())
        if kind == "maintenance":
            return cluster.ha.active and len(up) > 1 and away < max(self.settings.max_down, 1)
        return any(name not in self._spikes for name in up)  # load-spike

    # ---- the events -----------------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        cluster = self.cluster
        assert cluster is not None
        guest = self.rng.choice(self._plain_guests())
        target = self.rng.choice([name for name in self._up_nodes() if name != guest.node] or [guest.node])
        if target == guest.node:
            return
        source = guest.node
        running = guest.running
        if guest.kind == "qemu":
            guest.migrate(target, online=running, with_local_disks=True)
        else:  # a running container moves in restart mode (pct migrate --restart): no live migration for CTs
            guest.migrate(target, restart=running)
        mode = ("online" if guest.kind == "qemu" else "restart") if running else "offline"
        self._log(
            "migrate", str(guest.vmid), f"{mode} migration of {guest.noun} {guest.vmid} from {source} to {target}"
        )

    def _ha_migrate(self) -> None:
        cluster = self.cluster
        assert cluster is not None
        sid = self.rng.choice(self._ha_sids())
        guest = cluster.ha.guest_of(sid)
        assert guest is not None
        target = self.rng.choice([name for name in self._up_nodes() if name != guest.node] or [guest.node])
        if target == guest.node:
            return
        source = guest.node
        # as from the GUI: a migration of an HA guest is an 'hamigrate' task asking the CRM (qemu-server, pve-container)
        if guest.kind == "qemu":
            guest.migrate(target, online=guest.running)
        else:
            guest.migrate(target, restart=guest.running)
        self._log(
            "ha-migrate", sid, f"HA migration of {sid} from {source} to {target} (ha-manager migrate {sid} {target})"
        )

    def _ha_add(self) -> None:
        cluster = self.cluster
        assert cluster is not None
        guest = self.rng.choice([guest for guest in self._plain_guests() if guest.running])
        sid = cluster.ha.add_resource(guest.vmid, state="started", max_restart=1, max_relocate=1)
        self._log("ha-add", sid, f"ha-manager add {sid} --state started --max_restart 1 --max_relocate 1")

    def _node_loss(self) -> None:
        cluster = self.cluster
        assert cluster is not None
        name = self.rng.choice(self._up_nodes())
        how = self.rng.choice(["power", "network"])
        if how == "power":
            cluster.set_node_online(name, False)
            self._log("node-loss", name, f"node {name} lost power")
        else:
            cluster.ha.set_network(name, False)
            self._log("node-loss", name, f"node {name} lost its network")
        self._later(5, 20, "node-loss", name)

    def _start_failure(self) -> None:
        cluster = self.cluster
        assert cluster is not None
        sid = self.rng.choice(self._ha_sids())
        guest = cluster.ha.guest_of(sid)
        assert guest is not None
        target = self.rng.choice([name for name in self._up_nodes() if name != guest.node])
        cluster.ha.fail_starts(sid, 1000)
        cluster.ha.relocate(sid, target)
        self._log("start-failure", sid, f"{sid} fails to start on every node: relocated to {target}, heading to error")
        self._later(10, 30, "start-failure", sid)

    def _maintenance(self) -> None:
        cluster = self.cluster
        assert cluster is not None
        name = self.rng.choice(self._up_nodes())
        cluster.ha.enable_maintenance(name)
        self._log("maintenance", name, f"ha-manager crm-command node-maintenance enable {name}")
        self._later(10, 30, "maintenance", name)

    def _load_spike(self) -> None:
        cluster = self.cluster
        assert cluster is not None
        name = self.rng.choice([name for name in self._up_nodes() if name not in self._spikes])
        node = cluster.node(name)
        self._spikes[name] = node.cpu_load
        node.cpu_load = round(self.rng.uniform(0.7, 0.98), 4)
        self._log("load-spike", name, f"load spike on {name}: CPU at {node.cpu_load:.0%}")
        self._later(3, 15, "load-spike", name)

    def _run_undo(self, undo: _Undo) -> None:
        cluster = self.cluster
        assert cluster is not None
        try:
            if undo.kind == "node-loss" and cluster.find_node(undo.target) is not None:
                if not cluster.ha.power.get(undo.target, True):
                    cluster.set_node_online(undo.target, True)
                else:
                    cluster.ha.set_network(undo.target, True)
                self._log("node-return", undo.target, f"node {undo.target} is back")
            elif undo.kind == "maintenance" and cluster.find_node(undo.target) is not None:
                cluster.ha.disable_maintenance(undo.target)
                self._log(
                    "maintenance-end", undo.target, f"ha-manager crm-command node-maintenance disable {undo.target}"
                )
            elif undo.kind == "start-failure" and undo.target in cluster.ha.service_config:
                # the admin's way out of 'error' (pve-ha-manager: only 'disabled' is accepted there), then a start
                cluster.ha.fail_starts(undo.target, 0)
                cluster.ha.update_resource(undo.target, state="disabled")
                self._log("repair", undo.target, f"ha-manager set {undo.target} --state disabled (repairing it)")
                self._undo.append(_Undo(cluster.clock.now() + 2 * TICK, "restart", undo.target))
            elif undo.kind == "restart" and undo.target in cluster.ha.service_config:
                cluster.ha.update_resource(undo.target, state="started")
                self._log("restart", undo.target, f"ha-manager set {undo.target} --state started")
            elif undo.kind == "load-spike" and cluster.find_node(undo.target) is not None:
                cluster.node(undo.target).cpu_load = self._spikes.pop(undo.target, 0.01)
                self._log("load-spike-end", undo.target, f"load on {undo.target} back to normal")
        except PVEError as error:
            self._log(undo.kind, undo.target, f"undoing {undo.kind} of {undo.target} refused: {error.message.strip()}")
