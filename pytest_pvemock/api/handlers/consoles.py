"""Consoles: the VNC, terminal and SPICE proxies of nodes, VMs and containers, and the websockets that reach them.

pve-manager PVE/API2/Nodes.pm (commit 14a22df3) ``vncshell`` (1212-1363), ``termproxy`` (1367-1456),
``vncwebsocket`` (1459-1505), ``spiceshell`` (1508-1548); qemu-server src/PVE/API2/Qemu.pm (e6352be6) ``vncproxy``
(2939-3152), ``termproxy`` (3154-3272), ``vncwebsocket`` (3274-3330), ``spiceproxy`` (3332-3376),
``mtunnelwebsocket`` (7238-7290); pve-container src/PVE/API2/LXC.pm (94f55852) ``vncproxy`` (931-1089),
``termproxy`` (1091-1201), ``vncwebsocket`` (1203-1250), ``spiceproxy`` (1252-1300), ``mtunnelwebsocket``
(3487-3545). The tickets are PVE::AccessControl's short-lived ones (pve-access-control src/PVE/AccessControl.pm
5ccd07d9, 517-590): a VNC ticket binds user, path and port, lives 40 seconds, and a wrong one is HTTP 401
``permission denied - invalid PVEVNC ticket``. The proxies and their tasks: :mod:`pytest_pvemock.model.consoles`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pytest_pvemock.api.auth import TicketSigner
from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PermissionDenied, PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.cluster_ca import root_ca
from pytest_pvemock.model.consoles import SPICE_PORTS
from pytest_pvemock.model.nodes.files import node_domain

#: pve-manager PVE/API2/Nodes.pm ``$shell_cmd_map`` and ``get_shell_command`` (1159-1191): what the shell runs.
SHELL_COMMANDS = {
    "login": ["/bin/login", "-f", "root"],
    "ceph_install": ["/usr/bin/pveceph", "install"],
    "upgrade": ["/usr/bin/pveupgrade", "--shell"],
}
#: The ticket pipe's descriptor in termproxy's command line: the worker's next free descriptor (not knowable from
#: outside; shown in the task's error only).
TICKET_FD = "11"


def _signer(ctx: HandlerContext) -> TicketSigner:
    return TicketSigner(ctx.cluster.access.ticket_secret, ctx.cluster.clock.now)


def _vnc_password(ctx: HandlerContext, port: int) -> str:
    """PVE::Ticket::generate_vnc_password: 8 characters from '!' to '`'."""
    draw = figures.seeded(ctx.cluster.seed, "vnc-password", ctx.params["node"], port, ctx.cluster.clock.now())
    return "".join(chr(draw.randrange(33, 97)) for _ in range(8))


def _shell_command(ctx: HandlerContext, user: str) -> list[str]:
    """``get_shell_command``: root may run a named command, everyone else logs in."""
    command = ctx.params.get("cmd")
    if user != "root@pam":
        return ["/bin/login"]
    if command in SHELL_COMMANDS:
        arguments = [part for part in str(ctx.params.get("cmd-opts") or "").split("\0") if part]
        return [*SHELL_COMMANDS[command], *(arguments if command == "upgrade" else [])]
    return ["/bin/login", "-f", "root"]


def _refuse_commands_for_others(ctx: HandlerContext, user: str) -> None:
    command = ctx.params.get("cmd")
    if command is not None and command != "login" and user != "root@pam":
        raise PermissionDenied("Permission check failed (user != root@pam)")


def _termproxy_command(port: int, authpath: str, perm: str, console: list[str]) -> list[str]:
    return ["/usr/bin/termproxy", str(port), "--path", authpath, "--perm", perm, "--vncticket-endpoint",
            "--verify-port", "--ticket-fd", TICKET_FD, "--", *console]  # fmt: skip


def _vncterm_command(port: int, authpath: str, perm: str, websocket: bool, console: list[str]) -> list[str]:
    command = ["/usr/bin/vncterm", "-rfbport", str(port), "-timeout", "10", "-authpath", authpath, "-perm", perm,
               "-verify-port"]  # fmt: skip
    if websocket:
        command += ["-notls", "-listen", "localhost"]
    return [*command, "-c", *console]


def _open(
    ctx: HandlerContext,
    task_type: str,
    authpath: str,
    program: str,
    command: list[str],
    port: int,
    user: str,
    vmid: int | None = None,
    websocket: bool = False,
    cert: bool = True,
) -> dict[str, Any]:
    """Start the proxy's worker and answer what the client needs to reach it."""
    ticket = _signer(ctx).short_lived_ticket("PVEVNC", user, authpath, port)
    proxy = ctx.cluster.consoles.open(ctx.params["node"], task_type, ctx.principal.authid, authpath, program,
                                      command, vmid=vmid, port=port)  # fmt: skip
    answer: dict[str, Any] = {"user": user, "ticket": ticket, "port": port, "upid": proxy.task.upid}
    if cert:
        answer["cert"] = _root_ca(ctx).pem
    if websocket:
        password = _vnc_password(ctx, port)
        answer["password"] = password
        answer["ticket"] = f"{password}:{ticket}"
    return answer


