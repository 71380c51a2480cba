"""Catalogue rows (docs/behaviour.md, "Node power, startall and stopall"): pve-manager ``PVE/API2/Nodes.pm`` at
14a22df3 (``node_cmd``, ``startall``, ``stopall``, ``get_start_stop_list``, ``version``) and
``services/pve-guests.service``, through a real proxmoxer client."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from support.clients import proxmoxer_client, refused  # noqa: E402
from support.clients import task_log as log_of  # noqa: E402
from support.clients import wait as finish  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)


def states(api, node):
    guests = api.nodes(node).qemu.get() + api.nodes(node).lxc.get()
    return {guest["vmid"]: guest["status"] for guest in guests}


def stop_everything(api, node):
    assert finish(api, api.nodes(node).stopall.post())["exitstatus"] == "OK"
    assert set(states(api, node).values()) == {"stopped"}


def test_startall_onboot_in_startup_order(pve_api):
    # Nodes.pm get_start_stop_list 2068-2093 (onboot only without force; order, then VMID), startall 2128-2293
    pve_api.nodes("pve1").qemu(101).config.put(onboot=1, startup="order=1,up=20")
    pve_api.nodes("pve1").qemu(100).config.put(onboot=1, startup="order=2")
    stop_everything(pve_api, "pve1")
    upid = pve_api.nodes("pve1").startall.post()
    assert ":startall::root@pam:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    assert log_of(pve_api, upid) == [
        "Starting VM 101", "Waiting for 20 seconds (startup delay)", "Starting VM 100", "TASK OK",
    ]  # fmt: skip
    assert states(pve_api, "pve1") == {100: "running", 101: "running", 9000: "stopped"}


def test_startall_without_onboot_starts_nothing_unless_forced(pve_api):
    # Nodes.pm startall 2209 ($autostart = $force ? undef : 1); templates are never started (get_filtered_vmlist 2053)
    stop_everything(pve_api, "pve1")
    assert log_of(pve_api, pve_api.nodes("pve1").startall.post()) == ["TASK OK"]
    upid = pve_api.nodes("pve1").startall.post(force=1)
    assert log_of(pve_api, upid) == ["Starting VM 100", "Starting VM 101", "TASK OK"]
    assert states(pve_api, "pve1")[9000] == "stopped"


def test_startall_skips_ha_managed_unless_named(pve_cluster, pve_api):
    # Nodes.pm get_start_stop_list 2072: HA-managed guests only when 'vms' names them
    stop_everything(pve_api, "pve1")
    pve_api.cluster.ha.resources.post(sid="vm:100", state="stopped")
    assert "Starting VM 100" not in log_of(pve_api, pve_api.nodes("pve1").startall.post(force=1))
    assert "Starting VM 100" in log_of(pve_api, pve_api.nodes("pve1").startall.post(force=1, vms="100"))


def test_stopall_highest_order_first_with_timeouts(pve_api):
    # Nodes.pm stopall 2395-2411: orders and VMIDs descending, each guest's 'down' or the given timeout
    pve_api.nodes("pve1").qemu(100).config.put(startup="order=1,down=30")
    upid = pve_api.nodes("pve1").stopall.post(timeout=60)
    assert ":stopall::root@pam:" in upid
    assert log_of(pve_api, upid) == [
        "Stopping VM 101 (timeout = 60 seconds)", "Stopping VM 100 (timeout = 30 seconds)", "TASK OK",
    ]  # fmt: skip
    assert states(pve_api, "pve1") == {100: "stopped", 101: "stopped", 9000: "stopped"}


def test_startall_needs_powermgmt_on_root_or_each_vm(pve_cluster, pve_api):
    # Nodes.pm startall 2174-2183: VM.PowerMgmt on '/', else on each VMID 'vms' names, before the worker
    pve_cluster.access.add_user("op@pve", password="op-password")
    pve_api.access.acl.put(path="/vms/100", roles="PVEVMUser", users="op@pve")
    operator = proxmoxer_client(pve_cluster, "op@pve", "op-password")
    error = refused(operator.nodes("pve1").startall.post)
    assert error.status_code == 403 and "Permission check failed (/, VM.PowerMgmt)" in str(error)
    assert "(/vms/101, VM.PowerMgmt)" in str(refused(operator.nodes("pve1").startall.post, vms="100,101"))
    assert ":startall::op@pve:" in operator.nodes("pve1").startall.post(vms="100")


def test_node_reboot_starts_onboot_guests(pve_cluster, pve_api):
    # Nodes.pm node_cmd 682: '(sleep 2;/sbin/reboot)&'; at boot services/pve-guests.service 21 runs startall as root
    pve_api.nodes("pve2").lxc(110).config.put(onboot=1)
    assert pve_api.nodes("pve2").status.post(command="reboot") is None
    pve_cluster.clock.advance(5)
    node = next(row for row in pve_api.nodes.get() if row["node"] == "pve2")
    assert node["status"] == "online" and node["uptime"] < 600
    assert states(pve_api, "pve2") == {102: "stopped", 110: "running"}
    boot = [task for task in pve_api.nodes("pve2").tasks.get() if task["type"] == "startall"]
    assert boot and boot[0]["user"] == "root@pam"


def test_node_shutdown_goes_offline(pve_cluster, pve_api):
    # Nodes.pm node_cmd 682: '(sleep 2;/sbin/poweroff)&'; the node stays off until it is powered on
    pve_api.nodes("pve3").status.post(command="shutdown")
    pve_cluster.clock.advance(5)
    assert {row["node"]: row["status"] for row in pve_api.nodes.get()}["pve3"] == "offline"


def test_node_version_is_the_clusters_release(pve_api):
    # Nodes.pm version 278-313: PVE::pvecfg::version_info(), what /version answers without 'console'
    answer = pve_api.nodes("pve1").version.get()
    assert answer == {key: value for key, value in pve_api.version.get().items() if key != "console"}


@pytest.mark.pve_cluster(task_mode="manual")
def test_startall_waits_only_after_the_guests_it_starts(pve_cluster, pve_api):
    # Nodes.pm startall 2236-2248: a running guest returns before its start and its 3 s default delay
    pve_cluster.guest(101).stop()
    pve_cluster.clock.settle()
    upid = pve_api.nodes("pve1").startall.post(force=1)  # VM 100 runs: only VM 101's 3 s
    pve_cluster.clock.advance(3)
    assert pve_api.nodes("pve1").tasks(upid).status.get()["exitstatus"] == "OK"
    assert log_of(pve_api, upid) == ["Starting VM 101", "TASK OK"]
