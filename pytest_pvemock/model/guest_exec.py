"""Programs run inside a VM through its guest agent (``guest-exec``) and the files it reads and writes.

QEMU's guest agent (qga/commands.c ``qmp_guest_exec``, ``qmp_guest_exec_status``) starts a process and keeps its
captured output until a ``guest-exec-status`` reports it exited; that report is the last one: the agent forgets
the pid, and asking again is its error ``Invalid parameter 'pid'``. Output is capped at 16 MiB per stream
(``GUEST_EXEC_MAX_OUTPUT``), with ``out-truncated``/``err-truncated`` set when it was cut.

What a program answers comes from what a test registered (:meth:`GuestPrograms.register`, reached as
``cluster.guest_programs``); any other command exits 0 with no output after one virtual second (at once when the
clock's tasks are instant). The processes of a VM live as long as its boot: a restarted VM's agent knows none.

Files: ``guest-file-open``/``-read``/``-write`` on a small file table per VM, kept across reboots as a disk is (what
``file-write`` wrote, over the few files every guest of its OS has: ``/etc/hostname``, ``/etc/hosts`` and
``/etc/os-release`` on Debian, ``C:\\Windows\\win.ini`` on Windows). Opening a file that is not there is the agent's
error (Linux: ``failed to open file '<path>' (mode: 'r'): No such file or directory``, qga/commands-posix.c
``safe_open_or_create``; Windows: ``failed to open file '<path>': The system cannot find the file specified.``,
qga/commands-win32.c ``qmp_guest_file_open``, ``error_setg_win32``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.guest_agent import agent_answer
from pytest_pvemock.model.guest_network import is_windows

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest

#: qga/commands.c GUEST_EXEC_MAX_OUTPUT: what the agent keeps of each stream.
MAX_OUTPUT = 16 * 1024 * 1024


@dataclass(frozen=True)
class ProgramResult:
    """How a program run through the agent ends: its exit code (or the signal that killed it), its output (text
    is sent as UTF-8), and how many virtual seconds it runs."""

    exitcode: int = 0
    stdout: str | bytes = b""
    stderr: str | bytes = b""
    seconds: int = 1
    signal: int | None = None


@dataclass
class GuestProcess:
    """One process the agent started: its pid in the guest and when (on the cluster clock) it ends."""

    pid: int
    argv: tuple[str, ...]
    input_data: bytes
    ends_at: int
    result: ProgramResult


@dataclass
class _GuestTable:
    boot: int
    next_pid: int
    processes: dict[int, GuestProcess] = field(default_factory=dict)


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def qga_error(message: str) -> PVEError:
    """An error the agent answered (``{"error": {"desc": ...}}``), as PVE relays it for the calls that check it:
    PVE::QMPClient hands the error back as the result (src/PVE/QMPClient.pm ``cmd``, lines 90-94 at e6352be6) and
    ``agent_cmd``'s ``check_agent_error`` dies with ``Agent error: <desc>`` (src/PVE/QemuServer/Agent.pm 91-101)."""
    return PVEError(f"Agent error: {message}", 500)


