"""Cluster nodes: name, address, hardware, load figures and whether they are reachable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.model import figures
from pytest_pvemock.model.node_hardware import check_devices
from pytest_pvemock.model.nodes.subscription import SubscriptionRecord
from pytest_pvemock.model.revision import Watched

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.cluster_ha import ClusterHA

GIB = 1024**3
CLOCK_TICKS = 100  # USER_HZ: PVE's pstart counts these since boot

SUBSCRIPTION_LEVELS = ("", "c", "b", "s", "p")

CPU_MODELS = {
    4: "Intel(R) Xeon(R) E-2224 CPU @ 3.40GHz",
    8: "Intel(R) Core(TM) i7-6700 CPU @ 3.40GHz",
    12: "AMD Ryzen 5 5600G with Radeon Graphics",
    16: "AMD Ryzen 7 5700X 8-Core Processor",
    32: "AMD EPYC 7302P 16-Core Processor",
}


# /proc/cpuinfo's vendor_id and cpu family of each model (Intel Core and Xeon: 6; AMD Zen 2: 23, Zen 3: 25)
CPU_IDENTITY = {
    "Intel(R) Xeon(R) E-2224 CPU @ 3.40GHz": ("GenuineIntel", "6"),
    "Intel(R) Core(TM) i7-6700 CPU @ 3.40GHz": ("GenuineIntel", "6"),
    "AMD Ryzen 5 5600G with Radeon Graphics": ("AuthenticAMD", "25"),
    "AMD Ryzen 7 5700X 8-Core Processor": ("AuthenticAMD", "25"),
    "AMD EPYC 7302P 16-Core Processor": ("AuthenticAMD", "23"),
}


def default_ip(nodeid: int) -> str:
    """The address of node ``nodeid`` when none is given: the cluster's LAN, 192.168.100.11 for the first node."""
    return f"192.168.100.{10 + nodeid}"


