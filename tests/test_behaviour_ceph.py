"""Catalogue rows (docs/behaviour.md, "Ceph writes"): Ceph writes as pve-manager makes them (commit 14a22df3): the
checks before the worker fail the HTTP call, the checks inside it fail the task with PVE's message, and what was
written is what the reads answer.

Sources: PVE/Ceph/Tools.pm (check_ceph_installed 189-202, check_ceph_configured 204-212, check_ceph_inited 214-231,
set_pool 271-315), PVE/API2/Ceph.pm (init 263-335, stop/start/restart 363-494), PVE/API2/Ceph/MON.pm (createmon
352-558, destroymon 585-694), MGR.pm (136-201), MDS.pm (161-267), OSD.pm (createosd 315-592, destroyosd 989-1130,
in/out/scrub 1154-1256), Pool.pm (createpool 461-543, destroypool 586-650, setpool 671-693), Cluster/Ceph.pm
(set_flags 922-960, update_flag 1027-1041), PVE/Ceph/Services.pm (create_mgr/destroy_mgr 368-434, create_mds/
destroy_mds 276-364); pve-storage 0c56bad8 PVE/Diskmanage.pm (verify_blockdev_path 35-60, wipe_blockdev 942-983).
"""

from __future__ import annotations

import proxmoxer
import pytest
from support.clients import refused, task_log, wait

from pytest_pvemock import FakeCluster
from pytest_pvemock.model.builders.scenario import spec_from_text

NOT_INITIALIZED = "pveceph configuration not initialized - missing '/etc/pve/ceph.conf', missing '/etc/pve/ceph'"


def client(pve_cluster_factory, scenario="ceph", version="9.1"):
    cluster = pve_cluster_factory(scenario, version=version, validate=True)
    api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    return cluster, api


def installed_only(pve_cluster_factory, version="9.1"):
    """Three nodes where ``pveceph install`` ran, nothing more; one spare disk each."""
    text = f"""
cluster: {{name: fresh, version: "{version}"}}
nodes:
  - {{name: pve1, ip: 10.10.10.11}}
  - {{name: pve2, ip: 10.10.10.12}}
  - {{name: pve3, ip: 10.10.10.13}}
ceph: {{initialized: false, spare_disks: 1}}
"""
    cluster = pve_cluster_factory.patch(FakeCluster.from_spec(spec_from_text(text)), validate=True)
    api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)
    return cluster, api


def finished(api, upid):
    """The task's final status and its log."""
    return wait(api, upid)["exitstatus"], task_log(api, upid)


@pytest.mark.parametrize("version", ["7.4", "9.1"])
def test_ceph_writes_without_ceph(pve_cluster_factory, version):
    # Tools.pm 189-231: each method's first check names the binary it looks for; Ceph.pm 266-269: init asks
    # `ceph --version` and tells to install
    _cluster, api = client(pve_cluster_factory, "default", version)
    node = api.nodes("pve1")
    before = len(node.tasks.get())
    calls = [
        (node.ceph.mon("pve1").post, {}, "binary not installed: /usr/bin/ceph-mon"),
        (node.ceph.mgr("pve1").post, {}, "binary not installed: /usr/bin/ceph-mgr"),
        (node.ceph.mds("pve1").post, {}, "binary not installed: /usr/bin/ceph-mds"),
        (node.ceph.osd.post, {"dev": "/dev/sdb"}, "binary not installed: /usr/bin/ceph-mon"),
        (node.ceph.osd(0).delete, {}, "binary not installed: /usr/bin/ceph-mon"),
        (node.ceph.stop.post, {}, "binary not installed: /usr/bin/ceph-mon"),
        (api.cluster.ceph.flags.put, {"noout": 1}, "binary not installed: /usr/bin/ceph-mon"),
        (node.ceph.init.post, {}, "Ceph Nautilus required - please run 'pveceph install'"),
    ]
    if version == "9.1":
        calls.append((node.ceph.pool.post, {"name": "rbd"}, "binary not installed: /usr/bin/ceph-mon"))
    for call, params, message in calls:
        error = refused(call, **params)
        assert error.status_code == 500 and message in str(error), (call, error)
    assert len(node.tasks.get()) == before  # no worker was forked


