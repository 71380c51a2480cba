"""Which volume operations a storage type supports: each pve-storage plugin's ``volume_has_feature``.

pve-storage at 0c56bad8b2a7d69e5ce2c243651fe830d6caa936: ``Plugin.pm`` lines 1575-1628 (file storages: by the
volume's format), ``LvmThinPlugin.pm`` 408-431, ``ZFSPoolPlugin.pm`` 810-835, ``RBDPlugin.pm`` 956-978 (by the
volume's state only), ``LVMPlugin.pm`` 1368-1404 (by format; thick LVM has no clone or template). The state is
``snap`` when a snapshot is named, else ``base`` for a template's volume and ``current`` otherwise. Storage types
without a table here (iSCSI, PBS, ESXi) support nothing.
"""

from __future__ import annotations

from pytest_pvemock.model.volumes import FILE_TYPES, parse_volid

_BY_FORMAT: dict[str, dict[str, dict[str, frozenset[str]]]] = {
    "file": {
        "snapshot": {"current": frozenset({"qcow2"}), "snap": frozenset({"qcow2"})},
        "clone": {"base": frozenset({"qcow2", "raw", "vmdk"})},
        "template": {"current": frozenset({"qcow2", "raw", "vmdk", "subvol"})},
        "copy": {
            "base": frozenset({"qcow2", "raw", "vmdk"}),
            "current": frozenset({"qcow2", "raw", "vmdk"}),
            "snap": frozenset({"qcow2"}),
        },
        "sparseinit": {"base": frozenset({"qcow2", "raw", "vmdk"}), "current": frozenset({"qcow2", "raw", "vmdk"})},
        "rename": {"current": frozenset({"qcow2", "raw", "vmdk"})},
    },
    "lvm": {
        "copy": {
            "base": frozenset({"qcow2", "raw"}),
            "current": frozenset({"qcow2", "raw"}),
            "snap": frozenset({"qcow2"}),
        },
        "rename": {"current": frozenset({"qcow2", "raw"})},
        "snapshot": {"current": frozenset({"qcow2"}), "snap": frozenset({"qcow2"})},
    },
}
_BY_STATE: dict[str, dict[str, frozenset[str]]] = {
    "lvmthin": {
        "snapshot": frozenset({"current"}),
        "clone": frozenset({"base", "snap"}),
        "template": frozenset({"current"}),
        "copy": frozenset({"base", "current", "snap"}),
        "sparseinit": frozenset({"base", "current"}),
        "rename": frozenset({"current"}),
    },
    "zfspool": {
        "snapshot": frozenset({"current", "snap"}),
        "clone": frozenset({"base"}),
        "template": frozenset({"current"}),
        "copy": frozenset({"base", "current"}),
        "sparseinit": frozenset({"base", "current"}),
        "replicate": frozenset({"base", "current"}),
        "rename": frozenset({"current"}),
    },
    "rbd": {
        "snapshot": frozenset({"current", "snap"}),
        "clone": frozenset({"base", "snap"}),
        "template": frozenset({"current"}),
        "copy": frozenset({"base", "current", "snap"}),
        "sparseinit": frozenset({"base", "current"}),
        "rename": frozenset({"current"}),
    },
}


def volume_has_feature(plugintype: str, feature: str, volid: str, snapname: str | None = None) -> bool:
    """Whether a volume of that storage type supports ``feature`` (``snapshot``, ``clone``, ``copy``, ...)."""
    volume = parse_volid(volid)
    if volume is None:
        return False
    state = "snap" if snapname else "base" if volume.is_base else "current"
    if plugintype in _BY_STATE:
        return state in _BY_STATE[plugintype].get(feature, frozenset())
    table = _BY_FORMAT["file"] if plugintype in FILE_TYPES else _BY_FORMAT.get(plugintype)
    if table is None:
        return False
    return volume.format in table.get(feature, {}).get(state, frozenset())
