"""pve-ha-manager's regression-test simulator (``PVE::HA::Sim::TestHardware``) on the HA stack of this package.

Fake hardware (power, network, cluster file system, guests) implements :class:`.environment.HAHost`; a loop
runs each powered node's CRM then LRM in node order, one virtual second per daemon round, padded to 20 s
per loop, and applies a batch of ``cmdlist`` commands every 5 loops. The log has ``log.expect``'s format.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .case_files import CaseFileError, HACase, load_case
from .environment import HAConfigError
from .locks import ClusterLocks, Watchdogs
from .stack import HAStack, HAStackError

MAX_SIM_TIME = 10000
DEFAULT_NODE_VERSION = "9.0.0~2"
DEFAULT_SERVICE_MAXCPU = 4.0
DEFAULT_SERVICE_MAXMEM = 4096 * 1024**2


class SimulationError(Exception):
    """A command the simulator cannot run (unknown command, node or service)."""


def format_log_line(level: str, time: int, origin: str, message: str) -> str:
    return f"{level:<5} {time:5d} {origin:>12}: {message}"


@dataclass
class SimHardware:
    """The fake cluster of a regression case. Implements :class:`.environment.HAHost`."""

    case: HACase
    cur_time: int = 0
    lines: list[str] = field(default_factory=list)
    cluster_locks: ClusterLocks = field(default_factory=ClusterLocks)
    watchdogs: Watchdogs = field(default_factory=Watchdogs)

    def __post_init__(self) -> None:
        case = self.case
        self.hardware = copy.deepcopy(case.hardware_status)
        self.manager_status: dict[str, Any] = copy.deepcopy(case.manager_status)
        self.lrm_status: dict[str, dict[str, Any]] = {}
        self.service_config: dict[str, dict[str, Any]] = copy.deepcopy(case.service_config)
        self.rules_config = case.rules_config
        self.groups = case.groups
        self.datacenter = copy.deepcopy(case.datacenter)
        self.crm_commands: list[str] = []
        self.static_stats: dict[str, dict[str, Any]] = copy.deepcopy(case.static_service_stats) or {
            sid: {"maxcpu": DEFAULT_SERVICE_MAXCPU, "maxmem": DEFAULT_SERVICE_MAXMEM} for sid in case.service_config
        }
        self.running: dict[str, dict[str, bool]] = {
            node: {sid: bool(v) for sid, v in case.running.get(node, {}).items()} for node in self.hardware
        }
        self._config_cache: tuple[dict[str, Any], dict[str, dict[str, Any]]] | None = None
        self.skip_rounds = {"crm": 0, "lrm": 0}
        self.stack = HAStack(self, sorted(self.hardware), self.hardware_command)
        self.nodes = self.stack.nodes

    # -- HAHost ----------------------------------------------------------------------------------------------
    def now(self) -> int:
        return self.cur_time

    def advance_to(self, time: int) -> None:
        self.cur_time = max(self.cur_time, time)

    def write_log(self, level: str, time: int, origin: str, message: str) -> None:
        self.lines.append(format_log_line(level, time, origin, message))

    def log(self, message: str, origin: str = "hardware", level: str = "info") -> None:
        self.write_log(level, self.cur_time, origin, message)

    def node_membership(self) -> tuple[dict[str, bool], bool]:
        online = {n: d["power"] == "on" and d["network"] == "on" for n, d in self.hardware.items()}
        quorate = sum(online.values()) > len(online) // 2
        if not quorate:
            online = dict.fromkeys(online, False)
        return online, quorate

    def cluster_fs_ok(self, node: str, what: str) -> bool:
        return (self.hardware[node].get("cfs") or {}).get(what, True)

    def node_shutdown_request(self, node: str) -> tuple[bool, bool]:
        target = self.hardware[node].get("shutdown")
        return bool(target), target == "reboot"

    def read_manager_status(self) -> dict[str, Any]:
        return self.manager_status

    def write_manager_status(self, status: dict[str, Any]) -> None:
        self.manager_status = _snapshot(status)

    def read_lrm_status(self, node: str) -> dict[str, Any]:
        return self.lrm_status.get(node, {})

    def write_lrm_status(self, node: str, status: dict[str, Any]) -> None:
        self.lrm_status[node] = status

    def read_service_config(self) -> dict[str, dict[str, Any]]:
        # Rebuilt only when the raw config changed; the raw config is small dicts compared by value.
        if self._config_cache is None or self._config_cache[0] != self.service_config:
            parsed = {sid: _with_defaults(sid, cfg) for sid, cfg in self.service_config.items()}
            self._config_cache = (copy.deepcopy(self.service_config), parsed)
        return self._config_cache[1]

    def update_service_config(self, changes: dict[str, dict[str, Any]]) -> None:
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
        return self.groups

    def delete_groups_config(self) -> None:
        self.groups = None

    def datacenter_settings(self) -> dict[str, Any]:
        return {"ha": self.datacenter.get("ha") or {}, "crs": self.datacenter.get("crs") or {}}

    def static_node_stats(self) -> dict[str, dict[str, Any]]:
        return {node: {k: d.get(k) for k in ("maxcpu", "maxmem")} for node, d in self.hardware.items()}

    def static_service_stats(self) -> dict[str, dict[str, Any]]:
        return self.static_stats

    def node_version(self, node: str) -> str:
        return self.hardware[node].get("pve-manager-version") or DEFAULT_NODE_VERSION

    def guest_running(self, node: str, sid: str) -> bool:
        return bool(self.running.get(node, {}).get(sid))

    def set_guest_running(self, node: str, sid: str, running: bool) -> None:
        self.running.setdefault(node, {})[sid] = running

    def forget_guest(self, node: str, sid: str) -> None:
        self.running.get(node, {}).pop(sid, None)

    def guest_lock(self, sid: str) -> str | None:
        return (self.service_config.get(sid) or {}).get("lock")

    def remove_guest_lock(self, sid: str, lock: str) -> str | None:
        cfg = self.service_config.get(sid) or {}
        if cfg.get("lock") != lock:
            return None
        return cfg.pop("lock")

    # -- hardware commands -----------------------------------------------------------------------------------
    def hardware_command(self, command: str, origin: str) -> None:
        words = command.split()
        if len(words) < 2:
            raise SimulationError(f"no node or service for command specified: '{command}'")
        cmd, objid, action, params = words[0], words[1], (words[2] if len(words) > 2 else ""), words[3:]
        if cmd == "service":
            if not re.match(r"^(vm|ct|fa):\d+$", objid):
                raise SimulationError(f"invalid resource id '{objid}' in '{command}'")
        elif objid not in self.nodes:
            raise SimulationError(f"no such node '{objid}' in '{command}'")
        self.log(f"execute {command}", origin)
        if cmd == "power":
            self._power(objid, action)
        elif cmd == "network":
            self._expect(action in ("on", "off"), command)
            self.hardware[objid]["network"] = action
        elif cmd == "pve-manager-version":
            self._expect(action == "set" and bool(params), command)
            self.hardware[objid]["pve-manager-version"] = params[0]
        elif cmd == "cfs":
            self._expect(action in ("rw", "update") and bool(params) and params[0] in ("work", "fail"), command)
            self.hardware[objid].setdefault("cfs", {})[action] = params[0] == "work"
        elif cmd in ("reboot", "shutdown"):
            self.hardware[objid]["shutdown"] = cmd
            self.stack.request_shutdown(objid)
        elif cmd == "restart-lrm":
            self.stack.restart_lrm(objid)
        elif cmd == "crm":
            self._crm_command(objid, action, params, command)
        elif cmd == "service":
            self._service_command(objid, action, params, command)
        else:
            raise SimulationError(f"unknown command '{command}'")

    @staticmethod
    def _expect(condition: bool, command: str) -> None:
        if not condition:
            raise SimulationError(f"invalid command '{command}'")

    def _power(self, name: str, action: str) -> None:
        self._expect(action in ("on", "off"), f"power {name} {action}")
        status = self.hardware[name]
        if status["power"] != action:
            if action == "on":
                self.stack.start_daemons(name)
                status["cfs"] = {}
            else:
                self.stack.kill_daemons(name)
                self.running[name] = {}
        status["power"] = status["network"] = action
        status["shutdown"] = None

    def _crm_command(self, name: str, action: str, params: list[str], command: str) -> None:
        if action == "stop":
            self.stack.stop_crm(name)
        elif action == "start":
            self.stack.start_crm(name)
        elif action in ("enable-node-maintenance", "disable-node-maintenance"):
            self.crm_commands.append(f"{action} {name}")
        elif action == "disarm-ha":
            self._expect(bool(params) and params[0] in ("freeze", "ignore"), command)
            self.crm_commands.append(f"disarm-ha {params[0]}")
        elif action == "arm-ha":
            self.crm_commands.append("arm-ha")
        else:
            raise SimulationError(f"unknown crm action '{action}' in '{command}'")

    def _service_command(self, sid: str, action: str, params: list[str], command: str) -> None:
        param = params[0] if params else None
        known = sid in self.service_config
        if action in ("started", "disabled", "stopped", "ignored"):
            self._require(known, sid)
            self.service_config[sid]["state"] = action
        elif action in ("migrate", "relocate", "stop"):
            self._expect(param is not None, command)
            self.crm_commands.append(f"{action} {sid} {param}")
        elif action == "add":
            self._expect(param is not None and param in self.nodes, command)
            if known:
                raise SimulationError(f"resource ID '{sid}' already defined")
            self.service_config[sid] = {"state": params[1] if len(params) > 1 else "started", "node": param}
            self.running.setdefault(param, {})[sid] = len(params) > 2 and params[2] not in ("0", "")
        elif action == "delete":
            self._require(known, sid)
            del self.service_config[sid]
        elif action == "lock":
            self._require(known, sid)
            self.service_config[sid]["lock"] = param or "backup"
        elif action == "unlock":
            self._require(known, sid)
            cfg = self.service_config[sid]
            if "lock" in cfg and (param is None or cfg["lock"] == param):
                del cfg["lock"]
        elif action in ("set-static-stats", "set-dynamic-stats"):
            self._require(known, sid)
        elif action == "manual-migrate":
            self._require(known, sid)
            self._expect(param is not None, command)
            disarm_ignored = (self.manager_status.get("disarm") or {}).get("mode") == "ignore"
            if self.service_config[sid].get("state") != "ignored" and not disarm_ignored:
                raise SimulationError("manual-migrate requires service in 'ignored' state or disarm-ha ignore mode")
            self.service_config[sid]["node"] = param
        else:
            raise SimulationError(f"unknown service action '{action}' in '{command}'")

    @staticmethod
    def _require(known: bool, sid: str) -> None:
        if not known:
            raise SimulationError(f"no such service '{sid}'")

    # -- the loop --------------------------------------------------------------------------------------------
    def step_loop(self) -> None:
        """One simulator loop: every node's CRM and LRM round, then time padded to the loop length."""
        start = self.cur_time
        looptime = max(20, 2 * len(self.nodes))
        try:
            self.stack.run_loop(
                skip_crm=bool(self.skip_rounds["crm"]),
                skip_lrm=bool(self.skip_rounds["lrm"]),
                on_skip=lambda message: self.log(message, "run-loop"),
            )
        except HAStackError as err:
            raise SimulationError(str(err)) from None
        for what in self.skip_rounds:
            self.skip_rounds[what] = max(0, self.skip_rounds[what] - 1)
        if self.cur_time - start < looptime:
            self.cur_time = start + looptime
        if self.cur_time > MAX_SIM_TIME:
            raise SimulationError(f"simulation exceeded maximum time ({MAX_SIM_TIME}) - force end")
        self.stack.sync_clocks()

    def run(self) -> list[str]:
        """Run the whole case: a command batch every 5 loops, until 500 s after the last command."""
        self.log("starting simulation")
        commands = list(self.case.cmdlist)
        last_command_time = next_cmd_at = 0
        loop_count = 0
        while True:
            self.step_loop()
            if self.cur_time < next_cmd_at:
                continue
            if loop_count % 5 == 0:
                batch = commands.pop(0) if commands else None
                if batch is None and self.cur_time - last_command_time > 500:
                    break
                for command in batch or []:
                    last_command_time = self.cur_time
                    delay = re.match(r"^delay\s+(\d+)\s*$", command)
                    skip = re.match(r"^skip-round\s+(lrm|crm)(?:\s+(\d+))?\s*$", command)
                    if delay:
                        self.log(f"execute {command}", "cmdlist")
                        next_cmd_at = self.cur_time + int(delay.group(1))
                    elif skip:
                        self.log(f"execute {command}", "cmdlist")
                        self.skip_rounds[skip.group(1)] += int(skip.group(2) or 1)
                    else:
                        self._run_listed_command(command)
            loop_count += 1
        self.log("exit simulation - done")
        return self.lines

    def _run_listed_command(self, command: str) -> None:
        try:
            self.hardware_command(command, "cmdlist")
        except SimulationError as err:
            path = self.case.directory / "cmdlist"
            line = next(
                (n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if command in text), None
            )
            raise CaseFileError(path, str(err), line) from None


def _with_defaults(sid: str, raw: dict[str, Any]) -> dict[str, Any]:
    cfg = dict(raw)
    kind, _, name = sid.partition(":")
    cfg["type"], cfg["name"] = kind, name
    state = cfg.get("state") or "disabled"
    cfg["state"] = "started" if state == "enabled" else state
    cfg["failback"] = _as_int(cfg.get("failback", 1))
    cfg["max_restart"] = _as_int(cfg.get("max_restart", 1))
    cfg["max_relocate"] = _as_int(cfg.get("max_relocate", 1))
    return cfg


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
        if key in copied and isinstance(copied[key], list):
            copied[key] = list(copied[key])
    return copied


def simulate_case(directory: str | Path) -> list[str]:
    """Run the regression case in ``directory`` and return its log lines (``log.expect`` format)."""
    return SimHardware(load_case(directory)).run()
