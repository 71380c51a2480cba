"""Requests to the HA stack, as the API and guest actions make them (``API2/HA/Resources.pm``, qemu-server).

They write the HA files the CRM reads: the request state in ``resources.cfg`` (``hastart``: set
``started``) or a line in the CRM command queue (``hastop``: ``stop <sid> <timeout>``, ``hamigrate``:
``migrate <sid> <node>``), after PVE's checks. Errors are PVE's messages.
"""

from __future__ import annotations

from typing import Any, Protocol

from pytest_pvemock.errors import PVEError

from .rules import canonicalize_rules, compile_rules, parse_rules
from .status import guest_ha_status, is_ha_managed


class HARequestTarget(Protocol):
    service_config: dict[str, dict[str, Any]]

    def read_manager_status(self) -> dict[str, Any]: ...

    def read_rules_config(self) -> str: ...

    def update_service_config(self, changes: dict[str, dict[str, Any]]) -> None: ...

    def queue_crm_command(self, command: str) -> None: ...


def check_service_state(files: HARequestTarget, sid: str, requested: str | None = None) -> None:
    """A service in ``error`` accepts nothing but ``disabled``."""
    status = guest_ha_status(sid, files.read_manager_status(), files.service_config)
    if status.get("managed") and status.get("state") == "error" and requested != "disabled":
        raise PVEError(f"service '{sid}' in error state, must be disabled and fixed first")


def require_ha_managed(files: HARequestTarget, sid: str) -> None:
    if not is_ha_managed(sid, files.read_manager_status(), files.service_config):
        raise PVEError(f"resource '{sid}' is not HA managed")


def request_state(files: HARequestTarget, sid: str, state: str) -> None:
    """``ha-manager set <sid> --state <state>`` (a guest start is ``started``: the ``hastart`` task)."""
    if sid not in files.service_config:
        raise PVEError(f"no such resource '{sid}'")
    check_service_state(files, sid, state)
    files.update_service_config({sid: {"state": state}})


def request_stop(files: HARequestTarget, sid: str, timeout: int = 0) -> None:
    """``crm-command stop <sid> <timeout>``: a guest stop (timeout 0) or shutdown (the ``hastop`` task)."""
    require_ha_managed(files, sid)
    check_service_state(files, sid)
    files.queue_crm_command(f"stop {sid} {int(timeout)}")


def request_move(files: HARequestTarget, sid: str, node: str, task: str = "migrate") -> dict[str, Any]:
    """``POST /cluster/ha/resources/{sid}/migrate|relocate``: queue the move; PVE 9's answer.

    ``comigrated-resources`` lists the resources that follow through positive affinity.
    """
    if task not in ("migrate", "relocate"):
        raise ValueError(task)
    require_ha_managed(files, sid)
    check_service_state(files, sid)
    files.queue_crm_command(f"{task} {sid} {node}")
    result: dict[str, Any] = {"sid": sid, "requested-node": node}
    rules, _messages = canonicalize_rules(parse_rules(files.read_rules_config()), [])
    partners = sorted(compile_rules(rules, []).positive.get(sid, ()))
    if partners:
        result["comigrated-resources"] = partners
    return result
