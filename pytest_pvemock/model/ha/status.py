"""What the API shows of the HA state: pure functions of ``manager_status``, ``lrm_status`` and ``resources.cfg``.

- :func:`guest_hastate` / :func:`node_hastate`: the ``hastate`` key of ``/cluster/resources`` entries.
- :func:`verbose_service_state`: the ``state`` of service rows (``starting``, ``stopping``, ``queued``, ...).
- :func:`ha_status_current`: the rows of ``GET /cluster/ha/status/current``, with PVE's status texts.
- :func:`ha_manager_status`: ``GET /cluster/ha/status/manager_status``.
- :func:`is_primary`: is this guest running on this node with HA state ``started`` there.

``resources`` arguments map a sid to its ``resources.cfg`` entry plus ``node`` (where the guest's config lives,
absent if the guest does not exist), as ``PVE::HA::Config::read_and_check_resources_config`` returns it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .manager import count_active_services

RESOURCE_DEFAULTS = {"state": "started", "max_restart": 1, "max_relocate": 1, "failback": 1}
_OPTION_KEYS = ("group", "max_restart", "max_relocate", "failback", "comment")


def sid_of(guest_type: str, vmid: int | str) -> str:
    """``qemu``/``vm`` -> ``vm:<id>``, ``lxc``/``ct`` -> ``ct:<id>``."""
    prefix = {"qemu": "vm", "vm": "vm", "lxc": "ct", "ct": "ct"}[guest_type]
    return f"{prefix}:{vmid}"


def guest_hastate(sid: str, manager_status: dict[str, Any], resources: dict[str, dict[str, Any]]) -> str | None:
    """The guest's ``hastate``: the CRM state, else the raw request state, else ``None`` (no key at all).

    A configured resource without an explicit ``state`` also gives ``None`` (PVE shows ``null``).
    """
    sd = (manager_status.get("service_status") or {}).get(sid)
    if sd is not None:
        state: str | None = sd.get("state")
        return state
    cfg = resources.get(sid)
    if cfg is not None:
        return cfg.get("state")
    return None


def is_ha_managed(sid: str, manager_status: dict[str, Any], resources: dict[str, dict[str, Any]]) -> bool:
    """``vm_is_ha_managed``: configured, not ``ignored``, and HA not disarmed in ``ignore`` mode.

    Guest actions (start, stop, shutdown, migrate) on such guests go through HA.
    """
    cfg = resources.get(sid)
    if cfg is None or cfg.get("state") == "ignored":
        return False
    return (manager_status.get("disarm") or {}).get("mode") != "ignore"


def guest_ha_status(sid: str, manager_status: dict[str, Any], resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``ha`` object of a guest's ``status/current``: ``{managed: 0}`` or ``{managed: 1, state}``."""
    if not is_ha_managed(sid, manager_status, resources):
        return {"managed": 0}
    sd = (manager_status.get("service_status") or {}).get(sid) or {}
    return {"managed": 1, "state": sd.get("state")}


def node_hastate(node: str, manager_status: dict[str, Any]) -> str | None:
    """The node's ``hastate`` (pve-manager >= 8.2.9): its state in ``node_status``, if any."""
    return (manager_status.get("node_status") or {}).get(node)


def verbose_service_state(sd: dict[str, Any] | None, cfg: dict[str, Any] | None) -> str:
    """``Tools::get_verbose_service_state``: the state shown to humans for one service."""
    if cfg is None:
        return "deleting"
    request = cfg.get("state", "started")
    if request == "enabled":
        request = "started"
    if request == "ignored":
        return "ignored"
    if cfg.get("node") is None:
        return "not found"
    if sd is None or sd.get("state") is None:
        return "queued"
    state: str = sd["state"]
    if state == "stopped":
        if request == "started":
            return "starting"
        if request == "disabled":
            return "disabled"
    elif state == "started":
        if not sd.get("running"):
            return "starting"
        if request in ("stopped", "disabled"):
            return "stopping"
    elif state == "error" and request == "disabled":
        return "clearing error flag"
    return state