def _root_ca(ctx: HandlerContext) -> Any:
    cluster = ctx.cluster
    return root_ca(str(cluster.seed), cluster.created_at)


def _vm(ctx: HandlerContext, kind: str) -> Any:
    return ctx.cluster.guest_on(ctx.params["node"], ctx.params["vmid"], kind)


def _lxc_console(vmid: int, config: dict[str, Any]) -> list[str]:
    """pve-container src/PVE/LXC.pm ``get_console_command`` (957-979) in dtach, as LXC.pm's proxies run it."""
    mode = str(config.get("cmode", "tty"))
    if mode == "shell":
        console = ["lxc-attach", "--clear-env", "-n", str(vmid)]
    elif mode == "console":
        console = ["lxc-console", "-n", str(vmid), "-t", "0", "-e", "-1"]
    else:
        console = ["lxc-console", "-n", str(vmid), "-e", "-1"]
    return ["/usr/bin/dtach", "-A", f"/var/run/dtach/vzctlconsole{vmid}", "-r", "winch", "-z", *console]


def _serial_display(config: dict[str, Any]) -> str | None:
    """The serial port a VM's ``vga: serialN`` shows instead of a display."""
    kind = str(config.get("vga", "")).split(",")[0].removeprefix("type=")
    return kind if kind.startswith("serial") else None


# ---- nodes -------------------------------------------------------------------------------------------------------


@handles("POST", "/nodes/{node}/vncshell")
def node_vncshell(ctx: HandlerContext) -> dict[str, Any]:
    user = ctx.principal.authid
    _refuse_commands_for_others(ctx, user)
    node = ctx.params["node"]
    ctx.cluster.require_node_reachable(node)
    port = ctx.cluster.consoles.next_port(node)
    websocket = bool(ctx.params.get("websocket"))
    authpath = f"/nodes/{node}"
    command = _vncterm_command(port, authpath, "Sys.Console", websocket, _shell_command(ctx, user))
    return _open(ctx, "vncshell", authpath, "vncterm", command, port, user, websocket=websocket)


@handles("POST", "/nodes/{node}/termproxy")
def node_termproxy(ctx: HandlerContext) -> dict[str, Any]:
    user = ctx.principal.authid
    node = ctx.params["node"]
    ctx.cluster.require_node_reachable(node)
    port = ctx.cluster.consoles.next_port(node)
    authpath = f"/nodes/{node}"
    command = _termproxy_command(port, authpath, "Sys.Console", _shell_command(ctx, user))
    return _open(ctx, "vncshell", authpath, "termproxy", command, port, user, cert=False)


@handles("POST", "/nodes/{node}/spiceshell")
def node_spiceshell(ctx: HandlerContext) -> dict[str, Any]:
    user = ctx.principal.authid
    _refuse_commands_for_others(ctx, user)
    node = ctx.params["node"]
    ctx.cluster.require_node_reachable(node)
    return _spiceterm(ctx, f"/nodes/{node}", "Sys.Console", 0, f"Shell on '{node}'", _shell_command(ctx, user))


@handles("GET", "/nodes/{node}/vncwebsocket")
def node_vncwebsocket(ctx: HandlerContext) -> dict[str, str]:
    _verify_vnc_ticket(ctx, f"/nodes/{ctx.params['node']}")
    return {"port": str(ctx.params["port"])}


# ---- VMs -----------------------------------------------------------------------------------------------------------


@handles("POST", "/nodes/{node}/qemu/{vmid}/vncproxy")
def qemu_vncproxy(ctx: HandlerContext) -> dict[str, Any]:
    vm = _vm(ctx, "qemu")
    serial = _serial_display(vm.config)
    port = ctx.cluster.consoles.next_port(ctx.params["node"])
    authpath = f"/vms/{vm.vmid}"
    websocket = bool(ctx.params.get("websocket"))
    with_password = bool(ctx.params.get("generate-password")) or serial is None or websocket
    if serial is not None:
        terminal = ["/usr/sbin/qm", "terminal", str(vm.vmid), "-iface", serial, "-escape", "0"]
        command = _vncterm_command(port, authpath, "Sys.Console", websocket, terminal)
        program = "vncterm"
    else:
        command, program = ["/usr/sbin/qm", "vncproxy", str(vm.vmid)], "qm vncproxy"
    user = ctx.principal.authid
    return _open(ctx, "vncproxy", authpath, program, command, port, user, vmid=vm.vmid, websocket=with_password)


