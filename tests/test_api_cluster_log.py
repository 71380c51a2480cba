"""``/cluster/log``: pvedaemon's 'starting task'/'end task' entries, newest first (pve-cluster pmxcfs logger.c
``clog_dump_json`` 7091d92e; pve-manager PVE/API2/Cluster.pm ``log`` 14a22df3: ``id`` = ``uid:node``, only the
caller's own entries without Sys.Syslog on ``/``)."""

from __future__ import annotations

import proxmoxer


def test_tasks_are_logged_newest_first_and_only_to_whom_may_read_them(pve_cluster_factory):
    cluster = pve_cluster_factory(validate=True)
    root = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    assert root.cluster.log.get() == []
    upid = root.nodes("pve2").qemu(102).status.start.post()
    cluster.clock.advance(5)
    end, start = root.cluster.log.get(max=2)
    assert start["msg"] == f"starting task {upid}" and end["msg"] == f"end task {upid} OK"
    assert (start["node"], start["user"], start["tag"], start["pri"]) == ("pve2", "root@pam", "pvedaemon", 6)
    assert end["uid"] == start["uid"] + 1 and end["id"] == f"{end['uid']}:pve2" and end["time"] >= start["time"]
    cluster.access.add_user("op@pve", password="op-password")
    root.access.acl.put(path="/vms/100", roles="PVEVMUser", users="op@pve")
    op = proxmoxer.ProxmoxAPI(cluster.host, user="op@pve", password="op-password", verify_ssl=False)
    op_upid = op.nodes("pve1").qemu(100).status.stop.post()
    cluster.clock.advance(5)
    assert [entry["msg"].split()[-1] for entry in op.cluster.log.get()] == ["OK", op_upid]
    assert len(root.cluster.log.get()) == 4