def perl_localtime(timestamp: int, tz: dt.tzinfo = dt.timezone.utc) -> str:
    """Perl's scalar ``localtime``: ``Thu Sep 10 19:48:41 2026`` (day padded with a space)."""
    return dt.datetime.fromtimestamp(timestamp, tz).ctime()


def _timestamp_status(now: int, timestamp: int) -> str:
    diff = now - timestamp
    if diff > 30:
        return "old timestamp - dead?"
    if diff < -2:
        return "detected time drift!"
    return "active"


def ha_status_current(
    *,
    node: str,
    quorate: bool,
    manager_status: dict[str, Any],
    lrm_status: dict[str, dict[str, Any]],
    resources: dict[str, dict[str, Any]],
    now: int,
    crs_mode: str = "basic",
    tz: dt.tzinfo = dt.timezone.utc,
    fencing_row: bool = True,
    failback_field: bool = True,
) -> list[dict[str, Any]]:
    """The rows of ``/cluster/ha/status/current`` as answered by ``node``.

    ``fencing_row`` selects ha-manager >= 5.1.3 (PVE 9.1): the ``fencing`` row and watchdog text in LRM rows.
    ``failback_field`` selects ha-manager >= 5.0.2 (PVE 9.0): service rows carry ``failback``.
    """
    ms = manager_status
    rows: list[dict[str, Any]] = [
        {
            "id": "quorum",
            "type": "quorum",
            "node": node,
            "status": "OK" if quorate else f"No quorum on node '{node}'!",
            "quorate": 1 if quorate else 0,
        }
    ]
    master, stamp = ms.get("master_node"), ms.get("timestamp")
    disarm = ms.get("disarm")
    if master is not None and stamp is not None:
        state = _timestamp_status(now, stamp)
        if quorate and state != "active" and not resources:
            state = "idle"
        extra = ""
        if disarm and fencing_row:
            extra += f" - {disarm.get('state')}, resource mode: {disarm.get('mode')}"
        if crs_mode and crs_mode != "basic":
            extra += f" - {crs_mode} load CRS"
        rows.append(
            {
                "id": "master",
                "type": "master",
                "node": master,
                "status": f"{master} ({state}, {perl_localtime(stamp, tz)}){extra}",
                "timestamp": stamp,
            }
        )
    if fencing_row:
        rows.append(_fencing_row(ms, node, now))
    service_status = ms.get("service_status") or {}
    for lrm_node in sorted(ms.get("node_status") or {}):
        rows.append(_lrm_row(lrm_node, lrm_status.get(lrm_node) or {}, service_status, now, tz, fencing_row))
    ignore_mode = bool(disarm and disarm.get("mode") == "ignore")
    for sid in sorted(service_status):
        rows.append(_service_row(sid, resources.get(sid), service_status[sid], ignore_mode, failback_field))
    for sid in sorted(resources):
        if sid not in service_status:
            rows.append(_service_row(sid, resources[sid], None, ignore_mode, failback_field))
    return rows


def _fencing_row(ms: dict[str, Any], node: str, now: int) -> dict[str, Any]:
    master, stamp = ms.get("master_node"), ms.get("timestamp")
    disarm = ms.get("disarm")
    if disarm:
        mode = disarm.get("mode") or "unknown"
        state = disarm.get("state") or "unknown"
        watchdog = "CRM watchdog released" if state == "disarmed" else "CRM watchdog active"
        return {
            "id": "fencing",
            "type": "fencing",
            "node": master or node,
            "status": f"{state}, resource mode: {mode} ({watchdog})",
            "armed-state": state,
            "resource_mode": mode,
        }
    active = master is not None and stamp is not None and _timestamp_status(now, stamp) == "active"
    state = "armed" if active else "standby"
    watchdog = "CRM watchdog active" if active else "CRM watchdog standby"
    return {
        "id": "fencing",
        "type": "fencing",
        "node": master or node,
        "status": f"{state} ({watchdog})",
        "armed-state": state,
    }


