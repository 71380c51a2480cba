"""SDN fabrics and prefix lists (PVE 9): what a client writes to ``fabrics.cfg`` and ``prefix-lists.cfg`` and reads
back, and a node's fabric status.

Fabrics: pve-network src/PVE/API2/Network/SDN/Fabrics/{Fabric,FabricNode,Node}.pm (commit ecf98c5d), the checks of
proxmox-ve-rs proxmox-ve-config/src/sdn/fabric/mod.rs (commit 840d1ede, ``FabricConfigError`` lines 42-84).
Prefix lists: pve-network src/PVE/API2/Network/SDN/PrefixLists.pm, PrefixLists/{PrefixList,PrefixListEntry}.pm
(commit c82df6a4) and proxmox-perl-rs ``PVE::RS::SDN::PrefixLists``. A node's routes, neighbors and interfaces of an
applied fabric are what FRR would report for it (:mod:`pytest_pvemock.model.sdn_fabric_status`).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pytest_pvemock.api.collections import _may
from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.sdn import check_lock
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.config_store import KeyedSection, digest_of
from pytest_pvemock.model.sdn import FABRICS, PREFIX_LISTS, ZONES, fabric_nodes_section
from pytest_pvemock.model.sdn_fabric_status import fabric_interfaces, fabric_neighbors, fabric_routes

_CONTROLS = ("lock-token", "digest", "delete")


def _values(ctx: HandlerContext, *path_names: str) -> dict[str, Any]:
    return {key: value for key, value in ctx.params.items() if key not in _CONTROLS and key not in path_names}


def _deleted(ctx: HandlerContext) -> list[str]:
    value = ctx.params.get("delete") or []
    return [str(item) for item in (value if isinstance(value, list) else str(value).split(","))]


def _assert_digest(ctx: HandlerContext, digest: str, failure: str) -> None:
    """``PVE::Tools::assert_if_modified``."""
    wanted = ctx.params.get("digest")
    if wanted and wanted != digest:
        raise PVEError(f"{failure}: detected modified configuration - file changed by other user? Try again.")


# -- fabrics ----------------------------------------------------------------------------------------------------------
def _fabrics(ctx: HandlerContext) -> KeyedSection:
    return ctx.cluster.configs.section(FABRICS)


def _nodes(ctx: HandlerContext, fabric: str) -> KeyedSection:
    return ctx.cluster.configs.section(fabric_nodes_section(fabric))


def _fabrics_digest(ctx: HandlerContext) -> str:
    nodes = {fabric: _nodes(ctx, fabric).records for fabric in _fabrics(ctx).records}
    return digest_of([_fabrics(ctx).records, nodes])


def _fabric(ctx: HandlerContext, fabric: str, failure: str = "") -> dict[str, Any]:
    record = _fabrics(ctx).get(fabric)
    if record is None:
        prefix = f"{failure}: " if failure else ""
        raise PVEError(f"{prefix}fabric '{fabric}' does not exist in configuration")
    return record


@handles("GET", "/cluster/sdn/fabrics/fabric")
def list_fabrics(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Fabric.pm ``index``: the fabrics the caller may see (SDN.Audit or SDN.Allocate), each with the digest."""
    digest = _fabrics_digest(ctx)
    rows = [
        {**record, "digest": digest}
        for fabric, record in sorted(_fabrics(ctx).records.items())
        if _may(ctx, f"/sdn/fabrics/{fabric}", ["SDN.Audit", "SDN.Allocate"])
    ]
    return ordered_rows(ctx, rows)


@handles("POST", "/cluster/sdn/fabrics/fabric")
def add_fabric(ctx: HandlerContext) -> None:
    failure = "adding fabric failed"
    check_lock(ctx, failure)
    _assert_digest(ctx, _fabrics_digest(ctx), failure)
    fabric = str(ctx.params["id"])
    if _fabrics(ctx).get(fabric) is not None:
        raise PVEError(f"{failure}: fabric '{fabric}' already exists in config")
    _fabrics(ctx).records[fabric] = _values(ctx)


