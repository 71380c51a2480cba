"""What a VM's cloud-init drive was generated from, and what changed since: ``GET /nodes/{node}/qemu/{vmid}/cloudinit``.

qemu-server keeps a ``[special:cloudinit]`` section in the VM's config: the values the current drive was generated
with for every option changed since (``$cloudinit_record_changed``, src/PVE/QemuServer.pm lines 4629-4697 at
e6352be6) and an ``added`` list of options that had no value then. Generating the drive (VM start:
``vm_start_nolock`` line 5606, ``PUT .../cloudinit``: ``vmconfig_update_cloudinit_drive`` 5340-5366) drops the
section (Cloudinit.pm ``apply_cloudinit_config``, 727-737).
"""

from __future__ import annotations

import re
from typing import Any

from pytest_pvemock.schema.formats.checks import perl_true, split_list

#: qemu-server src/PVE/QemuServer.pm ``cloudinit_pending_properties`` (1792-1798): $confdesc_cloudinit (781-839,
#: ipconfig0..31 at 876-877), ``name`` and ``net0``..``net31``.
CLOUDINIT_OPTIONS = ("cicustom", "cipassword", "citype", "ciupgrade", "ciuser", "nameserver", "searchdomain", "sshkeys")
_TRACKED = re.compile(r"^(?:ipconfig|net)(?:[0-9]|[12][0-9]|3[01])$")
#: src/PVE/API2/Qemu.pm ``$cloudinitoptions`` (853-862): the options ``GET .../cloudinit`` lists with their value.
LISTED = CLOUDINIT_OPTIONS
MASK = "**********"


def is_tracked(key: str) -> bool:
    """Whether a change of ``key`` makes the cloud-init drive out of date."""
    return key in CLOUDINIT_OPTIONS or key == "name" or bool(_TRACKED.match(key))


def record_change(section: dict[str, str], key: str, old: Any, new: Any) -> None:
    """``$cloudinit_record_changed``: remember the value the drive holds for ``key`` (or that it had none)."""
    if not is_tracked(key):
        return
    recorded = section.get(key)
    added = set(split_list(section.pop("added", "")))
    if new is not None:
        if old is not None:
            if recorded is not None:
                if str(new) == recorded:  # reverted to what the drive holds
                    section.pop(key, None)
                    added.discard(key)
            elif key not in added:
                section[key] = str(old)
        elif recorded is not None:
            if str(new) == recorded:
                section.pop(key, None)
                added.discard(key)
        else:
            added.add(key)
    elif old is not None and recorded is None:  # a deletion (an earlier recorded value stays)
        if key in added:
            added.discard(key)
        else:
            section[key] = str(old)
    if added:
        section["added"] = ",".join(sorted(added))


def pending_rows(config: dict[str, Any], section: dict[str, str]) -> list[dict[str, Any]]:
    """``cloudinit_pending`` (src/PVE/API2/Qemu.pm lines 1970-2011): added options with their new value, the listed
    options with the drive's value (and the new one where it changed), and deleted options. Perl walks its hashes
    in no fixed order; this answers the listed options and the deletions sorted."""
    conf = {key: str(value) for key, value in config.items() if value not in (None, "")}
    ci = dict(section)
    if "cipassword" in conf:
        conf["cipassword"] = MASK
    if "cipassword" in ci:
        ci["cipassword"] = MASK
    rows: list[dict[str, Any]] = []
    added = ci.pop("added", "")
    for key in split_list(added):
        row: dict[str, Any] = {"key": key}
        if key in conf:
            row["pending"] = conf[key]
        rows.append(row)
    for key in sorted(LISTED):
        if not perl_true(conf.get(key) or "") or re.search(key, added):
            continue
        row = {"key": key}
        if perl_true(ci.get(key) or ""):
            row["value"] = ci[key]
            row["pending"] = conf[key]
        else:
            row["value"] = conf[key]
        rows.append(row)
    for key in sorted(ci):
        if not perl_true(conf.get(key) or ""):
            rows.append({"key": key, "delete": 1})
    return rows


def is_cloudinit_option(key: str) -> bool:
    """An option of ``$confdesc_cloudinit`` (``ciuser``, ``ipconfig0`` ...)."""
    return key in CLOUDINIT_OPTIONS or (key.startswith("ipconfig") and bool(_TRACKED.match(key)))


def regenerate_drive(section: dict[str, str]) -> bool:
    """``apply_cloudinit_config``: the drive is generated from the config as it is now; whether it changed."""
    changed = bool(section)
    section.clear()
    return changed


def has_cloudinit_drive(config: dict[str, Any]) -> bool:
    """Whether a drive of the VM is its cloud-init drive (``drive_is_cloudinit``: a ``vm-<vmid>-cloudinit`` volume)."""
    return any(re.match(r"^(?:ide|sata|scsi|virtio)\d+$", key) and "cloudinit" in str(value).split(",")[0]
               for key, value in config.items())  # fmt: skip
