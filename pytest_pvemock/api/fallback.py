"""The answers of documented methods nobody declared: an index listing, a task, or a synthesised value.

The route table (:mod:`pytest_pvemock.api.router`) gives every documented method that no hand-written endpoint
and no collection declares one of these, chosen once from the method's schema:

- :func:`index_listing` for a directory index method (:mod:`pytest_pvemock.api.index`);
- :func:`task_answer` for a method that starts a worker (its ``returns`` is a UPID): a real task on the
  cluster's task list, which ends OK on the clock like any other, and its UPID;
- :func:`synthesised_answer` otherwise: a value synthesised from the method's ``returns`` schema with the
  cluster's own names (:mod:`pytest_pvemock.api.synthesis`).

Each first checks that a guest or storage named in the path exists (PVE's own errors otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.index import index_children, index_key
from pytest_pvemock.api.synthesis import cluster_facts
from pytest_pvemock.errors import PVEError
from pytest_pvemock.schema.synthesis import schema_type, synthesize

if TYPE_CHECKING:
    from pytest_pvemock.api.handler import HandlerContext
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.schema.registry import SchemaRegistry

__all__ = [
    "endpoint_of",
    "fallback_kind",
    "index_listing",
    "is_task_method",
    "require_what_the_path_names",
    "start_task",
    "synthesised_answer",
    "task_answer",
    "task_type",
]

# Writes whose string answer is not a UPID.
_NOT_TASKS = {
    ("POST", "/cluster/sdn/lock"),
    ("POST", "/nodes/{node}/qemu/{vmid}/monitor"),
    ("POST", "/nodes/{node}/storage/{storage}/content"),
    ("POST", "/nodes/{node}/wakeonlan"),
    ("POST", "/access/openid/auth-url"),
}
_UPID_WORDS = re.compile(r"\bUPID\b|\btask ID\b|\bworker\b", re.IGNORECASE)

# The worker type PVE writes into the UPID, by method and template (the rest use the method's schema name).
_TASK_TYPES: dict[tuple[str, str], str] = {
    ("POST", "/nodes/{node}/qemu"): "qmcreate",
    ("DELETE", "/nodes/{node}/qemu/{vmid}"): "qmdestroy",
    ("POST", "/nodes/{node}/qemu/{vmid}/config"): "qmconfig",
    ("POST", "/nodes/{node}/qemu/{vmid}/clone"): "qmclone",
    ("POST", "/nodes/{node}/qemu/{vmid}/move_disk"): "qmmove",
    ("POST", "/nodes/{node}/qemu/{vmid}/migrate"): "qmigrate",
    ("POST", "/nodes/{node}/qemu/{vmid}/remote_migrate"): "qmigrate",
    ("PUT", "/nodes/{node}/qemu/{vmid}/resize"): "resize",
    ("POST", "/nodes/{node}/qemu/{vmid}/snapshot"): "qmsnapshot",
    ("DELETE", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}"): "qmdelsnapshot",
    ("POST", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback"): "qmrollback",
    ("POST", "/nodes/{node}/qemu/{vmid}/template"): "qmtemplate",
    ("POST", "/nodes/{node}/lxc"): "vzcreate",
    ("DELETE", "/nodes/{node}/lxc/{vmid}"): "vzdestroy",
    ("POST", "/nodes/{node}/lxc/{vmid}/clone"): "vzclone",
    ("POST", "/nodes/{node}/lxc/{vmid}/move_volume"): "move_volume",
    ("POST", "/nodes/{node}/lxc/{vmid}/migrate"): "vzmigrate",
    ("PUT", "/nodes/{node}/lxc/{vmid}/resize"): "resize",
    ("POST", "/nodes/{node}/lxc/{vmid}/snapshot"): "vzsnapshot",
    ("DELETE", "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}"): "vzdelsnapshot",
    ("POST", "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback"): "vzrollback",
    ("POST", "/nodes/{node}/lxc/{vmid}/template"): "vztemplate",
    ("POST", "/nodes/{node}/vzdump"): "vzdump",
    ("POST", "/nodes/{node}/startall"): "startall",
    ("POST", "/nodes/{node}/stopall"): "stopall",
    ("POST", "/nodes/{node}/suspendall"): "suspendall",
    ("POST", "/nodes/{node}/migrateall"): "migrateall",
    ("PUT", "/nodes/{node}/network"): "srvreload",
    ("POST", "/nodes/{node}/apt/update"): "aptupdate",
    ("POST", "/nodes/{node}/aplinfo"): "download",
    ("POST", "/nodes/{node}/storage/{storage}/download-url"): "download",
    ("POST", "/nodes/{node}/storage/{storage}/upload"): "imgcopy",
    ("POST", "/nodes/{node}/storage/{storage}/content/{volume}"): "imgcopy",
    ("DELETE", "/nodes/{node}/storage/{storage}/content/{volume}"): "imgdel",
    ("DELETE", "/nodes/{node}/storage/{storage}/prunebackups"): "prunebackups",
    ("POST", "/nodes/{node}/disks/lvm"): "lvmcreate",
    ("DELETE", "/nodes/{node}/disks/lvm/{name}"): "lvmremove",
    ("POST", "/nodes/{node}/disks/lvmthin"): "lvmthincreate",
    ("DELETE", "/nodes/{node}/disks/lvmthin/{name}"): "lvmthinremove",
    ("POST", "/nodes/{node}/disks/directory"): "dircreate",
    ("DELETE", "/nodes/{node}/disks/directory/{name}"): "dirremove",
    ("POST", "/nodes/{node}/disks/zfs"): "zfscreate",
    ("DELETE", "/nodes/{node}/disks/zfs/{name}"): "zfsremove",
    ("POST", "/nodes/{node}/disks/initgpt"): "diskinit",
    ("PUT", "/nodes/{node}/disks/wipedisk"): "wipedisk",
    ("POST", "/nodes/{node}/ceph/osd"): "cephcreateosd",
    ("DELETE", "/nodes/{node}/ceph/osd/{osdid}"): "cephdestroyosd",
    ("POST", "/nodes/{node}/ceph/mds/{name}"): "cephcreatemds",
    ("DELETE", "/nodes/{node}/ceph/mds/{name}"): "cephdestroymds",
    ("POST", "/nodes/{node}/ceph/mgr/{id}"): "cephcreatemgr",
    ("DELETE", "/nodes/{node}/ceph/mgr/{id}"): "cephdestroymgr",
    ("POST", "/nodes/{node}/ceph/mon/{monid}"): "cephcreatemon",
    ("DELETE", "/nodes/{node}/ceph/mon/{monid}"): "cephdestroymon",
    ("POST", "/nodes/{node}/ceph/fs/{name}"): "cephfscreate",
    ("POST", "/nodes/{node}/ceph/pool"): "cephcreatepool",
    ("DELETE", "/nodes/{node}/ceph/pool/{name}"): "cephdestroypool",
    ("PUT", "/nodes/{node}/ceph/pool/{name}"): "cephsetpool",
    ("POST", "/nodes/{node}/ceph/start"): "srvstart",
    ("POST", "/nodes/{node}/ceph/stop"): "srvstop",
    ("POST", "/nodes/{node}/ceph/restart"): "srvrestart",
    ("PUT", "/cluster/ceph/flags"): "cephsetflags",
    ("PUT", "/cluster/sdn"): "reloadnetworkall",
    ("POST", "/cluster/config"): "clustercreate",
    ("POST", "/cluster/config/join"): "clusterjoin",
    ("POST", "/cluster/acme/account"): "acmeregister",
    ("PUT", "/cluster/acme/account/{name}"): "acmeupdate",
    ("DELETE", "/cluster/acme/account/{name}"): "acmedeactivate",
    ("POST", "/nodes/{node}/certificates/acme/certificate"): "acmenewcert",
    ("PUT", "/nodes/{node}/certificates/acme/certificate"): "acmerenew",
    ("DELETE", "/nodes/{node}/certificates/acme/certificate"): "acmerevoke",
    ("POST", "/cluster/bulk-action/guest/start"): "bulkstart",
    ("POST", "/cluster/bulk-action/guest/shutdown"): "bulkshutdown",
    ("POST", "/cluster/bulk-action/guest/suspend"): "bulksuspend",
    ("POST", "/cluster/bulk-action/guest/migrate"): "bulkmigrate",
}
_SERVICE_ACTIONS = {"start": "srvstart", "stop": "srvstop", "restart": "srvrestart", "reload": "srvreload"}
_TASK_ID_PARAMS = ("vmid", "name", "storage", "service", "osdid", "monid", "id", "disk", "dev")


def fallback_kind(registry: Any, method: str, template: str) -> str:
    """``index``, ``task`` or ``synthesised``: how the fallback answers ``method template`` of ``registry``."""
    returns = _returns(registry.endpoint(method, template))
    if method == "GET" and index_key(returns, registry.children(template)) is not None:
        return "index"
    if is_task_method(method, template, returns):
        return "task"
    return "synthesised"


def index_listing(ctx: HandlerContext) -> list[dict[str, str]]:
    """A directory index: PVE's own list of the path's children where known, else the schema's children."""
    require_what_the_path_names(ctx)
    children = _children(ctx)
    key = index_key(_returns(endpoint_of(ctx)), children) or "name"
    return index_children(ctx.template, children, key, ctx.cluster.version)


