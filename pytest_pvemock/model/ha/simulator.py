"""pve-ha-manager's regression-test simulator (``PVE::HA::Sim::TestHardware``) on the HA stack of this package.

Fake hardware (power, network, cluster file system, guests) implements :class:`.environment.HAHost`; a loop
runs each powered node's CRM then LRM in node order, one virtual second per daemon round, padded to 20 s
per loop, and applies a batch of ``cmdlist`` commands every 5 loops. The log has ``log.expect``'s format.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from .case_files import CaseFileError, HACase, load_case
from .ha_files import HAFiles
from .stack import HAStack, HAStackError

MAX_SIM_TIME = 10000
DEFAULT_NODE_VERSION = "9.0.0~2"


class SimulationError(Exception):
    """A command the simulator cannot run (unknown command, node or service)."""


def format_log_line(level: str, time: int, origin: str, message: str) -> str:
    return f"{level:<5} {time:5d} {origin:>12}: {message}"


class SimHardware(HAFiles):
    """The fake cluster of a regression case. Implements :class:`.environment.HAHost`."""

    default_request_state = "disabled"  # the simulator's quirk (PVE defaults to started)

    def __init__(self, case: HACase) -> None:
        super().__init__(
            service_config=case.service_config,
            manager_status=case.manager_status,
            rules_config=case.rules_config,
            groups_config=case.groups,
            datacenter=case.datacenter,
            static_service_stats=case.static_service_stats,
            dynamic_service_stats=case.dynamic_service_stats,
        )
        self.case = case
        self.cur_time = 0
        self.lines: list[str] = []
        self.hardware = copy.deepcopy(case.hardware_status)
        self.running: dict[str, dict[str, bool]] = {
            node: {sid: bool(v) for sid, v in case.running.get(node, {}).items()} for node in self.hardware
        }
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
        return bool((self.hardware[node].get("cfs") or {}).get(what, True))

    def node_shutdown_request(self, node: str) -> tuple[bool, bool]:
        target = self.hardware[node].get("shutdown")
        return bool(target), target == "reboot"

    def static_node_stats(self) -> dict[str, dict[str, Any]]:
        return {node: {k: d.get(k) for k in ("maxcpu", "maxmem")} for node, d in self.hardware.items()}

    def node_version(self, node: str) -> str:
        return self.hardware[node].get("pve-manager-version") or DEFAULT_NODE_VERSION

    def guest_running(self, node: str, sid: str) -> bool:
        return bool(self.running.get(node, {}).get(sid))

    def set_guest_running(self, node: str, sid: str, running: bool) -> None:
        self.running.setdefault(node, {})[sid] = running

    def forget_guest(self, node: str, sid: str) -> None:
        self.running.get(node, {}).pop(sid, None)

    def start_migration(self, node: str, sid: str, target: str, online: bool) -> None:
        return None  # the simulator moves guests within the LRM round, as PVE's Sim/Resources.pm does

    def guest_lock(self, sid: str) -> str | None:
        return (self.service_config.get(sid) or {}).get("lock")

    def remove_guest_lock(self, sid: str, lock: str) -> str | None:
        cfg = self.service_config.get(sid) or {}
        if cfg.get("lock") != lock:
            return None
        lock_held: str = cfg.pop("lock")
        return lock_held

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
            self.queue_crm_command(f"{action} {name}")
        elif action == "disarm-ha":
            self._expect(bool(params) and params[0] in ("freeze", "ignore"), command)
            self.queue_crm_command(f"disarm-ha {params[0]}")
        elif action == "arm-ha":
            self.queue_crm_command("arm-ha")
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
            self.queue_crm_command(f"{action} {sid} {param}")
        elif action == "add":
            self._expect(param is not None and param in self.nodes, command)
            assert param is not None  # _expect raised otherwise
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
            self._set_stats(sid, action, params, command)
        elif action in ("fail-start", "fail-migrate"):  # pvemock extension: inject faults into any guest
            self._require(known, sid)
            self._expect(param is not None and param.isdigit(), command)
            assert param is not None  # _expect raised otherwise
            agents = self.stack.shared.agents
            (agents.fail_starts if action == "fail-start" else agents.fail_migrations)(sid, int(param))
        elif action == "manual-migrate":
            self._require(known, sid)
            self._expect(param is not None, command)
            disarm_ignored = (self.manager_status.get("disarm") or {}).get("mode") == "ignore"
            if self.service_config[sid].get("state") != "ignored" and not disarm_ignored:
                raise SimulationError("manual-migrate requires service in 'ignored' state or disarm-ha ignore mode")
            self.service_config[sid]["node"] = param
        else:
            raise SimulationError(f"unknown service action '{action}' in '{command}'")

    def _set_stats(self, sid: str, action: str, params: list[str], command: str) -> None:
        static = action == "set-static-stats"
        allowed = ("maxcpu", "maxmem") if static else ("cpu", "mem")
        self._expect(bool(params) and len(params) % 2 == 0, command)
        values: dict[str, float] = {}
        for key, raw in zip(params[::2], params[1::2], strict=True):
            self._expect(key in allowed, command)
            try:
                number = float(raw)
            except ValueError:
                raise SimulationError(f"invalid value '{raw}' in '{command}'") from None
            values[key] = number * 1024**2 if key.endswith("mem") else number
        self.set_service_stats(sid, "static" if static else "dynamic", values)

    def dynamic_node_stats(self) -> dict[str, dict[str, Any]]:
        return {
            node: {"maxcpu": d.get("maxcpu", 24.0), "maxmem": d.get("maxmem", 131072 * 1024**2)}
            for node, d in self.hardware.items()
        }

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


def simulate_case(directory: str | Path) -> list[str]:
    """Run the regression case in ``directory`` and return its log lines (``log.expect`` format)."""
    return SimHardware(load_case(directory)).run()
