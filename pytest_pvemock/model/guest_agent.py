"""The QEMU guest agent inside a VM: whether PVE may talk to it, and what it answers.

PVE checks, in this order (qemu-server src/PVE/QemuServer/Agent.pm ``assert_agent_available``, lines 117-121 at
e6352be6): no ``agent`` key in the config -> "No QEMU guest agent configured"; the VM not running -> "VM <vmid> is
not running"; no agent answering ``guest-ping`` (``agent: 0`` gives the VM no agent channel) -> "QEMU guest agent
is not running". The fake's VMs with ``agent: 1`` run an agent from boot: Debian (or Windows for a ``win*``
ostype) reporting the VM's own vCPUs, memory, disks and NICs (see :mod:`pytest_pvemock.model.guest_network`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.guest_network import guest_nics, is_windows

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest

MEMORY_BLOCK = 128 * 1024 * 1024
LINUX_OS = {
    9: {"name": "Debian GNU/Linux", "kernel-release": "6.12.57+deb13-amd64", "version-id": "13",
        "kernel-version": "#1 SMP PREEMPT_DYNAMIC Debian 6.12.57-1 (2025-11-05)", "version": "13 (trixie)",
        "pretty-name": "Debian GNU/Linux 13 (trixie)", "id": "debian", "machine": "x86_64"},
    8: {"name": "Debian GNU/Linux", "kernel-release": "6.1.0-32-amd64", "version-id": "12",
        "kernel-version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.129-1 (2025-03-06)", "version": "12 (bookworm)",
        "pretty-name": "Debian GNU/Linux 12 (bookworm)", "id": "debian", "machine": "x86_64"},
}  # fmt: skip
WINDOWS_OS = {"name": "Microsoft Windows", "kernel-release": "26100", "version-id": "11", "kernel-version": "10.0",
              "version": "Microsoft Windows 11", "pretty-name": "Windows 11 Pro", "variant": "client",
              "variant-id": "client", "id": "mswindows", "machine": "x86_64"}  # fmt: skip
AGENT_VERSION = {"linux": "10.0.2", "windows": "109.0.0"}
COMMANDS = ("guest-ping", "guest-sync", "guest-info", "guest-get-time", "guest-get-timezone", "guest-get-osinfo",
            "guest-get-host-name", "guest-get-users", "guest-get-vcpus", "guest-get-fsinfo", "guest-get-memory-blocks",
            "guest-get-memory-block-info", "guest-network-get-interfaces", "guest-exec", "guest-exec-status",
            "guest-file-open", "guest-file-read", "guest-file-write", "guest-file-close", "guest-fsfreeze-status",
            "guest-fsfreeze-freeze", "guest-fsfreeze-thaw", "guest-fstrim", "guest-shutdown", "guest-suspend-disk",
            "guest-suspend-ram", "guest-suspend-hybrid", "guest-set-user-password")  # fmt: skip


def require_agent(cluster: FakeCluster, guest: Guest) -> None:
    """PVE's checks before any agent command, with its messages (HTTP 500). An agent that does not answer
    ``guest-ping`` (none enabled, the guest suspended to RAM or asleep) is "not running"."""
    if "agent" not in guest.config:
        raise PVEError("No QEMU guest agent configured", 500)
    if not guest.running:
        raise PVEError(f"VM {guest.vmid} is not running", 500)
    enabled = str(guest.config["agent"]).split(",")
    if not any(part in ("1", "enabled=1", "on", "yes") for part in enabled):
        raise PVEError("QEMU guest agent is not running", 500)
    if guest.run_state == "suspended" or cluster.guest_agents.state(guest).asleep:
        raise PVEError("QEMU guest agent is not running", 500)


def _os(cluster: FakeCluster, guest: Guest) -> dict[str, Any]:
    return dict(WINDOWS_OS) if is_windows(guest) else dict(LINUX_OS[9 if cluster.version_at_least(9) else 8])


def agent_answer(cluster: FakeCluster, guest: Guest, command: str) -> Any:
    """What the guest agent answers to ``command`` (``get-osinfo``, ``network-get-interfaces``, ...), as QGA
    returns it (PVE relays it under ``result``); ``KeyError`` for a command the model does not answer,
    :class:`QgaError` for one the agent refuses (while frozen)."""
    require_agent(cluster, guest)
    cluster.guest_agents.check_enabled(guest, f"guest-{command}")
    windows = is_windows(guest)
    now = cluster.clock.now()
    if command == "ping":
        return {}
    if command == "info":
        return {
            "version": AGENT_VERSION["windows" if windows else "linux"],
            "supported_commands": [
                {"name": name, "enabled": True, "success-response": name != "guest-shutdown"} for name in COMMANDS
            ],
        }
    if command == "get-osinfo":
        return _os(cluster, guest)
    if command == "get-host-name":
        return {"host-name": str(guest.config.get("name") or f"vm{guest.vmid}")}
    if command == "get-time":
        return now * 1_000_000_000 + figures.seeded(cluster.seed, "agent-time", guest.vmid).randrange(1, 999_999_999)
    if command == "get-timezone":
        return {"zone": "Coordinated Universal Time" if windows else "UTC", "offset": 0}
    if command == "get-users":
        if not windows:
            return []
        return [
            {
                "user": "Administrator",
                "domain": str(guest.config.get("name", "")).upper(),
                "login-time": float(guest.started_at + 95),
            }
        ]
    if command == "get-vcpus":
        return [{"online": True, "can-offline": index > 0, "logical-id": index} for index in range(guest.maxcpu)]
    if command == "get-memory-block-info":
        return {"size": MEMORY_BLOCK}
    if command == "get-memory-blocks":
        count = guest.maxmem // MEMORY_BLOCK
        return [{"can-offline": index > 7, "online": True, "phys-index": index} for index in range(count)]
    if command == "network-get-interfaces":
        return _interfaces(cluster, guest)
    if command == "get-fsinfo":
        return filesystems(cluster, guest)
    if command == "fsfreeze-status":
        return "frozen" if cluster.guest_agents.state(guest).frozen else "thawed"
    raise KeyError(command)


def _interfaces(cluster: FakeCluster, guest: Guest) -> list[dict[str, Any]]:
    usage = guest.usage()
    loopback_name = "Loopback Pseudo-Interface 1" if is_windows(guest) else "lo"
    rows: list[dict[str, Any]] = [
        {
            "name": loopback_name,
            "ip-addresses": [
                {"ip-address-type": "ipv6", "ip-address": "::1", "prefix": 128},
                {"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8},
            ],
            "statistics": {
                "rx-bytes": 0,
                "rx-dropped": 0,
                "rx-errs": 0,
                "rx-packets": 0,
                "tx-bytes": 0,
                "tx-dropped": 0,
                "tx-errs": 0,
                "tx-packets": 0,
            },
        }
    ]
    if not is_windows(guest):
        rows[0]["hardware-address"] = "00:00:00:00:00:00"
        rows[0]["ip-addresses"].reverse()
    for position, nic in enumerate(guest_nics(cluster, guest)):
        received, sent = (int(usage["netout"]), int(usage["netin"])) if position == 0 else (0, 0)
        addresses = [{"ip-address-type": "ipv6", "ip-address": nic.ipv6_link_local, "prefix": 64}]
        if nic.ipv4:
            addresses.insert(0, {"ip-address-type": "ipv4", "ip-address": nic.ipv4, "prefix": nic.prefix})
        rows.append(
            {
                "name": nic.name,
                "hardware-address": nic.mac.lower(),
                "ip-addresses": addresses,
                "statistics": {
                    "rx-bytes": received,
                    "rx-dropped": 0,
                    "rx-errs": 0,
                    "rx-packets": received // 1100,
                    "tx-bytes": sent,
                    "tx-dropped": 0,
                    "tx-errs": 0,
                    "tx-packets": sent // 700,
                },
            }
        )
    return rows


def filesystems(cluster: FakeCluster, guest: Guest) -> list[dict[str, Any]]:
    """The root file system on the boot disk (``scsi0``, ``virtio0``, ...), with an EFI partition on Linux."""
    disk_key = next((key for key in ("scsi0", "virtio0", "sata0", "ide0") if key in guest.config), "scsi0")
    bus = disk_key.rstrip("0123456789")
    total = int(guest.maxdisk * 0.97)
    used = int(total * figures.seeded(cluster.seed, "agent-fs", guest.vmid).uniform(0.12, 0.48))
    controller = {"bus": 1 if bus == "scsi" else 0, "slot": 1 if bus == "scsi" else 10, "domain": 0, "function": 0}
    device = {"bus-type": bus if bus != "virtio" else "virtio", "bus": 0, "unit": 0, "target": 0,
              "pci-controller": controller}  # fmt: skip
    if is_windows(guest):
        volume = figures.uuid4(figures.seeded(cluster.seed, "agent-volume", guest.vmid))
        return [{"name": f"\\\\?\\Volume{{{volume}}}\\", "mountpoint": "C:\\", "type": "NTFS", "total-bytes": total,
                 "used-bytes": used, "disk": [{**device, "serial": f"drive-{disk_key}"}]}]  # fmt: skip
    letter = "vda" if bus == "virtio" else "sda"
    return [
        {"name": f"{letter}1", "mountpoint": "/", "type": "ext4", "total-bytes": total, "used-bytes": used,
         "disk": [{**device, "dev": f"/dev/{letter}1", "serial": f"drive-{disk_key}"}]},
        {"name": f"{letter}15", "mountpoint": "/boot/efi", "type": "vfat", "total-bytes": 129718272,
         "used-bytes": 12577280, "disk": [{**device, "dev": f"/dev/{letter}15", "serial": f"drive-{disk_key}"}]},
    ]  # fmt: skip