def task_answer(ctx: HandlerContext) -> str:
    """The UPID of the method's worker, started on the cluster's task list (it ends OK on the clock)."""
    require_what_the_path_names(ctx)
    return str(start_task(ctx).upid)


def synthesised_answer(ctx: HandlerContext) -> Any:
    """A value of the method's ``returns`` schema, made from the cluster's own names."""
    endpoint = endpoint_of(ctx)
    require_what_the_path_names(ctx)
    return synthesize(_returns(endpoint), cluster_facts(ctx.cluster, ctx.params))


FALLBACK_ANSWERS = {"index": index_listing, "task": task_answer, "synthesised": synthesised_answer}


def require_what_the_path_names(ctx: HandlerContext) -> None:
    """PVE's errors for a guest or storage in the path that does not exist (the config file or storage.cfg)."""
    for kind in ("qemu", "lxc"):
        prefix = f"/nodes/{{node}}/{kind}/{{vmid}}"
        if ctx.template.startswith(prefix) and not ctx.template.startswith(f"{prefix}/firewall"):
            ctx.cluster.guest_on(str(ctx.params.get("node")), str(ctx.params.get("vmid")), kind)
    if ctx.template.startswith("/nodes/{node}/storage/{storage}"):
        storage = str(ctx.params.get("storage"))
        if ctx.cluster.storage(storage) is None:
            raise PVEError(f"storage '{storage}' does not exist")


