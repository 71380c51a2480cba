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

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.api.index import pve_index_listing
from pytest_pvemock.model.errors import ParameterError, PVEError
from pytest_pvemock.model.guests import Guest

KINDS = ("qemu", "lxc")

# Parameters of the create/update calls that steer the call rather than being config options.
CREATE_CONTROL = {"node", "vmid", "archive", "force", "live-restore", "bwlimit", "unique", "ignore-unpack-errors",
                  "restore", "ha-managed"}  # fmt: skip
UPDATE_CONTROL = {"node", "vmid", "delete", "digest", "revert", "skiplock", "force", "background_delay"}

_LIST_SEPARATORS = re.compile(r"[,; ]+")


def _guest(ctx: HandlerContext, kind: str) -> Guest:
    ctx.cluster.require_node_reachable(ctx.params["node"])
    return ctx.cluster.guest_on(ctx.params["node"], ctx.params["vmid"], kind)


def _stop(guest: Guest, ctx: HandlerContext) -> Any:
    if _flag(ctx, "overrule-shutdown") and ctx.cluster.ha.is_ha_managed(guest):
        raise ParameterError({"overrule-shutdown": "Not applicable for HA resources."})
    return guest.stop(ctx.principal.authid, skiplock=_flag(ctx, "skiplock"))


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
    if cluster.version_at_least(9):
        data["has-dbus-vmstate"] = 1
    return data


