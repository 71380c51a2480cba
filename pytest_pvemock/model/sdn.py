"""PVE's SDN apply cycle and what a node derives from it (pve-network, commit ecf98c5d).

Clients write zones, vnets, subnets and controllers into ``/etc/pve/sdn/*.cfg`` (the config store's
``/cluster/sdn/...`` sections). Nothing of it reaches a node until ``PUT /cluster/sdn`` compiles them into
``/etc/pve/sdn/.running-config`` with a new ``version`` (``PVE::Network::SDN::commit_config``,
src/PVE/Network/SDN.pm 190-233) and every node reloads its network, writing ``/etc/network/interfaces.d/sdn``
from the running config with a first line ``#version:N`` (pve-manager PVE/API2/Network.pm 920-926).

A node's zone and vnet status (src/PVE/Network/SDN/Zones.pm ``status``, 217-295) reads the running config: nothing
when it was never applied; each zone on the node ``available``, or ``pending`` while the node's own file is missing
or older than the running version (a node that was offline during the apply).
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.model.guest_config import property_option
from pytest_pvemock.model.node_packages import release_packages

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest

ZONES = "/cluster/sdn/zones"
VNETS = "/cluster/sdn/vnets"
CONTROLLERS = "/cluster/sdn/controllers"
FABRICS = "/cluster/sdn/fabrics/fabric"
PREFIX_LISTS = "/cluster/sdn/prefix-lists"
ROUTE_MAPS = "/cluster/sdn/route-maps"
#: the config files ``commit_config`` compiles into the running config besides the fabrics (route maps and prefix
#: lists since pve-network 1.2 of PVE 9.1.4: src/PVE/Network/SDN.pm compile_running_cfg at 582b2b6d)
KINDS = ("zones", "vnets", "subnets", "controllers", "route-maps", "prefix-lists")
NOT_GENERATED = "local sdn network configuration is not yet generated, please reload"
TOO_OLD = "local sdn network configuration is too old, please reload"


@dataclass(frozen=True)
class NodeFile:
    """A file a node wrote, with its modification time."""

    text: str
    mtime: int


@dataclass
class SdnState:
    """``/etc/pve/sdn/.running-config`` (empty: never applied) and the files each node generated from it:
    ``/etc/network/interfaces.d/sdn`` (``interfaces``) and ``/etc/frr/frr.conf`` (``frr``, once SDN wrote it)."""

    running: dict[str, Any] = field(default_factory=dict)
    interfaces: dict[str, NodeFile] = field(default_factory=dict)
    frr: dict[str, NodeFile] = field(default_factory=dict)
    #: the global lock's token (``/etc/pve/sdn/.lock``), ``None`` when nobody holds it
    lock_token: str | None = None
    locks_taken: int = 0
    #: the PVE IPAM's addresses clients added (``/etc/pve/priv/ipam.db``): zone -> subnet CIDR -> IP -> entry
    #: (``mac``, ``vmid``, ``hostname``); subnets and their gateways come from the config (:mod:`.sdn_ipam`)
    ipam_ips: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return int(self.running.get("version") or 0)

    def local_version(self, node: str) -> int:
        """The ``#version:N`` first line of the node's ``/etc/network/interfaces.d/sdn`` (0: no file)."""
        found = self.interfaces.get(node)
        first = found.text.split("\n", 1)[0] if found else ""
        return int(first[len("#version:") :]) if first.startswith("#version:") else 0


def subnets_section(vnet: str) -> str:
    """Where the config store keeps a vnet's subnets (PVE: one ``subnets.cfg`` with a ``vnet`` key per subnet)."""
    return f"{VNETS}/{vnet}/subnets"


def fabric_nodes_section(fabric: str) -> str:
    """Where the config store keeps a fabric's nodes (PVE: sections of ``fabrics.cfg``)."""
    return f"/cluster/sdn/fabrics/node/{fabric}"


