"""SDN: applying the config (``PUT /cluster/sdn``, a node's network reload), the dry-run diff, each node's zone
status, zone content and bridges (pve-network, commit ecf98c5d; fabrics and prefix lists: ``sdn_fabrics.py``).
The state lives in :mod:`pytest_pvemock.model.sdn`; zones, vnets, subnets and controllers are written through the
config collections (``api/collections.py``)."""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any

from pytest_pvemock.api.collections import _may, _stored_records
from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.cluster import NO_QUORUM
from pytest_pvemock.model.sdn import (
    FRR_DEFAULT,
    bridge_ports,
    commit,
    compile_running,
    frr_config,
    has_frr,
    has_pending_changes,
    interfaces_config,
    regenerate_node,
    restore_running,
    running_vnets_of,
    running_zone,
    zone_nodes,
    zone_status,
)
from pytest_pvemock.model.sdn_evpn import ip_vrf, mac_vrf
from pytest_pvemock.model.tasks import Task

# pve-network src/PVE/Network/SDN.pm lock_sdn_config 278-298: a token other than the stored one dies without a
# newline, so Perl names the place (line 291 of the installed module)
_INVALID_TOKEN = "invalid lock token provided! at /usr/share/perl5/PVE/Network/SDN.pm line 291."


# -- applying ---------------------------------------------------------------------------------------------------------
def _local_bridges(ctx: HandlerContext, node: str) -> dict[str, dict[str, Any]]:
    """The node's own bridges (``/etc/network/interfaces``), by name."""
    records = _stored_records(_on_node(ctx, node), "/nodes/{node}/network")
    return {name: record for name, record in records.items() if record.get("type") == "bridge"}


def _on_node(ctx: HandlerContext, node: str) -> HandlerContext:
    return HandlerContext(ctx.cluster, ctx.method, ctx.path, ctx.template, {"node": node}, ctx.principal)


def _reload_worker(ctx: HandlerContext, node: str, regenerate_frr: bool) -> Task:
    """``pvesh set /nodes/<node>/network``: the node's ``srvreload`` worker (pve-manager PVE/API2/Network.pm
    895-950, commit 14a22df3) writes the SDN interfaces file and, when asked, the FRR config."""
    bridges = _local_bridges(ctx, node)
    cluster = ctx.cluster

    def work(task: Task) -> None:
        regenerate_node(cluster, node, bridges, regenerate_frr)

    return cluster.tasks.start(node, "srvreload", "networking", ctx.principal.authid, work=work)


