"""Backups on a storage: ``prunebackups`` (PVE's retention: the dry run and the prune), ``vzdump/extractconfig``
(the guest config an archive carries) and ``file-restore/list`` (PBS only), from :mod:`pytest_pvemock.model.backups`.

Sources: pve-storage 0c56bad8 ``src/PVE/API2/Storage/PruneBackups.pm`` ``dryrun`` 15-115 and ``delete`` 117-195,
``FileRestore.pm`` ``list`` 16-111 and ``Storage.pm`` ``check_volume_access`` 619-650; pve-manager 14a22df3
``PVE/API2/VZDump.pm`` ``extractconfig`` 269-313.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NoReturn

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model import backups
from pytest_pvemock.model.tasks import Task
from pytest_pvemock.model.volumes import is_file_storage, parse_volid

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.storage import Storage


@handles("GET", "/nodes/{node}/storage/{storage}/prunebackups")
def prune_backups_dry_run(ctx: HandlerContext) -> list[dict[str, Any]]:
    cluster = ctx.cluster
    node = cluster.require_node_reachable(str(ctx.params["node"])).name
    storage = cluster.storage(str(ctx.params["storage"]))
    if storage is None:
        raise PVEError(f"storage '{ctx.params['storage']}' does not exist")
    given = ctx.params.get("prune-backups")
    keep = backups.parse_keep(str(given)) if given is not None else None
    vmid = ctx.params.get("vmid")
    return backups.prune_selection(
        cluster, storage, node, keep, int(vmid) if vmid is not None else None, ctx.params.get("type")
    )


@handles("DELETE", "/nodes/{node}/storage/{storage}/prunebackups")
def prune_backups(ctx: HandlerContext) -> str:
    """PruneBackups.pm ``delete`` 117-195: the privileges before the worker, then a ``prunebackups`` task (id
    ``[VMID@]STORAGE``) that runs Storage.pm ``prune_backups`` (its refusals are the task's) and removes what it marks
    ``remove``, logging each as Plugin.pm ``prune_backups`` does."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(str(ctx.params["node"])).name
    storeid = str(ctx.params["storage"])
    vmid = int(ctx.params["vmid"]) if ctx.params.get("vmid") is not None else None
    given = ctx.params.get("prune-backups")
    keep = backups.parse_keep(str(given)) if given is not None else None
    authid = ctx.principal.authid
    checker = PermissionChecker(cluster)
    if vmid is not None:
        checker.check(authid, f"/storage/{storeid}", ["Datastore.AllocateSpace"])
        checker.check(authid, f"/vms/{vmid}", ["VM.Backup"])
    else:
        checker.check(authid, f"/storage/{storeid}", ["Datastore.Allocate"])

    def work(task: Task) -> None:
        storage = cluster.storage(storeid)
        if storage is None:
            raise PVEError(f"storage '{storeid}' does not exist")
        marked = backups.prune_selection(cluster, storage, node, keep, vmid, ctx.params.get("type"))
        removed = [entry["volid"] for entry in marked if entry.get("mark") == "remove"]
        task.log.extend(f"removing backup '{volid}'" for volid in removed)
        backups.remove_backups(cluster, storage, node, removed)

    task_id = f"{vmid}@{storeid}" if vmid is not None else storeid
    return cluster.tasks.start(node, "prunebackups", task_id, authid, work=work).upid


def _volume_id(volid: str) -> tuple[str, str]:
    """Plugin.pm ``parse_volume_id``: (storage, volume name), or two empty strings for what is no volume ID."""
    match = re.match(r"^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$", volid, re.IGNORECASE | re.DOTALL)
    return (match[1], match[2]) if match is not None else ("", "")


def _require_backup(cluster: FakeCluster, storage: Storage, volid: str) -> dict[str, Any]:
    """``check_volume_access`` with content ``backup``: the plugin's ``parse_volname`` (each dies in its own words on
    a name it does not know), then the content type; the archive's info (:func:`backups.archive_info`)."""
    volname = volid.split(":", 1)[1]
    info = backups.archive_info(cluster, volname) if volname.startswith("backup/") else None
    if info is not None:
        return info
    if storage.plugintype == "pbs":  # PBSPlugin.pm parse_volname 607-628: backup/<type>/<id>/<time>
        snapshot = re.match(r"^backup/([^\s_]+)/([^\s_]+)/([^\s_]+)$", volname)
        if snapshot is None:
            raise PVEError(f"unable to parse PBS volume name '{volname}'")
        return {"type": snapshot[1], "vmid": int(snapshot[2]) if snapshot[2].isdigit() else None}
    if is_file_storage(storage.plugintype):
        if re.match(r"^(iso|vztmpl|snippets|import)/[^/]+$|^\d+/[^/]+$", volname) is None:
            raise PVEError(f"unable to parse directory volume name '{volname}'")
    elif parse_volid(volid) is None:
        kind = {"lvm": "lvm", "lvmthin": "lvm", "zfspool": "zfs", "rbd": "rbd"}.get(storage.plugintype, "")
        raise PVEError(f"unable to parse {kind} volume name '{volname}'".replace("parse  volume", "parse volume"))
    raise PVEError(f"unable to use volume {volid} - content type needs to be 'backup'")


@handles("GET", "/nodes/{node}/vzdump/extractconfig")
def extract_config(ctx: HandlerContext) -> str:
    """VZDump.pm ``extractconfig``: ``check_volume_access`` for content ``backup``, then the archive's config."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(str(ctx.params["node"])).name
    volid = str(ctx.params["volume"])
    storeid, volname = _volume_id(volid)
    if not volname:  # a path: only root@pam may pass one (check_volume_access 650), and it is no volume ID
        if ctx.principal.authid != "root@pam":
            raise PVEError("Only root can pass arbitrary filesystem paths.")
        raise PVEError(f"unable to parse volume ID '{volid}'")
    storage = cluster.storage(storeid)
    if storage is None:
        raise PVEError(f"storage '{storeid}' does not exist")
    info = _require_backup(cluster, storage, volid)
    checker = PermissionChecker(cluster)
    authid = ctx.principal.authid
    vmid = info.get("vmid")
    # check_volume_access 630-644: Datastore.Allocate on the storage, else AllocateSpace and VM.Backup on the owner
    if not checker.check(authid, f"/storage/{storeid}", ["Datastore.Allocate"], noerr=True):
        checker.check(authid, f"/storage/{storeid}", ["Datastore.AllocateSpace"])
    if vmid is not None:  # extractconfig 306-309
        checker.check(authid, f"/vms/{vmid}", ["VM.Backup"])
    return backups.extract_config(cluster, node, volid)


@handles("GET", "/nodes/{node}/storage/{storage}/file-restore/list")
def file_restore_list(ctx: HandlerContext) -> NoReturn:
    """FileRestore.pm ``list`` 16-111: see :func:`_pbs_snapshot`."""
    _pbs_snapshot(ctx)


@handles("GET", "/nodes/{node}/storage/{storage}/file-restore/download")
def file_restore_download(ctx: HandlerContext) -> NoReturn:
    """FileRestore.pm ``download`` 148-236: the same checks as ``list``, in the same order, before the
    ``pbs-download`` worker streams the file: see :func:`_pbs_snapshot`."""
    _pbs_snapshot(ctx)


def _pbs_snapshot(ctx: HandlerContext) -> NoReturn:
    """What file-restore checks before it asks the PBS: the volume named on this storage, a backup the caller may
    read, and a PBS storage; then the snapshot, which the fake's PBS never holds contents of (PVE's message when the
    PBS does not find it)."""
    cluster = ctx.cluster
    cluster.require_node_reachable(str(ctx.params["node"]))
    storeid = str(ctx.params["storage"])
    volume = str(ctx.params["volume"])
    sid, name = _volume_id(volume)
    if name:
        if sid != storeid:
            raise ParameterError({"volume": f"storage ID mismatch ({sid} != {storeid})."})
        volname = name
    else:
        volname = volume if volume.startswith("backup/") else f"backup/{volume}"
    storage = cluster.storage(storeid)
    if storage is None:
        raise PVEError(f"storage '{storeid}' does not exist")
    _require_backup(cluster, storage, f"{storeid}:{volname}")
    if storage.plugintype != "pbs":
        raise ParameterError({"storage": "Only PBS storages supported for file-restore."})
    raise PVEError(f"unable to find snapshot '{volname}'")


#: The storage plugins with ``get_import_metadata`` (pve-storage 0c56bad8: Dir, NFS, CIFS, CephFS, BTRFS, ESXi).
IMPORTERS = ("dir", "nfs", "cifs", "cephfs", "btrfs", "esxi")


@handles("GET", "/nodes/{node}/storage/{storage}/import-metadata")
def import_metadata(ctx: HandlerContext) -> dict[str, Any]:
    """Status.pm ``get_import_metadata`` 1006-1122 and Storage.pm 2495-2507: the volume's access, a plugin with the
    importer API, then DirPlugin.pm 268-276's content and format checks before the OVF is read. The fake holds no
    OVF or OVA contents: a file the storage does not have fails where PVE's reader fails."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(str(ctx.params["node"])).name
    storeid = str(ctx.params["storage"])
    volname = str(ctx.params["volume"])
    storage = cluster.storage(storeid)
    if storage is None:
        raise PVEError(f"storage '{storeid}' does not exist")
    volid = f"{storeid}:{volname}"
    PermissionChecker(cluster).check(ctx.principal.authid, f"/storage/{storeid}", ["Datastore.Audit"])
    if storage.plugintype not in IMPORTERS:
        raise PVEError("storage does not support the importer API")
    if storage.plugintype == "esxi":  # ESXiPlugin.pm 292-311: a VM's .vmx, read from the mounted datastore
        if re.match(r"^([^/]+)/.*\.vmx$", volname) is None:
            raise PVEError(f"volume '{volname}' does not look like an importable vm config")
        raise PVEError(f"storage '{storeid}' is not activated")
    match = re.match(r"^(iso|vztmpl|snippets|import|backup|images|rootdir)/(.+)$|^\d+/[^/]+$", volname)
    if match is None:
        raise PVEError(f"unable to parse directory volume name '{volname}'")
    if match[1] != "import":
        raise PVEError(f"invalid content type '{match[1] or 'images'}'")
    fmt = volname.rsplit(".", 1)[-1] if "." in volname else ""
    if fmt not in ("ova", "ovf"):
        raise PVEError("invalid format")
    path = f"{storage.path or '/var/lib/vz'}/{volname}"
    if backups.backup_on(storage, node, volid) is None and not any(v.volid == volid for v in storage.volumes):
        if fmt == "ovf":  # read_ovf_file: file_get_contents
            raise PVEError(f"unable to open file '{path}' - No such file or directory")
        raise PVEError(f"command 'tar -xO --wildcards --occurrence=1 -f {path} '*.ovf'' failed: exit code 2")
    raise PVEError(f"OVF parser terminated unexpectedly trying to parse {path}")