def _register(kind: str) -> None:
    """Register every endpoint of ``kind``; one closure per endpoint keeps each endpoint's code in one place."""
    base = f"/nodes/{{node}}/{kind}"
    one = f"{base}/{{vmid}}"

    def route(method: str, path: str) -> Callable[[Callable[[HandlerContext], Any]], Any]:
        return handles(method, path)

    @route("GET", base)
    def list_guests(ctx: HandlerContext) -> list[dict[str, Any]]:
        node = ctx.cluster.require_node_reachable(ctx.params["node"])
        guests = ctx.cluster.guests_on(node.name, kind)
        return [ordered(ctx, guest.list_entry(), guest.id) for guest in guests]

    @route("POST", base)
    def create_guest(ctx: HandlerContext) -> str:
        options = {key: value for key, value in ctx.params.items() if key not in CREATE_CONTROL}
        task = ctx.cluster.create_guest(
            kind, ctx.params["node"], int(ctx.params["vmid"]), options, ctx.principal.authid
        )
        return task.upid

    @route("GET", one)
    def guest_index(ctx: HandlerContext) -> list[dict[str, str]]:
        _guest(ctx, kind)
        return pve_index_listing(ctx.template, ctx.cluster.version) or []

    @route("DELETE", one)
    def destroy_guest(ctx: HandlerContext) -> str:
        guest = _guest(ctx, kind)
        task = guest.delete(ctx.principal.authid, purge=_flag(ctx, "purge"), skiplock=_flag(ctx, "skiplock"))
        return task.upid

    @route("GET", f"{one}/config")
    def get_config(ctx: HandlerContext) -> dict[str, Any]:
        guest = _guest(ctx, kind)
        snapname = ctx.params.get("snapshot")
        if snapname:
            view = dict(_snapshot(guest, snapname))
            view["digest"] = guest.digest
        else:
            view = guest.config_view(current=_flag(ctx, "current"))
        return ordered(ctx, view, guest.id)

    def _changes(ctx: HandlerContext) -> tuple[dict[str, Any], list[str]]:
        changes = {key: value for key, value in ctx.params.items() if key not in UPDATE_CONTROL}
        removals = _list_param(ctx.params.get("delete")) + _list_param(ctx.params.get("revert"))
        return changes, removals

    @route("PUT", f"{one}/config")
    def put_config(ctx: HandlerContext) -> None:
        guest = _guest(ctx, kind)
        changes, removals = _changes(ctx)
        guest.set_config(changes, delete=removals, digest=ctx.params.get("digest"), skiplock=_flag(ctx, "skiplock"))
        return None

    if kind == "qemu":

        @route("POST", f"{one}/config")
        def post_config(ctx: HandlerContext) -> str:
            guest = _guest(ctx, kind)
            changes, removals = _changes(ctx)
            task = guest.set_config_task(changes, removals, ctx.params.get("digest"), ctx.principal.authid)
            return task.upid

    @route("GET", f"{one}/pending")
    def get_pending(ctx: HandlerContext) -> list[dict[str, Any]]:
        guest = _guest(ctx, kind)
        return ordered_rows(ctx, guest.pending_view(), key="key")

    @route("GET", f"{one}/status")
    def status_index(ctx: HandlerContext) -> list[dict[str, str]]:
        _guest(ctx, kind)
        return pve_index_listing(ctx.template, ctx.cluster.version) or []

    @route("GET", f"{one}/status/current")
    def current_status(ctx: HandlerContext) -> dict[str, Any]:
        guest = _guest(ctx, kind)
        return ordered(ctx, guest.current_status(), guest.id)

    def action(name: str, run: Callable[[Guest, HandlerContext], Any]) -> None:
        @route("POST", f"{one}/status/{name}")
        def guest_action(ctx: HandlerContext) -> str:
            return run(_guest(ctx, kind), ctx).upid

        guest_action.__name__ = guest_action.__qualname__ = f"{kind}_{name}"

    action("start", lambda guest, ctx: guest.start(ctx.principal.authid, skiplock=_flag(ctx, "skiplock")))
    action("stop", _stop)
    action(
        "shutdown",
        lambda guest, ctx: guest.shutdown(
            ctx.principal.authid, force_stop=_flag(ctx, "forceStop"), timeout=ctx.params.get("timeout")
        ),
    )
    action("reboot", lambda guest, ctx: guest.reboot(ctx.principal.authid))
    action("suspend", lambda guest, ctx: guest.suspend(ctx.principal.authid, skiplock=_flag(ctx, "skiplock")))
    action("resume", lambda guest, ctx: guest.resume(ctx.principal.authid, skiplock=_flag(ctx, "skiplock")))
    if kind == "qemu":
        action("reset", lambda guest, ctx: guest.reset(ctx.principal.authid, skiplock=_flag(ctx, "skiplock")))

    @route("POST", f"{one}/clone")
    def clone_guest(ctx: HandlerContext) -> str:
        guest = _guest(ctx, kind)
        full = ctx.params.get("full")
        task = guest.clone(
            int(ctx.params["newid"]),
            name=ctx.params.get("name" if kind == "qemu" else "hostname"),
            target=ctx.params.get("target"),
            full=None if full is None else bool(full),
            pool=ctx.params.get("pool"),
            description=ctx.params.get("description"),
            authid=ctx.principal.authid,
        )
        return task.upid

    @route("POST", f"{one}/migrate")
    def migrate_guest(ctx: HandlerContext) -> str:
        guest = _guest(ctx, kind)
        task = guest.migrate(
            ctx.params["target"],
            online=_flag(ctx, "online"),
            restart=_flag(ctx, "restart"),
            authid=ctx.principal.authid,
        )
        return task.upid

    @route("GET", f"{one}/migrate")
    def migration_preconditions(ctx: HandlerContext) -> dict[str, Any]:
        """Which nodes the guest could move to, and what ties it to its node (local disks)."""
        guest = _guest(ctx, kind)
        return ordered(ctx, _preconditions(ctx, guest), guest.id)

    @route("GET", f"{one}/snapshot")
    def list_snapshots(ctx: HandlerContext) -> list[dict[str, Any]]:
        guest = _guest(ctx, kind)
        return ordered_rows(ctx, guest.snapshot_list(), key="name")

    @route("POST", f"{one}/snapshot")
    def create_snapshot(ctx: HandlerContext) -> str:
        guest = _guest(ctx, kind)
        task = guest.snapshot(
            ctx.params["snapname"],
            description=ctx.params.get("description", ""),
            vmstate=_flag(ctx, "vmstate"),
            authid=ctx.principal.authid,
        )
        return task.upid

    @route("GET", f"{one}/snapshot/{{snapname}}")
    def snapshot_index(ctx: HandlerContext) -> list[dict[str, str]]:
        _snapshot(_guest(ctx, kind), ctx.params["snapname"])
        return [{"cmd": "rollback"}, {"cmd": "config"}]

    @route("DELETE", f"{one}/snapshot/{{snapname}}")
    def delete_snapshot(ctx: HandlerContext) -> str:
        guest = _guest(ctx, kind)
        return guest.delete_snapshot(ctx.params["snapname"], authid=ctx.principal.authid).upid

    @route("POST", f"{one}/snapshot/{{snapname}}/rollback")
    def rollback_snapshot(ctx: HandlerContext) -> str:
        guest = _guest(ctx, kind)
        return guest.rollback(ctx.params["snapname"], authid=ctx.principal.authid).upid

    @route("GET", f"{one}/snapshot/{{snapname}}/config")
    def snapshot_config(ctx: HandlerContext) -> dict[str, Any]:
        guest = _guest(ctx, kind)
        return ordered(ctx, dict(_snapshot(guest, ctx.params["snapname"])), guest.id)

    @route("PUT", f"{one}/snapshot/{{snapname}}/config")
    def update_snapshot_config(ctx: HandlerContext) -> None:
        guest = _guest(ctx, kind)
        ctx.cluster.require_quorum()
        snap = _snapshot(guest, ctx.params["snapname"])
        if "description" in ctx.params:
            snap["description"] = ctx.params["description"]
        return None


for _kind in KINDS:
    _register(_kind)