@handles("PUT", "/nodes/{node}/network")
def reload_network(ctx: HandlerContext) -> str:
    """Reload the node's network: ``--regenerate-frr`` as given, else when the running SDN config has FRR parts."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    wanted = ctx.params.get("regenerate-frr")
    regenerate = bool(int(wanted)) if wanted is not None else has_frr(ctx.cluster.sdn.running)
    return _reload_worker(ctx, node, regenerate).upid


def check_lock(ctx: HandlerContext, failure: str) -> None:
    """``lock_sdn_config``: with the global lock taken, only its token may write."""
    held = ctx.cluster.sdn.lock_token
    if held is not None and ctx.params.get("lock-token") != held:
        raise PVEError(f"{failure}: {_INVALID_TOKEN}")


def _lock_token(ctx: HandlerContext) -> str:
    """``generate_lock_token`` (SDN.pm 258-266): a UUID v7, its first 48 bits the time in milliseconds."""
    cluster = ctx.cluster
    cluster.sdn.locks_taken += 1
    draw = figures.seeded(cluster.seed, "sdn-lock", cluster.clock.now(), cluster.sdn.locks_taken).getrandbits(80)
    value = (cluster.clock.now() * 1000) << 80 | 0x7 << 76 | (draw >> 68) << 64 | 0b10 << 62 | (draw & (1 << 62) - 1)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@handles("POST", "/cluster/sdn/lock")
def acquire_lock(ctx: HandlerContext) -> str:
    """pve-network src/PVE/API2/Network/SDN.pm ``lock`` (120-157): refused while another holds it, or, unless
    ``allow-pending``, while written changes wait to be applied."""
    failure = "could not acquire lock for SDN config"
    check_lock(ctx, failure)
    if not int(ctx.params.get("allow-pending", 0)) and has_pending_changes(ctx.cluster):
        where = "/usr/share/perl5/PVE/API2/Network/SDN.pm line 149."
        raise PVEError(f"{failure}: configuration has pending changes at {where}")
    ctx.cluster.sdn.lock_token = _lock_token(ctx)
    return ctx.cluster.sdn.lock_token


@handles("DELETE", "/cluster/sdn/lock")
def release_lock(ctx: HandlerContext) -> None:
    """SDN.pm ``release_lock`` (159-202): with the token, or ``force`` without it."""
    if not int(ctx.params.get("force", 0)):
        check_lock(ctx, "could not release lock")
    ctx.cluster.sdn.lock_token = None


@handles("POST", "/cluster/sdn/rollback")
def rollback(ctx: HandlerContext) -> None:
    """SDN.pm ``rollback`` (204-259): the running config written back over the config files (zones, vnets,
    subnets, controllers, fabrics), the lock released when its token was given (``release-lock``, default 1)."""
    check_lock(ctx, "could not rollback SDN configuration")
    restore_running(ctx.cluster)
    if ctx.params.get("lock-token") and int(ctx.params.get("release-lock", 1)):
        ctx.cluster.sdn.lock_token = None


@handles("PUT", "/cluster/sdn")
def apply_sdn(ctx: HandlerContext) -> str:
    """pve-network src/PVE/API2/Network/SDN.pm ``reload`` (261-330): commit the written config as the running one
    (in the request), then a ``reloadnetworkall`` worker reloads every node's network."""
    cluster = ctx.cluster
    check_lock(ctx, "could not commit SDN config")
    previous = has_frr(cluster.sdn.running)
    commit(cluster)
    regenerate = previous or has_frr(cluster.sdn.running)
    if ctx.params.get("lock-token") and int(ctx.params.get("release-lock", 1)):
        cluster.sdn.lock_token = None

    def work(task: Task) -> None:
        if not cluster.quorate:
            raise PVEError(NO_QUORUM)
        for node in sorted(node.name for node in cluster.nodes):
            task.log.append(f"{node}: reloading network config")
            if cluster.find_node(node) is not None and getattr(cluster.find_node(node), "online", True):
                _reload_worker(ctx, node, regenerate)
            else:  # pvesh cannot reach the node; run_command dies, the worker warns and goes on
                command = f"pvesh set /nodes/{node}/network --regenerate-frr {int(regenerate)}"
                task.log.append(f"WARN: command '{command}' failed: exit code 255")
                task.warnings += 1

    return cluster.tasks.start(ctx.entry_node, "reloadnetworkall", "", ctx.principal.authid, work=work).upid


# -- dry-run ----------------------------------------------------------------------------------------------------------
def _stamp(ctx: HandlerContext, when: int) -> str:
    """A file time as GNU ``diff -u`` prints it."""
    return datetime.fromtimestamp(when, tz=ctx.cluster.tzinfo).strftime("%Y-%m-%d %H:%M:%S.000000000 %z")


def _diff(ctx: HandlerContext, path: str, old: tuple[str, int] | None, new: str, temp: str) -> str | None:
    """``diff -b -N -u <path> <temp>`` as ``get_diff`` (SDN.pm 332-350) collects it: ``None`` when equal."""
    before = old[0] if old else ""
    if [" ".join(line.split()) for line in before.splitlines()] == [
        " ".join(line.split()) for line in new.splitlines()
    ]:
        return None  # -b: changes in the amount of white space do not count
    now = ctx.cluster.clock.now()
    lines = difflib.unified_diff(
        before.splitlines(),
        new.splitlines(),
        fromfile=path,
        tofile=temp,
        fromfiledate=_stamp(ctx, old[1] if old else 0),
        tofiledate=_stamp(ctx, now),
        lineterm="",
    )
    return "".join(line + "\n" for line in lines) or None


