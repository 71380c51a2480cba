"""What guests do with their volumes: convert to template, resize, move to another storage, detach to ``unusedN``,
and the volumes of a clone (full copies on a chosen storage, or linked clones of ``base-`` volumes).

Checks PVE makes before ``fork_worker`` raise :class:`PVEError` at once; the rest fail the task. Sources (commits as
read): qemu-server e6352be67f70042a7433a3a3c712b36d02f9f7cb ``src/PVE/API2/Qemu.pm`` (template 6555-6590, resize
6005-6071, move_vm_disk 4862-5030 and 5193-5199, clone_vm 4442-4580) and ``src/PVE/QemuServer.pm`` template_create
7886; pve-container 94f558522ef61f9858c39c264d0ac4e697e49268 ``src/PVE/API2/LXC.pm`` (template 1855-1880, clone
2048-2095, resize 2368-2475); pve-guest-common 4a8f6cbf78e1b6992ef77facb4ff2ab3372999e7 ``src/PVE/AbstractConfig.pm``
(check_lock 336, check_protection 389, add_unused_volume 428).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.guest_config import (
    format_size,
    parse_size,
    print_property,
    property_options,
    volume_storage,
)
from pytest_pvemock.model.provisioning import (
    LXC_MOUNT_KEYS,
    QEMU_DRIVE_KEYS,
    allocate_volume,
    as_base_volume,
    volume_names,
)
from pytest_pvemock.model.tasks import Task
from pytest_pvemock.model.volumes import linked_clone_volname, parse_volid

if TYPE_CHECKING:
    from pytest_pvemock.model.guests import Guest

#: ``__config_max_unused_disks`` of QemuConfig and LXC::Config.
MAX_UNUSED_DISKS = 256

_SIZE_REQUEST = re.compile(r"^(\+)?(\d+(?:\.\d+)?)([KMGT])?$")
_UNITS = {None: 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def volume_keys(guest: Guest) -> dict[str, str]:
    """Config keys that hold a guest-owned volume (drives but not CD-ROMs; rootfs and mount points)."""
    keys = QEMU_DRIVE_KEYS if guest.kind == "qemu" else LXC_MOUNT_KEYS
    return {
        key: str(value)
        for key, value in guest.config.items()
        if keys.match(key)
        and property_options(str(value))[1].get("media") != "cdrom"
        and volume_storage(str(value)) is not None
    }


def add_unused_volume(config: dict[str, Any], volid: str) -> str | None:
    """AbstractConfig.pm ``add_unused_volume``: the lowest free ``unusedN``; nothing for a volume already there."""
    free = None
    for index in range(MAX_UNUSED_DISKS - 1, -1, -1):
        key = f"unused{index}"
        if key in config:
            if config[key] == volid:
                return None
        else:
            free = key
    if free is None:
        raise PVEError("Too many unused volumes - please delete them first.")
    config[free] = volid
    return free


def detach_removed_volumes(guest: Guest, removals: list[str], force: bool = False) -> None:
    """A drive or mount point deleted from the config leaves its volume as ``unusedN`` (without ``force``)."""
    attached = volume_keys(guest)
    for key in removals:
        if key in attached and not force:
            add_unused_volume(guest.config, attached[key].split(",", 1)[0])


def convert_to_template(guest: Guest, authid: str, in_task: bool = True) -> Task | None:
    """``POST .../template``: ``template: 1`` and every disk renamed to its ``base-`` volume; in a task, or in the
    request (``in_task=False``, QEMU before release 7.1-2: nothing is returned)."""
    guest._prepare_write()
    guest.check_lock()
    if guest.snapshots:
        raise PVEError(f"unable to create template, because {guest.noun} contains snapshots")
    if guest.template:
        raise PVEError("you can't convert a template to a template")
    if guest.running:
        if guest.kind == "qemu":
            raise PVEError("you can't convert a VM to template if VM is running")
        raise PVEError("you can't convert a CT to template if the CT is running")

    def convert(task: Task | None) -> None:
        for key, value in volume_keys(guest).items():
            head, options = property_options(value)
            guest.config[key] = print_property(as_base_volume(head), options, required=("mp",))
        guest.config["template"] = 1

    if not in_task:
        convert(None)
        return None
    return guest._start_task("template", authid, work=convert)


def _disk_to_change(guest: Guest, disk: str, action: str) -> tuple[str, dict[str, str]]:
    """The volume and options of ``disk``; PVE's refusals for a missing disk and for a CD-ROM drive."""
    value = guest.config.get(disk)
    if value is None:
        raise PVEError(f"disk '{disk}' does not exist")
    head, options = property_options(str(value))
    if options.get("media") == "cdrom":
        raise PVEError(f"you can't {action} a cdrom")
    return head, options


def resize(
    guest: Guest, disk: str, size: str, authid: str, skiplock: bool = False, in_task: bool = True
) -> Task | None:
    """``PUT .../resize``: QEMU checks inside the worker, containers before it (and again inside); before PVE 8 a
    VM's resize ran in the request (``in_task=False``: errors raise, nothing is returned)."""
    guest._prepare_write()

    def checked() -> tuple[str, dict[str, str], int]:
        if guest.kind == "lxc" or not skiplock:
            guest.check_lock()
        head, options = _disk_to_change(guest, disk, "resize")
        current = parse_size(str(guest.config[disk]))
        match = _SIZE_REQUEST.match(size)
        if match is None:
            raise PVEError("invalid size string")
        requested = int(float(match[2]) * _UNITS[match[3]])
        new = current + requested if match[1] else requested
        if new < current:
            raise PVEError("shrinking disks is not supported" if guest.kind == "qemu" else "unable to shrink disk size")
        if new == current and guest.kind == "lxc":
            raise PVEError("disk is already at specified size")
        return head, options, new

    if guest.kind == "lxc":
        checked()  # pve-container LXC.pm resize_vm 2470: early checks before forking

    def grow(task: Task | None) -> None:
        head, options, new = checked()
        options["size"] = format_size(new)
        guest.config[disk] = print_property(head, options, required=("mp",))

    if not in_task:
        grow(None)
        return None
    return guest._cluster.tasks.start(guest.node, "resize", guest.vmid, authid, work=grow)


