"""The HA stack's own files of the cluster file system (``/etc/pve/ha/*``), kept in memory.

:class:`HAFiles` implements the part of :class:`.environment.HAHost` that is pure HA state: manager and LRM
status, ``resources.cfg``, ``rules.cfg``/``groups.cfg``, the CRM command queue, cluster locks and
watchdogs, the ``ha``/``crs`` datacenter settings and static service stats. A host (the simulator, the
FakeCluster) inherits it and adds what belongs to the world: clock, log, membership, guests.
"""

from __future__ import annotations

import copy
from typing import Any

from .environment import HAConfigError
from .locks import ClusterLocks, Watchdogs

DEFAULT_SERVICE_CPU = 2.0
DEFAULT_SERVICE_MEM = 2048 * 1024**2
DEFAULT_SERVICE_MAXCPU = 4.0
DEFAULT_SERVICE_MAXMEM = 4096 * 1024**2


class HAFiles:
    #: Request state of a resource without ``state``: ``started`` on PVE, ``disabled`` in the simulator.
    default_request_state = "started"

    def __init__(
        self,
        service_config: dict[str, dict[str, Any]] | None = None,
        manager_status: dict[str, Any] | None = None,
        rules_config: str = "",
        groups_config: str | None = None,
        datacenter: dict[str, Any] | None = None,
        static_service_stats: dict[str, dict[str, Any]] | None = None,
        dynamic_service_stats: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.cluster_locks = ClusterLocks()
        self.watchdogs = Watchdogs()
        self.manager_status: dict[str, Any] = copy.deepcopy(manager_status or {})
        self.lrm_status: dict[str, dict[str, Any]] = {}
        self.service_config: dict[str, dict[str, Any]] = copy.deepcopy(service_config or {})
        self.rules_config = rules_config
        self.groups_config = groups_config
        self.datacenter: dict[str, Any] = copy.deepcopy(datacenter or {})
        self.crm_commands: list[str] = []
        self.static_stats: dict[str, dict[str, Any]] = copy.deepcopy(static_service_stats or {}) or {
            sid: {"maxcpu": DEFAULT_SERVICE_MAXCPU, "maxmem": DEFAULT_SERVICE_MAXMEM} for sid in self.service_config
        }
        self.dynamic_stats: dict[str, dict[str, Any]] = copy.deepcopy(dynamic_service_stats or {}) or {
            sid: {"cpu": DEFAULT_SERVICE_CPU, "mem": DEFAULT_SERVICE_MEM} for sid in self.static_stats
        }
        self._config_cache: tuple[dict[str, Any], dict[str, dict[str, Any]]] | None = None
        #: Bumped whenever something the API shows may have changed (for cached views).
        self.revision = 0
        self._uids_given = 0

    def new_uid(self, state: str) -> str:
        """Service command uids count per HA cluster, so identical clusters give identical answers."""
        self._uids_given += 1
        return f"{state[:3]}{self._uids_given:x}"

    def read_manager_status(self) -> dict[str, Any]:
        return self.manager_status

    def write_manager_status(self, status: dict[str, Any]) -> None:
        self.manager_status = _snapshot(status)
        self.revision += 1

    def read_lrm_status(self, node: str) -> dict[str, Any]:
        return self.lrm_status.get(node, {})

    def write_lrm_status(self, node: str, status: dict[str, Any]) -> None:
        self.lrm_status[node] = status
        self.revision += 1

    def read_service_config(self) -> dict[str, dict[str, Any]]:
        # Rebuilt only when the raw config changed (compared by value: small dicts).
        if self._config_cache is None or self._config_cache[0] != self.service_config:
            parsed = {sid: self._with_defaults(sid, cfg) for sid, cfg in self.service_config.items()}
            self._config_cache = (copy.deepcopy(self.service_config), parsed)
        return self._config_cache[1]

    def _with_defaults(self, sid: str, raw: dict[str, Any]) -> dict[str, Any]:
        cfg = dict(raw)
        kind, _, name = sid.partition(":")
        cfg["type"], cfg["name"] = kind, name
        state = cfg.get("state") or self.default_request_state
        cfg["state"] = "started" if state == "enabled" else state
        cfg["failback"] = _as_int(cfg.get("failback", 1))
        cfg["max_restart"] = _as_int(cfg.get("max_restart", 1))
        cfg["max_relocate"] = _as_int(cfg.get("max_relocate", 1))
        return cfg

    def update_service_config(self, changes: dict[str, dict[str, Any]]) -> None:
        """Set (or, with ``None``, delete) keys of existing resources."""
        self.revision += 1
        for sid in sorted(changes):
            cfg = self.service_config.get(sid)
            if cfg is None:
                raise HAConfigError(f"no such resource '{sid}'")
            for key, value in changes[sid].items():
                if value is None:
                    cfg.pop(key, None)
                else:
                    cfg[key] = value

    def change_service_location(self, sid: str, current_node: str, new_node: str) -> None:
        cfg = self.service_config.get(sid)
        if cfg is None:
            raise HAConfigError(f"no such service '{sid}'")
        if cfg["node"] != current_node:
            raise HAConfigError(f"current_node for '{sid}' does not match ({current_node} != {cfg['node']})")
        cfg["node"] = new_node
        self.revision += 1

    def queue_crm_command(self, command: str) -> None:
        self.crm_commands.append(command)

    def pop_crm_commands(self) -> list[str]:
        commands, self.crm_commands = self.crm_commands, []
        return commands

    def any_pending_crm_command(self) -> bool:
        return bool(self.crm_commands)

    def read_rules_config(self) -> str:
        return self.rules_config

    def write_rules_config(self, text: str) -> None:
        self.rules_config = text

    def read_groups_config(self) -> str | None:
        return self.groups_config

    def delete_groups_config(self) -> None:
        self.groups_config = None

    def datacenter_settings(self) -> dict[str, Any]:
        return {"ha": self.datacenter.get("ha") or {}, "crs": self.datacenter.get("crs") or {}}

    def static_service_stats(self) -> dict[str, dict[str, Any]]:
        return self.static_stats

    def dynamic_service_stats(self) -> dict[str, dict[str, Any]]:
        sids = set(self.service_config) | set(self.static_stats) | set(self.dynamic_stats)
        return {sid: {**self.static_stats.get(sid, {}), **self.dynamic_stats.get(sid, {})} for sid in sids}

    def set_service_stats(self, sid: str, kind: str, values: dict[str, float]) -> None:
        """Change ``static`` (maxcpu, maxmem) or ``dynamic`` (cpu, mem) figures of a service."""
        target = self.static_stats if kind == "static" else self.dynamic_stats
        target.setdefault(sid, {}).update(values)


def _as_int(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def _snapshot(status: dict[str, Any]) -> dict[str, Any]:
    """A copy of a manager status that later changes to the live one cannot reach."""
    snap = dict(status)
    snap["service_status"] = {sid: _copy_sd(sd) for sid, sd in (status.get("service_status") or {}).items()}
    snap["node_status"] = dict(status.get("node_status") or {})
    if "node_request" in status:
        snap["node_request"] = copy.deepcopy(status["node_request"])
    if "disarm" in status:
        snap["disarm"] = dict(status["disarm"])
    return snap


def _copy_sd(sd: dict[str, Any]) -> dict[str, Any]:
    copied = dict(sd)
    for key in ("cmd", "failed_nodes"):
        if isinstance(copied.get(key), list):
            copied[key] = list(copied[key])
    return copied
