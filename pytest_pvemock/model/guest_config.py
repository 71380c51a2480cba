"""Guest configurations in PVE's own forms: the config dict, its file text, its digest, and fresh defaults.

Values keep PVE's JSON types: integers for integer and boolean options (``cores: 2``, ``numa: 0``), strings for
everything else, including QEMU's ``memory`` which has been a property string since PVE 8.1.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pytest_pvemock.model import figures
from pytest_pvemock.model.release_platform import platform_of

GIB = 1024**3
MIB = 1024**2


QEMU_DISK_KEYS = re.compile(r"^(scsi|virtio|sata|ide|efidisk|tpmstate)\d+$")
LXC_VOLUME_KEYS = re.compile(r"^(rootfs|mp\d+)$")
NET_KEYS = re.compile(r"^net\d+$")
UNUSED_KEYS = re.compile(r"^unused\d+$")

_SIZE = re.compile(r"(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)(?:,|$)")
_UNITS = {"": 1, "K": 1024, "M": MIB, "G": GIB, "T": 1024 * GIB}


def parse_size(text: str) -> int:
    """Bytes of a volume string's ``size=`` option (``local-lvm:vm-100-disk-0,size=32G``), 0 when absent."""
    match = _SIZE.search(text)
    if match is None:
        return 0
    return int(float(match[1]) * _UNITS[match[2]])


def format_size(size: int) -> str:
    for unit in ("T", "G", "M", "K"):
        if size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}"
    return str(size)


def memory_mib(value: Any) -> int:
    """MiB from QEMU's ``memory`` (``"2048"`` or ``"current=2048"``) or LXC's integer ``memory``."""
    text = str(value).split(",")[0]
    return int(text.removeprefix("current="))


def config_text(config: dict[str, Any], snapshots: dict[str, dict[str, Any]] | None = None) -> str:
    """The guest's config file as PVE writes it: description as comments, keys sorted, then snapshot sections."""
    lines: list[str] = []
    _append_section(lines, config)
    for name, snapshot in (snapshots or {}).items():
        lines.append("")
        lines.append(f"[{name}]")
        _append_section(lines, snapshot)
    return "\n".join(lines) + "\n"


def _append_section(lines: list[str], config: dict[str, Any]) -> None:
    description = config.get("description")
    if description:
        lines.extend("#" + line for line in str(description).split("\n"))
    for key in sorted(config):
        if key != "description":
            lines.append(f"{key}: {config[key]}")