def _registry(cluster: FakeCluster) -> SchemaRegistry:
    from pytest_pvemock.schema.registry import get_registry

    return get_registry(cluster.version)


def endpoint_of(ctx: HandlerContext) -> Any:
    """The schema endpoint of the method ``ctx`` answers (``None`` when the release does not document it)."""
    try:
        return _registry(ctx.cluster).endpoint(ctx.method, ctx.template)
    except KeyError:
        return None


def _children(ctx: HandlerContext) -> list[str]:
    try:
        return list(_registry(ctx.cluster).children(ctx.template))
    except KeyError:
        return []


def _returns(endpoint: Any) -> Mapping[str, Any]:
    returns = getattr(endpoint, "returns_schema", None)
    return returns if isinstance(returns, Mapping) else {}


def is_task_method(method: str, template: str, returns: Mapping[str, Any]) -> bool:
    """Whether the method starts a worker and answers its UPID (a string answer of a write, or one so described)."""
    if schema_type(returns) != "string" or (method, template) in _NOT_TASKS:
        return False
    if _UPID_WORDS.search(str(returns.get("description", ""))):
        return True
    return method != "GET" and "format" not in returns and "x-pve-property-string" not in returns


def task_type(method: str, template: str) -> str:
    """The worker type PVE writes into the UPID of this method (``qmstart``, ``vzdump``, ``srvrestart``, ...)."""
    known = _TASK_TYPES.get((method, template))
    if known:
        return known
    last = template.rsplit("/", 1)[1]
    if template.startswith("/nodes/{node}/services/{service}/") and last in _SERVICE_ACTIONS:
        return _SERVICE_ACTIONS[last]
    family = "qm" if "/qemu/" in template else "vz" if "/lxc/" in template else ""
    return family + re.sub(r"[^a-z0-9]", "", last.lower().strip("{}")) if family else re.sub(r"[^a-z0-9]", "", last)


def start_task(ctx: HandlerContext) -> Any:
    """Start the method's worker on the cluster: it runs on the clock and ends OK."""
    node = str(ctx.params.get("node") or _first_node(ctx.cluster))
    task_id = next((str(ctx.params[name]) for name in _TASK_ID_PARAMS if ctx.params.get(name) is not None), "")
    return ctx.cluster.tasks.start(node, task_type(ctx.method, ctx.template), task_id, ctx.principal.authid)


def _first_node(cluster: FakeCluster) -> str:
    nodes = [node for node in cluster.nodes if getattr(node, "online", True)] or list(cluster.nodes)
    return nodes[0].name if nodes else "localhost"