def test_ceph_init_and_first_monitor(pve_cluster_factory):
    # Ceph.pm 263-335 (init: no worker, answers null), MON.pm 352-558 (the first monitor creates the monitor
    # keyring, disables insecure global id reclaim, configures ceph-crash, and gets a manager: 549-554)
    _cluster, api = installed_only(pve_cluster_factory)
    node = api.nodes("pve1")
    for call in (api.cluster.ceph.status.get, node.ceph.pool.get, node.ceph.cfg.raw.get):
        assert NOT_INITIALIZED in str(refused(call))
    assert NOT_INITIALIZED in str(refused(node.ceph.pool.post, name="rbd"))
    assert node.ceph.init.post(network="10.10.10.0/24") is None
    raw = node.ceph.cfg.raw.get()
    assert "public_network = 10.10.10.0/24" in raw and "osd_pool_default_size = 3" in raw and "mon_host" not in raw
    assert "rados_connect failed - No such file or directory" in str(refused(api.cluster.ceph.status.get))
    assert node.ceph.mon.get() == []

    upid = node.ceph.mon("pve1").post()
    assert upid.split(":")[5:7] == ["cephcreatemon", "mon.pve1"]
    status, log = finished(api, upid)
    assert status == "OK"
    assert log[:3] == [
        "creating new monitor keyring",
        "created the first monitor, assume it's safe to disable insecure global ID reclaim for new setup",
        "Configuring keyring for ceph-crash.service",
    ]
    assert "creating manager directory '/var/lib/ceph/mgr/ceph-pve1'" in log
    assert "starting service 'ceph-mgr@pve1.service'" in log

    health = api.cluster.ceph.status.get()["health"]
    assert health["status"] == "HEALTH_WARN"
    assert health["checks"]["TOO_FEW_OSDS"]["summary"]["message"] == "OSD count 0 < osd_pool_default_size 3"
    assert [(mon["name"], mon["state"]) for mon in node.ceph.mon.get()] == [("pve1", "running")]
    assert [(mgr["name"], mgr["state"]) for mgr in node.ceph.mgr.get()] == [("pve1", "active")]
    assert "mon_host = 10.10.10.11" in node.ceph.cfg.raw.get()

    status, _log = finished(api, api.nodes("pve2").ceph.mon("pve2").post())
    assert status == "OK"
    assert api.cluster.ceph.status.get()["quorum_names"] == ["pve1", "pve2"]
    assert [mgr["name"] for mgr in node.ceph.mgr.get()] == ["pve1"]  # only the first monitor brings a manager