@handles("GET", "/cluster/sdn/fabrics/fabric/{id}")
def get_fabric(ctx: HandlerContext) -> dict[str, Any]:
    record = _fabric(ctx, str(ctx.params["id"]))
    return ordered(ctx, {**record, "digest": _fabrics_digest(ctx)}, str(ctx.params["id"]))


@handles("PUT", "/cluster/sdn/fabrics/fabric/{id}")
def update_fabric(ctx: HandlerContext) -> None:
    failure = "updating fabric failed"
    check_lock(ctx, failure)
    _assert_digest(ctx, _fabrics_digest(ctx), failure)
    record = _fabric(ctx, str(ctx.params["id"]), failure)
    if ctx.params.get("protocol") not in (None, record.get("protocol")):
        raise PVEError(f"{failure}: node has a different protocol than the referenced fabric")
    record.update(_values(ctx, "id"))
    for name in _deleted(ctx):
        record.pop(name, None)


@handles("DELETE", "/cluster/sdn/fabrics/fabric/{id}")
def delete_fabric(ctx: HandlerContext) -> None:
    """Fabric.pm ``delete_fabric`` (215-266): refused while a VXLAN zone uses the fabric; its nodes go with it."""
    failure = "deleting fabric failed"
    check_lock(ctx, failure)
    fabric = str(ctx.params["id"])
    _fabric(ctx, fabric, failure)
    for zone, record in ctx.cluster.configs.section(ZONES).records.items():
        if record.get("type") == "vxlan" and record.get("fabric") == fabric:
            where = "/usr/share/perl5/PVE/API2/Network/SDN/Fabrics/Fabric.pm line 252."
            raise PVEError(f'{failure}: this fabric is still used in the VXLAN zone "{zone}" at {where}')
    _fabrics(ctx).remove(fabric)
    ctx.cluster.configs.drop(fabric_nodes_section(fabric))


def _node_rows(ctx: HandlerContext, fabric: str) -> list[dict[str, Any]]:
    digest = _fabrics_digest(ctx)
    return [
        {**record, "digest": digest}
        for node, record in sorted(_nodes(ctx, fabric).records.items())
        if _may(ctx, f"/nodes/{node}", ["Sys.Audit", "Sys.Modify"])
    ]


