"""A guest that can replicate: only volumes on a ZFS storage do (pve-manager PVE/CLI/pvesr.pm 29-31, qemu-server
src/PVE/QemuConfig.pm get_replicatable_volumes 136-178: 'missing replicate feature' on any other)."""

from __future__ import annotations

from typing import Any

ZFS = "local-zfs"


def zfs_storage(cluster: Any, nodes: tuple[str, ...] = ("pve1", "pve2")) -> None:
    """``local-zfs`` (``rpool/data``, as the installer makes it) on ``nodes``."""
    if cluster.storage(ZFS) is None:
        cluster.add_storage(ZFS, "zfspool", ["images", "rootdir"], nodes=list(nodes),
                            options={"pool": "rpool/data", "sparse": 1})  # fmt: skip


def zfs_vm(cluster: Any, vmid: int = 120, node: str = "pve1", status: str = "running", **options: Any) -> Any:
    """A VM on ``node`` with its disk on ``local-zfs`` (of pve1 and pve2)."""
    zfs_storage(cluster)
    return cluster.add_vm(vmid, node, name=f"zfs{vmid}", status=status, storage=ZFS, disk_gib=16, **options)