def test_ceph_monitor_checks(pve_cluster_factory):
    # MON.pm 122-167: an address or id in use, a monitor of another node, the last monitor; all before the worker
    _cluster, api = client(pve_cluster_factory)
    node = api.nodes("pve1").ceph
    assert "monitor address '192.168.100.11' already in use" in str(refused(node.mon("pve1").post))
    assert "no such monitor id 'nope'" in str(refused(node.mon("nope").delete))
    message = "monitor filesystem '/var/lib/ceph/mon/ceph-pve2' does not exist on this node"
    assert message in str(refused(node.mon("pve2").delete))
    for other in ("pve3", "pve2"):
        upid = api.nodes(other).ceph.mon(other).delete()
        assert upid.split(":")[5:7] == ["cephdestroymon", f"mon.{other}"]
        assert finished(api, upid)[0] == "OK"
    assert api.cluster.ceph.status.get()["monmap"]["mons"][0]["name"] == "pve1"
    assert len(api.cluster.ceph.status.get()["monmap"]["mons"]) == 1
    assert "can't remove last monitor" in str(refused(node.mon("pve1").delete))
    assert "mon_host = 192.168.100.11\n" in node.cfg.raw.get()


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        # before pve-manager 8.2.5 (76ed4900) set_pool applies every setting
        ("8.2", ["pool vmdata: applying size = 3", "pool vmdata: applying application = rbd",
                 "pool vmdata: applying min_size = 2", "pool vmdata: applying pg_autoscale_mode = warn",
                 "pool vmdata: applying pg_num = 32"]),
        ("9.1", ["skipping 'size', did not change", "pool vmdata: applying application = rbd",
                 "skipping 'min_size', did not change", "pool vmdata: applying pg_autoscale_mode = warn",
                 "skipping 'pg_num', did not change"]),
    ],
)  # fmt: skip
def test_ceph_pool_create_add_storages(pve_cluster_factory, version, expected):
    # Pool.pm 461-543: defaults size 3, min_size 2, rbd, autoscale 'warn'; add_storages adds the RBD storage
    # (Pool.pm 340-354: content rootdir,images, krbd 0); Tools.pm 271-315: size first, then sorted
    _cluster, api = client(pve_cluster_factory, version=version)
    node = api.nodes("pve1")
    pgs = api.cluster.ceph.status.get()["pgmap"]["num_pgs"]
    upid = node.ceph.pool.post(name="vmdata", pg_num=32, add_storages=1)
    assert upid.split(":")[5:7] == ["cephcreatepool", "vmdata"]
    assert finished(api, upid) == ("OK", [*expected, "TASK OK"])
    pools = {pool["pool_name"]: pool for pool in node.ceph.pool.get()}
    assert (pools["vmdata"]["pg_num"], pools["vmdata"]["size"], pools["vmdata"]["pg_autoscale_mode"]) == (32, 3, "warn")
    assert pools["vmdata"]["application_metadata"] == {"rbd": {}}
    assert pools["vmdata"]["pool"] == max(pool["pool"] for pool in pools.values())
    assert api.cluster.ceph.status.get()["pgmap"]["num_pgs"] == pgs + 32
    storage = next(s for s in api.storage.get() if s["storage"] == "vmdata")
    assert storage["type"] == "rbd" and set(storage["content"].split(",")) == {"images", "rootdir"}
    assert (storage["pool"], storage["krbd"], storage["shared"]) == ("vmdata", 0, 1)  # Pool.pm $add_storage 340-354
    status = next(s for s in node.storage.get() if s["storage"] == "vmdata")
    assert status["avail"] == node.ceph.pool("vmdata").status.get(verbose=1)["statistics"]["max_avail"]

    # a second create of the same pool: Ceph keeps the pool, PVE's storage create refuses the id
    status, _log = finished(api, node.ceph.pool.post(name="vmdata", add_storages=1))
    assert status == "adding PVE storage for ceph pool 'vmdata' failed: storage ID 'vmdata' already defined"


def test_ceph_pool_set_refused_settings(pve_cluster_factory):
    # Tools.pm 286-313: a refused setting is printed, the task dies naming it; Ceph resets min_size with the size
    _cluster, api = client(pve_cluster_factory)
    pool = api.nodes("pve1").ceph.pool("ceph-vm")
    assert finished(api, pool.put(size=2))[0] == "OK"
    assert (pool.status.get()["size"], pool.status.get()["min_size"]) == (2, 2)
    status, log = finished(api, pool.put(min_size=3, pg_autoscale_mode="off"))
    assert status == "Could not set: min_size"
    assert (
        "error with 'osd pool set': mon_cmd failed - pool min_size must be between 1 and size, which is set to 2" in log
    )
    assert pool.status.get()["pg_autoscale_mode"] == "off"  # the other setting went through
    status, log = finished(api, api.nodes("pve1").ceph.pool("nope").put(size=3))
    assert status == "error with 'osd pool get': mon_cmd failed - unrecognized pool 'nope'"

    # Ceph's OSDMonitor::check_pg_num: 403 PG replicas now (ceph-vm at size 2), 6 OSDs in, at most 250 per OSD
    status, _log = finished(api, api.nodes("pve1").ceph.pool.post(name="big", pg_num=4096))
    assert status == ("error with 'osd pool create': mon_cmd failed -  pg_num 4096 size 3 for this pool would result "
                      "in 2115 cumulative PGs per OSD (12691 total PG replicas on 6 'in' root OSDs by crush rule) "
                      "which exceeds the mon_max_pg_per_osd value of 250")  # fmt: skip
    error = refused(api.nodes("pve1").ceph.pool.post, name="Big!", add_storages=1)
    assert "pool name contains characters which are illegal for storage naming" in str(error)


