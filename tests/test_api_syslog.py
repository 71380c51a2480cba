"""``/nodes/{node}/syslog``: journal lines telling what the node did, paged like pve-common's ``dump_journal``
(src/PVE/Tools.pm, f665029e): ``journalctl -o short`` lines, ``n`` counting from 1, ``total`` beside them,
``limit`` 50 by default, ``no content`` when nothing matches; tasks logged as PVE::RPCEnvironment logs a worker."""

from __future__ import annotations

import re

import proxmoxer
import requests

LINE = re.compile(r"^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d pve\d [\w.-]+(\[\d+\])?: .+$")


def test_a_task_and_the_ha_manager_show_up_in_the_nodes_journal(pve_cluster_factory):
    cluster = pve_cluster_factory("ha-three-node", validate=True)
    pve = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    upid = pve.nodes("pve3").qemu(103).status.start.post()
    cluster.clock.advance(30)
    lines = [row["t"] for row in pve.nodes("pve3").syslog.get(limit=1000)]
    assert all(LINE.match(text) for text in lines), lines
    assert any(text.endswith(f"<root@pam> starting task {upid}") for text in lines)
    assert any(text.endswith(f"<root@pam> end task {upid} OK") for text in lines)
    assert any("pve-ha-lrm[" in text and text.endswith("starting service vm:103") for text in lines)
    assert not any("pve3" not in text.split()[3] for text in lines)
    lrm = pve.nodes("pve3").syslog.get(service="pve-ha-lrm")
    assert lrm and all("pve-ha-lrm" in row["t"] for row in lrm)


def test_paging_and_total_follow_dump_journal(pve_cluster_factory):
    cluster = pve_cluster_factory(validate=True)
    session = requests.Session()
    ticket = session.post(
        f"{cluster.url}/api2/json/access/ticket", data={"username": cluster.user, "password": cluster.password}
    ).json()["data"]["ticket"]
    session.cookies.set("PVEAuthCookie", ticket)
    answer = session.get(f"{cluster.url}/api2/json/nodes/pve1/syslog", params={"start": 2, "limit": 3}).json()
    assert [row["n"] for row in answer["data"]] == [3, 4, 5]
    assert answer["total"] > 5
    empty = session.get(
        f"{cluster.url}/api2/json/nodes/pve1/syslog", params={"service": "corosync", "until": "2001-01-01"}
    )
    assert empty.json()["data"] == [{"n": 1, "t": "no content"}]
