"""Catalogue rows (docs/behaviour.md, "Pools and the next free VMID") read from pve-manager at 14a22df3
(PVE/API2/Pool.pm, PVE/API2/Cluster.pm nextid), driven through a real proxmoxer client. Pool writes run inside
``lock_user_config``: their errors carry the method's prefix (``update pools failed: ...``)."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from proxmoxer.core import ResourceException  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)


def refused(call, status=500):
    with pytest.raises(ResourceException) as caught:
        call()
    assert caught.value.status_code == status, caught.value
    return caught.value


def message(call):
    return refused(call).content.strip()


def members(api, poolid, **filters):
    return sorted(member["id"] for member in api.pools.get(poolid=poolid, **filters)[0]["members"])


def test_pool_create_and_list(pve_api):
    # Pool.pm create_pool 201-206 and index 146-153: poolid and comment, sorted
    pve_api.pools.post(poolid="dev", comment="Development")
    assert {"poolid": "dev", "comment": "Development"} in pve_api.pools.get()
    assert [pool["poolid"] for pool in pve_api.pools.get()] == sorted(pool["poolid"] for pool in pve_api.pools.get())


def test_pool_create_existing_refused(pve_api):
    # Pool.pm create_pool 191, inside lock_user_config ("create pool failed")
    assert message(lambda: pve_api.pools.post(poolid="prod")) == "create pool failed: pool 'prod' already exists"


def test_pool_create_name_must_start_with_letter(pve_api):
    # Pool.pm create_pool 198: the pve-poolid format allows digits first, the code does not
    assert (
        message(lambda: pve_api.pools.post(poolid="1dev")) == "create pool failed: pool name must start with a letter"
    )


def test_pool_update_adds_vms_and_storage(pve_api):
    # Pool.pm update_pool 331-372: vms and storage added; the members list guests, then storages per node
    pve_api.pools.post(poolid="dev")
    pve_api.pools.put(poolid="dev", vms="102,111", storage="nas")
    ids = members(pve_api, "dev")
    assert {"qemu/102", "lxc/111"} <= set(ids) and any(member.startswith("storage/") for member in ids)
    assert members(pve_api, "dev", type="lxc") == ["lxc/111"]


def test_pool_update_vm_already_member_refused(pve_api):
    # Pool.pm update_pool 341-342
    pve_api.pools.post(poolid="dev")
    pve_api.pools.put(poolid="dev", vms="102")
    text = message(lambda: pve_api.pools.put(poolid="dev", vms="102"))
    assert text == "update pools failed: VM 102 is already a pool member"


def test_pool_update_vm_of_other_pool_needs_allow_move(pve_api):
    # Pool.pm update_pool 343-352: a guest of another pool moves only with allow-move
    pve_api.pools.post(poolid="dev")
    text = message(lambda: pve_api.pools.put(poolid="dev", vms="100"))
    assert text == "update pools failed: VM 100 belongs already to pool 'prod' and 'allow-move' is not set"
    pve_api.pools.put(poolid="dev", vms="100", **{"allow-move": 1})
    assert "qemu/100" in members(pve_api, "dev") and "qemu/100" not in members(pve_api, "prod")


def test_pool_update_delete_removes_members(pve_api):
    # Pool.pm update_pool 335-339, 363-366: delete=1 removes; a non-member is refused
    pve_api.pools.post(poolid="dev")
    pve_api.pools.put(poolid="dev", vms="102", storage="nas")
    pve_api.pools.put(poolid="dev", vms="102", storage="nas", delete=1)
    assert members(pve_api, "dev") == []
    text = message(lambda: pve_api.pools.put(poolid="dev", vms="102", delete=1))
    assert text == "update pools failed: VM 102 is not a pool member"


def test_pool_update_storage_already_member_refused(pve_api):
    # Pool.pm update_pool 367-369
    pve_api.pools.post(poolid="dev", comment="x")
    pve_api.pools.put(poolid="dev", storage="nas")
    text = message(lambda: pve_api.pools.put(poolid="dev", storage="nas"))
    assert text == "update pools failed: Storage 'nas' is already a pool member"


def test_pool_missing_refused(pve_api):
    # Pool.pm index 106 (no prefix) and update_pool 327 ("update pools failed")
    assert message(lambda: pve_api.pools.get(poolid="nope")) == "pool 'nope' does not exist"
    assert message(lambda: pve_api.pools.put(poolid="nope", comment="x")) == (
        "update pools failed: pool 'nope' does not exist"
    )


def test_pool_delete_non_empty_refused(pve_api):
    # Pool.pm delete_pool 513-525: guests first, then storages; destroyed guests do not count
    text = message(lambda: pve_api.pools.delete(poolid="prod"))
    assert text == "delete pool failed: pool 'prod' is not empty (contains VM 100)"
    pve_api.pools.post(poolid="dev")
    pve_api.pools.put(poolid="dev", storage="nas")
    text = message(lambda: pve_api.pools.delete(poolid="dev"))
    assert text == "delete pool failed: pool 'dev' is not empty (contains storage 'nas')"


def test_pool_delete_drops_its_acl(pve_api):
    # Pool.pm delete_pool 527-528 (AccessControl.pm delete_pool_acl 1046-1050): the pool's ACL entries go
    pve_api.pools.post(poolid="dev")
    pve_api.access.acl.put(path="/pool/dev", roles="PVEPoolUser", users="root@pam")
    pve_api.pools.delete(poolid="dev")
    assert "dev" not in [pool["poolid"] for pool in pve_api.pools.get()]
    assert [entry for entry in pve_api.access.acl.get() if entry["path"] == "/pool/dev"] == []


def test_nextid_lowest_free(pve_cluster, pve_api):
    # Cluster.pm nextid 1041-1050: from 100 upwards, the first VMID no guest uses
    taken = {guest.vmid for guest in pve_cluster.guests}
    expected = next(vmid for vmid in range(100, 1_000_000) if vmid not in taken)
    assert int(pve_api.cluster.nextid.get()) == expected


def test_nextid_taken_vmid_refused(pve_api):
    # Cluster.pm nextid 1036-1039: a given vmid is answered when free, a parameter error when taken
    assert int(pve_api.cluster.nextid.get(vmid=4321)) == 4321
    error = refused(lambda: pve_api.cluster.nextid.get(vmid=100), 400)
    assert error.errors == {"vmid": "VM 100 already exists"}


def test_nextid_datacenter_range(pve_api):
    # Cluster.pm nextid 1041-1052: the datacenter's next-id lower/upper bound the search (upper excluded)
    pve_api.cluster.options.put(**{"next-id": "lower=5000,upper=5002"})
    assert int(pve_api.cluster.nextid.get()) == 5000
    pve_api.nodes("pve1").qemu.post(vmid=5000)
    assert int(pve_api.cluster.nextid.get()) == 5001
    pve_api.nodes("pve1").qemu.post(vmid=5001)
    assert refused(lambda: pve_api.cluster.nextid.get()).content.strip() == (
        "unable to get any free VMID in range [5000, 5002]"
    )


def test_pool_update_needs_permission_on_members(pve_cluster, pve_api):
    # Pool.pm update_pool 333 (RPCEnvironment.pm check_perm_modify 442-457, check_any 307-325 @5ccd07d9): Pool.Allocate
    # on the pool is not enough, each guest added needs Permissions.Modify or VM.Allocate
    pve_api.pools.post(poolid="dev")
    pve_api.access.users.post(userid="bob@pve", password="bob-password")
    pve_api.access.acl.put(path="/pool/dev", roles="PVEPoolAdmin", users="bob@pve")
    bob = proxmoxer.ProxmoxAPI(
        pve_cluster.host, port=pve_cluster.port, user="bob@pve", password="bob-password", verify_ssl=False
    )
    error = refused(lambda: bob.pools.put(poolid="dev", vms="102"), 403)
    assert error.content == "Permission check failed (/vms/102, Permissions.Modify|VM.Allocate)"
    pve_api.access.acl.put(path="/vms/102", roles="PVEVMAdmin", users="bob@pve")
    bob.pools.put(poolid="dev", vms="102")
    assert members(pve_api, "dev") == ["qemu/102"]