def digest_of(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def volume_storage(volume: str) -> str | None:
    """The storage of a volume string, or ``None`` for ``none``/CD-ROMs/pass-through devices."""
    head = volume.split(",")[0]
    if head in ("none", "cdrom") or ":" not in head or head.startswith("/"):
        return None
    return head.split(":", 1)[0]


def volume_id(volume: str) -> str:
    return volume.split(",")[0]


_DISK_PREFIXES = ("scsi", "virtio", "sata", "ide", "efidisk", "tpmstate")


def qemu_disks(config: dict[str, Any]) -> dict[str, str]:
    """Disk keys that hold an image (not CD-ROMs), in config order."""
    return {
        key: str(value)
        for key, value in config.items()
        if key.startswith(_DISK_PREFIXES)
        and key[-1].isdigit()
        and QEMU_DISK_KEYS.match(key)
        and "media=cdrom" not in str(value)
        and volume_storage(str(value))
    }


def lxc_volumes(config: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in config.items() if LXC_VOLUME_KEYS.match(key)}


def unused_volumes(config: dict[str, Any]) -> dict[str, str]:
    """``unusedN`` keys: volumes still owned by the guest but attached to nothing (listed in storage content)."""
    return {key: str(value) for key, value in config.items() if UNUSED_KEYS.match(key)}


def property_options(text: str) -> tuple[str, dict[str, str]]:
    """A volume or NIC property string split into its leading value (``local-lvm:32``, ``virtio``) and options."""
    head, *rest = text.split(",")
    options: dict[str, str] = {}
    for item in rest:
        key, _, value = item.partition("=")
        if key:
            options[key] = value
    return head, options


def property_option(text: str, key: str) -> str | None:
    """One key of a property string, wherever it stands (a container NIC's ``name=eth0`` leads it), or ``None``."""
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name.strip() == key:
            return value.strip()
    return None


def drive_options(text: str, volume_key: str = "file") -> tuple[str, dict[str, str]]:
    """A drive (``file``) or mount point (``volume``) property string as (its volume, its options): the volume
    given as the leading value or under its key (``file=local:iso/x.iso,media=cdrom``)."""
    head, options = property_options(text)
    return options.get(volume_key, head.removeprefix(f"{volume_key}=")), options


def print_property(head: str, options: dict[str, str], required: tuple[str, ...] = ()) -> str:
    """PVE's ``print_property_string`` order: the default key, then required keys, then the rest sorted
    (pve-common src/PVE/JSONSchema.pm print_property_string, 2864-2876 at f665029e)."""
    keys = [key for key in required if key in options] + sorted(key for key in options if key not in required)
    return ",".join([head, *(f"{key}={options[key]}" for key in keys)])


def new_qemu_config(
    vmid: int,
    name: str,
    rng: figures.Draw,
    version: str,
    ctime: int,
    storage: str = "local-lvm",
    cores: int = 2,
    sockets: int = 1,
    memory: int = 2048,
    disk_gib: int = 32,
    ostype: str = "l26",
    bridge: str = "vmbr0",
    volname: str | None = None,
) -> dict[str, Any]:
    """A config like the web UI's "Create VM" wizard leaves behind; ``volname`` names the disk on ``storage``."""
    return {
        "boot": "order=scsi0;ide2;net0",
        "cores": cores,
        "cpu": "x86-64-v2-AES",
        "ide2": "none,media=cdrom",
        "memory": str(memory),
        "meta": f"creation-qemu={platform_of(version).qemu},ctime={ctime}",
        "name": name,
        "net0": f"virtio={figures.mac_address(rng)},bridge={bridge},firewall=1",
        "numa": 0,
        "ostype": ostype,
        "scsi0": f"{storage}:{volname or f'vm-{vmid}-disk-0'},iothread=1,size={disk_gib}G",
        "scsihw": "virtio-scsi-single",
        "smbios1": f"uuid={figures.uuid4(rng)}",
        "sockets": sockets,
        "vmgenid": figures.uuid4(rng),
    }


def new_lxc_config(
    hostname: str,
    vmid: int,
    rng: figures.Draw,
    storage: str = "local-lvm",
    cores: int = 1,
    memory: int = 512,
    swap: int = 512,
    disk_gib: int = 8,
    ostype: str = "debian",
    bridge: str = "vmbr0",
    volname: str | None = None,
) -> dict[str, Any]:
    """A config like ``pct create`` from a Debian template leaves behind; ``volname`` names the root volume."""
    return {
        "arch": "amd64",
        "cores": cores,
        "features": "nesting=1",
        "hostname": hostname,
        "memory": memory,
        "net0": f"name=eth0,bridge={bridge},firewall=1,hwaddr={figures.mac_address(rng)},ip=dhcp,type=veth",
        "ostype": ostype,
        "rootfs": f"{storage}:{volname or f'vm-{vmid}-disk-0'},size={disk_gib}G",
        "swap": swap,
        "unprivileged": 1,
    }


def with_new_identity(config: dict[str, Any], oldid: int, newid: int, rng: figures.Draw) -> dict[str, Any]:
    """A copy of ``config`` for a clone: new MACs, UUIDs and disk names; no lock, parent or template flag."""
    copy: dict[str, Any] = {}
    for key, value in config.items():
        if key in ("lock", "parent", "template", "snaptime", "vmstate", "runningmachine", "runningcpu"):
            continue
        text = str(value)
        if NET_KEYS.match(key):
            text = re.sub(r"(?<=[=,])BC:24:11(:[0-9A-F]{2}){3}", lambda _m: figures.mac_address(rng), text)
            copy[key] = text
        elif QEMU_DISK_KEYS.match(key) or LXC_VOLUME_KEYS.match(key):
            copy[key] = re.sub(rf"(vm|base)-{oldid}-disk-", f"vm-{newid}-disk-", text)
        elif key == "smbios1":
            copy[key] = re.sub(r"uuid=[0-9a-f-]+", f"uuid={figures.uuid4(rng)}", text)
        elif key == "vmgenid":
            copy[key] = figures.uuid4(rng)
        else:
            copy[key] = value
    return copy
