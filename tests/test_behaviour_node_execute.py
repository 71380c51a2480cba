"""A batch of API calls on one node (pve-manager PVE/API2/Nodes.pm ``execute`` 597-671 at 14a22df3), through
proxmoxer: each command's status and data or error, in order, the batch going on after a failure."""

from __future__ import annotations

import json

from tests.support.clients import proxmoxer_client, refused


def test_each_command_runs_and_answers_its_status(pve_cluster_factory):
    cluster = pve_cluster_factory(validate=True)
    pve = proxmoxer_client(cluster)
    commands = [
        {"method": "GET", "path": "qemu/100/status/current"},
        {"method": "POST", "path": "qemu/100/status/suspend"},
        {"method": "GET", "path": "nosuch"},
        {"method": "GET", "path": "qemu/100/status/current", "args": {"vmid": 101}},
        {"method": "PUT", "path": "qemu/100/config", "args": {"cores": 0}},
        {"method": "GET", "path": "qemu/100/status/current"},
    ]
    answers = pve.nodes("pve1").execute.post(commands=json.dumps(commands))
    assert [answer["status"] for answer in answers] == [200, 200, 500, 400, 400, 200]
    assert answers[0]["data"]["qmpstatus"] == "running"
    assert answers[1]["data"].startswith("UPID:pve1:")  # the suspend's task
    assert answers[2]["message"] == "no handler for 'nodes/pve1/nosuch'\n"
    assert answers[3]["errors"] == {"vmid": "duplicate parameter"}
    assert "cores" in answers[4]["errors"]
    assert answers[5]["data"]["qmpstatus"] == "paused"  # the batch went on; the suspend took effect


def test_execute_is_for_root_only(pve_cluster_factory):
    cluster = pve_cluster_factory(validate=True)
    root = proxmoxer_client(cluster)
    root.access.users.post(userid="ops@pve", password="ops-password")
    root.access.acl.put(path="/", roles="Administrator", users="ops@pve")
    ops = proxmoxer_client(cluster, user="ops@pve", password="ops-password")
    error = refused(ops.nodes("pve1").execute.post, commands="[]")
    assert (error.status_code, error.content) == (403, "Permission check failed (user != root@pam)")