@handles("GET", "/cluster/sdn/dry-run")
def dry_run(ctx: HandlerContext) -> dict[str, Any]:
    """SDN.pm ``dry-run`` (352-414): the written config compiled without a version bump, rendered for the node and
    diffed against its ``/etc/frr/frr.conf`` and ``/etc/network/interfaces.d/sdn``; the new files are anonymous
    temp files of the pvedaemon worker (``/proc/<pid>/fd/<n>``, pve-common src/PVE/File.pm 217-258)."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"])
    running = compile_running(cluster, bump=False)
    pid = figures.seeded(cluster.seed, "pvedaemon-worker", node.name, node.boot_time).randrange(2400, 60000)
    frr_file = cluster.sdn.frr.get(node.name)
    frr_old = (frr_file.text, frr_file.mtime) if frr_file else (FRR_DEFAULT, node.boot_time)
    sdn_file = cluster.sdn.interfaces.get(node.name)
    answer: dict[str, Any] = {}
    frr = _diff(ctx, "/etc/frr/frr.conf", frr_old, frr_config(cluster, node.name), f"/proc/{pid}/fd/12")
    interfaces_new = interfaces_config(cluster, node.name, running, _local_bridges(ctx, node.name))
    interfaces = _diff(
        ctx,
        "/etc/network/interfaces.d/sdn",
        (sdn_file.text, sdn_file.mtime) if sdn_file else None,
        interfaces_new,
        f"/proc/{pid}/fd/13",
    )
    if frr is not None:
        answer["frr-diff"] = frr
    if interfaces is not None:
        answer["interfaces-diff"] = interfaces
    return ordered(ctx, answer, "dry-run")


# -- a node's view ----------------------------------------------------------------------------------------------------
@handles("GET", "/nodes/{node}/sdn/zones")
def node_zones(ctx: HandlerContext) -> list[dict[str, Any]]:
    """pve-network src/PVE/API2/Network/SDN/Nodes/Zones.pm ``index`` (17-66): each zone of the running config on
    the node, sorted, with its status (no filter: the code lists every zone, whatever the description says)."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    zones, _vnets = zone_status(ctx.cluster, node)
    return ordered_rows(ctx, [{"zone": zone, "status": state["status"]} for zone, state in zones.items()], "zone")