@handles("GET", "/cluster/sdn/fabrics/node")
def list_fabric_nodes(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Fabrics/Node.pm ``list_nodes``: every fabric's nodes the caller may see."""
    rows = []
    for fabric in sorted(_fabrics(ctx).records):
        if _may(ctx, f"/sdn/fabrics/{fabric}", ["SDN.Audit", "SDN.Allocate"]):
            rows.extend(_node_rows(ctx, fabric))
    return ordered_rows(ctx, rows, "node_id")


@handles("GET", "/cluster/sdn/fabrics/node/{fabric_id}")
def list_nodes_of_fabric(ctx: HandlerContext) -> list[dict[str, Any]]:
    """FabricNode.pm ``list_nodes_fabric``: a fabric that does not exist is an error."""
    fabric = str(ctx.params["fabric_id"])
    _fabric(ctx, fabric)
    return ordered_rows(ctx, _node_rows(ctx, fabric), "node_id")


@handles("POST", "/cluster/sdn/fabrics/node/{fabric_id}")
def add_fabric_node(ctx: HandlerContext) -> None:
    """FabricNode.pm ``add_node`` (134-172): the fabric must exist with the node's protocol, the node only once, its
    IP inside the fabric's prefix."""
    failure = "adding node failed"
    check_lock(ctx, failure)
    _assert_digest(ctx, _fabrics_digest(ctx), failure)
    fabric = str(ctx.params["fabric_id"])
    record = _fabric(ctx, fabric, failure)
    node = str(ctx.params["node_id"])
    if ctx.params.get("protocol") != record.get("protocol"):
        raise PVEError(f"{failure}: node has a different protocol than the referenced fabric")
    if _nodes(ctx, fabric).get(node) is not None:
        raise PVEError(f"{failure}: node '{node}' already exists in config for fabric {fabric}")
    for key, prefix_key in (("ip", "ip_prefix"), ("ip6", "ip6_prefix")):
        address, prefix = ctx.params.get(key), record.get(prefix_key)
        if address and prefix and ipaddress.ip_address(str(address)) not in ipaddress.ip_network(str(prefix)):
            raise PVEError(f"{failure}: node IP {address} is outside the IP prefix {prefix} of the fabric")
    _nodes(ctx, fabric).records[node] = _values(ctx)


def _fabric_node(ctx: HandlerContext, failure: str = "") -> dict[str, Any]:
    fabric, node = str(ctx.params["fabric_id"]), str(ctx.params["node_id"])
    _fabric(ctx, fabric, failure)
    record = _nodes(ctx, fabric).get(node)
    if record is None:
        prefix = f"{failure}: " if failure else ""
        raise PVEError(f"{prefix}node '{node}' does not exist in fabric '{fabric}'")
    return record


@handles("GET", "/cluster/sdn/fabrics/node/{fabric_id}/{node_id}")
def get_fabric_node(ctx: HandlerContext) -> dict[str, Any]:
    record = _fabric_node(ctx)
    return ordered(ctx, {**record, "digest": _fabrics_digest(ctx)}, str(ctx.params["node_id"]))


@handles("PUT", "/cluster/sdn/fabrics/node/{fabric_id}/{node_id}")
def update_fabric_node(ctx: HandlerContext) -> None:
    failure = "updating node failed"
    check_lock(ctx, failure)
    _assert_digest(ctx, _fabrics_digest(ctx), failure)
    record = _fabric_node(ctx, failure)
    record.update(_values(ctx, "fabric_id", "node_id"))
    for name in _deleted(ctx):
        record.pop(name, None)


@handles("DELETE", "/cluster/sdn/fabrics/node/{fabric_id}/{node_id}")
def delete_fabric_node(ctx: HandlerContext) -> None:
    failure = "deleting node failed"
    check_lock(ctx, failure)
    _fabric_node(ctx, failure)
    _nodes(ctx, str(ctx.params["fabric_id"])).remove(str(ctx.params["node_id"]))


@handles("GET", "/cluster/sdn/fabrics/all")
def list_all_fabrics(ctx: HandlerContext) -> dict[str, Any]:
    """pve-network src/PVE/API2/Network/SDN/Fabrics.pm ``list_all`` (59-170): fabrics and their nodes."""
    return ordered(ctx, {"fabrics": list_fabrics(ctx), "nodes": list_fabric_nodes(ctx)}, "fabrics")


def _applied_fabric(ctx: HandlerContext) -> tuple[str, str]:
    """proxmox-perl-rs pve-rs/src/bindings/sdn/fabrics.rs ``routes``/``neighbors``/``interfaces`` (581-786, commit
    1fa643dc): read ``/etc/pve/sdn/.running-config`` (missing before the first apply), then look the fabric up in
    its ``fabrics`` (``no fabrics configured``: a running config an older release wrote, without the key)."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"]).name
    running = ctx.cluster.sdn.running
    if not running:
        raise PVEError("No such file or directory (os error 2)")
    fabric = str(ctx.params["fabric"])
    if "fabrics" not in running:
        raise PVEError("no fabrics configured")
    if fabric not in (running["fabrics"] or {}):
        raise PVEError(f"fabric '{fabric}' does not exist in configuration")
    return fabric, node


@handles("GET", "/nodes/{node}/sdn/fabrics/{fabric}/routes")
def node_fabric_routes(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Nodes/Fabric.pm ``routes``: the routes FRR learned through the fabric (:mod:`.sdn_fabric_status`)."""
    return fabric_routes(ctx.cluster, *_applied_fabric(ctx))


@handles("GET", "/nodes/{node}/sdn/fabrics/{fabric}/neighbors")
def node_fabric_neighbors(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Nodes/Fabric.pm ``neighbors``: the node's adjacencies in the fabric."""
    return fabric_neighbors(ctx.cluster, *_applied_fabric(ctx))


@handles("GET", "/nodes/{node}/sdn/fabrics/{fabric}/interfaces")
def node_fabric_interfaces(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Nodes/Fabric.pm ``interfaces``: the node's interfaces in the fabric."""
    return fabric_interfaces(ctx.cluster, *_applied_fabric(ctx))


# -- prefix lists -------------------------------------------------------------------------------------------------
def _prefix_lists(ctx: HandlerContext) -> KeyedSection:
    return ctx.cluster.configs.section(PREFIX_LISTS)


def _prefix_list(ctx: HandlerContext, failure: str = "") -> dict[str, Any]:
    """A prefix list; a missing one: ``could not find prefix list with id`` (PVE::RS::SDN::PrefixLists)."""
    name = str(ctx.params["id"])
    record = _prefix_lists(ctx).get(name)
    if record is None:
        separator = (
            " " if failure in ("creating prefix list entry failed", "updating prefix list entry failed") else ": "
        )
        prefix = f"{failure}: " if failure else ""
        raise PVEError(f"{prefix}could not find prefix list with id{separator}{name}")
    return record


def _entry(values: dict[str, Any]) -> dict[str, Any]:
    return {key: values[key] for key in ("seq", "action", "prefix", "le", "ge") if values.get(key) is not None}


def _entry_text(entry: dict[str, Any]) -> str:
    """An entry as prefix-lists.cfg and the API write it: a ``PropertyString<PrefixListEntry>``, its fields in the
    struct's order (proxmox-ve-config src/sdn/prefix_list.rs 306-324, commit 840d1ede)."""
    return ",".join(f"{key}={entry[key]}" for key in ("action", "prefix", "le", "ge", "seq") if key in entry)


def _entries(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [_entry(_entry_fields(text)) for text in record.get("entries") or []]


def _set_entries(record: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    record["entries"] = [_entry_text(entry) for entry in entries]


def _answer(record: dict[str, Any]) -> dict[str, Any]:
    """``api::PrefixList``: the id, and the entries as property strings unless there are none."""
    texts = [_entry_text(entry) for entry in _entries(record)]
    return {"id": record["id"], **({"entries": texts} if texts else {})}


@handles("GET", "/cluster/sdn/prefix-lists")
def list_prefix_lists(ctx: HandlerContext) -> list[dict[str, Any]]:
    """PrefixLists.pm ``list_prefix_lists``: sorted by id, those the caller may see, each with the digest."""
    digest = digest_of(_prefix_lists(ctx).records)
    rows = [
        {**_answer(record), "digest": digest}
        for name, record in sorted(_prefix_lists(ctx).records.items())
        if _may(ctx, f"/sdn/prefix-lists/{name}", ["SDN.Audit", "SDN.Allocate"])
    ]
    return ordered_rows(ctx, rows)


@handles("POST", "/cluster/sdn/prefix-lists")
def create_prefix_list(ctx: HandlerContext) -> None:
    failure = "creating prefix list failed"
    check_lock(ctx, failure)
    _assert_digest(ctx, digest_of(_prefix_lists(ctx).records), failure)
    name = str(ctx.params["id"])
    if _prefix_lists(ctx).get(name) is not None:
        raise PVEError(f"{failure}: prefix list already exists in configuration: {name}")
    entries = [_entry(_entry_fields(text)) for text in ctx.params.get("entries") or []]
    _prefix_lists(ctx).records[name] = {"id": name, "entries": [_entry_text(entry) for entry in entries]}


def _entry_fields(text: Any) -> dict[str, Any]:
    """One ``entries`` item, a property string (``action=permit,prefix=10.0.0.0/8,seq=10``)."""
    if isinstance(text, dict):
        return dict(text)
    fields: dict[str, Any] = {}
    for part in str(text).split(","):
        key, _, value = part.partition("=")
        fields[key.strip()] = int(value) if key.strip() in ("seq", "le", "ge") and value.isdigit() else value
    return fields


@handles("GET", "/cluster/sdn/prefix-lists/{id}")
def get_prefix_list(ctx: HandlerContext) -> dict[str, Any]:
    """PrefixList.pm ``get_prefix_list``: 400 ``<id> doesn't exist`` for one not configured."""
    name = str(ctx.params["id"])
    record = _prefix_lists(ctx).get(name)
    if record is None:
        raise ParameterError({"id": f"{name} doesn't exist"})
    return ordered(ctx, _answer(record), name)


@handles("PUT", "/cluster/sdn/prefix-lists/{id}")
def update_prefix_list(ctx: HandlerContext) -> None:
    failure = "updating prefix list failed"
    check_lock(ctx, failure)
    _assert_digest(ctx, digest_of(_prefix_lists(ctx).records), failure)
    name = str(ctx.params["id"])
    record = _prefix_lists(ctx).get(name)
    if record is None:
        raise PVEError(f"{failure}: Could not find prefix list with id: {name}")
    if "entries" in ctx.params:
        _set_entries(record, [_entry(_entry_fields(text)) for text in ctx.params["entries"] or []])
    if "entries" in _deleted(ctx):
        record["entries"] = []


@handles("DELETE", "/cluster/sdn/prefix-lists/{id}")
def delete_prefix_list(ctx: HandlerContext) -> None:
    failure = "deleting prefix list failed"
    check_lock(ctx, failure)
    name = str(ctx.params["id"])
    if _prefix_lists(ctx).get(name) is None:
        raise PVEError(f"{failure}: could not find prefix list with id: {name}")
    _prefix_lists(ctx).remove(name)


@handles("GET", "/cluster/sdn/prefix-lists/{id}/entries")
def list_prefix_list_entries(ctx: HandlerContext) -> list[dict[str, Any]]:
    """PrefixListEntry.pm ``get_prefix_list_entries``: ``list_entries`` dies for a list not configured."""
    return _entries(_prefix_list(ctx))


def _seq(ctx: HandlerContext) -> int:
    value = str(ctx.params.get("url_seq", ctx.path.rstrip("/").rsplit("/", 1)[-1]))
    if not value.isdigit():
        raise ParameterError({"url_seq": "value does not look like a valid integer"})
    return int(value)


@handles("POST", "/cluster/sdn/prefix-lists/{id}/entries")
def create_prefix_list_entry(ctx: HandlerContext) -> None:
    failure = "creating prefix list entry failed"
    check_lock(ctx, failure)
    record = _prefix_list(ctx, failure)
    _set_entries(record, [*_entries(record), _entry(_values(ctx, "id"))])  # proxmox-ve-config's checks: not modelled


def _find_entry(ctx: HandlerContext, record: dict[str, Any]) -> dict[str, Any] | None:
    seq = _seq(ctx)
    return next((entry for entry in _entries(record) if entry.get("seq") == seq), None)


@handles("GET", "/cluster/sdn/prefix-lists/{id}/entries/{url_seq}")
def get_prefix_list_entry(ctx: HandlerContext) -> dict[str, Any]:
    """PrefixListEntry.pm ``get_prefix_list_entry``: 400 when the list or the entry is not there."""
    name = str(ctx.params["id"])
    record = _prefix_lists(ctx).get(name)
    entry = _find_entry(ctx, record) if record is not None else None
    if entry is None:
        raise ParameterError({"id": f"entry {_seq(ctx)} in prefix list {name} doesn't exist"})
    return dict(entry)


@handles("PUT", "/cluster/sdn/prefix-lists/{id}/entries/{url_seq}")
def update_prefix_list_entry(ctx: HandlerContext) -> None:
    failure = "updating prefix list entry failed"
    check_lock(ctx, failure)
    record = _prefix_list(ctx, failure)
    entries = _entries(record)
    entry = next((entry for entry in entries if entry.get("seq") == _seq(ctx)), None)
    if entry is None:
        raise PVEError(f"{failure}: could not find prefix list entry with seq {_seq(ctx)}")
    entry.update(_entry(_values(ctx, "id", "url_seq")))
    for name in _deleted(ctx):
        entry.pop(name, None)
    _set_entries(record, entries)


@handles("DELETE", "/cluster/sdn/prefix-lists/{id}/entries/{url_seq}")
def delete_prefix_list_entry(ctx: HandlerContext) -> None:
    failure = "deleting prefix list entry failed"
    check_lock(ctx, failure)
    record = _prefix_lists(ctx).get(str(ctx.params["id"]))
    entry = _find_entry(ctx, record) if record is not None else None
    if record is None or entry is None:
        raise PVEError(f"{failure}: could not find prefix list entry with seq {_seq(ctx)}")
    _set_entries(record, [other for other in _entries(record) if other != entry])