def current_fabrics(cluster: FakeCluster) -> dict[str, dict[str, Any]]:
    """``fabrics.cfg``: each fabric with its nodes (``{id: {**fabric, "nodes": {node_id: node}}}``)."""
    store = cluster.configs
    return {
        fabric: {**copy.deepcopy(record), "nodes": copy.deepcopy(store.section(fabric_nodes_section(fabric)).records)}
        for fabric, record in store.section(FABRICS).records.items()
    }


def current_config(cluster: FakeCluster) -> dict[str, dict[str, dict[str, Any]]]:
    """The SDN config files as written (not applied): ``{kind: {id: record}}`` for every kind of :data:`KINDS`."""
    store = cluster.configs
    vnets = store.section(VNETS).records
    subnets: dict[str, dict[str, Any]] = {}
    for vnet in vnets:
        for subnet, record in store.section(subnets_section(vnet)).records.items():
            subnets[subnet] = {**record, "vnet": vnet}
    return {
        "zones": copy.deepcopy(store.section(ZONES).records),
        "vnets": copy.deepcopy(vnets),
        "subnets": copy.deepcopy(subnets),
        "controllers": copy.deepcopy(store.section(CONTROLLERS).records),
        "route-maps": copy.deepcopy(store.section(ROUTE_MAPS).records),
        "prefix-lists": copy.deepcopy(store.section(PREFIX_LISTS).records),
    }


def compile_running(cluster: FakeCluster, bump: bool = True) -> dict[str, Any]:
    """``compile_running_cfg`` (SDN.pm 190-227): the current config with the next version (1 on the first apply;
    ``bump=False``, as the dry-run asks: the running version, or 1)."""
    version = cluster.sdn.version
    version = (version + 1 if bump else version) if version else 1
    return {"version": version, **current_config(cluster), "fabrics": current_fabrics(cluster)}


def commit(cluster: FakeCluster) -> int:
    """``commit_config`` (SDN.pm 229-233): the current config becomes the running one; answers its version."""
    cluster.sdn.running = compile_running(cluster)
    cluster.revision.touch()  # /cluster/resources lists the zones nodes report
    return cluster.sdn.version


def restore_running(cluster: FakeCluster) -> None:
    """Write the running config back over the config files (``rollback``): what was applied is what is written."""
    running = cluster.sdn.running
    store = cluster.configs
    for vnet in list(store.section(VNETS).records):
        store.drop(subnets_section(vnet))
    sections = ((ZONES, "zones"), (VNETS, "vnets"), (CONTROLLERS, "controllers"))
    for name, kind in (*sections, (ROUTE_MAPS, "route-maps"), (PREFIX_LISTS, "prefix-lists")):
        store.section(name).records = copy.deepcopy(running.get(kind) or {})
    for subnet, record in (running.get("subnets") or {}).items():
        values = {key: value for key, value in record.items() if key != "vnet"}
        store.section(subnets_section(str(record.get("vnet")))).records[subnet] = copy.deepcopy(values)
    for fabric in list(store.section(FABRICS).records):
        store.drop(fabric_nodes_section(fabric))
    fabrics: dict[str, dict[str, Any]] = running.get("fabrics") or {}
    store.section(FABRICS).records = {
        fabric: {key: value for key, value in copy.deepcopy(record).items() if key != "nodes"}
        for fabric, record in fabrics.items()
    }
    for fabric, record in fabrics.items():
        store.section(fabric_nodes_section(fabric)).records = copy.deepcopy(record.get("nodes") or {})


def regenerate_node(
    cluster: FakeCluster, node: str, local_bridges: Mapping[str, Mapping[str, Any]], regenerate_frr: bool
) -> None:
    """A node's network reload (pve-manager PVE/API2/Network.pm 920-946): ``/etc/network/interfaces.d/sdn`` written
    from the running config, and ``/etc/frr/frr.conf`` when asked (``--regenerate-frr``) or the running config has
    controllers (``running_config_has_frr``, SDN.pm 122-131)."""
    now = cluster.clock.now()
    running = cluster.sdn.running
    if running:
        cluster.sdn.interfaces[node] = NodeFile(interfaces_config(cluster, node, running, local_bridges), now)
    if regenerate_frr or has_frr(running):
        cluster.sdn.frr[node] = NodeFile(frr_config(cluster, node), now)
    cluster.revision.touch()


