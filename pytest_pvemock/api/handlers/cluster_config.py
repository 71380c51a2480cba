"""``/cluster/config``: the corosync configuration (:mod:`pytest_pvemock.model.corosync`) as pve-cluster
src/PVE/API2/ClusterConfig.pm answers it (commit 7091d92e): ``nodes`` (lines 172-201), ``totem``, ``join``
(lines 532-611: every node with its ``pve_fp`` and ``pve_addr``, 424 on a node that is not in a cluster),
``apiversion`` (``JOIN_API_VERSION``, src/PVE/Cluster/Setup.pm line 24) and ``qdevice`` (no QDevice socket: ``{}``)."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.corosync import corosync_conf

JOIN_API_VERSION = 1


@handles("GET", "/cluster/config/nodes")
def corosync_nodes(ctx: HandlerContext) -> list[dict[str, Any]]:
    """``hash_to_array`` of the node list: each node's entries plus ``node``, its name."""
    conf = corosync_conf(ctx.cluster)
    nodes = conf.get("main", {}).get("nodelist", {}).get("node", {})
    return [{**nodes[name], "node": name} for name in sorted(nodes)]


@handles("GET", "/cluster/config/totem")
def corosync_totem(ctx: HandlerContext) -> dict[str, Any]:
    """The totem section as parsed (string values, the interfaces keyed by link number). Without a cluster PVE
    answers null, which its own schema (an object) does not allow; the fake answers an empty object."""
    totem: dict[str, Any] = corosync_conf(ctx.cluster).get("main", {}).get("totem", {})
    return totem


@handles("GET", "/cluster/config/join")
def join_info(ctx: HandlerContext) -> dict[str, Any]:
    """What a joining node needs: the node list with fingerprints and addresses, the totem, the file's digest."""
    cluster = ctx.cluster
    conf = corosync_conf(cluster)
    if not conf:
        raise PVEError("node is not in a cluster, no join info available!", code=424)
    nodename = str(ctx.params.get("node") or cluster.nodes[0].name)
    nodes = conf["main"]["nodelist"]["node"]
    if nodename not in nodes:
        raise PVEError(f"unknown node '{nodename}'")
    nodelist = []
    for name in sorted(nodes):
        node = cluster.node(name)
        nodelist.append({**nodes[name], "pve_fp": node.ssl_fingerprint, "pve_addr": node.ip})
    totem = conf["main"]["totem"]
    return {"nodelist": nodelist, "preferred_node": nodename, "totem": totem, "config_digest": conf["digest"]}


@handles("GET", "/cluster/config/apiversion")
def join_api_version(ctx: HandlerContext) -> int:
    return JOIN_API_VERSION


@handles("GET", "/cluster/config/qdevice")
def qdevice_status(ctx: HandlerContext) -> dict[str, str]:
    """Empty: no node runs ``corosync-qdevice`` (its socket is absent), as on a cluster without a QDevice."""
    return {}
