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
