"""Formats of qemu-server."""

from __future__ import annotations

import re

from pytest_pvemock.schema.formats import storage
from pytest_pvemock.schema.formats.checks import (
    Checker,
    FormatError,
    fail_unless,
    registrar,
    split_list,
)

FORMATS: dict[str, Checker] = {}
register = registrar(FORMATS)


# --- qemu-server ---

QEMU_DRIVE_COUNTS = {"ide": 4, "sata": 6, "scsi": 31, "virtio": 16}


def is_valid_drivename(name: str) -> bool:
    """``Drive::is_valid_drivename``: ide0-3, sata0-5, scsi0-30, virtio0-15, efidisk0, tpmstate0."""
    if name in ("efidisk0", "tpmstate0"):
        return True
    match = re.fullmatch(r"(ide|sata|scsi|virtio)(\d+)", name)
    if match is None:
        return False
    return str(int(match.group(2))) == match.group(2) and int(match.group(2)) < QEMU_DRIVE_COUNTS[match.group(1)]


@register("pve-qm-bootdisk")
def _bootdisk(value: str) -> None:
    fail_unless(is_valid_drivename(value), f"invalid boot disk '{value}'")


@register("pve-qm-bootdev")
def _bootdev(value: str) -> None:
    if is_valid_drivename(value) and not value.startswith(("efidisk", "tpmstate")):
        return
    for base, count in (("net", 32), ("usb", 14), ("hostpci", 16)):
        match = re.fullmatch(rf"{base}(\d+)", value)
        if match and str(int(match.group(1))) == match.group(1) and int(match.group(1)) < count:
            return
    raise FormatError(f"invalid boot device '{value}'")


@register("pve-hotplug-features")
def _hotplug_features(value: str) -> None:
    if value in ("0", "1"):
        return
    for feature in split_list(value):
        fail_unless(
            re.match(r"^(?:network|disk|cpu|memory|usb|cloudinit)$", feature) is not None,
            "unable to parse hotplug option",
        )


@register("pve-cpuset")
def _cpuset(value: str) -> None:
    for part in value.split(","):
        match = re.match(r"^\s*(\d+)(?:-(\d+))?\s*$", part)
        fail_unless(match is not None and int(match.group(2) or match.group(1)) >= int(match.group(1)),
                     "unable to parse cpuset option")  # fmt: skip


@register("pve-volume-id-or-absolute-path")
def _volume_id_or_absolute_path(value: str) -> None:
    if value.startswith("/"):
        return
    storage.FORMATS["pve-volume-id"](value)


@register("pve-volume-id-or-qm-path")
def _volume_id_or_qm_path(value: str) -> None:
    if value in ("none", "cdrom"):
        return
    _volume_id_or_absolute_path(value)


@register("pve-phys-bits")
def _phys_bits(value: str) -> None:
    ok = re.match(r"^(?:host|\d{1,2})$", value) is not None and (value == "host" or 8 <= int(value) <= 64)
    fail_unless(ok, "value must be an integer between 8 and 64 or 'host'")


# qemu-server before 0cf8d56c (2023-06-16, schemas up to 8.0.1): PVE/QemuServer/USB.pm at e3aad441
# (parse_usb_device) and PVE/QemuServer.pm (verify_usb_device): vendor:product, bus-port, or spice.
@register("pve-qm-usb-device")
def _qm_usb_device(value: str) -> None:
    ok = (
        re.match(r"^(0x)?[0-9A-Fa-f]{4}:(0x)?[0-9A-Fa-f]{4}$", value) is not None
        or re.match(r"^\d+-\d+(\.\d+)*$", value) is not None
        or re.match(r"^spice$", value, re.IGNORECASE) is not None
    )
    fail_unless(bool(value) and ok, "unable to parse usb device")
