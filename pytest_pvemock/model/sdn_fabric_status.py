"""What FRR reports of an applied fabric on a node: its interfaces, its neighbours and the routes it learned.

PVE asks FRR (``vtysh -c 'show openfabric neighbor detail json'``, ``show openfabric interface json``,
``show ip route openfabric json``, their OSPF twins) and keeps what belongs to the fabric (proxmox-perl-rs
pve-rs/src/bindings/sdn/fabrics.rs 581-786 and pve-rs/src/sdn/status.rs ``get_routes``, ``get_neighbors_*``,
``get_interfaces_*``, commit 1fa643dc). The fake runs no FRR; it answers what FRR would hold for the running config:

- the node's fabric interfaces, ``dummy_<fabric>`` (the loopback carrying the node's fabric IP) first, all up;
- a neighbour per link to another fabric node that is online: the cabling is taken as a full mesh, the node's
  interfaces in their configured order facing the other fabric nodes in name order (the layout of PVE's full-mesh
  guide); an adjacency needs both ends, and is up since both ran the fabric's FRR config;
- a route to every other reachable fabric node's IP (``/32``, ``/128``), over the first hop of the shortest paths.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_pvemock.model.guest_config import property_option

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

# FRR isisd/isis_misc.h: the units time2string writes
_UNITS = (("Y", 31536000), ("M", 2628000), ("w", 604800), ("d", 86400), ("h", 3600), ("m", 60))


def isis_time(seconds: int) -> str:
    """FRR isisd/isis_misc.c ``time2string``: ``11m5s``, ``2d3h``, ``-`` for none (openfabric's ``last-ago``)."""
    if seconds <= 0:
        return "-"
    text, rest = "", seconds
    for unit, size in _UNITS:
        if rest // size:
            text += f"{rest // size}{unit}"
        rest %= size
    return text + (f"{rest}s" if rest else "")


def ospf_time(seconds: int) -> str:
    """FRR ospfd ``ospf_timeval_dump`` as ``show ip ospf neighbor json`` prints ``upTime`` (``1m04s``)."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h{minutes:02d}m"
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}.000s"


def interface_names(node: Mapping[str, Any]) -> list[str]:
    """A fabric node's interfaces (``interfaces``: property strings ``name=ens19[,ip=...]``), as configured."""
    value = node.get("interfaces") or []
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else property_option(str(item), "name")
        if name:
            names.append(str(name))
    return names


def _fabric(cluster: FakeCluster, fabric: str) -> dict[str, Any]:
    fabrics: dict[str, dict[str, Any]] = cluster.sdn.running.get("fabrics") or {}
    return fabrics.get(fabric) or {}


def _links(nodes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Each node's interface to each other node it is cabled to: ``{node: {peer: interface}}`` (both ends)."""
    facing = {
        name: dict(zip(sorted(other for other in nodes if other != name), interface_names(nodes[name]), strict=False))
        for name in nodes
    }
    return {
        name: {peer: iface for peer, iface in peers.items() if name in facing.get(peer, {})}
        for name, peers in facing.items()
    }


def _up_nodes(cluster: FakeCluster, nodes: Mapping[str, Any]) -> set[str]:
    """The fabric nodes whose FRR runs the fabric: online, with an FRR config written by SDN."""
    up = set()
    for name in nodes:
        node = cluster.find_node(name)
        if node is not None and getattr(node, "online", True) and name in cluster.sdn.frr:
            up.add(name)
    return up


def _since(cluster: FakeCluster, *names: str) -> int:
    """When both ends last came up with the fabric's FRR config: the later boot or FRR reload."""
    times = []
    for name in names:
        node = cluster.find_node(name)
        times.append(int(getattr(node, "boot_time", 0) or 0))
        if name in cluster.sdn.frr:
            times.append(cluster.sdn.frr[name].mtime)
    return max(times)


def fabric_interfaces(cluster: FakeCluster, fabric: str, node: str) -> list[dict[str, Any]]:
    """``show openfabric interface json`` / ``show ip ospf interface json`` reduced to the fabric's interfaces."""
    record = _fabric(cluster, fabric)
    nodes: dict[str, dict[str, Any]] = record.get("nodes") or {}
    if node not in nodes or node not in _up_nodes(cluster, nodes):
        return []
    names = [f"dummy_{fabric}", *interface_names(nodes[node])]
    if record.get("protocol") == "ospf":  # the dummy is a broadcast interface in OSPF (status.rs tests)
        return [{"name": name, "state": "up", "type": "Broadcast" if name.startswith("dummy_") else "Point-To-Point"}
                for name in names]  # fmt: skip
    return [{"name": name, "state": "Up", "type": "Loopback" if name.startswith("dummy_") else "Point-To-Point"}
            for name in names]  # fmt: skip


def fabric_neighbors(cluster: FakeCluster, fabric: str, node: str) -> list[dict[str, Any]]:
    """The adjacencies of ``node``: openfabric names the peer's hostname with ``Up`` and ``last-ago``; OSPF the
    peer's interface address (its fabric IP on unnumbered links) with ``Full/-``."""
    record = _fabric(cluster, fabric)
    nodes: dict[str, dict[str, Any]] = record.get("nodes") or {}
    up = _up_nodes(cluster, nodes)
    if node not in up:
        return []
    now = cluster.clock.now()
    rows = []
    for peer in _links(nodes).get(node, {}):
        if peer not in up:
            continue
        age = max(now - _since(cluster, node, peer), 0)
        if record.get("protocol") == "ospf":
            rows.append({"neighbor": str(nodes[peer].get("ip") or ""), "status": "Full/-", "uptime": ospf_time(age)})
        else:
            rows.append({"neighbor": peer, "status": "Up", "uptime": isis_time(age)})
    return rows


def fabric_routes(cluster: FakeCluster, fabric: str, node: str) -> list[dict[str, Any]]:
    """``show ip route <protocol> json`` kept to the routes leaving through the fabric's interfaces: each other
    fabric node's IP over the first hops (the neighbours' IPs) of its shortest paths."""
    record = _fabric(cluster, fabric)
    nodes: dict[str, dict[str, Any]] = record.get("nodes") or {}
    up = _up_nodes(cluster, nodes)
    if node not in up:
        return []
    links = {name: [peer for peer in peers if peer in up] for name, peers in _links(nodes).items() if name in up}
    distance = {node: 0}
    first_hops: dict[str, set[str]] = {node: set()}
    queue = deque([node])
    while queue:
        here = queue.popleft()
        for peer in links.get(here, []):
            hops = {peer} if here == node else first_hops[here]
            if peer not in distance:
                distance[peer] = distance[here] + 1
                first_hops[peer] = set(hops)
                queue.append(peer)
            elif distance[peer] == distance[here] + 1:
                first_hops[peer] |= hops
    rows = []
    for peer in sorted(distance, key=lambda name: _sort_ip(nodes[name])):
        if peer == node:
            continue
        for key, size in (("ip", 32), ("ip6", 128)):
            address = nodes[peer].get(key)
            if not address:
                continue
            via = [str(nodes[hop].get(key)) for hop in sorted(first_hops[peer]) if nodes[hop].get(key)]
            rows.append({"route": f"{address}/{size}", "via": via})
    return rows


def _sort_ip(node: Mapping[str, Any]) -> tuple[int, int]:
    address = node.get("ip") or node.get("ip6")
    if not address:
        return (9, 0)
    parsed = ipaddress.ip_address(str(address))
    return (parsed.version, int(parsed))
