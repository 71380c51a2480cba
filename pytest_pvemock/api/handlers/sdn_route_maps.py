"""SDN route maps (PVE 9.1.4): the entries of ``/etc/pve/sdn/route-maps.cfg``, one section per entry named
``<route-map-id>_<order>``.

pve-network src/PVE/API2/Network/SDN/RouteMaps.pm, RouteMaps/RouteMap.pm, RouteMaps/RouteMapEntry.pm (commits
582b2b6d, 75fb8cde), src/PVE/Network/SDN/RouteMaps.pm (85587a9d: ``config($running)`` reads the running config's
``route-maps``); the entries are kept by proxmox-perl-rs ``PVE::RS::SDN::RouteMaps`` (pve-rs/src/bindings/sdn/
route_maps.rs, commit 0ef21ca4) as proxmox-ve-rs ``proxmox-ve-config/src/sdn/route_map.rs`` types them (840d1ede):
``set`` and ``match`` always answered (empty lists when none), ``call`` and ``exit-action`` only when set.
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.collections import _may
from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.sdn import check_lock
from pytest_pvemock.api.handlers.sdn_fabrics import _assert_digest, _deleted
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.config_store import KeyedSection, digest_of
from pytest_pvemock.model.sdn import ROUTE_MAPS, pending_objects

_READ = ["SDN.Audit", "SDN.Allocate"]


def _section(ctx: HandlerContext) -> KeyedSection:
    return ctx.cluster.configs.section(ROUTE_MAPS)


def _digest(ctx: HandlerContext) -> str:
    return digest_of(_section(ctx).records)


def _entry_id(route_map: str, order: int) -> str:
    """``RouteMapEntryId``'s Display: ``<route-map-id>_<order>``."""
    return f"{route_map}_{order}"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _answer(record: dict[str, Any]) -> dict[str, Any]:
    """The API type (``api::RouteMapEntry``): ``set``/``match`` always there, ``call``/``exit-action`` when set."""
    entry = {
        "route-map-id": record["route-map-id"],
        "order": int(record["order"]),
        "action": record["action"],
        "set": list(record.get("set") or []),
        "match": list(record.get("match") or []),
    }
    for key in ("call", "exit-action"):
        if record.get(key) is not None:
            entry[key] = record[key]
    return entry


def _entries(ctx: HandlerContext, route_map: str | None = None) -> dict[str, dict[str, Any]]:
    """The entries by section id as ``list``/``list_route_map`` answer them, from the written config, the running
    one (``running``) or both as ``pending_config`` compares them (``pending``)."""
    running_records: dict[str, dict[str, Any]] = ctx.cluster.sdn.running.get("route-maps") or {}
    current = {key: _answer(record) for key, record in _section(ctx).records.items()}
    running = {key: _answer(record) for key, record in running_records.items()}
    if int(ctx.params.get("pending") or 0):
        digest = _digest(ctx)
        chosen = pending_objects(running, current)
        for record in chosen.values():
            record["digest"] = digest
    elif int(ctx.params.get("running") or 0):
        chosen = running
    else:
        digest = _digest(ctx)
        chosen = {key: {**record, "digest": digest} for key, record in current.items()}
    if route_map is None:
        return chosen
    return {key: record for key, record in chosen.items() if record.get("route-map-id") == route_map}


@handles("GET", "/cluster/sdn/route-maps/entries")
def list_route_map_entries(ctx: HandlerContext) -> list[dict[str, Any]]:
    """RouteMapEntries.pm ``list_route_map_entries``: every entry sorted by section id, those whose route map the
    caller may see (SDN.Audit or SDN.Allocate on ``/sdn/route-maps/<id>``)."""
    entries = _entries(ctx)
    return [
        entries[key]
        for key in sorted(entries)
        if _may(ctx, f"/sdn/route-maps/{entries[key].get('route-map-id')}", _READ)
    ]


@handles("GET", "/cluster/sdn/route-maps/entries/{route-map-id}")
def list_entries_of_route_map(ctx: HandlerContext) -> list[dict[str, Any]]:
    """RouteMap.pm ``list_route_map_entries``: the entries of one route map (none for a route map not written)."""
    entries = _entries(ctx, str(ctx.params["route-map-id"]))
    return [entries[key] for key in sorted(entries)]


@handles("POST", "/cluster/sdn/route-maps/entries")
def create_route_map_entry(ctx: HandlerContext) -> None:
    """``create_route_map_entry``: in ``lock_sdn_config``, the digest, then ``create`` refuses an entry id twice."""
    failure = "creating route map entry failed"
    check_lock(ctx, failure)
    _assert_digest(ctx, _digest(ctx), failure)
    route_map, order = str(ctx.params["route-map-id"]), int(ctx.params["order"])
    key = _entry_id(route_map, order)
    if _section(ctx).get(key) is not None:
        raise PVEError(f"{failure}: route map entry already exists in configuration: {key}")
    record: dict[str, Any] = {"route-map-id": route_map, "order": order, "action": ctx.params["action"]}
    record["set"] = _as_list(ctx.params.get("set"))
    record["match"] = _as_list(ctx.params.get("match"))
    for name in ("call", "exit-action"):
        if ctx.params.get(name) not in (None, ""):
            record[name] = ctx.params[name]
    _section(ctx).records[key] = record


@handles("GET", "/cluster/sdn/route-maps/entries/{route-map-id}/entry/{order}")
def get_route_map_entry(ctx: HandlerContext) -> dict[str, Any]:
    """RouteMapEntry.pm ``get_route_map_entry``: 400 ``<id>_<order> doesn't exist``."""
    key = _entry_id(str(ctx.params["route-map-id"]), int(ctx.params["order"]))
    record = _section(ctx).get(key)
    if record is None:
        raise ParameterError({"route-map-id": f"{key} doesn't exist"})
    return _answer(record)


@handles("PUT", "/cluster/sdn/route-maps/entries/{route-map-id}/entry/{order}")
def update_route_map_entry(ctx: HandlerContext) -> None:
    """``update_route_map_entry``: nothing to change returns before the entry is looked up (route_maps.rs
    ``update``); a missing entry: ``Could not find route map with id``."""
    failure = "updating route map entry failed"
    check_lock(ctx, failure)
    _assert_digest(ctx, _digest(ctx), failure)
    key = _entry_id(str(ctx.params["route-map-id"]), int(ctx.params["order"]))
    names = ("action", "set", "match", "exit-action", "call")
    changes = {name: ctx.params[name] for name in names if name in ctx.params}
    deleted = _deleted(ctx) if ctx.params.get("delete") else []
    if not changes and not deleted:
        return
    record = _section(ctx).get(key)
    if record is None:
        raise PVEError(f"{failure}: Could not find route map with id: {key}")
    for name in ("set", "match"):
        if name in changes:
            changes[name] = _as_list(changes[name])
    record.update(changes)
    for name in deleted:
        if name in ("set", "match"):
            record[name] = []
        else:
            record.pop(name, None)


@handles("DELETE", "/cluster/sdn/route-maps/entries/{route-map-id}/entry/{order}")
def delete_route_map_entry(ctx: HandlerContext) -> None:
    """``delete_route_map_entry``: ``could not find route map entry with id`` for one not written."""
    failure = "deleting route map entry failed"
    check_lock(ctx, failure)
    key = _entry_id(str(ctx.params["route-map-id"]), int(ctx.params["order"]))
    if _section(ctx).get(key) is None:
        raise PVEError(f"{failure}: could not find route map entry with id: {key}")
    _section(ctx).remove(key)