@handles("POST", "/nodes/{node}/qemu/{vmid}/termproxy")
def qemu_termproxy(ctx: HandlerContext) -> dict[str, Any]:
    vm = _vm(ctx, "qemu")
    serial = ctx.params.get("serial") or _serial_display(vm.config)
    port = ctx.cluster.consoles.next_port(ctx.params["node"])
    authpath = f"/vms/{vm.vmid}"
    terminal = ["/usr/sbin/qm", "terminal", str(vm.vmid), "-escape", "0", *(["-iface", serial] if serial else [])]
    command = _termproxy_command(port, authpath, "VM.Console", terminal)
    return _open(ctx, "vncproxy", authpath, "termproxy", command, port, ctx.principal.authid, vmid=vm.vmid, cert=False)


@handles("POST", "/nodes/{node}/qemu/{vmid}/spiceproxy")
def qemu_spiceproxy(ctx: HandlerContext) -> dict[str, Any]:
    """The VM's own SPICE server: QEMU's tls-port (no task); PVE sets a 30-second password on it."""
    vm = _vm(ctx, "qemu")
    title = f"VM {vm.vmid}" + (f" - {vm.config['name']}" if vm.config.get("name") else "")
    if not vm.running:  # PVE::QemuServer::Monitor::qmp_cmd (lines 80-82)
        raise PVEError(f"VM {vm.vmid} not running\n")
    port = _vm_spice_port(ctx, vm)
    return _remote_viewer_config(ctx, vm.vmid, title, port)


@handles("GET", "/nodes/{node}/qemu/{vmid}/vncwebsocket")
def qemu_vncwebsocket(ctx: HandlerContext) -> dict[str, str]:
    _verify_vnc_ticket(ctx, f"/vms/{ctx.params['vmid']}")
    _vm(ctx, "qemu")  # checked after the ticket (Qemu.pm 3324)
    return {"port": str(ctx.params["port"])}


# ---- containers ------------------------------------------------------------------------------------------------------


@handles("POST", "/nodes/{node}/lxc/{vmid}/vncproxy")
def lxc_vncproxy(ctx: HandlerContext) -> dict[str, Any]:
    vmid = int(ctx.params["vmid"])
    port = ctx.cluster.consoles.next_port(ctx.params["node"])  # before the config is read (LXC.pm 991-995)
    ct = _vm(ctx, "lxc")
    authpath = f"/vms/{vmid}"
    websocket = bool(ctx.params.get("websocket"))
    command = _vncterm_command(port, authpath, "VM.Console", websocket, _lxc_console(vmid, ct.config))
    return _open(ctx, "vncproxy", authpath, "vncterm", command, port, ctx.principal.authid, vmid=vmid,
                 websocket=websocket)  # fmt: skip


@handles("POST", "/nodes/{node}/lxc/{vmid}/termproxy")
def lxc_termproxy(ctx: HandlerContext) -> dict[str, Any]:
    vmid = int(ctx.params["vmid"])
    port = ctx.cluster.consoles.next_port(ctx.params["node"])
    ct = _vm(ctx, "lxc")
    authpath = f"/vms/{vmid}"
    command = _termproxy_command(port, authpath, "VM.Console", _lxc_console(vmid, ct.config))
    return _open(ctx, "vncproxy", authpath, "termproxy", command, port, ctx.principal.authid, vmid=vmid, cert=False)


@handles("POST", "/nodes/{node}/lxc/{vmid}/spiceproxy")
def lxc_spiceproxy(ctx: HandlerContext) -> dict[str, Any]:
    ct = _vm(ctx, "lxc")
    if not ct.running:
        raise PVEError(f"CT {ct.vmid} not running\n")
    return _spiceterm(ctx, f"/vms/{ct.vmid}", "VM.Console", ct.vmid, f"CT {ct.vmid}", _lxc_console(ct.vmid, ct.config))


@handles("GET", "/nodes/{node}/lxc/{vmid}/vncwebsocket")
def lxc_vncwebsocket(ctx: HandlerContext) -> dict[str, str]:
    _verify_vnc_ticket(ctx, f"/vms/{ctx.params['vmid']}")
    return {"port": str(ctx.params["port"])}


# ---- migration tunnels -------------------------------------------------------------------------------------------


@handles("GET", "/nodes/{node}/qemu/{vmid}/mtunnelwebsocket")
def qemu_mtunnelwebsocket(ctx: HandlerContext) -> dict[str, str]:
    return _mtunnel_websocket(ctx, "qemu")


@handles("GET", "/nodes/{node}/lxc/{vmid}/mtunnelwebsocket")
def lxc_mtunnelwebsocket(ctx: HandlerContext) -> dict[str, str]:
    return _mtunnel_websocket(ctx, "lxc")


