"""Console proxies: the VNC, terminal and SPICE servers PVE starts for a console, their ports and their tasks.

Every proxy PVE starts for a console (pve-manager PVE/API2/Nodes.pm ``vncshell``/``termproxy``/``spiceshell``,
qemu-server src/PVE/API2/Qemu.pm ``vncproxy``/``termproxy``, pve-container src/PVE/API2/LXC.pm ``vncproxy``/
``termproxy``/``spiceproxy``) listens on a port of the node, taken by pve-common src/PVE/Tools.pm
``next_unused_port`` (lines 429-497 at f665029e): the first port of the range nothing listens on and no one was
handed in the last 5 seconds (5900-5999 for VNC and terminals, 61000-61998 for SPICE). The proxy runs in a worker
task that waits for the client (the websocket pveproxy opens to it) and ends, by the program it runs:

- ``qm vncproxy`` (a VM's display, Qemu.pm 3044-3099): 10 s to connect, else ``connection timed out``; a VM that
  does not run fails the connection (``Failed to run vncproxy.``);
- ``vncterm`` (a node's shell, a container's console, a VM's serial display; vncterm.c 2517-2533 at HEAD): waits 20
  s for the first client (``max(timeout, 20)``), then exits without error;
- ``termproxy`` (xterm.js consoles; pve-xtermjs termproxy/src/main.rs 311-321): 10 s to connect, else it fails
  (``failed waiting for client: timed out``, exit code 1, and run_command's error for the task);
- ``spiceterm`` (a node's or container's SPICE shell, pve-manager PVE/API2Tools.pm ``run_spiceterm`` 165-239): 40 s.

A connected client keeps the proxy running until it disconnects (:meth:`Consoles.disconnect`) or the guest stops;
over HTTP a client
connects by opening the websocket, which the fake does not proxy: tests connect with :meth:`Consoles.connect`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.tasks import Task

VNC_PORTS = (5900, 6000)  # Tools.pm next_vnc_port: next_unused_port(5900, 6000), the end excluded
SPICE_PORTS = (61000, 61999)  # Tools.pm spice_port_range
RESERVED_FOR = 5  # next_unused_port's $expiretime

#: What each proxy program does when no client comes: (seconds it waits, the task's exit status then).
WAITS = {
    "qm vncproxy": (10, "connection timed out"),
    "vncterm": (20, "OK"),
    "termproxy": (10, None),  # run_command's error, see _termproxy_failure
    "spiceterm": (40, "OK"),
}


@dataclass
class ConsoleProxy:
    """One proxy listening on ``port`` of ``node`` for the console of ``authpath`` (``/vms/100``, ``/nodes/pve1``)."""

    node: str
    port: int
    authpath: str
    program: str
    command: list[str]
    task: Task
    vmid: int | None = None
    connected: bool = False
    _deadline: Any = field(default=None, repr=False)

    @property
    def listening(self) -> bool:
        return self.task.running


class Consoles:
    """The console proxies of a cluster's nodes and the ports they hold."""

    def __init__(self, cluster: FakeCluster) -> None:
        self._cluster = cluster
        self._proxies: list[ConsoleProxy] = []
        self._handed: dict[tuple[str, int], int] = {}  # (node, port) -> when next_unused_port handed it out

    def __iter__(self) -> Any:
        return iter(self._proxies)

    def next_port(self, node: str, ports: tuple[int, int] = VNC_PORTS) -> int:
        """``next_unused_port``: the first port of ``ports`` free on ``node``, reserved from now for 5 seconds."""
        now = self._cluster.clock.now()
        busy = {proxy.port for proxy in self._proxies if proxy.node == node and proxy.listening}
        for port in range(*ports):
            handed = self._handed.get((node, port))
            if port in busy or (handed is not None and handed + RESERVED_FOR > now):
                continue
            self._handed[(node, port)] = now
            return port
        raise PVEError(f"unable to find free port ({ports[0]}-{ports[1]})\n")

    def open(
        self,
        node: str,
        task_type: str,
        authid: str,
        authpath: str,
        program: str,
        command: list[str],
        vmid: int | None = None,
        port: int | None = None,
    ) -> ConsoleProxy:
        """Start the worker of a proxy on ``port`` (the next free VNC port unless given); it waits for a client."""
        cluster = self._cluster
        if port is None:
            port = self.next_port(node)
        task = cluster.tasks.begin(node, task_type, "" if vmid is None else vmid, authid)
        proxy = ConsoleProxy(node, port, authpath, program, command, task, vmid)
        self._proxies.append(proxy)
        seconds, _status = WAITS[program]
        proxy._deadline = cluster.clock.call_at(cluster.clock.now() + seconds, lambda: self._no_client(proxy))
        return proxy

    def find(self, node: str, port: int) -> ConsoleProxy | None:
        """The proxy listening on ``port`` of ``node``."""
        return next((p for p in self._proxies if p.node == node and p.port == port and p.listening), None)

    def connect(self, node: str, port: int) -> ConsoleProxy:
        """A client (the websocket pveproxy opens) connects to the proxy on ``port``: it runs its console now."""
        proxy = self.find(node, port)
        if proxy is None:
            raise PVEError(f"no console proxy listening on {node}:{port}")
        if proxy._deadline is not None:
            proxy._deadline.cancelled = True
        proxy.connected = True
        guest = self._cluster.find_guest(proxy.vmid) if proxy.vmid is not None else None
        if guest is not None and not guest.running:
            # qm vncproxy dies on the stopped VM's monitor; vncterm/termproxy end with the console command
            self._end(proxy, "Failed to run vncproxy." if proxy.program == "qm vncproxy" else "OK")
        return proxy

    def disconnect(self, node: str, port: int) -> ConsoleProxy:
        """The client closes the console: the proxy's program ends and its task with it."""
        proxy = self.find(node, port)
        if proxy is None:
            raise PVEError(f"no console proxy listening on {node}:{port}")
        self._end(proxy, "OK")
        return proxy

    def guest_stopped(self, vmid: int) -> None:
        """The guest's console ends with it: ``qm vncproxy`` loses the VNC socket, ``qm terminal``, lxc-console and
        the VM's serial terminal exit, and each proxy's task ends without error."""
        for proxy in self._proxies:
            if proxy.vmid == vmid and proxy.connected and proxy.listening:
                self._end(proxy, "OK")

    def _no_client(self, proxy: ConsoleProxy) -> None:
        if not proxy.listening or proxy.connected:
            return
        status = WAITS[proxy.program][1]
        if status is None:
            proxy.task.log.append("failed waiting for client: timed out")
            status = f"command '{' '.join(proxy.command)}' failed: exit code 1"
        self._end(proxy, status)

    def _end(self, proxy: ConsoleProxy, status: str) -> None:
        self._cluster.tasks.end(proxy.task, status)
