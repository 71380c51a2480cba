"""``GET /nodes/{node}/qemu/{vmid}/feature``: whether every disk of the VM (or of one of its snapshots) supports
``snapshot``, ``clone`` or ``copy`` on its storage, and the nodes that see all of its storages (qemu-server
src/PVE/API2/Qemu.pm ``vm_feature`` lines 4261-4326, ``PVE::QemuConfig::has_feature`` lines 74-93,
``PVE::QemuServer::shared_nodes`` lines 2261-2295, commit e6352be6; the storage side in
:mod:`pytest_pvemock.model.storage_features`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.guest_config import LXC_VOLUME_KEYS, QEMU_DISK_KEYS, drive_options
from pytest_pvemock.model.storage_features import volume_has_feature
from pytest_pvemock.model.volumes import FILE_TYPES

if TYPE_CHECKING:
    from pytest_pvemock.model.guests import Guest


@handles("GET", "/nodes/{node}/qemu/{vmid}/feature")
def vm_feature(ctx: HandlerContext) -> dict[str, Any]:
    """``hasFeature`` and the ``nodes`` the VM could run on with all its storages (sorted; PVE: hash order)."""
    cluster = ctx.cluster
    cluster.require_node_reachable(ctx.params["node"])
    guest = cluster.guest_on(ctx.params["node"], ctx.params["vmid"], "qemu")
    snapname = ctx.params.get("snapname")
    config = _config_or_snapshot(guest, snapname)
    feature = str(ctx.params["feature"])
    nodes = {node.name for node in cluster.nodes}
    has_feature = True
    for key, value in config.items():
        if not QEMU_DISK_KEYS.match(key):
            continue
        volid, options = drive_options(str(value))
        storage = cluster.storage(volid.partition(":")[0]) if ":" in volid else None
        if storage is not None:  # shared_nodes: every drive, CD-ROMs too
            if not storage.enabled:
                nodes = set()
            elif storage.nodes:
                nodes &= set(storage.nodes)
            elif not storage.shared:
                nodes &= {guest.node}
        if options.get("media") == "cdrom":
            continue
        if storage is None or not volume_has_feature(storage.plugintype, feature, volid, snapname):
            has_feature = False
    return {"hasFeature": int(has_feature), "nodes": sorted(nodes)}


@handles("GET", "/nodes/{node}/lxc/{vmid}/feature")
def ct_feature(ctx: HandlerContext) -> dict[str, Any]:
    """``hasFeature`` of a container: every mount point's volume supports the feature (pve-container
    src/PVE/API2/LXC.pm ``vm_feature`` 1756-1820 and src/PVE/LXC/Config.pm ``has_feature`` 88-113 at 94f55852).
    Copy and clone ask for raw or subvol targets, so a file storage, whose clone makes qcow2, has no clone
    (pve-storage src/PVE/Storage/Plugin.pm 1603-1609 at 0c56bad8); a bind or device mount has no feature."""
    cluster = ctx.cluster
    guest = cluster.guest_on(ctx.params["node"], ctx.params["vmid"], "lxc")
    snapname = ctx.params.get("snapname")
    config = _config_or_snapshot(guest, snapname)
    feature = str(ctx.params["feature"])
    for key, value in config.items():
        if not LXC_VOLUME_KEYS.match(key):
            continue
        volid, _ = drive_options(str(value), "volume")
        storage = cluster.storage(volid.partition(":")[0]) if ":" in volid else None
        if storage is None:
            return {"hasFeature": 0}
        if feature == "clone" and storage.plugintype in FILE_TYPES:
            return {"hasFeature": 0}
        if not volume_has_feature(storage.plugintype, feature, volid, snapname):
            return {"hasFeature": 0}
    return {"hasFeature": 1}


def _config_or_snapshot(guest: Guest, snapname: Any) -> dict[str, Any]:
    """The config ``hasFeature`` looks at: the snapshot's when one is named (PVE's message when it is missing)."""
    if not snapname:
        return guest.config
    snapshot = guest.snapshots.get(str(snapname))
    if snapshot is None:
        raise PVEError(f"snapshot '{snapname}' does not exist")
    return snapshot
