"""A guest's row in ``GET /nodes/{node}/{qemu,lxc}`` and its ``GET .../status/current``, as PVE renders them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.model.guest_config import NET_KEYS, QEMU_DISK_KEYS
from pytest_pvemock.model.guests import Container, Guest, QemuVM
from pytest_pvemock.model.release_platform import platform_of

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster


def guest_list_row(cluster: FakeCluster, guest: Guest) -> dict[str, Any]:
    """A row of ``GET /nodes/{node}/qemu`` or ``.../lxc``."""
    if isinstance(guest, QemuVM):
        return _qemu_list_row(cluster, guest)
    assert isinstance(guest, Container)
    vmid: int | str = guest.vmid if cluster.has("lxc-list-vmid-integer") else str(guest.vmid)
    return _container_status(cluster, guest, vmid, {})


def guest_current_status(cluster: FakeCluster, guest: Guest) -> dict[str, Any]:
    """``GET .../status/current``: short while stopped, with the runtime details while running."""
    if isinstance(guest, QemuVM):
        return _qemu_current_status(cluster, guest)
    assert isinstance(guest, Container)
    return _container_status(cluster, guest, guest.vmid, {"ha": guest.ha_status()})


def _add_flags(guest: Guest, data: dict[str, Any]) -> None:
    """``template``, ``lock`` and ``tags`` as the node's guest lists and ``status/current`` show them."""
    if guest.template:
        data["template"] = 1
    if guest.lock:
        data["lock"] = guest.lock
    if guest.config.get("tags"):
        data["tags"] = ";".join(guest.tags)


# ---- QEMU -----------------------------------------------------------------------------------------------------


def _qemu_list_row(cluster: FakeCluster, vm: QemuVM) -> dict[str, Any]:
    """``cpus`` not ``maxcpu``, no ``type``, ``pid`` only when running."""
    usage = vm.usage()
    entry: dict[str, Any] = {
        "vmid": vm.vmid,
        "name": vm.name,
        "status": vm.status,
        "uptime": vm.uptime(),
        "cpus": vm.maxcpu,
        "maxmem": vm.maxmem,
        "maxdisk": vm.maxdisk,
        "disk": 0,
        "cpu": usage["cpu"],
        "mem": usage["mem"],
        "netin": usage["netin"],
        "netout": usage["netout"],
        "diskread": usage["diskread"],
        "diskwrite": usage["diskwrite"],
    }
    if cluster.has("memhost"):
        entry["memhost"] = vm.memhost(usage["mem"])
    if vm.pid is not None:
        entry["pid"] = vm.pid
    _add_flags(vm, entry)
    return entry


def _qemu_current_status(cluster: FakeCluster, vm: QemuVM) -> dict[str, Any]:
    usage = vm.usage()
    data: dict[str, Any] = {
        "vmid": vm.vmid,
        "name": vm.name,
        "status": vm.status,
        "qmpstatus": vm.qmpstatus,
        "uptime": vm.uptime(),
        "cpus": vm.maxcpu,
        "cpu": usage["cpu"],
        "maxmem": vm.maxmem,
        "mem": usage["mem"],
        "maxdisk": vm.maxdisk,
        "disk": 0,
        "netin": usage["netin"],
        "netout": usage["netout"],
        "ha": vm.ha_status(),
    }
    if cluster.has("memhost"):
        data["memhost"] = vm.memhost(usage["mem"])
    if vm.running:
        data.update(_qemu_runtime_details(cluster, vm, usage))
    _add_flags(vm, data)
    return data