def test_ceph_pool_destroy(pve_cluster_factory):
    # Pool.pm 598-648: the images on the pool's storages keep it (unless force), remove_storages drops them
    _cluster, api = client(pve_cluster_factory)
    node = api.nodes("pve1")
    status, log = finished(api, node.ceph.pool("ceph-vm").delete(remove_storages=1))
    assert status == "ceph pool 'ceph-vm' still in use by storage 'ceph-vm'"
    assert log[0] == "checking storage 'ceph-vm' for RBD images.."
    status, _log = finished(api, node.ceph.pool("cephfs_data").delete())
    assert status == "error with 'osd pool delete': mon_cmd failed - pool 'cephfs_data' is in use by CephFS"

    assert finished(api, node.ceph.pool.post(name="scratch", pg_num=8, add_storages=1))[0] == "OK"
    upid = node.ceph.pool("scratch").delete(remove_storages=1)
    assert upid.split(":")[5:7] == ["cephdestroypool", "scratch"]
    assert finished(api, upid)[0] == "OK"
    assert "scratch" not in {pool["pool_name"] for pool in node.ceph.pool.get()}
    assert "scratch" not in {storage["storage"] for storage in api.storage.get()}


def test_ceph_osd_out_down_destroy_create(pve_cluster_factory):
    # OSD.pm 1003-1017 (before the worker): this node's, not in, not up; 1028-1068 the worker's lines;
    # 377-405 the disk must exist and be unused; Diskmanage.pm 35-60
    _cluster, api = client(pve_cluster_factory)
    node = api.nodes("pve1")
    assert "osd is in use (in == 1)" in str(refused(node.ceph.osd(0).delete))
    assert node.ceph.osd(0).out.post() is None
    tree = node.ceph.osd.get()["root"]["children"][0]["children"][0]["children"]
    assert next((osd["id"], osd["in"], osd["pgs"]) for osd in tree) == (0, 0, 0)
    assert api.cluster.ceph.status.get()["osdmap"]["num_in_osds"] == 5
    assert "osd is still running (up == 1)" in str(refused(node.ceph.osd(0).delete))

    upid = node.ceph.stop.post(service="osd.0")
    assert upid.split(":")[5:7] == ["srvstop", "osd.0"] and finished(api, upid)[0] == "OK"
    health = api.cluster.ceph.status.get()["health"]
    assert health["checks"]["OSD_DOWN"]["detail"] == [{"message": "osd.0 (root=default,host=pve1) is down"}]
    error = refused(api.nodes("pve2").ceph.osd(0).delete)
    assert "OSD osd.0 does not belong to node pve2!" in str(error)

    upid = node.ceph.osd(0).delete(cleanup=1)
    assert upid.split(":")[5:7] == ["cephdestroyosd", "osd.0"]
    status, log = finished(api, upid)
    assert status == "OK" and log[0] == "destroy OSD osd.0" and "Remove OSD osd.0" in log
    assert api.cluster.ceph.status.get()["osdmap"]["num_osds"] == 5
    disks = {disk["devpath"]: disk for disk in node.disks.list.get()}
    assert "used" not in disks["/dev/nvme1n1"] and "/dev/nvme1n1" in {
        d["devpath"] for d in node.disks.list.get(type="unused")
    }

    assert "device '/dev/nvme2n1' is already in use" in str(refused(node.ceph.osd.post, dev="/dev/nvme2n1"))
    assert "not a valid block device" in str(refused(node.ceph.osd.post, dev="/dev/nvme9n1"))
    upid = node.ceph.osd.post(dev="/dev/nvme1n1")
    assert upid.split(":")[5:7] == ["cephcreateosd", "nvme1n1"]
    status, log = finished(api, upid)
    assert status == "OK" and log[0] == "create OSD on /dev/nvme1n1 (bluestore)"
    tree = node.ceph.osd.get()["root"]["children"][0]["children"][0]["children"]
    assert [(osd["id"], osd["status"], osd["in"]) for osd in tree] == [(0, "up", 1), (1, "up", 1)]  # the lowest free id
    assert api.cluster.ceph.status.get()["health"]["status"] == "HEALTH_OK"
    assert "no such OSD '99'" in str(refused(node.ceph.osd(99).out.post))