class GuestPrograms:
    """The results tests registered for commands, and the processes the agents of the cluster's VMs run."""

    def __init__(self) -> None:
        self._results: list[tuple[int | None, str | tuple[str, ...], ProgramResult]] = []
        self._tables: dict[int, _GuestTable] = {}

    def register(
        self,
        command: str | Sequence[str],
        stdout: str | bytes = b"",
        stderr: str | bytes = b"",
        exitcode: int = 0,
        seconds: int = 1,
        signal: int | None = None,
        vmid: int | None = None,
    ) -> ProgramResult:
        """What ``command`` answers when run through ``POST .../agent/exec`` (in VM ``vmid``, or in any VM).

        ``command`` is either the whole argument list (``["cat", "/etc/hostname"]``: matches exactly) or a program
        (``"systemctl"``: matches whatever its arguments). The newest registration that matches wins.
        """
        key: str | tuple[str, ...] = command if isinstance(command, str) else tuple(command)
        result = ProgramResult(exitcode=exitcode, stdout=stdout, stderr=stderr, seconds=seconds, signal=signal)
        self._results.append((vmid, key, result))
        return result

    def _result_for(self, vmid: int, argv: tuple[str, ...]) -> ProgramResult:
        for wanted_vmid, key, result in reversed(self._results):
            if wanted_vmid is not None and wanted_vmid != vmid:
                continue
            if key == argv or (isinstance(key, str) and argv and key == argv[0]):
                return result
        return ProgramResult()

    def _table(self, cluster: FakeCluster, guest: Guest) -> _GuestTable:
        table = self._tables.get(guest.vmid)
        if table is None or table.boot != guest.started_at:
            first = figures.seeded(cluster.seed, "agent-exec-pid", guest.vmid, guest.started_at).randrange(900, 4000)
            table = _GuestTable(boot=guest.started_at, next_pid=first)
            self._tables[guest.vmid] = table
        return table

    def start(self, cluster: FakeCluster, guest: Guest, argv: Sequence[str], input_data: bytes | None) -> int:
        """``guest-exec``: start ``argv`` in the guest, answer its pid."""
        table = self._table(cluster, guest)
        pid = table.next_pid
        table.next_pid += figures.seeded(cluster.seed, "agent-exec-step", guest.vmid, pid).randrange(1, 9)
        result = self._result_for(guest.vmid, tuple(argv))
        now = cluster.clock.now()
        ends_at = now if cluster.clock.instant else now + max(int(result.seconds), 0)
        table.processes[pid] = GuestProcess(pid, tuple(argv), input_data or b"", ends_at, result)
        return pid

    def pids(self, cluster: FakeCluster, guest: Guest) -> list[int]:
        """The pids the agent of ``guest`` still knows (started this boot, exit not reported yet)."""
        return sorted(self._table(cluster, guest).processes)

    def status(self, cluster: FakeCluster, guest: Guest, pid: int) -> dict[str, Any]:
        """``guest-exec-status`` as qga answers it (output still base64-decoded by the caller); an exited process
        is reported once, then forgotten."""
        table = self._table(cluster, guest)
        process = table.processes.get(pid)
        if process is None:
            raise qga_error("Invalid parameter 'pid'")
        if cluster.clock.now() < process.ends_at:
            return {"exited": False}
        del table.processes[pid]
        result = process.result
        answer: dict[str, Any] = {"exited": True}
        if result.signal is not None:
            answer["signal"] = result.signal
        else:
            answer["exitcode"] = result.exitcode
        for stream, data in (("out", _bytes(result.stdout)), ("err", _bytes(result.stderr))):
            if data:
                answer[f"{stream}-data"] = data[:MAX_OUTPUT]
                if len(data) > MAX_OUTPUT:
                    answer[f"{stream}-truncated"] = True
        return answer


class GuestFiles:
    """Files inside the cluster's VMs as the agent opens them: what ``file-write`` wrote, else the guest's own."""

    def __init__(self) -> None:
        self._written: dict[int, dict[str, bytes]] = {}

    def write(self, guest: Guest, path: str, content: bytes) -> None:
        """``guest-file-open`` mode ``wb`` then ``guest-file-write``: the file holds ``content`` from now on."""
        self._written.setdefault(guest.vmid, {})[path] = content

    def read(self, cluster: FakeCluster, guest: Guest, path: str) -> bytes:
        """The whole file, or the agent's error for a file that is not there."""
        written = self._written.get(guest.vmid, {})
        if path in written:
            return written[path]
        own = _own_files(cluster, guest)
        if path in own:
            return own[path]
        if is_windows(guest):
            raise qga_error(f"failed to open file '{path}': The system cannot find the file specified.")
        raise qga_error(f"failed to open file '{path}' (mode: 'r'): No such file or directory")

    def paths(self, cluster: FakeCluster, guest: Guest) -> list[str]:
        """The files the agent of ``guest`` can open: the guest's own, then what ``file-write`` wrote."""
        own = list(_own_files(cluster, guest))
        return own + [path for path in self._written.get(guest.vmid, {}) if path not in own]


#: C:\Windows\win.ini as Windows 10 and 11 install it (CRLF line ends).
WIN_INI = b"; for 16-bit app support\r\n[fonts]\r\n[extensions]\r\n[mci extensions]\r\n[files]\r\n[Mail]\r\nMAPI=1\r\n"


def _own_files(cluster: FakeCluster, guest: Guest) -> dict[str, bytes]:
    if is_windows(guest):
        return {"C:\\Windows\\win.ini": WIN_INI}
    hostname = agent_answer(cluster, guest, "get-host-name")["host-name"]
    osinfo = agent_answer(cluster, guest, "get-osinfo")
    os_release = (
        f'PRETTY_NAME="{osinfo["pretty-name"]}"\nNAME="{osinfo["name"]}"\nVERSION_ID="{osinfo["version-id"]}"\n'
        f'VERSION="{osinfo["version"]}"\nVERSION_CODENAME={osinfo["version"].split("(")[1].rstrip(")")}\n'
        f'ID={osinfo["id"]}\nHOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\n'
        'BUG_REPORT_URL="https://bugs.debian.org/"\n'
    )
    # /etc/hosts as Debian's installer writes it (netcfg), for a host without a domain
    hosts = (
        f"127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n\n# The following lines are desirable for IPv6 capable hosts\n"
        "::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n"
    )
    return {
        "/etc/hostname": f"{hostname}\n".encode(),
        "/etc/hosts": hosts.encode(),
        "/etc/os-release": os_release.encode(),
    }
