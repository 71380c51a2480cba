"""Reading a pve-ha-manager regression case directory, with errors that name the file and line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_pvemock import json_nesting

from .rules import ConfigSyntaxError, parse_groups, parse_rules


class CaseFileError(Exception):
    """A case file is missing or malformed."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


@dataclass
class HACase:
    directory: Path
    cmdlist: list[list[str]]
    hardware_status: dict[str, dict[str, Any]]
    manager_status: dict[str, Any]
    service_config: dict[str, dict[str, Any]]
    rules_config: str = ""
    groups: str | None = None
    datacenter: dict[str, Any] = field(default_factory=dict)
    static_service_stats: dict[str, Any] = field(default_factory=dict)
    dynamic_service_stats: dict[str, Any] = field(default_factory=dict)
    running: dict[str, dict[str, Any]] = field(default_factory=dict)


def _read_json(path: Path, default: Any = None, required: bool = False) -> Any:
    if not path.exists():
        if required:
            raise CaseFileError(path, "file is missing")
        return default
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return default
    try:
        return json_nesting.loads(text)
    except json_nesting.NestingError as err:
        raise CaseFileError(path, f"invalid JSON: {err}", text.count("\n", 0, err.offset) + 1) from None
    except json.JSONDecodeError as err:
        raise CaseFileError(path, f"invalid JSON: {err.msg}", err.lineno) from None


def _line_of(path: Path, needle: str) -> int | None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    return None


def _expect(condition: bool, path: Path, message: str, needle: str | None = None) -> None:
    if not condition:
        raise CaseFileError(path, message, _line_of(path, needle) if needle else None)


def load_case(directory: str | Path) -> HACase:
    base = Path(directory)
    if not base.is_dir():
        raise CaseFileError(base, "not a directory")
    cmd_path = base / "cmdlist"
    cmdlist = _read_json(cmd_path, required=True)
    _expect(isinstance(cmdlist, list), cmd_path, "expected a JSON array of command batches")
    for batch in cmdlist:
        _expect(
            isinstance(batch, list) and all(isinstance(c, str) for c in batch),
            cmd_path,
            "each batch must be an array of command strings",
            json.dumps(batch)[:20] if batch else None,
        )

    hw_path = base / "hardware_status"
    hardware = _read_json(hw_path, required=True)
    _expect(isinstance(hardware, dict) and bool(hardware), hw_path, "expected an object {node: {power, network}}")
    for node, status in hardware.items():
        _expect(isinstance(status, dict), hw_path, f"node '{node}': expected an object", f'"{node}"')
        for key in ("power", "network"):
            _expect(status.get(key) in ("on", "off"), hw_path, f"node '{node}': {key} must be on or off", f'"{node}"')

    ms_path = base / "manager_status"
    manager_status = _read_json(ms_path, default={}) or {}
    _expect(isinstance(manager_status, dict), ms_path, "expected a JSON object")

    sc_path = base / "service_config"
    service_config = _read_json(sc_path, default={}) or {}
    _expect(isinstance(service_config, dict), sc_path, "expected an object {sid: {node, state}}")
    for sid, cfg in service_config.items():
        _expect(
            sid.split(":", 1)[0] in ("vm", "ct", "fa") and sid.partition(":")[2].isdigit(),
            sc_path,
            f"invalid resource id '{sid}'",
            f'"{sid}"',
        )
        _expect(isinstance(cfg, dict) and bool(cfg.get("node")), sc_path, f"service '{sid}' without node", f'"{sid}"')

    case = HACase(base, cmdlist, hardware, manager_status, service_config)
    rules_path = base / "rules_config"
    if rules_path.exists():
        case.rules_config = rules_path.read_text(encoding="utf-8")
        try:
            parse_rules(case.rules_config)
        except ConfigSyntaxError as err:
            raise CaseFileError(rules_path, str(err), err.line) from None
    groups_path = base / "groups"
    if groups_path.exists():
        case.groups = groups_path.read_text(encoding="utf-8")
        try:
            parse_groups(case.groups)
        except ConfigSyntaxError as err:
            raise CaseFileError(groups_path, str(err), err.line) from None
    case.datacenter = _read_json(base / "datacenter.cfg", default={}) or {}
    case.static_service_stats = _read_json(base / "static_service_stats", default={}) or {}
    case.dynamic_service_stats = _read_json(base / "dynamic_service_stats", default={}) or {}
    for node in hardware:
        running = _read_json(base / f"service_status_{node}", default={}) or {}
        case.running[node] = running
    return case