def test_ceph_osd_destroy_without_cleanup(pve_cluster_factory):
    # OSD.pm 1086-1091: without cleanup ceph-volume zaps but keeps the LVM; 383 'already in use'
    _cluster, api = client(pve_cluster_factory)
    node = api.nodes("pve3")
    node.ceph.osd(5).out.post()
    assert finished(api, node.ceph.stop.post(service="osd.5"))[0] == "OK"
    assert finished(api, node.ceph.osd(5).delete())[0] == "OK"
    assert "device '/dev/nvme2n1' is already in use" in str(refused(node.ceph.osd.post, dev="/dev/nvme2n1"))


def test_ceph_flags_set_unset(pve_cluster_factory):
    # Cluster/Ceph.pm 922-960: the worker logs each change; 'pause' is pauserd+pausewr (Tools.pm 612-622);
    # Ceph's OSDMAP_FLAGS health check names the flags set
    _cluster, api = client(pve_cluster_factory)
    upid = api.cluster.ceph.flags.put(noout=1, pause=1, noscrub=0)
    assert upid.split(":")[5:7] == ["cephsetflags", ""]
    assert finished(api, upid) == ("OK", ["set noout", "set pause", "TASK OK"])
    flags = {flag["name"]: flag["value"] for flag in api.cluster.ceph.flags.get()}
    assert (flags["noout"], flags["pause"], flags["noscrub"]) == (1, 1, 0)
    assert api.nodes("pve1").ceph.osd.get()["flags"].startswith("pauserd,pausewr,noout,sortbitwise")
    checks = api.cluster.ceph.status.get()["health"]["checks"]
    assert checks["OSDMAP_FLAGS"]["summary"]["message"] == "pauserd,pausewr,noout flag(s) set"
    assert api.cluster.ceph.flags("pause").put(value=0) is None
    assert api.cluster.ceph.flags("pause").get() == 0
    assert api.cluster.ceph.status.get()["health"]["checks"]["OSDMAP_FLAGS"]["summary"]["message"] == (
        "noout flag(s) set")  # fmt: skip


def test_ceph_stop_start_services(pve_cluster_factory):
    # Ceph.pm 363-494: srvstop/srvstart of ceph.target (every daemon of the node) or one daemon
    # (Services.pm 126-136); a daemon the node does not have fails to start as systemd does
    _cluster, api = client(pve_cluster_factory)
    upid = api.nodes("pve1").ceph.stop.post()
    assert upid.split(":")[5:7] == ["srvstop", "ceph"] and finished(api, upid)[0] == "OK"
    status = api.cluster.ceph.status.get()
    assert status["quorum_names"] == ["pve2", "pve3"] and status["mgrmap"]["active_name"] == "pve2"
    assert status["osdmap"]["num_up_osds"] == 4
    assert set(status["health"]["checks"]) == {"MON_DOWN", "OSD_DOWN", "OSD_HOST_DOWN"}
    assert finished(api, api.nodes("pve1").ceph.start.post())[0] == "OK"
    assert api.cluster.ceph.status.get()["health"]["status"] == "HEALTH_OK"
    status, _log = finished(api, api.nodes("pve1").ceph.start.post(service="mon.pve9"))
    assert status == "command '/bin/systemctl start ceph-mon@pve9' failed: exit code 1"


