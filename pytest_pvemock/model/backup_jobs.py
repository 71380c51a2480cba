"""Which guests the cluster's backup jobs cover (``jobs.cfg`` vzdump jobs, as ``/cluster/backup`` stores them).

A port of ``PVE::VZDump::get_included_guests`` (pve-manager PVE/VZDump.pm line 1580, commit 14a22df3): a job takes
its pool's guests, else its ``vmid`` list, else with ``all`` every guest but the ``exclude`` list; ``node`` limits
it to the guests on that node. Disabled jobs count too (``get_included_vmids`` in PVE/API2/Cluster/BackupInfo.pm
does not look at ``enabled``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pytest_pvemock.model.config_store import config_store_of
from pytest_pvemock.model.guest_config import drive_options

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest

BACKUP_JOBS = "/cluster/backup"


def _vmid_list(text: Any) -> set[int]:
    return {int(part) for part in re.split(r"[\s,;]+", str(text or "")) if part.isdigit()}


def _truthy(value: Any) -> bool:
    return str(value).strip() not in ("", "0", "false", "no", "off", "None")


def included_guests(cluster: FakeCluster, job: dict[str, Any]) -> dict[str, list[int]]:
    """``get_included_guests``: the job's VMIDs per node, VMIDs of guests that no longer exist under ``""``
    (nodes in name order, ``""`` last; VMIDs ascending)."""
    pool_id = job.get("pool")
    if pool_id:
        pool = cluster.pool(str(pool_id))
        vmids = set(pool.vmids) if pool is not None else set()
    elif job.get("vmid"):
        vmids = _vmid_list(job["vmid"])
    elif _truthy(job.get("all", 0)) or job.get("exclude") is not None:
        vmids = {guest.vmid for guest in cluster.guests} - _vmid_list(job.get("exclude"))
    else:
        return {}
    node = job.get("node")
    per_node: dict[str, list[int]] = {}
    for vmid in sorted(vmids):
        guest = cluster.find_guest(vmid)
        if guest is None:
            per_node.setdefault("", []).append(vmid)
        elif not node or guest.node == str(node):
            per_node.setdefault(guest.node, []).append(vmid)
    return {name: per_node[name] for name in sorted(per_node, key=lambda name: (name == "", name))}


def guests_of_job(cluster: FakeCluster, job: dict[str, Any]) -> set[int]:
    """The VMIDs of existing guests one vzdump job backs up."""
    return {vmid for node, vmids in included_guests(cluster, job).items() if node for vmid in vmids}


def backed_up_vmids(cluster: FakeCluster) -> set[int]:
    """Every VMID that at least one vzdump job includes."""
    jobs = config_store_of(cluster).section(BACKUP_JOBS).records.values()
    covered: set[int] = set()
    for job in jobs:
        if job.get("type", "vzdump") == "vzdump":
            covered |= guests_of_job(cluster, job)
    return covered


_QEMU_DRIVES = (
    *(f"ide{index}" for index in range(4)),
    *(f"scsi{index}" for index in range(31)),
    *(f"virtio{index}" for index in range(16)),
    *(f"sata{index}" for index in range(6)),
    "efidisk0",
    "tpmstate0",
)  # qemu-server src/PVE/QemuServer/Drive.pm valid_drive_names (the order foreach_volume walks)
_LXC_MOUNTS = ("rootfs", *(f"mp{index}" for index in range(256)))


def backup_volumes(guest: Guest) -> list[tuple[str, str, bool, str]]:
    """(config key, volume, included, reason) for each volume of the guest, in PVE's order.

    QEMU: ``get_backup_volumes`` of qemu-server src/PVE/QemuConfig.pm lines 181-212 (commit e6352be6): every drive but
    CD-ROMs, included unless ``backup=0``, the reason ``backup=no`` when ``backup`` is set at all (even to 1) and
    ``backup=yes`` otherwise; an EFI disk without OVMF is left out. LXC: ``mountpoint_backup_enabled`` of
    pve-container src/PVE/LXC/Config.pm lines 66-86 (commit 94f55852): the root file system always, bind and
    device mounts never, volume mount points when ``backup=1``.
    """
    config = guest.config
    found = []
    if guest.kind == "qemu":
        for key in _QEMU_DRIVES:
            if key not in config:
                continue
            volume, options = drive_options(str(config[key]))
            if options.get("media") == "cdrom":
                continue
            included, reason = _truthy(options.get("backup", 1)), "backup=" + ("no" if "backup" in options else "yes")
            if key.startswith("efidisk") and config.get("bios") != "ovmf":
                included, reason = False, "efidisk but no OVMF BIOS"
            found.append((key, volume, included, reason))
    else:
        for key in _LXC_MOUNTS:
            if key not in config:
                continue
            volume, options = drive_options(str(config[key]), "volume")
            if key == "rootfs":
                included, reason = True, "rootfs"
            elif volume.startswith("/"):
                included, reason = False, "not a volume"
            elif _truthy(options.get("backup", 0)):
                included, reason = True, "enabled"
            else:
                included, reason = False, "disabled"
            found.append((key, volume, included, reason))
    return found
