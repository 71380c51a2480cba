"""``/nodes/{node}/qemu/{vmid}/agent/...``: QEMU guest agent commands, relayed as ``{"result": ...}``.

qemu-server src/PVE/API2/Qemu/Agent.pm (commit e6352be6) registers one method per command (lines 25-116,
170-252): load the VM's config, ``assert_agent_available`` (PVE's three errors, see
:mod:`pytest_pvemock.model.guest_agent`), then the command's answer under ``result``.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.guest_agent import agent_answer, require_agent
from pytest_pvemock.model.guest_agent_actions import freeze, fstrim, power_command, set_user_password, thaw
from pytest_pvemock.model.guest_agent_state import QgaError
from pytest_pvemock.model.guests import QemuVM
from pytest_pvemock.schema.formats.checks import split_list

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest

GET_COMMANDS = ("get-fsinfo", "get-host-name", "get-memory-block-info", "get-memory-blocks", "get-osinfo",
                "get-time", "get-timezone", "get-users", "get-vcpus", "info", "network-get-interfaces")  # fmt: skip


WRITES = ("fsfreeze-freeze", "fsfreeze-thaw", "fstrim")
POWER = ("shutdown", "suspend-disk", "suspend-hybrid", "suspend-ram")


def command_result(cluster: FakeCluster, guest: QemuVM, command: str) -> Any:
    """What PVE relays under ``result`` for one of the commands it registers generically (Agent.pm 228-241):
    ``mon_cmd``'s answer unchecked, so an error the agent answers comes back as ``{"error": ...}`` with HTTP 200;
    ``KeyError`` for a command the model does not answer."""
    if command in POWER:
        require_agent(cluster, guest)
        power_command(cluster, guest, command)
        return None  # QMPClient reads no answer for these (src/PVE/QMPClient.pm 47-52, 524-545)
    try:
        if command in WRITES:
            require_agent(cluster, guest)
            if command == "fstrim":
                return fstrim(cluster, guest)
            return freeze(cluster, guest) if command == "fsfreeze-freeze" else thaw(cluster, guest)
        return agent_answer(cluster, guest, command)
    except QgaError as error:
        return error.as_result()


def _vm(ctx: HandlerContext) -> QemuVM:
    guest = ctx.cluster.guest_on(ctx.params["node"], ctx.params["vmid"], "qemu")
    assert isinstance(guest, QemuVM)
    return guest


def _answer(ctx: HandlerContext, command: str) -> dict[str, Any]:
    guest = _vm(ctx)
    return {"result": command_result(ctx.cluster, guest, command)}


def agent_command(ctx: HandlerContext) -> dict[str, Any]:
    """One agent command PVE registers generically, named by the path's last segment (``.../agent/get-osinfo``,
    ``.../agent/fstrim``)."""
    return _answer(ctx, ctx.template.rsplit("/", 1)[1])


for _command in GET_COMMANDS:
    handles("GET", f"/nodes/{{node}}/qemu/{{vmid}}/agent/{_command}")(agent_command)
for _command in ("ping", "fsfreeze-status", *WRITES, *POWER):
    handles("POST", f"/nodes/{{node}}/qemu/{{vmid}}/agent/{_command}")(agent_command)


@handles("POST", "/nodes/{node}/qemu/{vmid}/agent")
def agent_any_command(ctx: HandlerContext) -> dict[str, Any]:
    """The old ``POST .../agent`` with ``command``: the same answers and effects (commands the model has no answer
    for give ``{"result": {}}``, as a QGA command without return value does)."""
    try:
        return _answer(ctx, ctx.params["command"])
    except KeyError:
        return {"result": {}}


def _checked(cluster: FakeCluster, guest: Guest, command: str) -> None:
    """qemu-ga's refusal of ``command`` (while frozen) as ``agent_cmd`` relays it."""
    try:
        cluster.guest_agents.check_enabled(guest, command)
    except QgaError as error:
        raise error.as_pve_error() from None


@handles("POST", "/nodes/{node}/qemu/{vmid}/agent/set-user-password")
def agent_set_user_password(ctx: HandlerContext) -> dict[str, Any]:
    """``guest-set-user-password`` through ``agent_cmd`` (Agent.pm 293-309 at e6352be6): the password goes base64
    encoded to the agent, ``crypted`` as a JSON boolean; the agent's refusal is ``Agent error: <desc>``. Nothing of
    the password is echoed or kept in clear."""
    guest = _running_agent(ctx)
    crypted = bool(ctx.params.get("crypted", 0))
    try:
        set_user_password(ctx.cluster, guest, str(ctx.params["username"]), str(ctx.params["password"]), crypted)
    except QgaError as error:
        raise error.as_pve_error() from None
    return {"result": {}}