@handles("GET", "/nodes/{node}/sdn/zones/{zone}/content")
def zone_content(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Nodes/Zone.pm ``content`` (56-125): the zone's vnets with their status on the node (an unknown zone: none).
    PVE sends ``statusmsg: null`` for a vnet without message; the fake leaves the key out."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    _zones, vnets = zone_status(ctx.cluster, node)
    rows = []
    for vnet, state in sorted(vnets.items()):
        if state.get("zone") == ctx.params["zone"]:
            row = {"vnet": vnet, "status": state["status"]}
            if state.get("statusmsg"):
                row["statusmsg"] = state["statusmsg"]
            rows.append(row)
    return ordered_rows(ctx, rows, "vnet")


def _stanzas(text: str) -> dict[str, list[str]]:
    """``iface`` stanzas of an interfaces file: name -> option lines."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("iface "):
            current = found.setdefault(line.split()[1], [])
        elif line.startswith(("\t", " ")) and current is not None:
            current.append(line.strip())
        elif not line.strip() or line.startswith("auto "):
            continue
        else:
            current = None
    return found


def _port_entry(port: Any, vlan_aware: bool) -> dict[str, Any]:
    """A bridge port as the answer lists it; on a VLAN-aware bridge with its PVID and other VLANs (pve-common
    PVE/Network.pm tap_plug: the tag untagged as PVID, else VLAN 1 and the bridge's ``2-4094`` or the trunks)."""
    entry: dict[str, Any] = {"name": port.name}
    if port.vmid is not None:
        entry["vmid"] = str(port.vmid)
        entry["index"] = port.index
    if vlan_aware:
        entry["vlans"] = list(port.trunks) if port.tag or port.trunks else ["2-4094"]
        entry["primary_vlan"] = port.tag or 1
    return entry


@handles("GET", "/nodes/{node}/sdn/zones/{zone}/bridges")
def zone_bridges(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Nodes/Zone.pm ``bridges`` (127-304): ``localnetwork``'s bridges are the node's own; another zone's are its
    vnets in the running config (400 when the zone is not there). Members as ``ip link`` shows them: the uplinks of
    the bridge's stanza, the running guests' ports; ``vlan_filtering`` as iproute2 prints it (0 or 1, null for a
    vnet the node has not created)."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"]).name
    zone = ctx.params["zone"]
    bridges: dict[str, tuple[list[str], int | None]] = {}
    if zone == "localnetwork":
        for name, record in _local_bridges(ctx, node).items():
            vlan_aware = 1 if str(record.get("bridge_vlan_aware", "0")) == "1" else 0
            bridges[name] = (str(record.get("bridge_ports") or "").split(), vlan_aware)
    else:
        if running_zone(cluster, zone) is None:
            raise ParameterError({"zone": "zone does not exist"})
        local = cluster.sdn.interfaces.get(node)
        stanzas = _stanzas(local.text) if local else {}
        for vnet in running_vnets_of(cluster, zone):
            stanza = stanzas.get(vnet)
            if stanza is None:
                bridges[vnet] = ([], None)
                continue
            ports = next((line.split()[1:] for line in stanza if line.startswith("bridge_ports ")), [])
            bridges[vnet] = (ports, 1 if "bridge-vlan-aware yes" in stanza else 0)
    rows = []
    for name in sorted(bridges):
        if not _may(ctx, f"/sdn/zones/{zone}/{name}", ["SDN.Audit", "SDN.Allocate"]):
            continue
        uplinks, vlan_filtering = bridges[name]
        members = bridge_ports(cluster, node, name, uplinks) if vlan_filtering is not None else []
        rows.append(
            {
                "name": name,
                "vlan_filtering": vlan_filtering,
                "ports": [_port_entry(port, vlan_filtering == 1) for port in members],
            }
        )
    return ordered_rows(ctx, rows, "name")


@handles("GET", "/nodes/{node}/sdn/zones/{zone}/ip-vrf")
def zone_ip_vrf(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Nodes/Zone.pm ``ip-vrf`` (306-383): only an EVPN zone of the running config on the node; its VRF routes as
    FRR holds them (``PVE::RS::SDN::Fabrics::l3vpn_routes``, :func:`~pytest_pvemock.model.sdn_evpn.ip_vrf`)."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    zone = running_zone(ctx.cluster, ctx.params["zone"])
    if zone is None:
        raise ParameterError({"zone": "zone does not exist"})
    if zone.get("type") != "evpn":
        raise ParameterError({"zone": "zone is not an EVPN zone"})
    nodes = zone_nodes(zone)
    if nodes is not None and node not in nodes:
        raise ParameterError({"zone": f"zone does not exist on node {node}"})
    return ip_vrf(ctx.cluster, str(ctx.params["zone"]), node)


@handles("GET", "/nodes/{node}/sdn/vnets/{vnet}/mac-vrf")
def vnet_mac_vrf(ctx: HandlerContext) -> list[dict[str, Any]]:
    """pve-network src/PVE/API2/Network/SDN/Nodes/Vnet.pm ``mac-vrf`` (62-147, commit 1414d17a): SDN.Audit on the
    vnet, then the vnet and its zone in the running config, an EVPN zone on the node; the MAC VRF from
    ``l2vpn_routes``, which needs the vnet's tag (the VNI)."""
    cluster = ctx.cluster
    vnet_id = str(ctx.params["vnet"])
    written = cluster.configs.section("/cluster/sdn/vnets").get(vnet_id) or {}
    path = f"/sdn/zones/{written.get('zone') or ''}/{vnet_id}"  # check_vnet_access (API2/Network/SDN/Vnets.pm)
    PermissionChecker(cluster).check(ctx.principal.authid, path, ["SDN.Audit"], any_of=True)
    vnet = (cluster.sdn.running.get("vnets") or {}).get(vnet_id)
    if vnet is None:
        raise ParameterError({"vnet": "vnet does not exist"})
    zone_id = vnet.get("zone")
    zone = running_zone(cluster, str(zone_id))
    if zone is None:
        raise ParameterError({"zone": f"zone {zone_id} does not exist"})
    if zone.get("type") != "evpn":
        raise ParameterError({"zone": f"zone {zone_id} is not an EVPN zone."})
    node = str(ctx.params["node"])
    nodes = zone_nodes(zone)
    if nodes is not None and node not in nodes:
        raise ParameterError({"zone": f"zone {zone_id} of vnet {vnet_id} does not exist on node {node}"})
    cluster.require_node_reachable(node)
    if vnet.get("tag") in (None, ""):
        raise PVEError(f"vnet {vnet_id} has no tag")
    return mac_vrf(cluster, vnet_id)
