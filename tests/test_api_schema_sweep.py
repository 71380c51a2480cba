"""Every GET endpoint the domain handlers answer, for PVE 9.1 and 8.4, checked against the returns schema."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")


@pytest.fixture(params=["9.1", "8.4"])
def api_and_cluster(request, pve_cluster_factory):
    cluster = pve_cluster_factory(version=request.param, validate=True)
    cluster.guest(102).snapshot("pre", description="before upgrade")
    cluster.guest(100).set_config({"cores": 4})  # pending on a running VM
    cluster.guest(100).set_lock("backup")
    api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    return api, cluster


def test_every_get_matches_the_schema(api_and_cluster, pve_cluster_factory):
    api, cluster = api_and_cluster
    upid = api.nodes("pve2").qemu(102).status.start.post()
    calls = [
        lambda: api.version.get(),
        lambda: api.cluster.get(),
        lambda: api.cluster.status.get(),
        lambda: api.cluster.resources.get(),
        lambda: api.cluster.tasks.get(),
        lambda: api.cluster.nextid.get(),
        lambda: api.nodes.get(),
        lambda: api.nodes("pve1").get(),
        lambda: api.nodes("pve1").status.get(),
        lambda: api.nodes("pve2").tasks.get(),
        lambda: api.nodes("pve2").tasks.get(source="all", errors=0, limit=5),
        lambda: api.nodes("pve2").tasks(upid).get(),
        lambda: api.nodes("pve2").tasks(upid).status.get(),
        lambda: api.nodes("pve2").tasks(upid).log.get(),
        lambda: api.storage.get(),
        lambda: api.storage("nas").get(),
        lambda: api.nodes("pve1").storage.get(),
        lambda: api.nodes("pve1").storage("local").get(),
        lambda: api.nodes("pve1").storage("local").status.get(),
        lambda: api.nodes("pve1").storage("local").content.get(),
        lambda: api.nodes("pve1").storage("local-lvm").content.get(),
        lambda: api.pools.get(),
        lambda: api.pools("prod").get(),
    ]
    for kind, node, running, stopped in (("qemu", "pve1", 100, 9000), ("lxc", "pve2", 110, None)):
        guests = getattr(api.nodes(node), kind)
        calls.append(lambda guests=guests: guests.get())
        for vmid in filter(None, (running, stopped)):
            one = guests(vmid)
            calls += [
                lambda one=one: one.get(),
                lambda one=one: one.config.get(),
                lambda one=one: one.config.get(current=1),
                lambda one=one: one.pending.get(),
                lambda one=one: one.status.get(),
                lambda one=one: one.status.current.get(),
                lambda one=one: one.snapshot.get(),
            ]
            if kind == "qemu" or cluster.version == "9.1":  # PVE 8.4 has no GET .../lxc/{vmid}/migrate
                calls.append(lambda one=one: one.migrate.get())
    snap = api.nodes("pve2").qemu(102).snapshot("pre")
    calls += [lambda: api.nodes("pve2").qemu(102).status.current.get(), lambda: snap.get(), lambda: snap.config.get()]
    for call in calls:
        assert call() is not None
    cluster.set_node_online("pve3", False)
    assert api.cluster.resources.get() and api.nodes.get()
