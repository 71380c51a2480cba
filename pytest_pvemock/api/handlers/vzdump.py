"""``POST /nodes/{node}/vzdump``: a backup run, checked as pve-manager checks it before its worker.

pve-manager 14a22df35955d97dfc1af21e117dc894a29df0c9 ``PVE/API2/VZDump.pm`` ``vzdump`` 38-178: ``stdout`` refused
over the API (83-88), ``assert_param_permission_vzdump`` 24-36 with ``PVE/API2/Backup.pm``
``assert_param_permission_common`` 39-58 (root-only options, Sys.Modify for bwlimit/ionice/performance, Datastore
rights on the fleecing and backup storage), ``PVE/VZDump.pm`` ``verify_vzdump_parameters`` 1527-1555 (vmid against
all/exclude/pool, the notes template, the missing vmid), ``get_included_guests`` 1580-1618 (the guests on this node;
others are skipped, unknown VMIDs fail visibly), ``stop`` (Sys.Modify on the node, running backups stopped), the
silent ``OK`` when no guest is on this node, Datastore.AllocateSpace on the storage; then the ``vzdump`` task (its
ID the VMID when there is one guest), run by :mod:`pytest_pvemock.model.vzdump`.
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.backup_jobs import included_guests
from pytest_pvemock.model.vzdump import VzdumpRun, command_line, start_run, verify_notes_template

ROOT = "root@pam"


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "on", "yes")


def _storage_param(params: dict[str, Any]) -> str | None:
    """VZDump.pm ``get_storage_param`` 73-78: none with ``dumpdir``, else the storage or ``local``."""
    if params.get("dumpdir"):
        return None
    return str(params.get("storage") or "local")


def _fleecing_storage(params: dict[str, Any]) -> str | None:
    text = str(params.get("fleecing") or "")
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "storage" and value:
            return value.strip()
    return None


def check_param_permissions(checker: PermissionChecker, authid: str, params: dict[str, Any]) -> None:
    """``assert_param_permission_vzdump`` with ``assert_param_permission_common`` (root may do everything)."""
    if authid == ROOT:
        return
    for key in ("tmpdir", "dumpdir", "script", "job-id"):
        if key in params:
            raise ParameterError({key: "Only root may set this option."})
    if any(params.get(key) is not None for key in ("bwlimit", "ionice", "performance")):
        checker.check(authid, "/", ["Sys.Modify"])
    if params.get("fleecing") and (fleecing := _fleecing_storage(params)):
        checker.check(authid, f"/storage/{fleecing}", ["Datastore.AllocateSpace"])
    if params.get("prune-backups") is not None and (storeid := _storage_param(params)):
        checker.check(authid, f"/storage/{storeid}", ["Datastore.Allocate"])


def verify_parameters(params: dict[str, Any], check_missing: bool = True) -> None:
    """``verify_vzdump_parameters``: the conflicts with ``vmid``, the notes template, ``exclude`` meaning ``all``."""
    for key in ("all", "exclude", "pool"):
        if (_flag(params[key]) if key == "all" else params.get(key)) and params.get("vmid"):
            raise ParameterError({key: "option conflicts with option 'vmid'"})
    template = params.get("notes-template")
    if template:
        try:
            verify_notes_template(str(template))
        except PVEError as error:
            raise ParameterError({"notes-template": error.message + "\n"}) from None
    if params.get("exclude") is not None and not params.get("pool"):
        params["all"] = 1
    chosen = _flag(params.get("all")) or _flag(params.get("stop")) or params.get("pool") or params.get("vmid")
    if check_missing and not chosen:
        raise ParameterError({"vmid": "property is missing"})


@handles("POST", "/nodes/{node}/vzdump")
def create_backup(ctx: HandlerContext) -> str:
    """The checks before the worker, then the ``vzdump`` task (``OK`` when there is nothing to do here)."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(str(ctx.params["node"])).name
    params = {key: value for key, value in ctx.params.items() if value is not None}
    params.setdefault("all", 0)
    if _flag(params.get("stdout")):
        raise ParameterError({"stdout": "option is only allowed on the command line interface."})
    checker, authid = PermissionChecker(cluster), ctx.principal.authid
    check_param_permissions(checker, authid, params)
    verify_parameters(params)
    cmdline = command_line({key: value for key, value in ctx.raw_params.items() if key != "all" or params["all"]})
    per_node = included_guests(cluster, {**params, "node": None})
    local = per_node.pop(node, []) + per_node.pop("", [])
    skiplist = [vmid for vmids in per_node.values() for vmid in vmids]
    if _flag(params.get("stop")):
        checker.check(authid, f"/nodes/{node}", ["Sys.Modify"])
        _stop_running_backups(ctx, node)
        if not local:
            return "OK"
    if not local and not _flag(params.get("all")):
        return "OK"
    storeid = _storage_param(params)
    if storeid:
        checker.check(authid, f"/storage/{storeid}", ["Datastore.AllocateSpace"])
    if authid == ROOT or checker.check(authid, f"/storage/{storeid}", ["Datastore.Allocate"], noerr=True):
        max_protected = -1
    else:
        max_protected = 5
    every = _flag(params.get("all"))

    def may_back_up(vmid: int) -> bool:
        return checker.check(authid, f"/vms/{vmid}", ["VM.Backup"], noerr=every)

    run = VzdumpRun(
        node=node,
        authid=authid,
        cmdline=cmdline,
        vmids=local,
        skiplist=skiplist,
        options=params,
        may_back_up=may_back_up,
        max_protected=max_protected,
    )
    task_id = str(local[0]) if len(local) == 1 else ""
    return start_run(cluster, run, task_id).upid


def _stop_running_backups(ctx: HandlerContext, node: str) -> None:
    """VZDump.pm ``stop_running_backups`` 1557-1578: the node's running ``vzdump`` worker gets SIGTERM."""
    for task in ctx.cluster.tasks.running():
        if task.node == node and task.type == "vzdump":
            ctx.cluster.tasks.stop(task, "interrupted by signal")
