"""The cluster's ``/etc/pve/corosync.conf``, as ``pvecm create`` / ``pvecm add`` write it and pve-cluster reads it.

The file: ``PVE::Corosync::create_conf`` (totem with ``cluster_name``, ``config_version``, one ``interface`` per
link, ``ip_version ipv4-6``, ``link_mode passive``, ``secauth on``, ``version 2``; a ``nodelist`` of ``name``,
``nodeid``, ``quorum_votes`` 1 and ``ring0_addr``; ``quorum`` and ``logging``), printed by ``write_conf`` (keys
sorted, two spaces per level, a blank line after each top-level section) and read back by ``parse_conf`` (values
are strings; the node and interface lists become maps keyed by name and link number; the digest is the SHA-1 of
the text). pve-cluster src/PVE/Corosync.pm lines 94-215 and 280-330, commit 7091d92e. A single node was never made
a cluster: it has no corosync.conf.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster


def config_version(cluster: FakeCluster) -> int:
    """``config_version`` of the totem section (``/cluster/status`` shows it as the cluster's ``version``):
    ``pvecm create`` writes 1 and each ``pvecm add`` one more."""
    return max(len(cluster.nodes), 1)


def is_cluster(cluster: FakeCluster) -> bool:
    """Whether ``pvecm create`` ran: the fake makes every set of two or more nodes a cluster."""
    return len(cluster.nodes) > 1


def corosync_conf(cluster: FakeCluster) -> dict[str, Any]:
    """``parse_conf`` of the file: ``{"main": {...}, "digest": ...}``, or ``{}`` without a cluster."""
    if not is_cluster(cluster):
        return {}
    main: dict[str, Any] = {
        "logging": {"debug": "off", "to_syslog": "yes"},
        "nodelist": {
            "node": {
                node.name: {
                    "name": node.name,
                    "nodeid": str(node.nodeid),
                    "quorum_votes": "1",
                    "ring0_addr": node.ip,
                }
                for node in cluster.nodes
            }
        },
        "quorum": {"provider": "corosync_votequorum"},
        "totem": {
            "cluster_name": cluster.name,
            "config_version": str(config_version(cluster)),
            "interface": {"0": {"linknumber": "0"}},
            "ip_version": "ipv4-6",
            "link_mode": "passive",
            "secauth": "on",
            "version": "2",
        },
    }
    return {"main": main, "digest": hashlib.sha1(conf_text(main).encode()).hexdigest()}


def conf_text(main: dict[str, Any]) -> str:
    """``write_conf``: the node and interface maps back to lists (in key order), every section's keys sorted."""
    printable = dict(main)
    printable["nodelist"] = {"node": [main["nodelist"]["node"][key] for key in sorted(main["nodelist"]["node"])]}
    totem = dict(main["totem"])
    totem["interface"] = [totem["interface"][key] for key in sorted(totem["interface"])]
    printable["totem"] = totem
    return _section(printable, "")


def _section(section: dict[str, Any], prefix: str) -> str:
    text = ""
    for key in sorted(section):
        value = section[key]
        if isinstance(value, dict):
            text += f"{prefix}{key} {{\n{_section(value, prefix + '  ')}{prefix}}}\n"
            if not prefix:
                text += "\n"
        elif isinstance(value, list):
            for child in value:
                text += f"{prefix}{key} {{\n{_section(child, prefix + '  ')}{prefix}}}\n"
        else:
            text += f"{prefix}{key}: {value}\n"
    return text
