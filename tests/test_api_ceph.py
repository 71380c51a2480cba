"""Ceph: PVE's error where it is not installed, and one hyper-converged cluster whose answers agree with each other.

pve-manager commit 14a22df3: every Ceph read first calls PVE::Ceph::Tools::check_ceph_inited (PVE/Ceph/Tools.pm lines
189-231), which dies ``binary not installed: /usr/bin/ceph-mon`` without the package (HTTP 500); the RBD storage's
figures are the pool's ``ceph df`` stats (pve-storage 0c56bad8 src/PVE/Storage/RBDPlugin.pm lines 779-802: used =
stored, avail = max_avail, total = their sum); the pool list is ``osd dump`` with ``df``'s bytes_used (PVE/API2/Ceph/
Pool.pm lines 168-250), the OSD tree ``osd df tree`` (PVE/API2/Ceph/OSD.pm lines 128-240).
"""

from __future__ import annotations

import proxmoxer
import pytest

from pytest_pvemock import FakeCluster
from pytest_pvemock.model.builders.scenario import ScenarioError, spec_from_text

GIB = 1024**3


def client(pve_cluster_factory, scenario="ceph", version="9.1"):
    cluster = pve_cluster_factory(scenario, version=version, validate=True)
    api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    return cluster, api


@pytest.mark.parametrize("version", ["7.4", "8.4", "9.1"])
def test_without_ceph_every_read_fails_as_pve_does(pve_cluster_factory, version):
    _cluster, api = client(pve_cluster_factory, "default", version)
    for call in (api.nodes("pve1").ceph.status, api.nodes("pve1").ceph.pool, api.cluster.ceph.status,
                 api.nodes("pve1").ceph.osd, api.cluster.ceph.flags):  # fmt: skip
        with pytest.raises(proxmoxer.ResourceException) as failure:
            call.get()
        assert failure.value.status_code == 500
        assert "binary not installed: /usr/bin/ceph-mon" in str(failure.value)
    assert {"name": "metadata"} in api.nodes("pve1").ceph.osd(0).get()  # an index: no check (OSD.pm 656)
    assert api.cluster.ceph.metadata.get(scope="versions") == {"node": {}}  # checked only after (Cluster/Ceph.pm 279)


RELEASES = [("7.2", "pacific", "16.2.15"), ("8.0", "quincy", "17.2.8"), ("8.4", "reef", "18.2.7"),
            ("9.1", "squid", "19.2.3")]  # fmt: skip


@pytest.mark.parametrize(("version", "codename", "short"), RELEASES)
def test_the_ceph_release_follows_the_pve_release(pve_cluster_factory, version, codename, short):
    _cluster, api = client(pve_cluster_factory, version=version)
    mons = api.nodes("pve1").ceph.mon.get()
    assert {mon["ceph_version_short"] for mon in mons} == {short}
    assert {mon["ceph_version"].split()[-2] for mon in mons} == {codename}
    assert api.cluster.ceph.status.get()["monmap"]["min_mon_release_name"] == codename


def test_pool_storage_and_osds_agree(pve_cluster_factory):
    cluster, api = client(pve_cluster_factory)
    pools = {pool["pool_name"]: pool for pool in api.nodes("pve1").ceph.pool.get()}
    assert set(pools) == {".mgr", "ceph-vm", "cephfs_data", "cephfs_metadata"}
    storage = next(s for s in api.nodes("pve1").storage.get() if s["storage"] == "ceph-vm")
    disks = sum(size for _guest, _volid, size in cluster.guest_volumes("ceph-vm"))
    stats = api.nodes("pve1").ceph.pool("ceph-vm").status.get(verbose=1)["statistics"]
    assert storage["used"] == stats["stored"] >= disks  # the guests' volumes are in the pool
    assert storage["avail"] == stats["max_avail"] and storage["total"] == storage["used"] + storage["avail"]
    assert pools["ceph-vm"]["bytes_used"] == stats["stored"] * 3  # three replicas
    status = api.cluster.ceph.status.get()
    tree = api.nodes("pve1").ceph.osd.get()["root"]["children"][0]
    osds = [osd for host in tree["children"] for osd in host["children"]]
    assert len(osds) == status["osdmap"]["num_osds"] == 6
    raw_used = sum(osd["bytes_used"] for osd in osds)
    assert raw_used == status["pgmap"]["bytes_used"]
    assert raw_used > sum(pool["bytes_used"] for pool in pools.values())  # data plus BlueStore's own
    assert sum(osd["total_space"] for osd in osds) == status["pgmap"]["bytes_total"]
    assert status["pgmap"]["num_pgs"] == sum(pool["pg_num"] for pool in pools.values())
    assert sum(osd["pgs"] for osd in osds) == sum(pool["pg_num"] * pool["size"] for pool in pools.values())
    assert {osd["host"] for osd in osds} == {"pve1", "pve2", "pve3"} and status["health"]["status"] == "HEALTH_OK"


def test_a_new_disk_on_the_rbd_storage_fills_the_pool(pve_cluster_factory):
    _cluster, api = client(pve_cluster_factory)
    before = api.nodes("pve1").ceph.pool("ceph-vm").status.get(verbose=1)["statistics"]
    upid = api.nodes("pve1").qemu(100).config.post(scsi1="ceph-vm:10")
    assert api.nodes("pve1").tasks(upid).status.get()["exitstatus"] == "OK"
    after = api.nodes("pve1").ceph.pool("ceph-vm").status.get(verbose=1)["statistics"]
    assert after["stored"] - before["stored"] == 10 * GIB
    assert after["max_avail"] < before["max_avail"]
    assert api.cluster.ceph.status.get()["pgmap"]["data_bytes"] > 10 * GIB


