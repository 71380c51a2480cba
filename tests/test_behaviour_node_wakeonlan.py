"""Wake-on-LAN from one node to another, as pve-manager PVE/API2/Nodes.pm ``wakeonlan`` (lines 716-792 at
14a22df3) sends it: the target's MAC from its node config, errors for the local node, an unknown node or no MAC."""

from __future__ import annotations

from tests.support.clients import proxmoxer_client, refused


def test_a_powered_off_node_with_a_wakeonlan_mac_boots(pve_cluster_factory):
    cluster = pve_cluster_factory(validate=True, task_mode="manual")
    pve = proxmoxer_client(cluster)
    pve.nodes("pve3").config.put(wakeonlan="bc:24:11:5e:0a:13")
    cluster.node("pve3").shutdown()
    cluster.clock.settle()
    assert {row["node"]: row["status"] for row in pve.nodes.get()}["pve3"] == "offline"
    assert pve.nodes("pve3").wakeonlan.post() == "bc:24:11:5e:0a:13"
    cluster.clock.advance(90)  # firmware and boot
    assert {row["node"]: row["status"] for row in pve.nodes.get()}["pve3"] == "online"


def test_wakeonlan_needs_another_node_with_a_mac(pve_cluster_factory):
    pve = proxmoxer_client(pve_cluster_factory(validate=True))
    error = refused(pve.nodes("pve2").wakeonlan.post)
    assert (error.status_code, error.content) == (500, "No wake on LAN MAC address defined for 'pve2'!")
    error = refused(pve.nodes("pve1").wakeonlan.post)  # the node the client talks to
    assert error.content == "'pve1' is local node, cannot wake my self!"
