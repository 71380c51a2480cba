"""``rrddata`` and ``rrd`` of nodes, guests and storages: the usage history ``pvestatd`` recorded
(see :mod:`pytest_pvemock.model.usage_history`).

PVE answers them from the local RRD files, without asking the node (no ``proxyto``): pve-manager PVE/API2/Nodes.pm
lines 794-876 (commit 14a22df3), qemu-server src/PVE/API2/Qemu.pm lines 1700-1785 (e6352be6), pve-container and
pve-storage likewise. The files are ``pve-node-9.0/<node>``, ``pve-vm-9.0/<vmid>``, ``pve-storage-9.0/<node>/<id>``
on PVE 9 and ``pve2-node``, ``pve2-vm``, ``pve2-storage`` before.
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered_rows
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.model.guests import Guest
from pytest_pvemock.model.nodes.node import Node
from pytest_pvemock.model.storage import Storage
from pytest_pvemock.model.usage_history import guest_history, node_history, storage_history

RRD_DIR = "/var/lib/rrdcached/db"


def rrd_file(cluster: FakeCluster, kind: str, name: str) -> str:
    """The RRD file of a node, VM or storage (``kind``), by the release's naming."""
    directory = f"pve-{kind}-9.0" if cluster.has("rrd-pve9-format") else f"pve2-{kind}"
    return f"{RRD_DIR}/{directory}/{name}"


def _missing(path: str) -> PVEError:
    return PVEError(f"RRD error: opening '{path}': No such file or directory", 500)


def _node(ctx: HandlerContext) -> Node:
    node = ctx.cluster.find_node(ctx.params["node"])
    if node is None:
        raise _missing(rrd_file(ctx.cluster, "node", ctx.params["node"]))
    return node


def _guest(ctx: HandlerContext) -> Guest:
    guest = ctx.cluster.find_guest(ctx.params["vmid"])
    if guest is None:
        raise _missing(rrd_file(ctx.cluster, "vm", str(ctx.params["vmid"])))
    return guest


def _storage(ctx: HandlerContext) -> tuple[Storage, Node]:
    storage, node = ctx.cluster.storage(ctx.params["storage"]), ctx.cluster.find_node(ctx.params["node"])
    if storage is None or node is None:
        raise _missing(rrd_file(ctx.cluster, "storage", f"{ctx.params['node']}/{ctx.params['storage']}"))
    return storage, node


def _rows(ctx: HandlerContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return ordered_rows(ctx, rows, key="time")


@handles("GET", "/nodes/{node}/rrddata")
def node_rrddata(ctx: HandlerContext) -> list[dict[str, Any]]:
    return _rows(ctx, node_history(ctx.cluster, _node(ctx), ctx.params["timeframe"], ctx.params.get("cf")))


@handles("GET", "/nodes/{node}/qemu/{vmid}/rrddata")
def qemu_rrddata(ctx: HandlerContext) -> list[dict[str, Any]]:
    return _rows(ctx, guest_history(ctx.cluster, _guest(ctx), ctx.params["timeframe"], ctx.params.get("cf")))


@handles("GET", "/nodes/{node}/lxc/{vmid}/rrddata")
def lxc_rrddata(ctx: HandlerContext) -> list[dict[str, Any]]:
    return _rows(ctx, guest_history(ctx.cluster, _guest(ctx), ctx.params["timeframe"], ctx.params.get("cf")))


@handles("GET", "/nodes/{node}/storage/{storage}/rrddata")
def storage_rrddata(ctx: HandlerContext) -> list[dict[str, Any]]:
    storage, node = _storage(ctx)
    return _rows(ctx, storage_history(ctx.cluster, storage, node, ctx.params["timeframe"], ctx.params.get("cf")))


def _graph(path: str, ds: str) -> dict[str, str]:
    """``create_rrd_graph``'s answer: the PNG it rendered, named after the file and the data sources."""
    return {"filename": f"{path}_{'_'.join(part for part in ds.replace(';', ',').split(',') if part)}.png"}


@handles("GET", "/nodes/{node}/rrd")
def node_rrd(ctx: HandlerContext) -> dict[str, str]:
    return _graph(rrd_file(ctx.cluster, "node", _node(ctx).name), ctx.params["ds"])


@handles("GET", "/nodes/{node}/qemu/{vmid}/rrd")
def qemu_rrd(ctx: HandlerContext) -> dict[str, str]:
    return _graph(rrd_file(ctx.cluster, "vm", str(_guest(ctx).vmid)), ctx.params["ds"])


@handles("GET", "/nodes/{node}/lxc/{vmid}/rrd")
def lxc_rrd(ctx: HandlerContext) -> dict[str, str]:
    return _graph(rrd_file(ctx.cluster, "vm", str(_guest(ctx).vmid)), ctx.params["ds"])


@handles("GET", "/nodes/{node}/storage/{storage}/rrd")
def storage_rrd(ctx: HandlerContext) -> dict[str, str]:
    storage, node = _storage(ctx)
    return _graph(rrd_file(ctx.cluster, "storage", f"{node.name}/{storage.storage}"), ctx.params["ds"])
