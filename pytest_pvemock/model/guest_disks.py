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
from pytest_pvemock.model.volumes import VolumeName, allocate_volname, linked_clone_volname, parse_volid

if TYPE_CHECKING:
    from pytest_pvemock.model.guests import Guest

#: ``__config_max_unused_disks`` of QemuConfig and LXC::Config.
MAX_UNUSED_DISKS = 256

_SIZE_REQUEST = re.compile(r"^(\+)?(\d+(?:\.\d+)?)([KMGT])?$")
_UNITS = {None: 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def volume_keys(guest: Guest, config: dict[str, Any] | None = None) -> dict[str, str]:
    """Config keys that hold a guest-owned volume (drives but not CD-ROMs; rootfs and mount points) in ``config``
    (the guest's own by default)."""
    keys = QEMU_DRIVE_KEYS if guest.kind == "qemu" else LXC_MOUNT_KEYS
    return {
        key: str(value)
        for key, value in (guest.config if config is None else config).items()
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


def clone_source(guest: Guest, snapname: str | None) -> dict[str, Any]:
    """The config a clone copies: the guest's, or that of its snapshot ``snapname`` (Qemu.pm clone_vm 4477-4488,
    pve-container LXC.pm clone_vm 2068-2071: a missing snapshot is refused before the worker)."""
    if not snapname:
        return guest.config
    snapshot = guest.snapshots.get(snapname)
    if snapshot is None:
        raise PVEError(f"snapshot '{snapname}' does not exist")
    return snapshot


def check_clone(
    guest: Guest,
    full: bool,
    storage: str | None,
    target: str | None,
    fmt: str | None = None,
    source: dict[str, Any] | None = None,
) -> None:
    """The clone checks PVE makes before the worker (``load_and_check`` runs before ``fork_worker``)."""
    cluster = guest._cluster
    if fmt is not None and not full:
        raise PVEError("parameter 'format' not allowed for linked clones")
    if storage is not None:
        definition = cluster.storage(storage)
        if definition is None:
            raise PVEError(f"storage '{storage}' does not exist")
        if ("images" if guest.kind == "qemu" else "rootdir") not in definition.content:
            noun = "vm images" if guest.kind == "qemu" else "container directories"
            raise PVEError(f"storage '{storage}' does not support {noun}")
        if not full:
            raise PVEError("parameter 'storage' not allowed for linked clones")
    if full and guest.running and guest.kind == "lxc" and source is None:
        raise PVEError("Full clone of a running container is only possible from a snapshot")
    for key, value in volume_keys(guest, source).items():
        volid = value.split(",", 1)[0]
        parsed = parse_volid(volid)
        if not full and (parsed is None or not parsed.is_base):
            if guest.kind == "qemu":
                raise PVEError(f"Linked clone feature is not supported for '{volid}' ({key})")
            raise PVEError(f"Linked clone feature for '{volid}' is not available")
    if target and target != guest.node:
        for value in volume_keys(guest, source).values():
            where = cluster.storage(str(volume_storage(value)))
            on_shared = where is not None and where.shared
            if not on_shared or (storage is not None and not getattr(cluster.storage(storage), "shared", False)):
                raise PVEError(f"can't clone {guest.noun} to node '{target}' ({guest.noun} uses local storage)")


#: The image formats each storage type takes (pve-storage: the plugins' ``format`` option lists); the first is
#: the default (``resolve_format_hint``).
_FORMATS = {"dir": ("raw", "qcow2", "vmdk"), "nfs": ("raw", "qcow2", "vmdk"), "cifs": ("raw", "qcow2", "vmdk")}


def resolve_format(cluster: Any, storage: str, source: VolumeName | None, wanted: str | None) -> str:
    """QemuServer.pm ``resolve_dst_disk_format`` 8181: the wanted format, else the source's, when the target
    storage takes it; else the storage's default."""
    definition = cluster.storage(storage)
    plugintype = definition.plugintype if definition is not None else "lvmthin"
    formats = _FORMATS.get(plugintype, ("raw",))
    hint = wanted or (source.format if source is not None else None)
    return hint if hint is not None and hint in formats else formats[0]


def clone_volumes(
    guest: Guest,
    newid: int,
    full: bool,
    storage: str | None,
    fmt: str | None = None,
    source: dict[str, Any] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, str]:
    """The clone's drives and mount points: copies (on ``storage`` or the source's, in ``fmt`` where the storage
    takes it) or linked clones; ``source`` is the config copied (a snapshot's), ``warnings`` gathers PVE's."""
    cluster = guest._cluster
    taken: list[str] = []
    cloned: dict[str, str] = {}
    for key, value in volume_keys(guest, source).items():
        head, options = property_options(value)
        parsed = parse_volid(head)
        source_storage = head.split(":", 1)[0]
        if full or parsed is None:
            where = storage or source_storage
            chosen = None
            if guest.kind == "qemu":
                chosen = resolve_format(cluster, where, parsed, fmt)
                if fmt and fmt != chosen and warnings is not None:  # QemuServer.pm clone_disk 8045-8047
                    warnings.append(
                        f"format '{fmt}' is not supported by the target storage '{where}' - using '{chosen}' instead"
                    )
            new = allocate_volume(cluster, guest.kind, where, newid, parse_size(value), taken, chosen)
        else:
            definition = cluster.storage(source_storage)
            plugintype = definition.plugintype if definition is not None else "lvmthin"
            names = [*volume_names(cluster, source_storage), *taken]
            new = f"{source_storage}:{linked_clone_volname(plugintype, parsed, newid, names)}"
            taken.append(new)
        cloned[key] = print_property(new, options, required=("mp",))
    return cloned


def reassign_disk(guest: Guest, disk: str, target_vmid: int, target_disk: str | None, authid: str) -> Task:
    """``POST .../move_disk`` with ``target-vmid``: the volume renamed to the other VM and moved into its config
    (qemu-server Qemu.pm move_vm_disk: ``$load_and_check_reassign_configs`` 4998-5072 before the worker and again
    inside it, ``$disk_reassignfn`` 5079-5160; pve-storage Plugin.pm ``rename_volume`` 2374)."""
    guest._prepare_write()
    cluster = guest._cluster
    target_disk = target_disk or disk
    if target_vmid == guest.vmid:
        raise ParameterError({"target-vmid": "must be different than source VMID to reassign disk"})

    def checked() -> tuple[Guest, str, dict[str, str]]:
        target = cluster.find_guest(target_vmid)
        if target is None:
            raise PVEError(f"could not find target VM {target_vmid}")
        if target.node != guest.node:
            raise PVEError(f"Both VMs need to be on the same node ({guest.node} != {target.node})")
        if target.kind != "qemu":
            raise PVEError(f"Configuration file 'nodes/{target.node}/qemu-server/{target_vmid}.conf' does not exist")
        guest.check_lock()
        target.check_lock()
        if guest.template or target.template:
            raise PVEError("Can't move disks from or to template VMs")
        if disk not in guest.config:
            raise PVEError(f"Disk '{disk}' for VM '{guest.vmid}' does not exist")
        if target.config.get(target_disk):
            raise PVEError(f"Target disk key '{target_disk}' is already in use for VM '{target_vmid}'")
        head, options = property_options(str(guest.config[disk]))
        if options.get("media") == "cdrom" or head in ("none", "cdrom"):
            raise PVEError("CD drive contents can't be moved to another VM")
        if parse_volid(head) is None:
            raise PVEError(f"Volume '{head}' not managed by PVE")
        if any(str(value).split(",", 1)[0] == head for snap in guest.snapshots.values() for value in snap.values()):
            raise PVEError("Can't move disk used by a snapshot to another VM")
        if guest.running and not disk.startswith("unused"):
            raise PVEError("Cannot move disk to another VM while the source VM is running - detach first")
        return target, head, options

    checked()  # Qemu.pm move_vm_disk 5180: before forking

    def reassign(task: Task) -> None:
        target, head, options = checked()
        task.log.append(f"reassign disk '{disk}' from VM '{guest.vmid}' as '{target_disk}' to VM '{target_vmid}'")
        parsed = parse_volid(head)
        assert parsed is not None  # checked() refuses volumes PVE does not manage
        definition = cluster.storage(parsed.storage)
        plugintype = definition.plugintype if definition is not None else "lvmthin"
        names = volume_names(cluster, parsed.storage)
        if "/" in parsed.volname:  # Plugin.pm rename_volume 2389-2406: the base prefix stays
            linked_name = next_file_name(target_vmid, names, parsed)
            base = f"{parsed.base_vmid}/{parsed.base_name}/" if parsed.base_name else ""
            new = f"{parsed.storage}:{base}{target_vmid}/{linked_name}"
        else:
            name = allocate_volname(plugintype, parsed.storage, target_vmid, names)
            prefix = f"{parsed.base_name}/" if parsed.base_name else ""
            new = f"{parsed.storage}:{prefix}{name}"
        boot = str(guest.config.get("boot", ""))
        if boot.startswith("order=") and disk in boot[6:].split(";"):
            task.log.append(f"removing disk '{disk}' from boot order config")
            remaining = [device for device in boot[6:].split(";") if device != disk]
            guest.config["boot"] = f"order={';'.join(remaining)}" if remaining else ""
        del guest.config[disk]
        task.log.append(f"removing disk '{disk}' from VM '{guest.vmid}' config")
        if target_disk.startswith("unused"):
            target.config[target_disk] = new
        else:
            target.config[target_disk] = print_property(new, options)

    return cluster.tasks.start(
        guest.node, "qmmove", f"{guest.vmid}-{disk}>{target_vmid}-{target_disk}", authid, work=reassign
    )


def next_file_name(vmid: int, taken: list[str], source: VolumeName) -> str:
    """``find_free_diskname`` with the format suffix, for a volume renamed to ``vmid`` on a file storage."""
    from pytest_pvemock.model.volumes import next_disk_name

    return next_disk_name(vmid, taken, source.storage, source.format, suffix=True, subvol_storage=False)


def check_base_volumes_unused(guest: Guest) -> None:
    """QemuServer.pm ``destroy_vm`` 1851-1871: a template whose ``base-`` volume a linked clone still uses is not
    destroyed (LVM-thin clones name no base, so nothing is found there, as in ``volume_is_base_and_used``)."""
    cluster = guest._cluster
    values = [*volume_keys(guest).values(), *(str(v) for k, v in guest.config.items() if k.startswith("unused"))]
    for value in values:
        volid = value.split(",", 1)[0]
        base = parse_volid(volid)
        if base is None or not base.is_base:
            continue
        for other in cluster.guests:
            if other is guest:
                continue
            for _storage, other_volid, _size in other.volume_list():
                child = parse_volid(other_volid)
                if child is not None and child.base_name == base.name and child.base_vmid == base.vmid:
                    raise PVEError(f"base volume '{volid}' is still in use by linked cloned")


def free_guest_volumes(guest: Guest, unreferenced: bool) -> None:
    """The stored images a destroyed guest leaves: those its config named go with it (``vdisk_free``), the others
    of its VMID only with ``destroy-unreferenced-disks`` (QemuServer.pm destroy_vm 1907-1916, pve-container
    LXC.pm destroy_lxc_container 1042-1050)."""
    named = {volid for _storage, volid, _size in guest.volume_list()}
    for storage in guest._cluster.storages:
        kept = [
            volume
            for volume in storage.volumes
            if not (
                volume.content in ("images", "rootdir")
                and volume.vmid == guest.vmid
                and (volume.volid in named or unreferenced)
            )
        ]
        if len(kept) != len(storage.volumes):
            storage.volumes = kept
        storage.freed -= named
