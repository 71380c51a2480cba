"""``/cluster/config``: the corosync configuration as pve-cluster writes, parses and answers it (commit 7091d92e:
src/PVE/Corosync.pm lines 94-215, 280-330; src/PVE/API2/ClusterConfig.pm lines 69-82, 172-201, 532-611, 693-740)."""

from __future__ import annotations

import hashlib

import proxmoxer
import pytest
from support.clients import proxmoxer_client

from pytest_pvemock.model.corosync import conf_text, corosync_conf


def _client(cluster):
    return proxmoxer_client(cluster)


def test_join_information_names_every_node_with_its_fingerprint_and_address(pve_cluster_factory):
    cluster = pve_cluster_factory(validate=True)
    pve = _client(cluster)
    info = pve.cluster.config.join.get()
    assert info["preferred_node"] == "pve1"
    assert [(node["name"], node["nodeid"], node["ring0_addr"]) for node in info["nodelist"]] == [
        (node.name, str(node.nodeid), node.ip) for node in cluster.nodes
    ]
    by_name = {node["name"]: node for node in info["nodelist"]}
    nodes = {row["node"]: row for row in pve.nodes.get()}
    assert (
        by_name["pve2"]["pve_fp"] == nodes["pve2"]["ssl_fingerprint"]
        and by_name["pve2"]["pve_addr"] == "192.168.100.12"
    )
    assert info["totem"]["cluster_name"] == cluster.name and info["totem"]["interface"] == {"0": {"linknumber": "0"}}
    assert pve.cluster.config.join.get(node="pve3")["preferred_node"] == "pve3"
    with pytest.raises(proxmoxer.ResourceException, match="unknown node 'pve9'"):
        pve.cluster.config.join.get(node="pve9")


def test_the_digest_is_the_sha1_of_the_file_pvecm_writes(pve_cluster_factory):
    cluster = pve_cluster_factory()
    conf = corosync_conf(cluster)
    text = conf_text(conf["main"])
    assert text.startswith("logging {\n  debug: off\n  to_syslog: yes\n}\n\nnodelist {\n  node {\n    name: pve1\n")
    assert "totem {\n  cluster_name: pvemock\n  config_version: 3\n  interface {\n    linknumber: 0\n  }\n" in text
    assert _client(cluster).cluster.config.join.get()["config_digest"] == hashlib.sha1(text.encode()).hexdigest()


def test_nodes_totem_and_status_agree(pve_cluster_factory):
    cluster = pve_cluster_factory(validate=True)
    pve = _client(cluster)
    nodes = pve.cluster.config.nodes.get()
    assert [node["node"] for node in nodes] == ["pve1", "pve2", "pve3"]
    assert nodes[0] == {
        "node": "pve1",
        "name": "pve1",
        "nodeid": "1",
        "quorum_votes": "1",
        "ring0_addr": "192.168.100.11",
    }
    totem = pve.cluster.config.totem.get()
    status = next(row for row in pve.cluster.status.get() if row["type"] == "cluster")
    assert int(totem["config_version"]) == status["version"]
    assert (totem["ip_version"], totem["link_mode"], totem["secauth"], totem["version"]) == (
        "ipv4-6",
        "passive",
        "on",
        "2",
    )
    assert pve.cluster.config.apiversion.get() == 1
    assert pve.cluster.config.qdevice.get() == {}


def test_a_single_node_is_not_a_cluster(pve_cluster_factory):
    cluster = pve_cluster_factory("single-node", validate=True)
    pve = _client(cluster)
    with pytest.raises(proxmoxer.ResourceException) as failure:
        pve.cluster.config.join.get()
    assert failure.value.status_code == 424
    assert "node is not in a cluster, no join info available!" in str(failure.value)
    assert pve.cluster.config.nodes.get() == []
    assert pve.cluster.config.totem.get() == {}  # PVE: null, against its schema