def test_ceph_mgr_mds_create_destroy(pve_cluster_factory):
    # Services.pm 368-434 (create_mgr, destroy_mgr: the directory must be on this node), MDS.pm 176 and
    # Services.pm 276-364
    _cluster, api = client(pve_cluster_factory)
    node = api.nodes("pve1").ceph
    upid = node.mgr("pve1").delete()
    assert upid.split(":")[5:7] == ["cephdestroymgr", "mgr.pve1"]
    status, log = finished(api, upid)
    assert status == "OK" and log[-2:] == ["removing authkeys for mgr.pve1", "TASK OK"]
    assert [(mgr["name"], mgr["state"]) for mgr in node.mgr.get()] == [("pve2", "active"), ("pve3", "standby")]
    status, _log = finished(api, node.mgr("pve2").delete())
    assert status == "ceph manager directory '/var/lib/ceph/mgr/ceph-pve2' not found"
    assert finished(api, node.mgr("pve1").post())[0] == "OK"
    assert {mgr["name"] for mgr in node.mgr.get()} == {"pve1", "pve2", "pve3"}

    assert "ID of the MDS cannot start with a number!" in str(refused(node.mds("1st").post))
    status, log = finished(api, node.mds("pve1").delete())
    assert status == "OK" and "removing ceph-mds directory '/var/lib/ceph/mds/ceph-pve1'" in log
    assert sorted(mds["name"] for mds in node.mds.get()) == ["pve2", "pve3"]
    status, log = finished(api, node.mds("pve1").post())
    assert status == "OK" and log[0] == "creating MDS directory '/var/lib/ceph/mds/ceph-pve1'"
    status, _log = finished(api, node.mds("pve1").post())
    assert status == "MDS 'pve1' already referenced in ceph config, abort!"


def test_ceph_fs_create(pve_cluster_factory):
    # FS.pm 149-254: pools and the fs must be new, a standby MDS must exist (checked before the worker); the data
    # pool gets application and pg_num, the metadata pool a quarter of the PGs (set_pool already dropped the
    # application from PVE's hash: Tools.pm 296-307); add-storage adds the CephFS storage
    _cluster, api = client(pve_cluster_factory)
    node = api.nodes("pve1").ceph
    upid = node.fs("archive").post(pg_num=32, **{"add-storage": 1})
    assert upid.split(":")[5:7] == ["cephfscreate", "archive"]
    assert finished(api, upid) == ("OK", [
        "creating data pool 'archive_data'...", "pool archive_data: applying application = cephfs",
        "skipping 'pg_num', did not change", "creating metadata pool 'archive_metadata'...",
        "skipping 'pg_num', did not change", "configuring new CephFS 'archive'", "Successfully create CephFS 'archive'",
        "Adding 'archive' to storage configuration...", "TASK OK"])  # fmt: skip
    pools = {pool["pool_name"]: pool for pool in node.pool.get()}
    assert (pools["archive_data"]["pg_num"], pools["archive_metadata"]["pg_num"]) == (32, 8)
    assert pools["archive_metadata"]["application_metadata"] == {"cephfs": {"metadata": "archive"}}
    assert [fs["name"] for fs in node.fs.get()] == ["cephfs", "archive"]
    assert sorted(mds["state"] for mds in node.mds.get()) == ["up:active", "up:active", "up:standby"]
    assert next(s for s in api.storage.get() if s["storage"] == "archive")["type"] == "cephfs"
    error = refused(node.fs("cephfs").post)
    assert "ceph pools 'cephfs_data' and/or 'cephfs_metadata' already exist" in str(error)
    assert finished(api, node.fs("logs").post(pg_num=16))[0] == "OK"
    assert "no standby Metadata Server (MDS) found!" in str(refused(node.fs("more").post))