@dataclass
class Node(Watched):
    """A cluster member. ``online=False`` makes it unreachable: calls routed to it fail with 595."""

    WATCHED = frozenset({"online", "boot_time", "level", "maxcpu", "maxmem", "maxdisk", "mem_used", "disk_used",
                         "cpu_load", "ip", "name", "stopped_units", "devices", "subscription",
                         "shop_keys"})  # fmt: skip

    name: str
    nodeid: int
    ip: str
    maxcpu: int
    maxmem: int
    maxdisk: int
    boot_time: int
    level: str = ""
    online: bool = True
    ssl_fingerprint: str = ""
    cpu_load: float = 0.0
    mem_used: int = 0
    disk_used: int = 0
    #: systemd units stopped through ``/nodes/{node}/services`` (every enabled unit starts again at boot).
    stopped_units: frozenset[str] = frozenset()
    #: Cards and sticks the admins added to the node's board (names of ``model/node_hardware.py`` ``ADD_ONS``).
    devices: tuple[str, ...] = ()
    #: ``/etc/subscription`` as ``PUT``/``POST /nodes/{node}/subscription`` left it (None: the key of ``level``).
    subscription: SubscriptionRecord | None = None
    #: Keys the Proxmox shop holds for this node's server ID: setting one of them checks ``active``.
    shop_keys: frozenset[str] = frozenset()
    _next_pid: int = field(default=1000, repr=False)
    #: The cluster the node belongs to (set by ``FakeCluster.add_node``); its power and network events go through it.
    _cluster: FakeCluster | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        name: str,
        nodeid: int,
        seed: int | str,
        now: int,
        ip: str | None = None,
        cpus: int = 16,
        memory_gib: float = 64,
        disk_gib: float = 930,
        level: str = "",
        online: bool = True,
        devices: tuple[str, ...] | list[str] = (),
    ) -> Node:
        """A node with figures drawn from ``seed`` (uptime of some days, a few GiB in use); ``devices``: the cards
        and sticks added to its board (``model/node_hardware.py`` ``ADD_ONS``)."""
        if level not in SUBSCRIPTION_LEVELS:
            raise ValueError(f"support level must be one of {SUBSCRIPTION_LEVELS}, not {level!r}")
        check_devices(devices)
        rng = figures.seeded(seed, "node", name)
        maxmem = int(memory_gib * GIB) - rng.randrange(180_000_000, 420_000_000)
        maxdisk = int(disk_gib * GIB) + rng.randrange(-2_000_000_000, 2_000_000_000)
        return cls(
            name=name,
            nodeid=nodeid,
            ip=ip or default_ip(nodeid),
            maxcpu=cpus,
            maxmem=maxmem,
            maxdisk=maxdisk,
            boot_time=now - rng.randrange(800_000, 6_500_000),
            level=level,
            online=online,
            devices=tuple(devices),
            ssl_fingerprint=figures.ssl_fingerprint(rng),
            cpu_load=figures.cpu_fraction(rng, 0.002, 0.03),
            mem_used=rng.randrange(int(maxmem * 0.05), int(maxmem * 0.2)),
            disk_used=rng.randrange(2_300_000_000, 11_000_000_000),
            _next_pid=rng.randrange(200_000, 3_000_000),
        )

    @property
    def status(self) -> str:
        return "online" if self.online else "offline"

    def uptime(self, now: int) -> int:
        return max(now - self.boot_time, 0) if self.online else 0

    def next_process(self, now: int) -> tuple[int, int]:
        """A fresh (pid, pstart) for a worker started at ``now``: pstart counts clock ticks since boot."""
        self._next_pid += 1 + (self._next_pid % 7)
        pstart = (now - self.boot_time) * CLOCK_TICKS + (self._next_pid % CLOCK_TICKS)
        return self._next_pid, pstart

    def cpu_model(self) -> str:
        return CPU_MODELS.get(self.maxcpu, "AMD EPYC 7302P 16-Core Processor")

    def cpu_identity(self) -> tuple[str, str]:
        """(vendor, family) of the node's CPU model, as ``/proc/cpuinfo`` names them."""
        return CPU_IDENTITY.get(self.cpu_model(), ("AuthenticAMD", "23"))

    # ---- events a test makes happen (they go through the cluster, so HA sees them) --------------------------

    def _ha(self) -> ClusterHA:
        cluster = self._cluster
        if cluster is None:
            raise RuntimeError(f"node '{self.name}' is not part of a cluster")
        return cluster.ha

    def power_off(self) -> None:
        """Pull the plug: guests die at once; HA fences the node (~60 s) and recovers its services."""
        self._ha().set_power(self.name, False)

    def power_on(self) -> None:
        self._ha().set_power(self.name, True)

    def cut_network(self) -> None:
        """The node leaves the cluster network but keeps running until its HA watchdog fences it."""
        self._ha().set_network(self.name, False)

    def restore_network(self) -> None:
        self._ha().set_network(self.name, True)

    def reboot(self) -> None:
        """A clean reboot: HA applies the datacenter's ``shutdown_policy`` first (``cluster.ha.shutdown_policy``)."""
        self._ha().shutdown_node(self.name, reboot=True)

    def shutdown(self) -> None:
        """A clean shutdown (the node stays off until :meth:`power_on`), after the HA ``shutdown_policy``."""
        self._ha().shutdown_node(self.name)

    def restart_lrm(self) -> None:
        """``systemctl restart pve-ha-lrm``."""
        self._ha().restart_lrm(self.name)

    def enable_maintenance(self) -> None:
        """``ha-manager crm-command node-maintenance enable``: HA services move away, the node stays up."""
        self._ha().enable_maintenance(self.name)

    def disable_maintenance(self) -> None:
        self._ha().disable_maintenance(self.name)

    def go_offline(self) -> None:
        self.online = False

    def go_online(self, now: int) -> None:
        if not self.online:
            self.online = True
            self.boot_time = now - 37
            self.stopped_units = frozenset()
            if self._cluster is not None:  # pveproxy starts at boot and reads its certificate files
                self._cluster.node_certificates.reload_proxy(self.name)

    def resource_entry(self, now: int, guests_mem: int = 0, guests_cpu: float = 0.0) -> dict[str, Any]:
        """The node as ``/cluster/resources`` shows it (without ``cgroup-mode`` and ``hastate``)."""
        entry: dict[str, Any] = {
            "id": f"node/{self.name}",
            "node": self.name,
            "type": "node",
            "status": self.status,
            "level": self.level,
            "maxcpu": self.maxcpu,
            "maxmem": self.maxmem,
            "maxdisk": self.maxdisk,
        }
        if self.online:
            entry["cpu"] = self.cpu(guests_cpu)
            entry["mem"] = self.mem_used + guests_mem
            entry["disk"] = self.disk_used
            entry["uptime"] = self.uptime(now)
        return entry

    def cpu(self, guests_cpu: float = 0.0) -> float:
        return float(f"{self.cpu_load + guests_cpu / max(self.maxcpu, 1):.15g}")