def _lrm_row(
    node: str,
    lrm: dict[str, Any],
    service_status: dict[str, dict[str, Any]],
    now: int,
    tz: dt.tzinfo,
    watchdog_text: bool,
) -> dict[str, Any]:
    row: dict[str, Any] = {"id": f"lrm:{node}", "type": "lrm", "node": node}
    stamp = lrm.get("timestamp")
    if not stamp:
        row["status"] = f"{node} (unable to read lrm status)"
        return row
    state_text = _timestamp_status(now, stamp)
    mode = lrm.get("mode")
    state = lrm.get("state") or "unknown"
    if state_text == "active" and state in ("active", "maintenance"):
        watchdog = "watchdog active"
    elif mode == "disarm":
        watchdog = "watchdog released"
    else:
        watchdog = "watchdog standby"
    if state_text == "active":
        mode = mode or "active"
        if mode != "active":
            state_text = f"{mode} mode"
        elif state == "wait_for_agent_lock" and not count_active_services(service_status, node):
            state_text = "idle"
        else:
            state_text = state
    elif mode in ("maintenance", "disarm"):
        state_text = f"{mode} mode"
    middle = f", {watchdog}" if watchdog_text else ""
    row["status"] = f"{node} ({state_text}{middle}, {perl_localtime(stamp, tz)})"
    row["timestamp"] = stamp
    return row


def _service_row(
    sid: str, cfg: dict[str, Any] | None, sd: dict[str, Any] | None, ignore_mode: bool, failback_field: bool
) -> dict[str, Any]:
    row: dict[str, Any] = {"id": f"service:{sid}", "type": "service", "sid": sid}
    if sd is not None:
        row["node"] = sd.get("node")
        row["crm_state"] = sd.get("state")
    elif cfg is not None:
        row["node"] = cfg.get("node")
    full_cfg = {**RESOURCE_DEFAULTS, **cfg} if cfg is not None else None
    row["state"] = "ignore" if ignore_mode else verbose_service_state(sd, full_cfg)
    row["status"] = f"{sid} ({row.get('node') or '---'}, {row['state']})"
    if full_cfg is not None:
        row["request_state"] = "started" if full_cfg["state"] == "enabled" else full_cfg["state"]
        for key in _OPTION_KEYS:
            if key == "failback" and not failback_field:
                continue
            if full_cfg.get(key) is not None:
                row[key] = full_cfg[key]
    return row


def ha_manager_status(
    *, node: str, quorate: bool, manager_status: dict[str, Any], lrm_status: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """``GET /cluster/ha/status/manager_status``."""
    data: dict[str, Any] = {
        "manager_status": manager_status,
        "quorum": {"node": node, "quorate": "1" if quorate else "0"},
    }
    nodes = sorted(manager_status.get("node_status") or {})
    if nodes:
        data["lrm_status"] = {n: lrm_status.get(n) or {} for n in nodes}
    return data


def is_primary(
    sid: str,
    node: str,
    *,
    manager_status: dict[str, Any],
    resources: dict[str, dict[str, Any]],
    running_on: str | None,
) -> bool:
    """Is the guest ``sid`` primary on ``node``: running there and, if HA manages it, HA state ``started`` there.

    ``running_on`` is the node the guest currently runs on (``None`` if stopped). A guest that HA does not
    manage (no resource, or ``ignored``) is primary wherever it runs. In every transitional state (migrate,
    relocate, fence, recovery, freeze, request_*, error) an HA guest is primary nowhere.
    """
    if running_on != node:
        return False
    sd = (manager_status.get("service_status") or {}).get(sid)
    cfg = resources.get(sid)
    if sd is None:
        # not (yet) seen by the CRM: the request state is what hastate shows
        return cfg is None or bool(cfg.get("state") in ("ignored", "started", "enabled"))
    return bool(sd.get("state") == "started" and sd.get("node") == node)
