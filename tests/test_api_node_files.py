"""``/nodes/{node}/dns`` and ``/nodes/{node}/hosts``: what the installer wrote (resolver = the LAN's gateway,
``/etc/hosts`` with the node's address and FQDN), then what a client writes (pve-manager PVE/API2/Nodes.pm,
14a22df3: hosts answer ``data`` and the file's SHA-1 ``digest``; a stale digest is refused)."""

from __future__ import annotations

import hashlib

import proxmoxer
import pytest
from proxmoxer.core import ResourceException


@pytest.fixture
def pve(pve_cluster_factory):
    cluster = pve_cluster_factory(validate=True)
    return proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)


def test_dns_names_the_clusters_domain_and_gateway_until_changed(pve):
    dns = pve.nodes("pve2").dns.get()
    assert (dns["search"], dns["dns1"]) == ("pvemock.lan", "192.168.100.1")
    assert "dns2" not in dns
    pve.nodes("pve2").dns.put(search="corp.internal", dns1="10.0.0.53")
    assert pve.nodes("pve2").dns.get()["dns1"] == "10.0.0.53"


def test_hosts_holds_the_nodes_address_and_fqdn_and_takes_a_new_file(pve):
    hosts = pve.nodes("pve3").hosts.get()
    assert "192.168.100.13 pve3.pvemock.lan pve3\n" in hosts["data"]
    assert hosts["digest"] == hashlib.sha1(hosts["data"].encode()).hexdigest()
    new = hosts["data"] + "10.0.0.9 backup.pvemock.lan backup\n"
    pve.nodes("pve3").hosts.post(data=new, digest=hosts["digest"])
    assert pve.nodes("pve3").hosts.get()["data"] == new
    with pytest.raises(ResourceException, match="detected modified configuration"):
        pve.nodes("pve3").hosts.post(data=hosts["data"], digest=hosts["digest"])
