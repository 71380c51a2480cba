"""Files the PVE installer wrote on each node: ``/etc/resolv.conf`` (search domain, the LAN's gateway as
resolver) and ``/etc/hosts`` (the installer's template: localhost, the node's address and FQDN, the IPv6 lines),
for a cluster whose nodes live in ``<cluster name>.lan``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.nodes.node import Node

HOSTS_TEMPLATE = """127.0.0.1 localhost.localdomain localhost
{ip} {fqdn} {name}

# The following lines are desirable for IPv6 capable hosts

::1     ip6-localhost ip6-loopback
fe00::0 ip6-localnet
ff00::0 ip6-mcastprefix
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
ff02::3 ip6-allhosts
"""


def node_domain(cluster: FakeCluster) -> str:
    """The DNS domain the nodes were installed with."""
    return f"{cluster.name}.lan"


def resolv_conf(cluster: FakeCluster, node: Node) -> dict[str, Any]:
    """``search`` and ``dns1`` (the gateway of the node's /24, as the installer proposes it)."""
    gateway = ".".join([*node.ip.split(".")[:3], "1"])
    return {"search": node_domain(cluster), "dns1": gateway}


def etc_hosts(cluster: FakeCluster, node: Node) -> str:
    return HOSTS_TEMPLATE.format(ip=node.ip, fqdn=f"{node.name}.{node_domain(cluster)}", name=node.name)


# Directories of a PVE installation (Debian's hierarchy, pve-manager's /var/lib/vz layout) and files in them
_SYSTEM_DIRECTORIES = frozenset(
    {"/", "/boot", "/dev", "/etc", "/etc/pve", "/home", "/media", "/mnt", "/mnt/pve", "/opt", "/proc", "/root",
     "/run", "/srv", "/sys", "/tmp", "/usr", "/usr/share", "/var", "/var/lib", "/var/log", "/var/tmp"}
)  # fmt: skip
_SYSTEM_FILES = frozenset({"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/fstab", "/etc/network/interfaces"})
# where a content type lives under a directory storage's path (pve-storage PVE/Storage/Plugin.pm get_subdir)
_CONTENT_DIRECTORIES = {"images": "images", "rootdir": "private", "backup": "dump", "iso": "template/iso",
                        "vztmpl": "template/cache", "snippets": "snippets", "import": "import"}  # fmt: skip
_MOUNTED_TYPES = {"nfs", "cifs", "glusterfs", "cephfs"}


def path_kind(cluster: FakeCluster, node: Node, path: str) -> str | None:
    """``"dir"`` or ``"file"`` for what ``path`` is on ``node``, ``None`` where nothing is: the system's directories,
    and the directories of every file-based storage the node has (mounted under ``/mnt/pve/<storage>`` unless a
    path is set), with their content directories."""
    path = path.rstrip("/") or "/"
    if path in _SYSTEM_FILES:
        return "file"
    directories = set(_SYSTEM_DIRECTORIES)
    for storage in cluster.storages_on(node.name):
        base = storage.path or (f"/mnt/pve/{storage.storage}" if storage.plugintype in _MOUNTED_TYPES else None)
        if base is None:
            continue
        parts = base.rstrip("/").split("/")
        directories.update("/".join(parts[:end]) or "/" for end in range(1, len(parts) + 1))
        for content in storage.content:
            sub = _CONTENT_DIRECTORIES.get(content)
            if sub is not None:
                directories.add(f"{base.rstrip('/')}/{sub}")
                if "/" in sub:
                    directories.add(f"{base.rstrip('/')}/{sub.split('/')[0]}")
    return "dir" if path in directories else None
