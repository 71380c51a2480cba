"""What PVE fills in when a guest is created or its config changes: volumes for ``STORAGE:SIZE`` disks, MAC
addresses for NICs without one, ``type=veth`` on container NICs, and a new VM's boot order.

Sources (commits as read):

- qemu-server e6352be67f70042a7433a3a3c712b36d02f9f7cb ``src/PVE/API2/Qemu.pm``: ``create_disks`` 640-690 (the
  storage's default format unless ``format=`` is given, ``vdisk_alloc``, ``vdisk_create_base`` for a template,
  ``size=`` set and ``format`` dropped, the log line ``"$ds: successfully created disk '...'"``), create_vm 1506-1508
  (``boot`` from ``get_default_bootdevices`` when not given), update_vm 2181-2184 (a NIC is parsed and printed again,
  which adds a MAC); ``src/PVE/QemuServer.pm`` ``get_default_bootdevices`` 8270 (first disk, first CD-ROM, first
  NIC) and ``print_bootorder`` 1036; ``src/PVE/QemuServer/Drive.pm`` ``valid_drive_names`` 722 (ide, scsi, virtio,
  sata: the order that picks the boot disk), ``resolve_first_disk`` 974.
- pve-container 94f558522ef61f9858c39c264d0ac4e697e49268 ``src/PVE/LXC/Config.pm`` ``parse_lxc_network`` 1566
  (``type`` is always ``veth``, a missing ``hwaddr`` is drawn), ``src/PVE/LXC.pm`` ``alloc_disk`` 2581.
- pve-common f665029eac78022e81810ab2e44eace57ade13fb ``src/PVE/Tools.pm`` ``random_ether_addr`` 713 (the datacenter
  ``mac_prefix``, ``BC:24:11`` by default, then random bytes): drawn here from the cluster's seeded generator.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.guest_config import (
    GIB,
    NET_KEYS,
    format_size,
    print_property,
    property_options,
)
from pytest_pvemock.model.volumes import allocate_volname, container_format, parse_volid

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

#: ``STORAGE:SIZE_GIB``: PVE's syntax for "allocate a new volume" in a drive or mount point option.
ALLOCATION = re.compile(r"^(?P<storage>[a-zA-Z][\w.-]*):(?P<size>\d+(?:\.\d+)?)$")

QEMU_DRIVE_KEYS = re.compile(r"^(ide|scsi|virtio|sata)\d+$|^efidisk0$|^tpmstate0$")
LXC_MOUNT_KEYS = re.compile(r"^(rootfs|mp\d+)$")

#: Fixed sizes of the special QEMU volumes (qemu-server Drive.pm ``TPMSTATE_DISK_SIZE``; OVMF's 4M vars image,
#: stored as 528K on block storages by ``create_efidisk``).
TPMSTATE_SIZE = 4 * 1024**2
EFIDISK_SIZE = 528 * 1024

_BOOT_ORDER_PREFIXES = ("ide", "scsi", "virtio", "sata")


def volume_names(cluster: FakeCluster, storage: str) -> list[str]:
    """Volume names on ``storage`` that any guest config (current, pending, snapshots) refers to."""
    names: list[str] = []
    for guest in cluster.guests:
        for config in (guest.config, guest.pending, *guest.snapshots.values()):
            for value in config.values():
                head = str(value).split(",", 1)[0]
                where, sep, volname = head.partition(":")
                if sep and where == storage:
                    names.append(volname)
    return names


def allocate_volume(
    cluster: FakeCluster, kind: str, storage_id: str, vmid: int, size: int, taken: list[str], fmt: str | None = None
) -> str:
    """A new volume of ``vmid`` on ``storage_id`` named as that storage type names it; ``taken`` gathers the
    volids allocated in the same call (a create with several disks)."""
    storage = cluster.storage(storage_id)
    if storage is None:
        raise PVEError(f"storage '{storage_id}' does not exist")
    # qemu-server Qemu.pm check_storage_access 190-192; pve-container LXC.pm create_vm 351-353: before the worker
    wanted = "images" if kind == "qemu" else "rootdir"
    if wanted not in storage.content:
        noun = "vm images" if kind == "qemu" else "container directories"
        raise ParameterError({"storage": f"storage '{storage_id}' does not support {noun}"})
    if kind == "lxc":
        fmt = container_format(storage.plugintype, size)
    same_call = [volid.split(":", 1)[1] for volid in taken if volid.startswith(f"{storage_id}:")]
    volname = allocate_volname(
        storage.plugintype, storage_id, vmid, [*volume_names(cluster, storage_id), *same_call], fmt
    )
    taken.append(f"{storage_id}:{volname}")
    return f"{storage_id}:{volname}"


def allocate_drive(
    cluster: FakeCluster, kind: str, key: str, value: str, vmid: int, taken: list[str], template: bool = False
) -> tuple[str, str | None]:
    """``(new value, log line)`` for a drive or mount point; values not in the ``STORAGE:SIZE`` form unchanged."""
    if not (QEMU_DRIVE_KEYS.match(key) if kind == "qemu" else LXC_MOUNT_KEYS.match(key)):
        return value, None
    head, options = property_options(value)
    match = ALLOCATION.match(head)
    if match is None or options.get("media") == "cdrom":
        return value, None
    size = int(float(match["size"]) * GIB)
    if key == "tpmstate0":
        size = TPMSTATE_SIZE
    elif key == "efidisk0":
        size = EFIDISK_SIZE
    fmt = options.pop("format", None)
    volid = allocate_volume(cluster, kind, match["storage"], vmid, size, taken, fmt)
    if template and kind == "qemu":
        volid = as_base_volume(volid)
    options["size"] = format_size(size)
    text = print_property(volid, options, required=("mp",))
    return text, (f"{key}: successfully created disk '{text}'" if kind == "qemu" else None)


def as_base_volume(volid: str) -> str:
    """The ``base-`` name ``vdisk_create_base`` gives a volume (``vm-`` -> ``base-``)."""
    parsed = parse_volid(volid)
    if parsed is None or parsed.is_base:
        return volid
    name = re.sub(r"^(vm|subvol)-", lambda m: "base-" if m[1] == "vm" else "basevol-", parsed.name)
    return volid[: len(volid) - len(parsed.name)] + name


def fill_in_nic(kind: str, text: str, rng: figures.Draw) -> str:
    """A NIC as PVE stores it: with a MAC, and for containers with ``type=veth``."""
    head, options = property_options(text)
    if kind == "qemu":
        model, _, mac = head.partition("=")
        if "=" not in head:
            mac = options.pop("macaddr", "") or figures.mac_address(rng)
        return print_property(f"{model}={mac.upper()}", options)
    name_key, _, name = head.partition("=")
    options = {name_key: name, **options} if name_key else options
    options["type"] = "veth"
    options.setdefault("hwaddr", figures.mac_address(rng))
    head_key = "name" if "name" in options else next(iter(options))
    head_value = options.pop(head_key)
    return print_property(f"{head_key}={head_value}", options)


def fill_in_options(
    cluster: FakeCluster, kind: str, vmid: int, options: dict[str, Any], template: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """Options with volumes allocated and NICs completed, and the task log lines the allocations print."""
    taken: list[str] = []
    filled: dict[str, Any] = {}
    log: list[str] = []
    for key, value in options.items():
        if isinstance(value, str) and NET_KEYS.match(key):
            rng = figures.seeded(cluster.seed, "nic", kind, vmid, key, cluster.clock.now(), cluster.revision.value)
            filled[key] = fill_in_nic(kind, value, rng)
        elif isinstance(value, str):
            filled[key], line = allocate_drive(cluster, kind, key, value, vmid, taken, template)
            if line:
                log.append(line)
        else:
            filled[key] = value
    return filled, log


def default_boot_order(config: dict[str, Any]) -> str:
    """``get_default_bootdevices`` printed by ``print_bootorder``: first disk, first CD-ROM, first NIC."""
    drives = sorted(
        (key for key in config if QEMU_DRIVE_KEYS.match(key) and key.startswith(_BOOT_ORDER_PREFIXES)),
        key=_drive_rank,
    )
    devices: list[str] = []
    for want_cdrom in (False, True):
        for key in drives:
            if (property_options(str(config[key]))[1].get("media") == "cdrom") == want_cdrom:
                devices.append(key)
                break
    nets = sorted((key for key in config if NET_KEYS.match(key)), key=lambda key: int(key[3:]))
    devices.extend(nets[:1])
    return f"order={';'.join(devices)}" if devices else ""


def _drive_rank(key: str) -> tuple[int, int]:
    prefix = key.rstrip("0123456789")
    return _BOOT_ORDER_PREFIXES.index(prefix), int(key[len(prefix) :])
