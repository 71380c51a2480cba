"""Directory index methods: ``GET /cluster`` -> ``[{"name": "acme"}, ...]``, as PVE lists a path's children.

An index method is a ``GET`` whose answer is a list of one-key objects naming the children (the key is
``name``, ``subdir``, ``id``, ...: the ``href`` of the ``links`` in PVE's schema).
PVE writes most of these lists by hand in each API module; they match the schema's static children, except
where noted in :data:`_PVE_LISTS`, which holds the lists as pve-manager writes them (same entries, PVE's order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["index_children", "index_key"]

# The hand-written lists of PVE's index methods whose content or order differs from the schema tree.
_PVE_LISTS: dict[str, tuple[str, ...]] = {
    "/cluster": (
        "acme",
        "backup",
        "backup-info",
        "bulk-action",
        "ceph",
        "config",
        "firewall",
        "ha",
        "jobs",
        "log",
        "mapping",
        "metrics",
        "notifications",
        "nextid",
        "options",
        "qemu",
        "replication",
        "resources",
        "status",
        "tasks",
        "sdn",
    ),
    "/nodes/{node}": (
        "aplinfo",
        "apt",
        "capabilities",
        "ceph",
        "certificates",
        "config",
        "disks",
        "dns",
        "firewall",
        "hardware",
        "hosts",
        "journal",
        "lxc",
        "migrateall",
        "netstat",
        "network",
        "qemu",
        "query-oci-repo-tags",
        "query-url-metadata",
        "replication",
        "report",
        "rrd",
        "rrddata",
        "scan",
        "sdn",
        "services",
        "spiceshell",
        "startall",
        "status",
        "stopall",
        "storage",
        "subscription",
        "suspendall",
        "syslog",
        "tasks",
        "termproxy",
        "time",
        "version",
        "vncshell",
        "vzdump",
        "wakeonlan",
    ),
}


def index_key(returns: Mapping[str, Any], child_templates: list[str]) -> str | None:
    """The key of an index listing (``name``, ``subdir``, ...) when the method is one, else ``None``.

    The generated schemas drop PVE's display-only ``links``, so an index is recognised by its shape: a list of
    objects with at most one property, on a path whose children are all fixed names.
    """
    if returns.get("type") != "array" or not child_templates:
        return None
    if any(child.rsplit("/", 1)[1].startswith("{") for child in child_templates):
        return None
    items = returns.get("items")
    if not isinstance(items, Mapping):
        return None
    properties = list((items.get("properties") or {}).keys())
    if len(properties) > 1:
        return None
    return properties[0] if properties else "name"


def index_children(template: str, child_templates: list[str], key: str) -> list[dict[str, str]]:
    """The listing of an index method: one ``{key: child}`` per child, in PVE's order where it has one.

    PVE's hand-written lists are cut to the children this schema version has (``bulk-action`` is new in 9.x).
    """
    static = [child.rsplit("/", 1)[1] for child in child_templates if not child.rsplit("/", 1)[1].startswith("{")]
    names = [name for name in _PVE_LISTS.get(template, ()) if name in static] or static
    return [{key: name} for name in names]
