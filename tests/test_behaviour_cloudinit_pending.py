"""Pending cloud-init changes: what the VM's cloud-init drive was generated from, and what changed since.

qemu-server (commit e6352be6) records, in the config's ``[special:cloudinit]`` section, the value the drive holds for
each option changed since it was generated, and the options added (src/PVE/QemuServer.pm ``$cloudinit_record_changed``
lines 4629-4697); ``GET .../cloudinit`` lists them (src/PVE/API2/Qemu.pm ``cloudinit_pending``, 1970-2011). Starting the
VM (``vm_start_nolock`` 5604-5611) or ``PUT .../cloudinit`` (2032-2048, with a cloud-init drive) regenerates the drive
and forgets the section (src/PVE/QemuServer/Cloudinit.pm ``apply_cloudinit_config`` 727-737).
"""

from __future__ import annotations

import pytest

from tests.support.clients import proxmoxer_client, refused, wait


@pytest.fixture
def pve(pve_cluster_factory):
    cluster = pve_cluster_factory(validate=True)
    return cluster, proxmoxer_client(cluster)


def test_options_added_since_the_drive_was_made_are_pending(pve):
    _, api = pve
    vm = api.nodes("pve2").qemu(102)  # stopped, no cloud-init options yet
    assert vm.cloudinit.get() == []
    vm.config.put(ciuser="admin", ipconfig0="ip=dhcp", cipassword="s3cret-pw")
    assert vm.cloudinit.get() == [
        {"key": "cipassword", "pending": "**********"},  # masked, as PVE never answers the password
        {"key": "ciuser", "pending": "admin"},
        {"key": "ipconfig0", "pending": "ip=dhcp"},
    ]


def test_starting_the_vm_generates_the_drive_then_changes_and_deletes_show_against_it(pve):
    _, api = pve
    vm = api.nodes("pve2").qemu(102)
    vm.config.put(ciuser="admin", searchdomain="lab.test")
    wait(api, vm.status.start.post())
    assert vm.cloudinit.get() == [{"key": "ciuser", "value": "admin"}, {"key": "searchdomain", "value": "lab.test"}]
    vm.config.put(ciuser="ops", delete="searchdomain")
    assert vm.cloudinit.get() == [
        {"key": "ciuser", "value": "admin", "pending": "ops"},
        {"key": "searchdomain", "delete": 1},
    ]
    vm.config.put(ciuser="admin")  # back to what the drive holds: nothing pending for it
    assert vm.cloudinit.get() == [{"key": "ciuser", "value": "admin"}, {"key": "searchdomain", "delete": 1}]


def test_regenerating_needs_a_cloudinit_drive_and_an_unlocked_vm(pve):
    cluster, api = pve
    vm = api.nodes("pve2").qemu(102)
    vm.config.put(ciuser="admin")
    vm.cloudinit.put()  # no cloud-init drive: vmconfig_update_cloudinit_drive returns at once
    assert vm.cloudinit.get() == [{"key": "ciuser", "pending": "admin"}]
    cluster.guest(102).config["ide2"] = "local-lvm:vm-102-cloudinit,media=cdrom"
    cluster.guest(102).config["lock"] = "backup"
    error = refused(vm.cloudinit.put)
    assert (error.status_code, error.content) == (500, "VM is locked (backup)")
    del cluster.guest(102).config["lock"]
    vm.cloudinit.put()
    assert vm.cloudinit.get() == [{"key": "ciuser", "value": "admin"}]
