"""More of the guest endpoints through proxmoxer: containers, API-token tasks, pending changes, task filters."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer.core import ResourceException  # noqa: E402
from proxmoxer.tools import Tasks  # noqa: E402
from support.clients import wait  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)


def test_create_clone_and_migrate_a_container(pve_api):
    upid = pve_api.nodes("pve1").lxc.post(
        vmid=300,
        ostemplate="local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst",
        hostname="web-ct",
        memory=1024,
        rootfs="local-lvm:4",
        net0="name=eth0,bridge=vmbr0,ip=dhcp",
        start=1,
    )
    assert ":vzcreate:300:" in upid and wait(pve_api, upid)["exitstatus"] == "OK"
    config = pve_api.nodes("pve1").lxc(300).config.get()
    assert config["rootfs"] == "local-lvm:vm-300-disk-0,size=4G" and "hwaddr=BC:24:11:" in config["net0"]
    assert pve_api.nodes("pve1").lxc(300).status.current.get()["status"] == "running"
    with pytest.raises(ResourceException, match="can't migrate running container without --online or --restart"):
        pve_api.nodes("pve1").lxc(300).migrate.post(target="pve2")
    upid = pve_api.nodes("pve1").lxc(300).migrate.post(target="pve2", restart=1)
    assert ":vzmigrate:300:" in upid and wait(pve_api, upid)["exitstatus"] == "OK"
    assert pve_api.nodes("pve2").lxc(300).status.current.get()["status"] == "running"
    Tasks.blocking_status(pve_api, pve_api.nodes("pve2").lxc(300).status.stop.post(), polling_interval=0)
    upid = pve_api.nodes("pve2").lxc(300).clone.post(newid=301, hostname="web-ct-2")
    assert ":vzclone:300:" in upid and wait(pve_api, upid)["exitstatus"] == "OK"
    assert pve_api.nodes("pve2").lxc(301).config.get()["hostname"] == "web-ct-2"


def test_existing_vmid_cannot_be_created_again(pve_api):
    with pytest.raises(ResourceException, match="unable to create VM 100 - VM 100 already exists on node 'pve1'"):
        pve_api.nodes("pve2").qemu.post(vmid=100, memory="512")
    with pytest.raises(ResourceException) as error:
        pve_api.cluster.nextid.get(vmid=100)
    assert error.value.status_code == 400 and "VM 100 already exists" in str(error.value)


def test_tasks_started_with_an_api_token_carry_it(pve_cluster):
    secret = pve_cluster.access.add_token("root@pam", "ci", privsep=False)
    api = proxmoxer.ProxmoxAPI(pve_cluster.host, user="root@pam", token_name="ci", token_value=secret, verify_ssl=False)
    upid = api.nodes("pve2").qemu(102).status.start.post()
    assert ":qmstart:102:root@pam!ci:" in upid
    status = api.nodes("pve2").tasks(upid).status.get()
    assert status["user"] == "root@pam" and status["tokenid"] == "ci"


def test_pending_changes_of_a_running_vm(pve_api):
    vm = pve_api.nodes("pve1").qemu(100)
    vm.config.put(cores=8, name="web01-renamed")
    pending = {row["key"]: row for row in vm.pending.get()}
    assert pending["cores"] == {"key": "cores", "value": "2", "pending": "8"}
    assert "pending" not in pending["name"] and pending["name"]["value"] == "web01-renamed"
    assert vm.config.get()["cores"] == 8 and vm.config.get(current=1)["cores"] == 2
    wait(pve_api, vm.status.stop.post())
    assert vm.config.get(current=1)["cores"] == 8


def test_pause_and_resume(pve_api):
    vm = pve_api.nodes("pve1").qemu(100)
    wait(pve_api, vm.status.suspend.post())
    current = vm.status.current.get()
    assert current["status"] == "running" and current["qmpstatus"] == "paused"
    with pytest.raises(ResourceException, match="VM is paused - cannot shutdown"):
        vm.status.shutdown.post()
    wait(pve_api, vm.status.resume.post())
    assert vm.status.current.get()["qmpstatus"] == "running"
    with pytest.raises(ResourceException, match="VM 102 not running"):
        pve_api.nodes("pve2").qemu(102).status.resume.post()


@pytest.mark.pve_cluster(task_mode="manual", validate=True)
def test_task_list_sources_and_filters(pve_cluster, pve_api):
    pve_api.nodes("pve2").qemu(102).status.start.post()
    assert pve_api.nodes("pve2").tasks.get() == []
    active = pve_api.nodes("pve2").tasks.get(source="active")
    assert len(active) == 1 and active[0]["status"] == "RUNNING" and "endtime" not in active[0]  # Tasks.pm 246
    pve_cluster.clock.settle()
    pve_api.nodes("pve2").qemu(102).status.start.post()  # fails: already running
    pve_cluster.clock.settle()
    assert [row["status"] for row in pve_api.nodes("pve2").tasks.get(errors=1)] == ["VM 102 already running"]
    assert len(pve_api.nodes("pve2").tasks.get(typefilter="qmstart", vmid=102)) == 2
    assert pve_api.nodes("pve2").tasks.get(limit=1, start=1)[0]["status"] == "OK"


def test_lock_blocks_and_unlock_frees(pve_cluster, pve_api):
    pve_cluster.guest(102).set_lock("backup")
    assert pve_api.cluster.resources.get(type="vm")[2]["lock"] == "backup"
    with pytest.raises(ResourceException, match=r"VM is locked \(backup\)"):
        pve_api.nodes("pve2").qemu(102).config.put(cores=1)
    pve_cluster.guest(102).unlock()
    assert pve_api.nodes("pve2").qemu(102).config.put(cores=1) is None