def has_frr(running: Mapping[str, Any]) -> bool:
    """``running_config_has_frr`` (SDN.pm 122-131): the running config has controllers or fabrics (a node's own
    ``/etc/frr/frr.conf.local`` is not modelled)."""
    return bool(running.get("controllers")) or bool(running.get("fabrics"))


def has_pending_changes(cluster: FakeCluster) -> bool:
    """Whether the written config differs from the running one (``has_pending_changes``, SDN.pm 235-256)."""
    running = {kind: cluster.sdn.running.get(kind) or {} for kind in KINDS}
    return running != current_config(cluster)


def _encoded(value: Any) -> str | None:
    """``PVE::Network::SDN::encode_value``: lists joined with commas, the rest as text."""
    if value is None:
        return None
    return ",".join(str(item) for item in value) if isinstance(value, (list, tuple)) else str(value)


def pending_objects(
    running: Mapping[str, Mapping[str, Any]], current: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``pending_config`` (SDN.pm 133-188): each object of the running and the written config, the running values
    with ``state`` (new, changed, deleted) and the written values that differ under ``pending``."""
    pending: dict[str, dict[str, Any]] = {}
    for key in sorted(running):
        was, now = running[key], current.get(key) or {}
        entry = pending.setdefault(key, {})
        for name in sorted(was):
            entry[name] = copy.deepcopy(was[name])
            if not now:
                entry["state"] = "deleted"
            elif now.get(name) is None:
                entry.setdefault("pending", {})[name] = "deleted"
                entry["state"] = "changed"
            elif _encoded(was[name]) != _encoded(now[name]):
                entry["state"] = "changed"
        if entry.get("state") and "pending" not in entry:
            entry["pending"] = {}
    for key in sorted(current):
        was, now = running.get(key) or {}, current[key]
        entry = pending.setdefault(key, {})
        for name in sorted(now):
            value, old = _encoded(now[name]), _encoded(was.get(name))
            if name in ("type", "vnet"):
                entry[name] = value
            elif old is None or value != old:
                entry.setdefault("pending", {})[name] = copy.deepcopy(now[name])
            if not was:
                entry["state"] = "new"
            elif old is None and value is not None:
                entry["state"] = "changed"
        if entry.get("state") and "pending" not in entry:
            entry["pending"] = {}
    return pending


def sdn_view(cluster: FakeCluster, kind: str, pending: bool, vnet: Any = None) -> dict[str, dict[str, Any]]:
    """The ``running`` view of one kind of SDN object (its running config's, none before any apply), or the
    ``pending`` one (:func:`pending_objects` of the running and the written ones); subnets of ``vnet`` only."""
    running: dict[str, dict[str, Any]] = copy.deepcopy(cluster.sdn.running.get(kind) or {})
    if vnet is not None:
        running = {key: record for key, record in running.items() if record.get("vnet") == vnet}
    if not pending:
        return running
    current = current_config(cluster)[kind]
    if vnet is not None:
        current = {key: record for key, record in current.items() if record.get("vnet") == vnet}
    return pending_objects(running, current)


def zone_nodes(zone: Mapping[str, Any]) -> set[str] | None:
    """The nodes a zone is restricted to (its ``nodes`` list), ``None`` when it spans the cluster."""
    value = zone.get("nodes")
    if value in (None, ""):
        return None
    names = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    return {str(name).strip() for name in names if str(name).strip()}


def _on_node(zone: Mapping[str, Any], node: str) -> bool:
    nodes = zone_nodes(zone)
    return nodes is None or node in nodes


def zone_status(cluster: FakeCluster, node: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """``PVE::Network::SDN::Zones::status`` on ``node``: (zones by id, vnets by id), both empty before any apply."""
    running = cluster.sdn.running
    version = cluster.sdn.version
    if not version:
        return {}, {}
    local = cluster.sdn.local_version(node)
    error = NOT_GENERATED if not local else TOO_OLD if local < version else None
    zones_cfg: dict[str, dict[str, Any]] = running.get("zones") or {}
    zones: dict[str, dict[str, Any]] = {}
    for zone_id in sorted(zones_cfg):
        if _on_node(zones_cfg[zone_id], node):
            zones[zone_id] = {
                "status": "pending" if error else "available",
                "zone-type": zones_cfg[zone_id].get("type"),
            }
    vnets: dict[str, dict[str, Any]] = {}
    for vnet_id, vnet in sorted((running.get("vnets") or {}).items()):
        zone_id = vnet.get("zone")
        if zone_id is None:
            continue
        if zone_id not in zones_cfg:
            vnets[vnet_id] = {"status": "error", "statusmsg": f"unknown zone '{zone_id}' configured"}
            continue
        if not _on_node(zones_cfg[zone_id], node):
            continue
        vnets[vnet_id] = {"zone": zone_id, "status": "pending" if error else "available"}
        if error:
            vnets[vnet_id]["statusmsg"] = error
    return zones, vnets


def running_zone(cluster: FakeCluster, zone: str) -> dict[str, Any] | None:
    """The zone as the running config holds it (``get_zone($zoneid, 1)``)."""
    zones: dict[str, dict[str, Any]] = cluster.sdn.running.get("zones") or {}
    return zones.get(zone)


def running_vnets_of(cluster: FakeCluster, zone: str) -> dict[str, dict[str, Any]]:
    """The running config's vnets of ``zone``."""
    vnets: dict[str, dict[str, Any]] = cluster.sdn.running.get("vnets") or {}
    return {vnet_id: vnet for vnet_id, vnet in vnets.items() if vnet.get("zone") == zone}


# -- what ``ip link`` shows on a node ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BridgePort:
    """A bridge member: a NIC, an SDN uplink, or a guest's tap/veth (``fwpr`` when its firewall is on)."""

    name: str
    vmid: int | None = None
    index: str | None = None
    tag: int | None = None
    trunks: tuple[str, ...] = ()


def guest_ports(guest: Guest, bridge: str) -> list[BridgePort]:
    """The ports a running guest plugs into ``bridge``: ``tap<vmid>i<n>`` (QEMU), ``veth<vmid>i<n>`` (LXC), or the
    firewall bridge's ``fwpr<vmid>p<n>`` when the NIC has ``firewall=1`` (pve-common PVE/Network.pm tap_plug)."""
    if not guest.running:
        return []
    ports = []
    for key in sorted(guest.config, key=lambda name: (len(str(name)), str(name))):
        name = str(key)
        if not name.startswith("net") or not name[3:].isdigit():
            continue
        text = str(guest.config[key])
        if property_option(text, "bridge") != bridge or property_option(text, "link_down") == "1":
            continue
        number = name[3:]
        if property_option(text, "firewall") == "1":
            port = f"fwpr{guest.vmid}p{number}"
        else:
            port = f"{'veth' if guest.kind == 'lxc' else 'tap'}{guest.vmid}i{number}"
        tag = property_option(text, "tag")
        trunks = tuple(part for part in (property_option(text, "trunks") or "").split(";") if part)
        ports.append(BridgePort(port, guest.vmid, f"net{number}", int(tag) if tag else None, trunks))
    return ports


def bridge_ports(cluster: FakeCluster, node: str, bridge: str, uplinks: Iterable[str]) -> list[BridgePort]:
    """Every member of ``bridge`` on ``node``: its uplinks (``bridge_ports`` of its stanza), then guest ports."""
    ports = [BridgePort(name) for name in uplinks if name and name != "none"]
    for guest in sorted(cluster.guests_on(node), key=lambda guest: guest.vmid):
        ports.extend(guest_ports(guest, bridge))
    return ports


# -- /etc/network/interfaces.d/sdn --------------------------------------------------------------------------------
def interfaces_config(
    cluster: FakeCluster, node: str, running: Mapping[str, Any], local_bridges: Mapping[str, Mapping[str, Any]]
) -> str:
    """``generate_etc_network_config`` (Zones.pm 109-179) for ``node``: ``#version:N`` and one stanza per interface
    the simple, VLAN, VXLAN and EVPN zones of ``running`` need (QinQ and Faucet zones are not generated by the fake).
    ``local_bridges``: the node's own bridges (``/etc/network/interfaces``) by name, with ``bridge_ports``."""
    config: dict[str, list[str]] = {}
    zones: dict[str, dict[str, Any]] = running.get("zones") or {}
    subnets: dict[str, dict[str, Any]] = running.get("subnets") or {}
    node_ip = getattr(cluster.find_node(node), "ip", "")
    for vnet_id in sorted(running.get("vnets") or {}):
        vnet = running["vnets"][vnet_id]
        zone = zones.get(str(vnet.get("zone")))
        if zone is None or not _on_node(zone, node):
            continue
        kind = zone.get("type")
        if kind == "simple":
            _simple_vnet(config, vnet_id, vnet, zone, subnets, node_ip)
        elif kind == "vlan":
            _vlan_vnet(config, vnet_id, vnet, zone, local_bridges)
        elif kind == "vxlan":
            _vxlan_vnet(config, vnet_id, vnet, zone, node_ip)
        elif kind == "evpn":
            _evpn_vnet(config, (vnet_id, vnet), (str(vnet.get("zone")), zone), running, node, node_ip)
    text = f"#version:{running.get('version')}\n"
    for iface in sorted(config):
        text += f"\nauto {iface}\niface {iface}\n" + "".join(f"\t{option}\n" for option in config[iface])
    return text


def _bridge_tail(vnet: Mapping[str, Any], mtu: Any) -> list[str]:
    lines = ["bridge_stp off", "bridge_fd 0"]
    if str(vnet.get("vlanaware", "0")) == "1":
        lines += ["bridge-vlan-aware yes", "bridge-vids 2-4094"]
    if mtu:
        lines.append(f"mtu {mtu}")
    if vnet.get("alias"):
        lines.append(f"alias {vnet['alias']}")
    return lines


def _vnet_subnets(
    subnets: Mapping[str, Mapping[str, Any]], vnet_id: str
) -> Iterator[tuple[Mapping[str, Any], ipaddress.IPv4Network | ipaddress.IPv6Network, str | None]]:
    """The vnet's subnets in id order with their network, and the ``address <gateway>/<prefix>`` line of a gateway no
    earlier subnet gave (the zone plugins write each gateway once)."""
    seen: set[str] = set()
    for subnet_id in sorted(subnets):
        subnet = subnets[subnet_id]
        if subnet.get("vnet") != vnet_id:
            continue
        network = ipaddress.ip_network(str(subnet.get("cidr") or _subnet_cidr(subnet_id)), strict=False)
        gateway = subnet.get("gateway")
        address = None
        if gateway and str(gateway) not in seen:
            address = f"address {gateway}/{network.prefixlen}"
            seen.add(str(gateway))
        yield subnet, network, address


def _simple_vnet(
    config: dict[str, list[str]],
    vnet_id: str,
    vnet: Mapping[str, Any],
    zone: Mapping[str, Any],
    subnets: Mapping[str, Mapping[str, Any]],
    node_ip: str,
) -> None:
    """SimplePlugin.pm generate_sdn_config: the vnet's gateways as addresses, SNAT through the node's route."""
    if vnet_id in config:
        return
    lines: list[str] = []
    forward = {4: False, 6: False}
    for subnet, network, address in _vnet_subnets(subnets, vnet_id):
        lines += [address] if address else []
        version = network.version
        forward[version] = forward[version] or bool(subnet.get("gateway"))
        if network.prefixlen == 32 and version == 4:
            lines.append(f"up ip route add {network} dev {vnet_id}")
        if str(subnet.get("snat", "0")) == "1" and node_ip and version == 4:  # the node routes IPv4 only
            rule = f"POSTROUTING -s '{network}' -o vmbr0 -j SNAT --to-source {node_ip}"
            lines += [f"post-up iptables -t nat -A {rule}", f"post-down iptables -t nat -D {rule}"]
            lines += [
                "post-up iptables -t raw -I PREROUTING -i fwbr+ -j CT --zone 1",
                "post-down iptables -t raw -D PREROUTING -i fwbr+ -j CT --zone 1",
            ]
    if vnet.get("mac"):
        lines.append(f"hwaddress {vnet['mac']}")
    lines.append("bridge_ports none")
    lines += _bridge_tail(vnet, zone.get("mtu"))
    if forward[4]:
        lines.append("ip-forward on")
    if forward[6]:
        lines.append("ip6-forward on")
    config[vnet_id] = lines


def _subnet_cidr(subnet_id: str) -> str:
    """A subnet id (``<zone>-10.0.0.0-24``, or the CIDR itself) back to its CIDR."""
    if "/" in subnet_id:
        return subnet_id
    _zone, _, rest = subnet_id.partition("-")
    address, _, prefix = rest.rpartition("-")
    return f"{address}/{prefix}"


def _vlan_vnet(
    config: dict[str, list[str]],
    vnet_id: str,
    vnet: Mapping[str, Any],
    zone: Mapping[str, Any],
    local_bridges: Mapping[str, Mapping[str, Any]],
) -> None:
    """VlanPlugin.pm generate_sdn_config for a Linux bridge: ``vmbrXvTAG`` over the uplinks' VLAN devices, joined
    to the vnet bridge by the ``ln_``/``pr_`` veth pair; on a VLAN-aware bridge, ``vmbrX.TAG``."""
    bridge = str(zone.get("bridge"))
    tag = vnet.get("tag")
    mtu = zone.get("mtu")
    uplink = f"ln_{vnet_id}"
    peer = f"pr_{vnet_id}"
    local = local_bridges.get(bridge) or {}
    if str(local.get("bridge_vlan_aware", "0")) == "1":
        uplink = f"{bridge}.{tag}"
    else:
        mtu_line = [f"mtu {mtu}"] if mtu else []
        config.setdefault(uplink, ["link-type veth", f"veth-peer-name {peer}", *mtu_line])
        config.setdefault(peer, ["link-type veth", f"veth-peer-name {uplink}", *mtu_line])
        ports = "".join(f" {iface}.{tag}" for iface in str(local.get("bridge_ports") or "").split() if iface)
        config.setdefault(
            f"{bridge}v{tag}", [f"bridge_ports {ports} {peer}", "bridge_stp off", "bridge_fd 0", *mtu_line]
        )
    config.setdefault(vnet_id, [f"bridge_ports {uplink}", *_bridge_tail(vnet, mtu)])


def _vxlan_vnet(
    config: dict[str, list[str]], vnet_id: str, vnet: Mapping[str, Any], zone: Mapping[str, Any], node_ip: str
) -> None:
    """VxlanPlugin.pm generate_sdn_config: ``vxlan_<vnet>`` with the tag as VNI and the other peers as remotes."""
    tag = vnet.get("tag")
    mtu = int(zone.get("mtu") or 1450)
    peers = [peer.strip() for peer in str(zone.get("peers") or "").replace(";", ",").split(",") if peer.strip()]
    vxlan = f"vxlan_{vnet_id}"
    lines = [f"vxlan-id {tag}", *(f"vxlan_remoteip {peer}" for peer in peers if peer != node_ip)]
    if zone.get("vxlan-port"):
        lines.append(f"vxlan-port {zone['vxlan-port']}")
    lines.append(f"mtu {mtu}")
    config.setdefault(vxlan, lines)
    config.setdefault(vnet_id, [f"bridge_ports {vxlan}", *_bridge_tail(vnet, mtu)])


def _evpn_vnet(
    config: dict[str, list[str]],
    vnet_item: tuple[str, Mapping[str, Any]],
    zone_item: tuple[str, Mapping[str, Any]],
    running: Mapping[str, Any],
    node: str,
    node_ip: str,
) -> None:
    """EvpnPlugin.pm generate_sdn_config (118-343, pve-network ecf98c5d) for a controller with peers: the vnet's
    ``vxlan_<vnet>`` (its tag as VNI, the node's peer address as tunnel IP), the vnet bridge with the subnets'
    gateways in the zone's VRF, and the VRF with its L3VNI bridge (``vrf-vxlan``); an exit node drops the VRF's
    unreachable default route (src/test/zones/evpn/*/expected_sdn_interfaces)."""
    vnet_id, vnet = vnet_item
    zone_id, zone = zone_item
    controllers: dict[str, dict[str, Any]] = running.get("controllers") or {}
    controller = controllers.get(str(zone.get("controller"))) or {}
    peers = [peer.strip() for peer in str(controller.get("peers") or "").replace(";", ",").split(",") if peer.strip()]
    tunnel_ip = node_ip if node_ip in peers else None  # find_local_ip_interface_peers: the node's own peer address
    exit_nodes = zone.get("exitnodes") or ""
    exit_list = exit_nodes if isinstance(exit_nodes, list) else str(exit_nodes).replace(";", ",").split(",")
    is_gateway = node in [name.strip() for name in exit_list]
    mtu = zone.get("mtu") or 1450
    tail = ["bridge-learning off"]
    if not str(zone.get("disable-arp-nd-suppression") or ""):
        tail.append("bridge-arp-nd-suppress on")
    tail.append(f"mtu {mtu}")
    tunnel = [f"vxlan-local-tunnelip {tunnel_ip}"] if tunnel_ip else []
    port = [f"vxlan-port {zone['vxlan-port']}"] if zone.get("vxlan-port") else []
    config.setdefault(f"vxlan_{vnet_id}", [f"vxlan-id {vnet.get('tag')}", *tunnel, *port, *tail])
    lines: list[str] = []
    forward = {4: False, 6: False}
    subnets: dict[str, dict[str, Any]] = running.get("subnets") or {}
    for subnet, network, address in _vnet_subnets(subnets, vnet_id):
        lines += [address] if address else []
        forward[network.version] = forward[network.version] or bool(subnet.get("gateway"))
    has_gateway = any(line.startswith("address ") for line in lines)
    if zone.get("mac"):
        lines.append(f"hwaddress {zone['mac']}")
    lines += [f"bridge_ports vxlan_{vnet_id}", "bridge_stp off", "bridge_fd 0", f"mtu {mtu}"]
    if vnet.get("alias"):
        lines.append(f"alias {vnet['alias']}")
    lines += ["ip-forward on"] if forward[4] else []
    lines += ["ip6-forward on"] if forward[6] else []
    lines += ["arp-accept on"] if has_gateway else []
    lines.append(f"vrf vrf_{zone_id}")
    config.setdefault(vnet_id, lines)
    route = "del" if is_gateway else "add"
    config.setdefault(
        f"vrf_{zone_id}",
        ["vrf-table auto", f"post-up ip route {route} vrf vrf_{zone_id} unreachable default metric 4278198272"],
    )
    if zone.get("vrf-vxlan"):
        config.setdefault(f"vrfvx_{zone_id}", [f"vxlan-id {zone['vrf-vxlan']}", *tunnel, *port, *tail])
        config.setdefault(
            f"vrfbr_{zone_id}",
            [f"bridge-ports vrfvx_{zone_id}", "bridge_stp off", "bridge_fd 0", f"mtu {mtu}", f"vrf vrf_{zone_id}"],
        )


# -- /etc/frr/frr.conf ----------------------------------------------------------------------------------------------
#: What the frr package installs (FRRouting tools/etc/frr/frr.conf, commit 3243b69e; pve-network Recommends
#: frr-pythontools, so every PVE node has it) until SDN writes its own.
FRR_DEFAULT = (
    "# default to using syslog. /etc/rsyslog.d/45-frr.conf places the log in\n"
    "# /var/log/frr/frr.log\n"
    "#\n"
    "# Note:\n"
    "# FRR's configuration shell, vtysh, dynamically edits the live, in-memory\n"
    "# configuration while FRR is running. When instructed, vtysh will persist the\n"
    "# live configuration to this file, overwriting its contents. If you want to\n"
    "# avoid this, you can edit this file manually before starting FRR, or instruct\n"
    "# vtysh to write configuration to a different file.\n"
    "log syslog informational\n"
)


def frr_version(cluster: FakeCluster) -> str:
    """The ``frr version`` line pve-network writes: 10.3.1 (pve-network 46e81ed, 9.0) then 10.4.1 (1b2c880, in
    libpve-network-perl 1.2.4 of PVE 9.1.2)."""
    version = release_packages(cluster.version).get("libpve-network-perl", "")
    parts = tuple(int(part) for part in version.split("-")[0].split(".") if part.isdigit())
    return "10.4.1" if parts >= (1, 2, 4) else "10.3.1"


def frr_config(cluster: FakeCluster, node: str) -> str:
    """``raw_config_to_string`` (src/PVE/Network/SDN/Frr.pm 198-218) of a config without controllers or fabrics:
    the templates render nothing, only the frame remains (EVPN/BGP controllers are not rendered by the fake)."""
    lines = [
        f"frr version {frr_version(cluster)}",
        "frr defaults datacenter",
        f"hostname {node}",
        "log syslog informational",
        "service integrated-vtysh-config",
        "!",
        "line vty",
        "!",
    ]
    return "\n".join(lines) + "\n"


# -- a scenario's ``sdn`` --------------------------------------------------------------------------------------------
def sdn_state_data(cluster: FakeCluster) -> dict[str, Any] | None:
    """The applied SDN state as plain data for a scenario dump (``None`` when there is none): the running config
    (``/etc/pve/sdn/.running-config``), each node's generated files with their times, the IP mappings clients added
    to the PVE IPAM and the global lock's token. What is written but not applied is the config store's."""
    state = cluster.sdn
    nodes: dict[str, dict[str, Any]] = {}
    for kind, files in (("interfaces", state.interfaces), ("frr", state.frr)):
        for node, found in files.items():
            nodes.setdefault(node, {})[kind] = {"mtime": found.mtime, "text": found.text}
    data = {
        "running": copy.deepcopy(state.running) or None,
        "nodes": {node: nodes[node] for node in sorted(nodes)} or None,
        "ipam": copy.deepcopy(state.ipam_ips) or None,
        "lock": state.lock_token,
    }
    present = {key: value for key, value in data.items() if value is not None}
    return present or None


def load_sdn_state(cluster: FakeCluster, data: Mapping[str, Any]) -> None:
    """Put back what :func:`sdn_state_data` wrote."""
    state = cluster.sdn
    state.running = copy.deepcopy(dict(data.get("running") or {}))
    state.interfaces, state.frr = {}, {}
    for node, files in (data.get("nodes") or {}).items():
        for kind, target in (("interfaces", state.interfaces), ("frr", state.frr)):
            found = (files or {}).get(kind)
            if found is not None:
                target[str(node)] = NodeFile(str(found["text"]), int(found["mtime"]))
    state.ipam_ips = copy.deepcopy(dict(data.get("ipam") or {}))
    state.lock_token = str(data["lock"]) if data.get("lock") else None
    cluster.revision.touch()
