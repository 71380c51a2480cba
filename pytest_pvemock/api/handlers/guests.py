"""What the QEMU and LXC endpoints share: lists, create, destroy, config, pending, status, actions, clone,
migrate and snapshots under ``/nodes/{node}/qemu`` and ``/nodes/{node}/lxc``.

Each handler finds the guest through the model (so a guest on another node gets PVE's "Configuration file ...
does not exist"), calls the model's action, and returns what PVE returns: a UPID for worker tasks, ``null``
for synchronous writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pytest_pvemock.api.handler import Handler, HandlerContext, handles
from pytest_pvemock.api.handlers.mappings import check_device_permissions
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.api.index import pve_index_listing
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.api.views.guest_status import guest_current_status, guest_list_row
from pytest_pvemock.api.visibility import Visibility
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model import guest_disks
from pytest_pvemock.model.guests import Guest, QemuVM, masked_config
from pytest_pvemock.model.start_stop_all import suspend_to_disk, vmstate_storage
from pytest_pvemock.schema.registry import get_registry

KINDS = ("qemu", "lxc")

# Parameters of the create/update calls that steer the call rather than being config options.
CREATE_CONTROL = {"node", "vmid", "archive", "force", "live-restore", "bwlimit", "unique", "ignore-unpack-errors",
                  "restore", "ha-managed"}  # fmt: skip
UPDATE_CONTROL = {"node", "vmid", "delete", "digest", "revert", "skiplock", "force", "background_delay"}

_LIST_SEPARATORS = re.compile(r"[,; ]+")


def guest_routes(method: str, suffix: str = "", kinds: tuple[str, ...] = KINDS) -> Callable[[Handler], Handler]:
    """Register ``func`` for ``method`` on ``/nodes/{node}/<kind><suffix>`` of each guest kind (qemu, lxc)."""

    def register(func: Handler) -> Handler:
        for kind in kinds:
            handles(method, f"/nodes/{{node}}/{kind}{suffix}")(func)
        return func

    return register


def _kind(ctx: HandlerContext) -> str:
    return "qemu" if ctx.template.startswith("/nodes/{node}/qemu") else "lxc"


def _guest(ctx: HandlerContext) -> Guest:
    ctx.cluster.require_node_reachable(ctx.params["node"])
    return ctx.cluster.guest_on(ctx.params["node"], ctx.params["vmid"], _kind(ctx))


def _flag(ctx: HandlerContext, name: str) -> bool:
    return bool(ctx.params.get(name))


def _list_param(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value if str(item)]
    return [item for item in _LIST_SEPARATORS.split(str(value)) if item]


def _snapshot(guest: Guest, snapname: str) -> dict[str, Any]:
    snap = guest.snapshots.get(snapname)
    if snap is None:
        raise PVEError(f"snapshot '{snapname}' does not exist")
    return snap


def _preconditions(ctx: HandlerContext, guest: Guest) -> dict[str, Any]:
    cluster = ctx.cluster
    local = [
        (volid, size)
        for storage, volid, size in guest.volume_list()
        if (definition := cluster.storage(storage)) is not None and not definition.shared
    ]
    allowed, blocked = [], {}
    for node in cluster.nodes:
        if node.name == guest.node or not node.online:
            continue
        missing = [
            storage
            for storage, _volid, _size in guest.volume_list()
            if (definition := cluster.storage(storage)) is not None and not definition.available_on(node.name)
        ]
        if missing:
            blocked[node.name] = {"unavailable_storages": missing}
        else:
            allowed.append(node.name)
    if guest.kind == "lxc":
        return {"running": int(guest.running), "allowed-nodes": allowed, "not-allowed-nodes": blocked}
    data: dict[str, Any] = {
        "running": int(guest.running),
        "allowed_nodes": allowed,
        "not_allowed_nodes": blocked,
        "local_disks": [{"volid": volid, "size": size, "cdrom": 0, "is_unused": 0} for volid, size in local],
        "local_resources": [],
        "mapped-resources": [],
        "mapped-resource-info": {},
    }
    if cluster.has("migrate-dbus-vmstate"):
        data["has-dbus-vmstate"] = 1
    return data


ONE = "/{vmid}"


@guest_routes("GET")
def list_guests(ctx: HandlerContext) -> list[dict[str, Any]]:
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    # qemu-server Qemu.pm vmlist 1112-1113, pve-container LXC.pm vmlist 129: VM.Audit per guest
    seen = Visibility(ctx)
    guests = [
        guest for guest in ctx.cluster.guests_on(node.name, _kind(ctx)) if seen.may(f"/vms/{guest.vmid}", "VM.Audit")
    ]
    return [ordered(ctx, guest_list_row(ctx.cluster, guest), guest.id) for guest in guests]


@guest_routes("POST")
def create_guest(ctx: HandlerContext) -> str:
    options = {key: value for key, value in ctx.params.items() if key not in CREATE_CONTROL}
    task = ctx.cluster.create_guest(
        _kind(ctx), ctx.params["node"], int(ctx.params["vmid"]), options, ctx.principal.authid
    )
    return str(task.upid)


@guest_routes("GET", ONE)
def guest_index(ctx: HandlerContext) -> list[dict[str, str]]:
    _guest(ctx)
    return pve_index_listing(ctx.template, ctx.cluster.version) or []


@guest_routes("DELETE", ONE)
def destroy_guest(ctx: HandlerContext) -> str:
    guest = _guest(ctx)
    task = guest.delete(
        ctx.principal.authid,
        purge=_flag(ctx, "purge"),
        skiplock=_flag(ctx, "skiplock"),
        destroy_unreferenced=_flag(ctx, "destroy-unreferenced-disks"),
    )
    return str(task.upid)


@guest_routes("GET", f"{ONE}/config")
def guest_config(ctx: HandlerContext) -> dict[str, Any]:
    guest = _guest(ctx)
    snapname = ctx.params.get("snapshot")
    if snapname:
        view = masked_config(dict(_snapshot(guest, snapname)))
        view["digest"] = guest.digest
    else:
        view = guest.config_view(current=_flag(ctx, "current"))
    return ordered(ctx, view, guest.id)


def _changes(ctx: HandlerContext) -> tuple[dict[str, Any], list[str]]:
    changes = {key: value for key, value in ctx.params.items() if key not in UPDATE_CONTROL}
    removals = _list_param(ctx.params.get("delete")) + _list_param(ctx.params.get("revert"))
    _check_known_options(ctx, "delete", _list_param(ctx.params.get("delete")))
    _check_known_options(ctx, "revert", _list_param(ctx.params.get("revert")))
    return changes, removals


def _check_known_options(ctx: HandlerContext, parameter: str, names: list[str]) -> None:
    """``delete=``/``revert=`` name config options (qemu-server Qemu.pm update_vm 2119-2146; pve-container
    API2/LXC/Config.pm 185-197): anything else is a parameter error before the config is read."""
    schema = get_registry(ctx.cluster.version).endpoint("PUT", f"/nodes/{{node}}/{_kind(ctx)}/{{vmid}}/config")
    body = schema.parameters_schema
    known = set(body.get("properties", {})) - UPDATE_CONTROL | ({"cdrom"} if _kind(ctx) == "qemu" else set())
    patterns = [re.compile(pattern) for pattern in body.get("patternProperties", {})]
    for name in names:
        if name not in known and not any(pattern.match(name) for pattern in patterns):
            raise ParameterError({parameter: f"unknown option '{name}'"})


@guest_routes("PUT", f"{ONE}/config")
def update_guest_config(ctx: HandlerContext) -> None:
    guest = _guest(ctx)
    changes, removals = _changes(ctx)
    if guest.kind == "qemu":
        check_device_permissions(ctx, guest.config, changes)
    guest.set_config(
        changes,
        delete=removals,
        digest=ctx.params.get("digest"),
        skiplock=_flag(ctx, "skiplock"),
        force=_flag(ctx, "force"),
    )
    return None


@guest_routes("PUT", f"{ONE}/unlink", kinds=("qemu",))
def unlink_disks(ctx: HandlerContext) -> None:
    """``update_vm`` with ``delete=idlist`` (qemu-server Qemu.pm unlink 2898-2930): detached disks become
    ``unusedN``; with ``force`` the volumes are removed."""
    guest = _guest(ctx)
    removals = _list_param(ctx.params.get("idlist"))
    _check_known_options(ctx, "delete", removals)
    guest.set_config({}, delete=removals, force=_flag(ctx, "force"))
    return None


@guest_routes("POST", f"{ONE}/template")
def convert_to_template(ctx: HandlerContext) -> str | None:
    """A ``qmtemplate``/``vztemplate`` task; pve-container answers ``null`` (LXC.pm template 1843, 1883: the
    worker's UPID is dropped), qemu-server the UPID, and before release 7.1-2 converted in the request (null)."""
    qemu = _kind(ctx) == "qemu"
    in_task = not qemu or ctx.cluster.has("qemu-template-worker")
    task = guest_disks.convert_to_template(_guest(ctx), ctx.principal.authid, in_task=in_task)
    return str(task.upid) if qemu and task is not None else None


@guest_routes("PUT", f"{ONE}/resize")
def resize_disk(ctx: HandlerContext) -> str | None:
    guest = _guest(ctx)
    digest = ctx.params.get("digest")
    if digest and digest != guest.digest:
        raise PVEError(guest._digest_mismatch_error())
    returns = get_registry(ctx.cluster.version).endpoint("PUT", ctx.template).returns_schema
    task = guest_disks.resize(
        guest,
        ctx.params["disk"],
        str(ctx.params["size"]),
        ctx.principal.authid,
        skiplock=_flag(ctx, "skiplock"),
        in_task=returns.get("type") != "null",
    )
    return None if task is None else str(task.upid)


@guest_routes("POST", f"{ONE}/move_disk", kinds=("qemu",))
@guest_routes("POST", f"{ONE}/move_volume", kinds=("lxc",))
def move_volume(ctx: HandlerContext) -> str:
    """A disk (QEMU) or mount point (LXC) to another storage; moves to another guest are not modelled yet."""
    guest = _guest(ctx)
    disk = ctx.params["disk" if _kind(ctx) == "qemu" else "volume"]
    storage = ctx.params.get("storage")
    target_vmid = ctx.params.get("target-vmid")
    if target_vmid is not None and storage is not None:  # Qemu.pm move_vm_disk 5169-5171
        message = "either set 'storage' or 'target-vmid', but not both"
        raise ParameterError({"target-vmid": message, "storage": message})
    if target_vmid is not None:
        if _kind(ctx) != "qemu":
            raise PVEError("moving a container volume to another guest is not modelled by pytest-pvemock yet")
        authid = ctx.principal.authid
        if authid != "root@pam":  # Qemu.pm 5174-5175, 5181-5182
            checker = PermissionChecker(ctx.cluster)
            checker.check(authid, f"/vms/{int(target_vmid)}", ["VM.Config.Disk"])
            volid = str(guest.config.get(disk, "")).split(",", 1)[0]
            checker.check(authid, f"/storage/{volid.split(':', 1)[0]}", ["Datastore.AllocateSpace"])
        task = guest_disks.reassign_disk(guest, disk, int(target_vmid), ctx.params.get("target-disk"), authid)
        return str(task.upid)
    if storage is None:  # qemu-server Qemu.pm move_vm_disk 5201-5202
        message = "both 'storage' and 'target-vmid' missing, either needs to be set"
        raise ParameterError({"target-vmid": message, "storage": message})
    task = guest_disks.move_disk(
        guest, disk, storage, ctx.principal.authid, delete=_flag(ctx, "delete"), fmt=ctx.params.get("format")
    )
    return str(task.upid)


@guest_routes("POST", f"{ONE}/config", kinds=("qemu",))
def update_vm_config_in_a_task(ctx: HandlerContext) -> str:
    guest = _guest(ctx)
    changes, removals = _changes(ctx)
    task = guest.set_config_task(changes, removals, ctx.params.get("digest"), ctx.principal.authid)
    return str(task.upid)


@guest_routes("GET", f"{ONE}/pending")
def pending_changes(ctx: HandlerContext) -> list[dict[str, Any]]:
    guest = _guest(ctx)
    return ordered_rows(ctx, guest.pending_view(), key="key")


@guest_routes("GET", f"{ONE}/status")
def status_index(ctx: HandlerContext) -> list[dict[str, str]]:
    _guest(ctx)
    return pve_index_listing(ctx.template, ctx.cluster.version) or []


@guest_routes("GET", f"{ONE}/status/current")
def current_status(ctx: HandlerContext) -> dict[str, Any]:
    guest = _guest(ctx)
    return ordered(ctx, guest_current_status(ctx.cluster, guest), guest.id)


@guest_routes("POST", f"{ONE}/status/start")
def start_guest(ctx: HandlerContext) -> str:
    return str(_guest(ctx).start(ctx.principal.authid, skiplock=_flag(ctx, "skiplock")).upid)


@guest_routes("POST", f"{ONE}/status/stop")
def stop_guest(ctx: HandlerContext) -> str:
    guest = _guest(ctx)
    if _flag(ctx, "overrule-shutdown") and ctx.cluster.ha.is_ha_managed(guest):
        raise ParameterError({"overrule-shutdown": "Not applicable for HA resources."})
    return str(guest.stop(ctx.principal.authid, skiplock=_flag(ctx, "skiplock")).upid)


@guest_routes("POST", f"{ONE}/status/shutdown")
def shutdown_guest(ctx: HandlerContext) -> str:
    task = _guest(ctx).shutdown(
        ctx.principal.authid, force_stop=_flag(ctx, "forceStop"), timeout=ctx.params.get("timeout")
    )
    return str(task.upid)


@guest_routes("POST", f"{ONE}/status/reboot")
def reboot_guest(ctx: HandlerContext) -> str:
    return str(_guest(ctx).reboot(ctx.principal.authid).upid)


@guest_routes("POST", f"{ONE}/status/suspend")
def suspend_guest(ctx: HandlerContext) -> str:
    guest = _guest(ctx)
    if guest.kind == "qemu" and _flag(ctx, "todisk"):  # hibernate (model/start_stop_all.py suspend_to_disk)
        if _flag(ctx, "skiplock") and ctx.principal.authid != "root@pam":
            raise ParameterError({"skiplock": "Only root may use this option."})
        if not guest.running:  # Qemu.pm vm_suspend: running, not HA-managed, then the rights
            raise PVEError(f"VM {guest.vmid} not running")
        if guest.ha_status().get("managed"):
            raise PVEError("Cannot suspend HA managed VM to disk")
        checker, authid = PermissionChecker(ctx.cluster), ctx.principal.authid
        checker.check(authid, f"/vms/{guest.vmid}", ["VM.Config.Disk"])
        statestorage = ctx.params.get("statestorage") or vmstate_storage(ctx.cluster, guest)
        checker.check(authid, f"/storage/{statestorage}", ["Datastore.AllocateSpace"])
        return str(suspend_to_disk(ctx.cluster, guest, authid, str(statestorage)).upid)
    return str(guest.suspend(ctx.principal.authid, skiplock=_flag(ctx, "skiplock")).upid)


@guest_routes("POST", f"{ONE}/status/resume")
def resume_guest(ctx: HandlerContext) -> str:
    return str(_guest(ctx).resume(ctx.principal.authid, skiplock=_flag(ctx, "skiplock")).upid)


@guest_routes("POST", f"{ONE}/status/reset", kinds=("qemu",))
def reset_vm(ctx: HandlerContext) -> str:
    vm = _guest(ctx)
    assert isinstance(vm, QemuVM)  # the route exists for qemu only
    return str(vm.reset(ctx.principal.authid, skiplock=_flag(ctx, "skiplock")).upid)


@guest_routes("POST", f"{ONE}/clone")
def clone_guest(ctx: HandlerContext) -> str:
    guest = _guest(ctx)
    full = ctx.params.get("full")
    task = guest.clone(
        int(ctx.params["newid"]),
        name=ctx.params.get("name" if _kind(ctx) == "qemu" else "hostname"),
        target=ctx.params.get("target"),
        full=None if full is None else bool(full),
        pool=ctx.params.get("pool"),
        description=ctx.params.get("description"),
        authid=ctx.principal.authid,
        storage=ctx.params.get("storage"),
        snapname=ctx.params.get("snapname"),
        format=ctx.params.get("format"),
    )
    return str(task.upid)


@guest_routes("POST", f"{ONE}/migrate")
def migrate_guest(ctx: HandlerContext) -> str:
    guest = _guest(ctx)
    task = guest.migrate(
        ctx.params["target"],
        online=_flag(ctx, "online"),
        restart=_flag(ctx, "restart"),
        authid=ctx.principal.authid,
        with_local_disks=_flag(ctx, "with-local-disks"),
    )
    return str(task.upid)


@guest_routes("GET", f"{ONE}/migrate")
def migration_preconditions(ctx: HandlerContext) -> dict[str, Any]:
    """Which nodes the guest could move to, and what ties it to its node (local disks)."""
    guest = _guest(ctx)
    return ordered(ctx, _preconditions(ctx, guest), guest.id)


@guest_routes("GET", f"{ONE}/snapshot")
def list_snapshots(ctx: HandlerContext) -> list[dict[str, Any]]:
    guest = _guest(ctx)
    return ordered_rows(ctx, guest.snapshot_list(), key="name")


@guest_routes("POST", f"{ONE}/snapshot")
def create_snapshot(ctx: HandlerContext) -> str:
    guest = _guest(ctx)
    task = guest.snapshot(
        ctx.params["snapname"],
        description=ctx.params.get("description", ""),
        vmstate=_flag(ctx, "vmstate"),
        authid=ctx.principal.authid,
    )
    return str(task.upid)


@guest_routes("GET", f"{ONE}/snapshot/{{snapname}}")
def snapshot_index(ctx: HandlerContext) -> list[dict[str, str]]:
    _snapshot(_guest(ctx), ctx.params["snapname"])
    return [{"cmd": "rollback"}, {"cmd": "config"}]


@guest_routes("DELETE", f"{ONE}/snapshot/{{snapname}}")
def delete_snapshot(ctx: HandlerContext) -> str:
    guest = _guest(ctx)
    return str(guest.delete_snapshot(ctx.params["snapname"], authid=ctx.principal.authid).upid)


@guest_routes("POST", f"{ONE}/snapshot/{{snapname}}/rollback")
def rollback_snapshot(ctx: HandlerContext) -> str:
    guest = _guest(ctx)
    return str(guest.rollback(ctx.params["snapname"], authid=ctx.principal.authid).upid)


@guest_routes("GET", f"{ONE}/snapshot/{{snapname}}/config")
def snapshot_config(ctx: HandlerContext) -> dict[str, Any]:
    guest = _guest(ctx)
    return ordered(ctx, dict(_snapshot(guest, ctx.params["snapname"])), guest.id)


@guest_routes("PUT", f"{ONE}/snapshot/{{snapname}}/config")
def update_snapshot_config(ctx: HandlerContext) -> None:
    guest = _guest(ctx)
    ctx.cluster.require_quorum()
    snap = _snapshot(guest, ctx.params["snapname"])
    if "description" in ctx.params:
        snap["description"] = ctx.params["description"]
    return None