def test_daemons_crush_config_and_metadata_agree(pve_cluster_factory):
    _cluster, api = client(pve_cluster_factory)
    node = api.nodes("pve2").ceph
    assert [(mon["name"], mon["quorum"], mon["state"]) for mon in node.mon.get()] == [
        ("pve1", 1, "running"), ("pve2", 1, "running"), ("pve3", 1, "running")]  # fmt: skip
    assert sorted(mgr["state"] for mgr in node.mgr.get()) == ["active", "standby", "standby"]
    assert sorted(mds["state"] for mds in node.mds.get()) == ["up:active", "up:standby", "up:standby"]
    assert node.fs.get() == [{"name": "cephfs", "metadata_pool": "cephfs_metadata", "data_pool": "cephfs_data"}]
    crush = node.crush.get()
    assert "item osd.2 weight 0.87329" in crush and "host pve2 {" in crush and "rule replicated_rule {" in crush
    assert node.rules.get() == [{"name": "replicated_rule"}]
    raw = node.cfg.raw.get()
    status = api.cluster.ceph.status.get()
    assert f"fsid = {status['fsid']}" in raw and "mon_host = 192.168.100.11 192.168.100.12 192.168.100.13" in raw
    assert node.cfg.value.get(**{"config-keys": "global:osd_pool_default_size"}) == {
        "global": {"osd-pool-default-size": "3"}}  # fmt: skip
    metadata = api.cluster.ceph.metadata.get()
    assert set(metadata["mon"]) == {"pve1@pve1", "pve2@pve2", "pve3@pve3"}
    assert [osd["hostname"] for osd in metadata["osd"]] == ["pve1", "pve1", "pve2", "pve2", "pve3", "pve3"]
    details = node.osd(2).metadata.get()
    volume = node.osd(2).get("lv-info")
    assert details["osd"]["hostname"] == "pve2" and details["devices"][0]["size"] == volume["lv_size"]
    assert volume["lv_name"].startswith("osd-block-") and volume["vg_name"].startswith("ceph-")
    with pytest.raises(proxmoxer.ResourceException, match="does not exists on host 'pve2'"):
        node.osd(0).metadata.get()  # osd.0 is pve1's (OSD.pm line 767)


def test_a_lost_node_takes_its_monitor_and_osds_down(pve_cluster_factory):
    cluster, api = client(pve_cluster_factory)
    cluster.set_node_online("pve3", False)
    status = api.cluster.ceph.status.get()
    assert status["quorum_names"] == ["pve1", "pve2"]
    assert status["osdmap"]["num_up_osds"] == 4
    assert status["health"]["status"] == "HEALTH_WARN"
    assert {"MON_DOWN", "OSD_DOWN", "OSD_HOST_DOWN"} <= set(status["health"]["checks"])
    safety = api.nodes("pve1").ceph("cmd-safety").get(service="mon", id="pve2", action="stop")
    assert safety["safe"] == 0  # pve1 alone would not be a majority of three


def test_the_log_and_the_clock_agree(pve_cluster_factory):
    cluster, api = client(pve_cluster_factory)
    lines = api.nodes("pve1").ceph.log.get(limit=0)
    assert lines and lines[-1]["t"].endswith("cluster [INF] overall HEALTH_OK")
    cluster.clock.advance(3600)
    assert len(api.nodes("pve1").ceph.log.get(limit=0)) >= len(lines) + 5  # a health line every ten minutes


def build_from_text(text):
    return FakeCluster.from_spec(spec_from_text(text))


def test_the_scenario_option():
    cluster = build_from_text(
        "nodes: [{name: a}, {name: b}, {name: c}, {name: d}]\n"
        "ceph: {nodes: [a, b, c], osds_per_node: 1, device_class: hdd, pools: [{name: vms, size: 2}]}\n"
    )
    assert cluster.ceph is not None and [osd.host for osd in cluster.ceph.osds] == ["a", "b", "c"]
    assert cluster.storage("vms").plugintype == "rbd"
    with pytest.raises(ScenarioError, match="line 2: unknown key 'osds' in 'ceph'"):
        build_from_text("nodes: [{name: a}]\nceph: {osds: 3}\n")
    with pytest.raises(ScenarioError, match="'ceph' names unknown node 'z'"):
        build_from_text("nodes: [{name: a}]\nceph: {nodes: [z]}\n")
    with pytest.raises(ScenarioError, match="'initialized: false' is only installed: it has no 'pools'"):
        build_from_text("nodes: [{name: a}]\nceph: {initialized: false, pools: [{name: vms}]}\n")
    fresh = build_from_text("nodes: [{name: a}]\nceph: {initialized: false, spare_disks: 2}\n").ceph
    assert fresh is not None and not fresh.initialized and fresh.mons == {} and fresh.pools == []
    assert [disk.devpath for disk in fresh.spare_disks] == ["/dev/nvme1n1", "/dev/nvme2n1"]
    assert FakeCluster.default().ceph is None


def test_a_ceph_cluster_survives_the_way_to_a_spec_and_back():
    from pytest_pvemock.model.builders.spec import spec_from_cluster

    cluster = FakeCluster.from_scenario("ceph")
    again = FakeCluster.from_spec(spec_from_cluster(cluster))
    assert again.ceph is not None and cluster.ceph is not None
    assert [pool.name for pool in again.ceph.pools] == [pool.name for pool in cluster.ceph.pools]
    assert again.storage_usage("ceph-vm", "pve1") == cluster.storage_usage("ceph-vm", "pve1")
    fresh = build_from_text("nodes: [{name: a}]\nceph: {initialized: false, spare_disks: 1}\n")
    back = FakeCluster.from_spec(spec_from_cluster(fresh)).ceph
    assert back is not None and not back.initialized and len(back.spare_disks) == 1
