"""``/nodes/{node}/scan/{nfs,cifs,glusterfs,iscsi,pbs}`` and ``/nodes/{node}/storage/{storage}/identity``: what a
node learns from the servers behind storages (:mod:`pytest_pvemock.model.storage_servers`: the servers
``storage.cfg`` names answer, others do not).

pve-storage 0c56bad8 ``src/PVE/API2/Storage/Scan.pm``: ``nfsscan`` 59-108, ``cifsscan`` 110-181 (shares named
``NT_STATUS_*`` dropped), ``pbsscan`` 183-247, ``iscsiscan`` 249-298; ``glusterfsscan`` (PVE 8, pve-storage 0c6234f
lines 245-290); ``identity``: ``src/PVE/API2/Storage/Status.pm`` 1124-1180 (PVE 9.1.3, commit dcca7c6).
"""

from __future__ import annotations

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.model import storage_servers
from pytest_pvemock.model.storage_content import check_enabled


def _node(ctx: HandlerContext) -> None:
    ctx.cluster.require_node_reachable(str(ctx.params["node"]))


@handles("GET", "/nodes/{node}/scan/nfs")
def scan_nfs(ctx: HandlerContext) -> list[dict[str, str]]:
    _node(ctx)
    return storage_servers.scan_nfs(ctx.cluster, str(ctx.params["server"]))


@handles("GET", "/nodes/{node}/scan/glusterfs")
def scan_glusterfs(ctx: HandlerContext) -> list[dict[str, str]]:
    _node(ctx)
    return storage_servers.scan_glusterfs(ctx.cluster, str(ctx.params["server"]))


@handles("GET", "/nodes/{node}/scan/cifs")
def scan_cifs(ctx: HandlerContext) -> list[dict[str, str]]:
    _node(ctx)
    return storage_servers.scan_cifs(ctx.cluster, str(ctx.params["server"]))


@handles("GET", "/nodes/{node}/scan/iscsi")
def scan_iscsi(ctx: HandlerContext) -> list[dict[str, str]]:
    _node(ctx)
    return storage_servers.scan_iscsi(ctx.cluster, str(ctx.params["portal"]))


@handles("GET", "/nodes/{node}/scan/pbs")
def scan_pbs(ctx: HandlerContext) -> list[dict[str, str]]:
    _node(ctx)
    return storage_servers.scan_pbs(ctx.cluster, ctx.params)


@handles("GET", "/nodes/{node}/storage/{storage}/identity")
def storage_identity(ctx: HandlerContext) -> dict[str, str]:
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"])).name
    storage = check_enabled(ctx.cluster, str(ctx.params["storage"]), node)  # storage_check_enabled
    return storage_servers.identity(ctx.cluster, storage)