def _running_agent(ctx: HandlerContext, command: str | None = None) -> QemuVM:
    guest = _vm(ctx)
    require_agent(ctx.cluster, guest)
    if command is not None:
        _checked(ctx.cluster, guest, command)
    return guest


def _perl_string(data: bytes) -> str:
    """Bytes as PVE's JSON encoder sends a Perl byte string: each byte one character (UTF-8 text arrives
    double-encoded, as it does from a real node)."""
    return data.decode("latin-1")


@handles("POST", "/nodes/{node}/qemu/{vmid}/agent/exec")
def agent_exec(ctx: HandlerContext) -> dict[str, Any]:
    """``guest-exec`` with the program and its arguments (qemu-server src/PVE/QemuServer/Agent.pm ``qemu_exec``,
    lines 125-151 at e6352be6): the guest's pid."""
    command = ctx.params.get("command")
    # PVE 7 took a 'string-alist' split by PVE::Tools::split_list (qemu-server 1572afe8 made it an array, PVE 8.0)
    argv = [str(part) for part in command] if isinstance(command, list) else split_list(str(command or ""))
    input_data = ctx.params.get("input-data")
    if not argv and input_data is None:
        raise PVEError("command or input-data (or both) required\n", 500)
    guest = _running_agent(ctx, "guest-exec")
    data = str(input_data).encode() if input_data is not None else None
    return {"pid": ctx.cluster.guest_programs.start(ctx.cluster, guest, argv, data)}


@handles("GET", "/nodes/{node}/qemu/{vmid}/agent/exec-status")
def agent_exec_status(ctx: HandlerContext) -> dict[str, Any]:
    """``guest-exec-status``, output base64-decoded and booleans as 1/0 (Agent.pm ``qemu_exec_status``,
    lines 153-187 at e6352be6)."""
    guest = _running_agent(ctx, "guest-exec-status")
    status = ctx.cluster.guest_programs.status(ctx.cluster, guest, int(ctx.params["pid"]))
    answer: dict[str, Any] = {}
    for key, value in status.items():
        if isinstance(value, bool):
            value = int(value)
        answer[key] = _perl_string(value) if isinstance(value, bytes) else value
    return answer


READ_CHUNK = 1024 * 1024
MAX_READ_SIZE = 16 * 1024 * 1024


@handles("GET", "/nodes/{node}/qemu/{vmid}/agent/file-read")
def agent_file_read(ctx: HandlerContext) -> dict[str, Any]:
    """``guest-file-open``/``-seek``/``-read`` in 1 MiB chunks up to ``count`` (qemu-server src/PVE/API2/Qemu/Agent.pm
    ``file-read``, lines 512-568 at e6352be6). qga reports end of file once a read asked for more than was left
    (``feof`` after a short ``fread``), so reading exactly a file's size answers ``truncated``."""
    guest = _running_agent(ctx, "guest-file-open")
    content = ctx.cluster.guest_files.read(ctx.cluster, guest, str(ctx.params["file"]))
    count = int(ctx.params.get("count") or MAX_READ_SIZE)
    position = int(ctx.params.get("offset") or 0)
    read, eof, chunks = 0, False, []
    while read < count and not eof:
        size = min(count - read, READ_CHUNK)
        chunk = content[position : position + size]
        eof = len(chunk) < size
        position += len(chunk)
        read += len(chunk)
        chunks.append(chunk)
    data = b"".join(chunks)
    decode = ctx.params.get("decode", 1)
    answer: dict[str, Any] = {
        "content": _perl_string(data) if decode else base64.b64encode(data).decode(),
        "bytes-read": read,
    }
    if not eof:
        answer["truncated"] = 1
    return answer


@handles("POST", "/nodes/{node}/qemu/{vmid}/agent/file-write")
def agent_file_write(ctx: HandlerContext) -> None:
    """``guest-file-open`` (mode ``wb``), ``guest-file-write`` of the base64 content, ``guest-file-close``
    (Agent.pm ``file-write``, lines 617-645 at e6352be6); ``encode=0``: the content is base64 already."""
    guest = _running_agent(ctx, "guest-file-open")
    content = str(ctx.params["content"])
    data = content.encode() if ctx.params.get("encode", 1) else base64.b64decode(content + "===")
    ctx.cluster.guest_files.write(guest, str(ctx.params["file"]), data)
    return None