def _qemu_runtime_details(cluster: FakeCluster, vm: QemuVM, usage: dict[str, Any]) -> dict[str, Any]:
    platform = platform_of(cluster.version)
    balloon = vm.maxmem
    free = max(balloon - usage["mem"] - 87_654_321, 0)
    nics = {
        f"tap{vm.vmid}i{key[3:]}": {"netin": usage["netin"], "netout": usage["netout"]}
        for key in vm.config
        if NET_KEYS.match(key)
    }
    return {
        "pid": vm.pid,
        "diskread": usage["diskread"],
        "diskwrite": usage["diskwrite"],
        "running-machine": platform.machine,
        "running-qemu": platform.qemu,
        "balloon": balloon,
        "freemem": free,
        "ballooninfo": {
            "actual": balloon,
            "max_mem": balloon,
            "total_mem": balloon - 81_920_000,
            "free_mem": free,
            "last_update": cluster.clock.now(),
        },
        "nics": nics,
        "agent": 1 if str(vm.config.get("agent", "0")).split(",")[0] in ("1", "enabled=1") else 0,
        "spice": 0,
        "shares": int(vm.config.get("shares", 1000)),
        "balloon_min": balloon,
        "blockstat": _qemu_blockstat(vm, usage),
        "proxmox-support": {
            "pbs-dirty-bitmap": True,
            "pbs-dirty-bitmap-savevm": True,
            "pbs-dirty-bitmap-migration": True,
            "query-bitmap-info": True,
            "pbs-masterkey": True,
            "backup-max-workers": True,
            "backup-fleecing": True,
            "pbs-library-version": "1.5.2 (UNKNOWN)",
        },
    }


def _qemu_blockstat(vm: QemuVM, usage: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """QEMU's ``query-blockstats`` per drive: the boot disk carries the guest's I/O, CD-ROMs a few reads."""
    stats: dict[str, dict[str, Any]] = {}
    disks = vm.volumes()
    drives = [key for key in vm.config if QEMU_DISK_KEYS.match(key) and not key.startswith(("efi", "tpm"))]
    boot_disk = next(iter(disks), None)
    maxdisk = vm.maxdisk
    for index, key in enumerate(drives):
        busy = key == boot_disk
        read = usage["diskread"] if busy else 344_348 * int(key not in disks)
        written = usage["diskwrite"] if busy else 0
        stats[key] = {
            "rd_bytes": read,
            "wr_bytes": written,
            "rd_operations": read // 41_677,
            "wr_operations": written // 9_621,
            "flush_operations": written // 97_801,
            "unmap_operations": 0,
            "rd_total_time_ns": read * 11,
            "wr_total_time_ns": written * 43,
            "flush_total_time_ns": written * 5,
            "unmap_total_time_ns": 0,
            "rd_merged": 0,
            "wr_merged": 0,
            "unmap_merged": 0,
            "unmap_bytes": 0,
            "wr_highest_offset": min(written, maxdisk),
            "idle_time_ns": 4_427_685_914 + index,
            "failed_rd_operations": 0,
            "failed_wr_operations": 0,
            "failed_flush_operations": 0,
            "failed_unmap_operations": 0,
            "invalid_rd_operations": 0,
            "invalid_wr_operations": 0,
            "invalid_flush_operations": 0,
            "invalid_unmap_operations": 0,
            "account_failed": True,
            "account_invalid": True,
            "timed_stats": [],
        }
    return stats


# ---- LXC ------------------------------------------------------------------------------------------------------


def _container_status(
    cluster: FakeCluster, ct: Container, vmid: int | str, before_usage: dict[str, Any]
) -> dict[str, Any]:
    """What the list row (``type: lxc``, swap figures, ``pid`` only when running) and ``status/current`` share;
    ``before_usage`` goes before the usage figures."""
    data: dict[str, Any] = {
        "vmid": vmid,
        "name": ct.name,
        "type": "lxc",
        "status": ct.status,
        "uptime": ct.uptime(),
        "cpus": ct.maxcpu,
        "maxmem": ct.maxmem,
        "maxswap": ct.maxswap,
        "maxdisk": ct.maxdisk,
        "swap": ct.swap_used(),
        **before_usage,
        **ct.usage(),
    }
    if cluster.has("lxc-pressure") and ct.running:
        # read from the running container's cgroup only (pve-container src/PVE/LXC.pm lines 361-367, 94f55852)
        data.update(_container_pressure(ct))
    if ct.pid is not None:
        data["pid"] = ct.pid
    _add_flags(ct, data)
    return data


def _container_pressure(ct: Container) -> dict[str, str]:
    cpu = ct.run_figures().get("cpu", 0)
    return {
        "pressurecpusome": f"{cpu * 10:.2f}",
        "pressurecpufull": f"{cpu * 4:.2f}",
        "pressureiosome": "0.00",
        "pressureiofull": "0.00",
        "pressurememorysome": "0.00",
        "pressurememoryfull": "0.00",
    }
