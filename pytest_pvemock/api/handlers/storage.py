"""``/nodes/{node}/storage``: what each node sees of the storages (usage and content); ``storage_config`` has
the definitions."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.api.index import pve_index_listing
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.api.visibility import Visibility
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import storage_content
from pytest_pvemock.model.node_disks import storage_active
from pytest_pvemock.model.storage import Storage
from pytest_pvemock.model.volumes import is_file_storage, parse_volid


def _definition(ctx: HandlerContext) -> Storage:
    storage = ctx.cluster.storage(ctx.params["storage"])
    if storage is None:
        raise PVEError(f"storage '{ctx.params['storage']}' does not exist")
    return storage


def _on_node(ctx: HandlerContext) -> tuple[str, Storage]:
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    storage = _definition(ctx)
    if not storage.available_on(node):
        raise PVEError(f"storage '{storage.storage}' is not available on node '{node}'")
    return node, storage


def _node_status(ctx: HandlerContext, node: str, storage: Storage) -> dict[str, Any]:
    total, used, avail = ctx.cluster.storage_usage(storage.storage, node)
    active = storage.enabled and storage_active(ctx.cluster, storage, node)
    entry: dict[str, Any] = {
        "storage": storage.storage,
        "type": storage.plugintype,
        "content": storage.content_text,
        "shared": int(storage.shared),
        "enabled": int(storage.enabled),
        "active": int(active),
    }
    if storage.enabled:
        entry.update({"total": total, "used": used, "avail": avail, "used_fraction": used / total if total else 0})
    if storage.enabled and not active:  # storage_info's zeros, no used_fraction (Storage.pm 1466-1476, Status.pm 261)
        entry.update({"total": 0, "used": 0, "avail": 0})
        del entry["used_fraction"]
    return entry


@handles("GET", "/nodes/{node}/storage")
def node_storage(ctx: HandlerContext) -> list[dict[str, Any]]:
    """The storages the node can use, with usage; filters ``content``, ``enabled``, ``storage``, ``target``."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    params = ctx.params
    wanted_content = set(str(params.get("content", "")).replace(";", ",").split(",")) - {""}
    rows = []
    for storage in ctx.cluster.storages_on(node):
        if params.get("storage") not in (None, storage.storage):
            continue
        if params.get("enabled") and not storage.enabled:
            continue
        if wanted_content and not wanted_content & set(storage.content):
            continue
        target = params.get("target")
        if target and target != node and not (storage.shared and storage.available_on(target)):
            continue
        rows.append(_node_status(ctx, node, storage))
    return ordered_rows(ctx, Visibility(ctx).storages(rows), key="storage")  # Storage/Status.pm index 243-245


@handles("GET", "/nodes/{node}/storage/{storage}")
def node_storage_index(ctx: HandlerContext) -> list[dict[str, str]]:
    _on_node(ctx)
    return pve_index_listing(ctx.template, ctx.cluster.version) or []


@handles("GET", "/nodes/{node}/storage/{storage}/status")
def node_storage_status(ctx: HandlerContext) -> dict[str, Any]:
    node, storage = _on_node(ctx)
    entry = _node_status(ctx, node, storage)
    entry.pop("storage")
    entry.pop("used_fraction", None)
    return ordered(ctx, entry, storage.storage)


