"""Guest volumes as pve-storage names them: allocation per storage type, ``base-`` volumes, linked clones.

Sources read (pve-storage at 0c56bad8b2a7d69e5ce2c243651fe830d6caa936):

- ``src/PVE/Storage/Plugin.pm`` ``parse_name_dir`` 784, ``parse_volname`` 799, ``create_base`` 903 (file storages
  rename ``VMID/vm-VMID-disk-N.FMT`` to ``VMID/base-VMID-disk-N.FMT``), ``get_next_vm_diskname`` 970 (the lowest free
  ``N`` over ``vm-``/``base-`` names of that guest, at most 1024), ``find_free_diskname`` 992, ``clone_image`` 1002
  (a linked clone on a file storage is ``BASEVMID/BASENAME/VMID/vm-VMID-disk-N.qcow2``), ``alloc_image`` 1049
  (``VMID/NAME``); each file plugin's ``format => [..., 'raw']`` (DirPlugin 40, NFSPlugin 68, CIFSPlugin 127): raw
  is the default format.
- ``LvmThinPlugin.pm`` ``alloc_image`` 99, ``clone_image`` 311 (the clone is a plain ``vm-VMID-disk-N``),
  ``create_base`` 339; ``ZFSPoolPlugin.pm`` ``alloc_image`` 264, ``clone_image`` 725; ``RBDPlugin.pm``
  ``clone_image`` 676 (``BASENAME/vm-VMID-disk-N``), ``alloc_image`` 704.
- pve-container (94f558522ef61f9858c39c264d0ac4e697e49268) ``src/PVE/LXC.pm`` ``alloc_disk`` 2581: a container
  volume is ``raw`` on storages with a path, ``subvol`` on ZFS (``subvol-VMID-disk-N``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Storage types whose images are files under ``images/VMID/`` (volume names carry ``VMID/`` and an extension).
FILE_TYPES = frozenset({"dir", "nfs", "cifs", "glusterfs", "cephfs", "btrfs"})

#: File storage types that can hold subvolumes (their ``format`` list has ``subvol``: DirPlugin 40, BTRFSPlugin).
SUBVOL_FILE_TYPES = frozenset({"dir", "btrfs"})

#: The most volumes a guest can have on one storage (Plugin.pm ``$MAX_VOLUMES_PER_GUEST``, line 54).
MAX_VOLUMES_PER_GUEST = 1024

_DISK_NUMBER = re.compile(r"(?:vm|base|subvol|basevol)-(\d+)-disk-(\d+)")
_FILE_NAME = re.compile(r"^(?:(?P<basevmid>\d+)/(?P<basename>[^/\s]+)/)?(?P<vmid>\d+)/(?P<name>[^/\s]+)$")
_BLOCK_NAME = re.compile(r"^(?:(?P<basename>(?:base|basevol)-(?P<basevmid>\d+)-[^/\s]+)/)?(?P<name>[^/\s]+)$")
_OWNER = re.compile(r"^(?:vm|base|subvol|basevol)-(\d+)-")


@dataclass(frozen=True)
class VolumeName:
    """A parsed guest volume id (``parse_volname``'s answer for ``images``)."""

    storage: str
    volname: str
    name: str
    vmid: int | None
    format: str
    base_name: str | None = None
    base_vmid: int | None = None

    @property
    def volid(self) -> str:
        return f"{self.storage}:{self.volname}"

    @property
    def is_base(self) -> bool:
        return self.name.startswith(("base-", "basevol-"))

    @property
    def disk_number(self) -> int | None:
        match = _DISK_NUMBER.search(self.name)
        return int(match[2]) if match else None


def is_file_storage(plugintype: str) -> bool:
    """Whether the storage type keeps images as files (``VMID/vm-VMID-disk-N.FMT``)."""
    return plugintype in FILE_TYPES


def parse_volid(volid: str) -> VolumeName | None:
    """``local:100/vm-100-disk-0.qcow2`` or ``local-lvm:vm-100-disk-0`` parsed; ``None`` for anything else."""
    storage, sep, volname = volid.partition(":")
    if not sep or not volname:
        return None
    file_match = _FILE_NAME.match(volname)
    if file_match is not None:
        name = file_match["name"]
        extension = name.rsplit(".", 1)[-1] if "." in name else "raw"
        basevmid = file_match["basevmid"]
        return VolumeName(
            storage,
            volname,
            name,
            int(file_match["vmid"]),
            extension,
            file_match["basename"],
            int(basevmid) if basevmid else None,
        )
    block_match = _BLOCK_NAME.match(volname)
    if block_match is None:
        return None
    name = block_match["name"]
    owner = _OWNER.match(name)
    basevmid = block_match["basevmid"]
    return VolumeName(
        storage,
        volname,
        name,
        int(owner[1]) if owner else None,
        "subvol" if name.startswith(("subvol-", "basevol-")) else "raw",
        block_match["basename"],
        int(basevmid) if basevmid else None,
    )


def next_disk_name(
    vmid: int, taken: Iterable[str], storage: str, fmt: str = "", suffix: bool = False, subvol_storage: bool = True
) -> str:
    """``get_next_vm_diskname``: ``vm-VMID-disk-N`` (``subvol-`` for subvol) with the lowest ``N`` not taken.

    ``taken`` holds the volume names of the storage; as in PVE, a name with another extension does not count on
    file storages that cannot hold subvolumes (NFS, CIFS), ``subvol-``/``basevol-`` names count where they can."""
    ending = re.escape(f".{fmt}") if suffix and not subvol_storage else ""
    pattern = re.compile(rf"(?:vm|base|subvol|basevol)-{vmid}-disk-(\d+){ending}")
    numbers = {int(match[1]) for name in taken if (match := pattern.search(name)) is not None}
    prefix = "subvol" if fmt == "subvol" else "vm"
    for number in range(MAX_VOLUMES_PER_GUEST):
        if number not in numbers:
            return f"{prefix}-{vmid}-disk-{number}" + (f".{fmt}" if suffix else "")
    raise ValueError(f"unable to allocate an image name for VM {vmid} in storage '{storage}'")


def allocate_volname(plugintype: str, storage: str, vmid: int, taken: Iterable[str], fmt: str | None = None) -> str:
    """The volume name ``alloc_image`` of that storage type gives a new image of ``vmid`` (no storage prefix)."""
    chosen = fmt or "raw"
    if is_file_storage(plugintype):
        subvol = plugintype in SUBVOL_FILE_TYPES
        return f"{vmid}/{next_disk_name(vmid, taken, storage, chosen, suffix=True, subvol_storage=subvol)}"
    return next_disk_name(vmid, taken, storage, chosen if plugintype == "zfspool" else "")


def container_format(plugintype: str, size: int) -> str:
    """LXC.pm ``alloc_disk``: ``subvol`` on ZFS and for size 0 on a path storage, ``raw`` otherwise."""
    if plugintype == "zfspool" or (is_file_storage(plugintype) and size == 0):
        return "subvol"
    return "raw"


def base_volname(volume: VolumeName) -> str:
    """``create_base``: the ``vm-`` name renamed to ``base-`` (``subvol-`` to ``basevol-`` on ZFS)."""
    if volume.is_base:
        raise ValueError("create_base not possible with base image")
    name = re.sub(r"^vm-", "base-", volume.name)
    name = re.sub(r"^subvol-", "basevol-", name)
    if "/" in volume.volname and volume.vmid is not None:
        prefix = f"{volume.base_vmid}/{volume.base_name}/" if volume.base_name else ""
        return f"{prefix}{volume.vmid}/{name}"
    return name


def linked_clone_volname(plugintype: str, base: VolumeName, vmid: int, taken: Iterable[str]) -> str:
    """``clone_image`` of a base volume: qcow2 backed by the base on file storages (``9000/base-9000-disk-0.raw/
    101/vm-101-disk-0.qcow2``), ``BASENAME/vm-VMID-disk-N`` on RBD and ZFS, a plain ``vm-VMID-disk-N`` on LVM-thin."""
    if not base.is_base:
        raise ValueError("clone_image only works on base images")
    if is_file_storage(plugintype):
        subvol = plugintype in SUBVOL_FILE_TYPES
        name = next_disk_name(vmid, taken, base.storage, "qcow2", suffix=True, subvol_storage=subvol)
        return f"{base.vmid}/{base.name}/{vmid}/{name}"
    name = next_disk_name(vmid, taken, base.storage, base.format if plugintype == "zfspool" else "")
    if plugintype in ("rbd", "zfspool"):
        return f"{base.name}/{name}"
    return name
