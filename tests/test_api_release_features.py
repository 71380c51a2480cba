"""Behaviours that changed inside a major answer in the shape of the cluster's own release (release_platform.FEATURES).

Each boundary is the first release whose PVE schema has the new shape (third_party/pve-api, `pvemock schemas diff`).
"""

from __future__ import annotations

import pytest
from support.clients import proxmoxer_client as client

from pytest_pvemock import FakeCluster, mock


@pytest.mark.parametrize(("version", "answers_a_task"), [("7.0-1", False), ("7.1-1", False), ("7.1-2", True)])
def test_qemu_template_runs_in_the_request_before_7_1_2(version, answers_a_task):
    # qemu-server's template API returned undef before it forked a 'qmtemplate' worker: PVE's schema for 7.0-1 to
    # 7.1-1 says returns null, from 7.1-2 on a string (the UPID). Either way the VM is a template afterwards.
    with mock(FakeCluster.default(version=version), validate=True) as cluster:
        api = client(cluster)
        vmid = next(g.vmid for g in cluster.guests if g.kind == "qemu" and not g.template and not g.running)
        node = cluster.guest(vmid).node
        answer = api.nodes(node).qemu(vmid).template.post()
        assert (answer is not None and answer.startswith("UPID:") and ":qmtemplate:" in answer) is answers_a_task
        assert answers_a_task or answer is None
        assert api.nodes(node).qemu(vmid).config.get()["template"] == 1


@pytest.mark.parametrize(("version", "kind"), [("9.0.8", "sdn"), ("9.0.9", "network"), ("8.4", "sdn")])
def test_cluster_resources_list_sdn_zones_in_the_releases_shape(version, kind):
    # pve-manager lists SDN zones as type 'network' (network/NODE/zone/ZONE) from 9.0.9's schema on, 'sdn' before.
    with mock(FakeCluster.default(version=version), validate=True) as cluster:
        types = {row["type"] for row in client(cluster).cluster.resources.get()}
        assert kind in types and ({"sdn", "network"} - {kind}).isdisjoint(types)