@handles("GET", "/nodes/{node}/storage/{storage}/content")
def node_storage_content(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Guest disks (from their configs) and the storage's own volumes (ISOs, templates, backups)."""
    node, storage = _on_node(ctx)
    content_filter = ctx.params.get("content")
    vmid_filter = ctx.params.get("vmid")
    rows: list[dict[str, Any]] = []
    listed: set[str] = set()
    for guest, volid, size in ctx.cluster.guest_volumes(storage.storage, node):
        if volid in storage.freed or volid in listed:
            continue
        listed.add(volid)
        content = "images" if guest.kind == "qemu" else "rootdir"
        if content_filter not in (None, content) or vmid_filter not in (None, guest.vmid):
            continue
        parsed = parse_volid(volid)
        fmt = parsed.format if parsed is not None else "raw"
        row: dict[str, Any] = {"volid": volid, "content": content, "format": fmt, "size": size, "vmid": guest.vmid}
        if parsed is not None and parsed.base_name and is_file_storage(storage.plugintype):
            row["parent"] = f"../{parsed.base_vmid}/{parsed.base_name}"  # Plugin.pm list_images 1666-1681
        row["used"] = size if storage.plugintype not in ("lvmthin", "zfspool", "rbd") else size // 3 + guest.vmid
        rows.append(row)
    for volume in storage.volumes:
        if volume.node not in (None, node) or volume.volid in listed:
            continue
        if content_filter not in (None, volume.content) or vmid_filter not in (None, volume.vmid):
            continue
        rows.append(volume.content_entry())
    return ordered_rows(ctx, rows, key="volid")


def _node(ctx: HandlerContext) -> str:
    return ctx.cluster.require_node_reachable(ctx.params["node"]).name


@handles("POST", "/nodes/{node}/storage/{storage}/upload")
def upload(ctx: HandlerContext) -> str:
    """A multipart upload (read by :func:`pytest_pvemock.api.params.decode_upload`): the ``imgcopy`` task."""
    data = ctx.upload.data if ctx.upload is not None else None
    task = storage_content.upload(
        ctx.cluster, _node(ctx), ctx.params["storage"], ctx.params, data, ctx.principal.authid
    )
    return task.upid


@handles("POST", "/nodes/{node}/storage/{storage}/download-url")
def download_url(ctx: HandlerContext) -> str:
    task = storage_content.download_url(
        ctx.cluster, _node(ctx), ctx.params["storage"], ctx.params, ctx.principal.authid
    )
    return task.upid


@handles("GET", "/nodes/{node}/query-url-metadata")
def query_url_metadata(ctx: HandlerContext) -> dict[str, Any]:
    _node(ctx)
    return storage_content.url_metadata(str(ctx.params["url"]))


@handles("POST", "/nodes/{node}/storage/{storage}/content")
def allocate_image(ctx: HandlerContext) -> str:
    """``vdisk_alloc``: a named image on the storage (answered by its volid, no task)."""
    node = _node(ctx)
    return storage_content.alloc_image(
        ctx.cluster,
        node,
        ctx.params["storage"],
        int(ctx.params["vmid"]),
        str(ctx.params["filename"]),
        str(ctx.params["size"]),
        ctx.params.get("format"),
    )


@handles("GET", "/nodes/{node}/storage/{storage}/content/{volume}")
def volume_info(ctx: HandlerContext) -> dict[str, Any]:
    return storage_content.volume_info(ctx.cluster, _node(ctx), ctx.params.get("storage"), str(ctx.params["volume"]))


@handles("PUT", "/nodes/{node}/storage/{storage}/content/{volume}")
def update_volume_attributes(ctx: HandlerContext) -> None:
    storage_content.update_attributes(
        ctx.cluster, _node(ctx), ctx.params.get("storage"), str(ctx.params["volume"]), ctx.params
    )


@handles("DELETE", "/nodes/{node}/storage/{storage}/content/{volume}")
def delete_volume(ctx: HandlerContext) -> str | None:
    """Content.pm delete 474-481: ``Datastore.Allocate`` on the storage (``Datastore.AllocateSpace`` and
    ``VM.Backup`` on the owner for a backup), then the ``imgdel`` task."""
    node = _node(ctx)
    volid, sid = storage_content.real_volume_id(ctx.params.get("storage"), str(ctx.params["volume"]))
    checker = PermissionChecker(ctx.cluster)
    storage = ctx.cluster.storage(sid)
    found = storage_content.find_volume(ctx.cluster, storage, node, volid) if storage is not None else None
    if found is not None and found.content == "backup" and found.vmid is not None:
        checker.check(ctx.principal.authid, f"/storage/{sid}", ["Datastore.AllocateSpace"])
        checker.check(ctx.principal.authid, f"/vms/{found.vmid}", ["VM.Backup"])
    else:
        checker.check(ctx.principal.authid, f"/storage/{sid}", ["Datastore.Allocate"])
    task = storage_content.free_volume(
        ctx.cluster, node, ctx.params.get("storage"), str(ctx.params["volume"]), ctx.principal.authid
    )
    if ctx.params.get("delay") and not task.running:
        if task.exitstatus not in ("OK",) and not str(task.exitstatus).startswith("WARNINGS"):
            raise PVEError(str(task.exitstatus))
        return None
    return task.upid