def test_ceph_stopped_osd_marked_out(pve_cluster_factory):
    # Ceph's monitors mark an OSD down for mon_osd_down_out_interval (600 s) out, unless the noout flag is set, and
    # in again when it boots (mon_osd_auto_mark_auto_out_in); OSD.pm 1014 then no longer refuses its destroy
    cluster, api = client(pve_cluster_factory)
    node = api.nodes("pve3")

    def osd_in(osdid):
        hosts = node.ceph.osd.get()["root"]["children"][0]["children"]
        return next(osd["in"] for host in hosts for osd in host.get("children", []) if osd["id"] == osdid)

    assert finished(api, node.ceph.stop.post(service="osd.5"))[0] == "OK"
    cluster.clock.advance(599)
    assert osd_in(5) == 1
    cluster.clock.advance(1)
    assert osd_in(5) == 0 and api.cluster.ceph.status.get()["osdmap"]["num_in_osds"] == 5
    assert finished(api, node.ceph.start.post(service="osd.5"))[0] == "OK"
    assert osd_in(5) == 1
    api.cluster.ceph.flags("noout").put(value=1)
    assert finished(api, node.ceph.stop.post(service="osd.4"))[0] == "OK"
    cluster.clock.advance(3600)
    assert osd_in(4) == 1
    assert "osd is in use (in == 1)" in str(refused(node.ceph.osd(4).delete))


def test_ceph_pool_erasure_coded(pve_cluster_factory):
    # Pool.pm 415-425 (a named profile must exist), 501-539 (profile pve_ec_NAME, the EC data pool NAME-data with
    # allow_ec_overwrites, a replicated NAME-metadata pool with 32 PGs, the storage with both: add_storages is on
    # by default), 621-632 (destroy drops the profile); pve-storage RBDPlugin.pm 785: the storage's figures are
    # the data pool's
    _cluster, api = client(pve_cluster_factory)
    node = api.nodes("pve1")
    error = refused(node.ceph.pool.post, name="ec", **{"erasure-coding": "k=2,m=1,profile=nope"})
    assert "Erasure code profile 'nope' does not exist." in str(error)
    upid = node.ceph.pool.post(name="ec", pg_num=16, **{"erasure-coding": "k=2,m=1"})
    assert upid.split(":")[5:7] == ["cephcreatepool", "ec"]
    status, log = finished(api, upid)
    assert status == "OK"
    assert log[:5] == [
        "created new erasure code profile 'pve_ec_ec'",
        "pool ec-data: applying allow_ec_overwrites = true",
        "pool ec-data: applying application = rbd",
        "pool ec-data: applying pg_autoscale_mode = warn",
        "skipping 'pg_num', did not change",
    ]
    pools = {pool["pool_name"]: pool for pool in node.ceph.pool.get()}
    assert (pools["ec-data"]["type"], pools["ec-data"]["size"], pools["ec-data"]["min_size"]) == ("erasure", 3, 3)
    assert (pools["ec-metadata"]["type"], pools["ec-metadata"]["pg_num"]) == ("replicated", 32)
    assert node.ceph.pool("ec-data").status.get()["erasure_code_profile"] == "pve_ec_ec"
    before = node.ceph.pool("ec-data").status.get(verbose=1)["statistics"]
    assert finished(api, node.qemu(100).config.post(scsi1="ec:10"))[0] == "OK"
    after = node.ceph.pool("ec-data").status.get(verbose=1)["statistics"]
    assert after["stored"] - before["stored"] == 10 * 1024**3
    assert after["bytes_used"] - before["bytes_used"] == 15 * 1024**3  # (k+m)/k raw per byte
    storage = next(s for s in node.storage.get() if s["storage"] == "ec")
    assert (storage["used"], storage["avail"]) == (after["stored"], after["max_avail"])
    definition = api.storage("ec").get()  # Pool.pm $add_storage 351: the EC data pool beside the metadata pool
    assert (definition["pool"], definition["data-pool"]) == ("ec-metadata", "ec-data")

    status, _log = finished(api, node.ceph.pool("ec-data").delete())
    assert status == "ceph pool 'ec-data' still in use by storage 'ec'"
    status, log = finished(api, node.ceph.pool("ec-data").delete(force=1))
    assert status == "OK" and log[-3:] == ["found erasure coded profile 'pve_ec_ec', destroying its CRUSH rule",
                                           "destroying erasure coded profile 'pve_ec_ec'", "TASK OK"]  # fmt: skip
