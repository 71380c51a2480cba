"""``/nodes/{node}/qemu/{vmid}/agent/...``: QEMU guest agent commands, relayed as ``{"result": ...}``.

qemu-server src/PVE/API2/Qemu/Agent.pm (commit e6352be6) registers one method per command (lines 25-116,
170-252): load the VM's config, ``assert_agent_available`` (PVE's three errors, see
:mod:`pytest_pvemock.model.guest_agent`), then the command's answer under ``result``.
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.model.guest_agent import agent_answer

GET_COMMANDS = ("get-fsinfo", "get-host-name", "get-memory-block-info", "get-memory-blocks", "get-osinfo",
                "get-time", "get-timezone", "get-users", "get-vcpus", "info", "network-get-interfaces")  # fmt: skip


def _answer(ctx: HandlerContext, command: str) -> dict[str, Any]:
    guest = ctx.cluster.guest_on(ctx.params["node"], ctx.params["vmid"], "qemu")
    return {"result": agent_answer(ctx.cluster, guest, command)}


def agent_command(ctx: HandlerContext) -> dict[str, Any]:
    """One read-only agent command, named by the path's last segment (``.../agent/get-osinfo``)."""
    return _answer(ctx, ctx.template.rsplit("/", 1)[1])


for _command in GET_COMMANDS:
    handles("GET", f"/nodes/{{node}}/qemu/{{vmid}}/agent/{_command}")(agent_command)


@handles("POST", "/nodes/{node}/qemu/{vmid}/agent/ping")
def agent_ping(ctx: HandlerContext) -> dict[str, Any]:
    return _answer(ctx, "ping")


@handles("POST", "/nodes/{node}/qemu/{vmid}/agent/fsfreeze-status")
def agent_fsfreeze_status(ctx: HandlerContext) -> dict[str, Any]:
    return _answer(ctx, "fsfreeze-status")


@handles("POST", "/nodes/{node}/qemu/{vmid}/agent")
def agent_any_command(ctx: HandlerContext) -> dict[str, Any]:
    """The old ``POST .../agent`` with ``command``: the same answers (commands the model has no answer for give
    ``{"result": {}}``, as a QGA command without return value does)."""
    try:
        return _answer(ctx, ctx.params["command"])
    except KeyError:
        return {"result": {}}