def move_disk(guest: Guest, disk: str, storage: str, authid: str, delete: bool = False, fmt: str | None = None) -> Task:
    """``POST .../move_disk`` (QEMU) and ``.../move_volume`` (LXC): a new volume on ``storage``; the old one
    deleted or kept as ``unusedN``."""
    guest._prepare_write()
    cluster = guest._cluster

    def checked() -> tuple[str, dict[str, str]]:
        guest.check_lock()
        head, options = _disk_to_change(guest, disk, "move")
        old = parse_volid(head)
        if head.split(":", 1)[0] == storage and (not fmt or old is None or old.format == fmt):
            raise PVEError("you can't move to the same storage with same format")
        target = cluster.storage(storage)
        if target is None:
            raise PVEError(f"storage '{storage}' does not exist")
        wanted = "images" if guest.kind == "qemu" else "rootdir"
        if wanted not in target.content:  # Qemu.pm move_vm_disk 4883-4885: a parameter error
            noun = "vm images" if guest.kind == "qemu" else "container directories"
            raise ParameterError({"storage": f"storage '{storage}' does not support {noun}"})
        if delete and any(snap.get(disk, "").split(",", 1)[0] == head for snap in guest.snapshots.values()):
            raise PVEError("you can't move a disk with snapshots and delete the source")
        return head, options

    checked()  # Qemu.pm move_vm_disk 5193: early checks before forking/locking

    def move(task: Task) -> None:
        head, options = checked()
        task.log.append(
            f"copying volume '{head}' from current storage '{head.split(':', 1)[0]}' to target storage '{storage}'"
        )
        new = allocate_volume(cluster, guest.kind, storage, guest.vmid, parse_size(str(guest.config[disk])), [], fmt)
        if guest.template:
            new = as_base_volume(new)
        options.pop("format", None)
        guest.config[disk] = print_property(new, options, required=("mp",))
        if delete:
            task.log.append(f"removing source volume '{head}' after successful copy")
        else:
            key = add_unused_volume(guest.config, head)
            task.log.append(f"adding source volume '{head}' as '{key}' to config")

    task_type = "qmmove" if guest.kind == "qemu" else "move_volume"
    return cluster.tasks.start(guest.node, task_type, guest.vmid, authid, work=move)


def check_clone(guest: Guest, full: bool, storage: str | None, target: str | None) -> None:
    """The clone checks PVE makes before the worker (``load_and_check`` runs before ``fork_worker``)."""
    cluster = guest._cluster
    if storage is not None:
        definition = cluster.storage(storage)
        if definition is None:
            raise PVEError(f"storage '{storage}' does not exist")
        if ("images" if guest.kind == "qemu" else "rootdir") not in definition.content:
            noun = "vm images" if guest.kind == "qemu" else "container directories"
            raise PVEError(f"storage '{storage}' does not support {noun}")
        if not full:
            raise PVEError("parameter 'storage' not allowed for linked clones")
    if full and guest.running and guest.kind == "lxc":
        raise PVEError("Full clone of a running container is only possible from a snapshot")
    for key, value in volume_keys(guest).items():
        volid = value.split(",", 1)[0]
        parsed = parse_volid(volid)
        if not full and (parsed is None or not parsed.is_base):
            if guest.kind == "qemu":
                raise PVEError(f"Linked clone feature is not supported for '{volid}' ({key})")
            raise PVEError(f"Linked clone feature for '{volid}' is not available")
    if target and target != guest.node:
        for value in volume_keys(guest).values():
            where = cluster.storage(str(volume_storage(value)))
            on_shared = where is not None and where.shared
            if not on_shared or (storage is not None and not getattr(cluster.storage(storage), "shared", False)):
                raise PVEError(f"can't clone {guest.noun} to node '{target}' ({guest.noun} uses local storage)")


def clone_volumes(guest: Guest, newid: int, full: bool, storage: str | None) -> dict[str, str]:
    """The clone's drives and mount points: copies (on ``storage`` or the source's) or linked clones."""
    cluster = guest._cluster
    taken: list[str] = []
    cloned: dict[str, str] = {}
    for key, value in volume_keys(guest).items():
        head, options = property_options(value)
        parsed = parse_volid(head)
        source_storage = head.split(":", 1)[0]
        if full or parsed is None:
            where = storage or source_storage
            new = allocate_volume(cluster, guest.kind, where, newid, parse_size(value), taken)
        else:
            definition = cluster.storage(source_storage)
            plugintype = definition.plugintype if definition is not None else "lvmthin"
            names = [*volume_names(cluster, source_storage), *taken]
            new = f"{source_storage}:{linked_clone_volname(plugintype, parsed, newid, names)}"
            taken.append(new)
        cloned[key] = print_property(new, options, required=("mp",))
    return cloned