def _mtunnel_websocket(ctx: HandlerContext, kind: str) -> dict[str, str]:
    """The config must exist, then the tunnel ticket must be valid for ``/socket/<socket>``."""
    _vm(ctx, kind)
    socket = str(ctx.params["socket"])
    if not _signer(ctx).verify_short_lived_ticket(str(ctx.params["ticket"]), "PVETUNNEL", ctx.principal.authid,
                                                  f"/socket/{socket}"):  # fmt: skip
        raise PVEError("permission denied - invalid PVETUNNEL ticket\n", 401)
    return {"socket": socket}


# ---- shared ------------------------------------------------------------------------------------------------------


def _verify_vnc_ticket(ctx: HandlerContext, authpath: str) -> None:
    """``verify_vnc_ticket``: a ticket for this user, path and port, younger than 40 seconds (a websocket
    ticket's leading password is dropped first)."""
    ticket = str(ctx.params["vncticket"])
    if len(ticket) > 9 and ticket[8] == ":" and ticket[9:].startswith("PVEVNC:"):
        ticket = ticket[9:]
    port = int(ctx.params["port"])
    if not _signer(ctx).verify_short_lived_ticket(ticket, "PVEVNC", ctx.principal.authid, authpath, port):
        raise PVEError("permission denied - invalid PVEVNC ticket\n", 401)


def _spiceterm(
    ctx: HandlerContext, authpath: str, permission: str, vmid: int, title: str, console: list[str]
) -> dict[str, Any]:
    """pve-manager PVE/API2Tools.pm ``run_spiceterm``: spiceterm on the next SPICE port, in a worker task."""
    node = ctx.params["node"]
    port = ctx.cluster.consoles.next_port(node, SPICE_PORTS)
    config = _remote_viewer_config(ctx, vmid, title, port)
    command = ["/usr/bin/spiceterm", "--port", str(port), "--addr", "localhost", "--timeout", "40", "--authpath",
               authpath, "--permissions", permission, "--", *console]  # fmt: skip
    task_type = "spiceproxy" if vmid else "spiceshell"
    ctx.cluster.consoles.open(node, task_type, ctx.principal.authid, authpath, "spiceterm", command,
                              vmid=vmid or None, port=port)  # fmt: skip
    return config


def _remote_viewer_config(ctx: HandlerContext, vmid: int, title: str, port: int) -> dict[str, Any]:
    """pve-access-control src/PVE/AccessControl.pm ``remote_viewer_config`` (634-674) with pve-common
    src/PVE/Ticket.pm ``assemble_spice_ticket`` (112-150): a one-time password, and a proxy ticket signed for
    the VM, node and port that remote-viewer sends as the host."""
    cluster = ctx.cluster
    node = str(ctx.params["node"])
    proxy = str(ctx.params.get("proxy") or f"{node}.{node_domain(cluster)}")
    if ":" in proxy:
        proxy = f"[{proxy}]"
    stamp = f"{cluster.clock.now():08x}"
    secret = cluster.access.ticket_secret
    draw = figures.seeded(cluster.seed, "spice-ticket", node, vmid, port, stamp)
    password = hashlib.sha1(
        f"PVESPICE:{stamp}:{ctx.principal.authid}:{vmid}:{node}:{draw.random()}".encode()
    ).hexdigest()
    plain = f"pvespiceproxy:{stamp}:{vmid}:{node.lower()}:{port}"
    signature = hashlib.sha1(plain.encode() + secret).hexdigest()
    ca = _root_ca(ctx).pem.replace("\n", "\\n")
    return {
        "secure-attention": "Ctrl+Alt+Ins",
        "toggle-fullscreen": "Shift+F11",
        "release-cursor": "Ctrl+Alt+R",
        "type": "spice",
        "title": title,
        "host": f"{plain}::{signature}",
        "proxy": f"http://{proxy}:3128",
        "tls-port": port,
        "host-subject": f"OU=PVE Cluster Node,O=Proxmox Virtual Environment,CN={node}.{node_domain(cluster)}",
        "ca": ca,
        "password": password,
        "delete-this-file": 1,
    }


def _vm_spice_port(ctx: HandlerContext, vm: Any) -> int:
    """``PVE::QemuServer::spice_port``: QEMU's SPICE tls-port, a port of 61000-61999 taken when the VM started
    (only a VM with a QXL display runs SPICE: else QEMU reports none and PVE dies 'no spice port')."""
    display = str(vm.config.get("vga", "")).split(",")[0].removeprefix("type=")
    if not display.startswith("qxl"):
        raise PVEError("no spice port\n")
    spice = [guest for guest in ctx.cluster.guests_on(vm.node, "qemu") if guest.running
             and str(guest.config.get("vga", "")).split(",")[0].removeprefix("type=").startswith("qxl")]  # fmt: skip
    spice.sort(key=lambda guest: (guest.started_at, guest.vmid))
    return SPICE_PORTS[0] + spice.index(vm)
