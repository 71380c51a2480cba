"""Catalogue rows (docs/behaviour.md, "Listings filtered by permission"): what a user or an API token with rights on
one VM only sees, as PVE's handlers filter their lists (pve-manager 14a22df3, qemu-server e6352be6, pve-container
94f55852, pve-storage 0c56bad8, pve-access-control 5ccd07d9), through a real proxmoxer client."""

from __future__ import annotations

import pytest

proxmoxer = pytest.importorskip("proxmoxer")

pytestmark = pytest.mark.pve_cluster(validate=True)

PASSWORD = "bob-password"
NODE_FIGURES = {"uptime", "cpu", "mem", "disk", "maxcpu", "maxmem", "maxdisk"}


def login(cluster, user="bob@pve"):
    return proxmoxer.ProxmoxAPI(cluster.host, port=cluster.port, user=user, password=PASSWORD, verify_ssl=False)


def token(cluster, api, name, privsep):
    made = api.access.users("bob@pve").token(name).post(privsep=privsep)
    return proxmoxer.ProxmoxAPI(
        cluster.host, port=cluster.port, user="bob@pve", token_name=name, token_value=made["value"], verify_ssl=False
    )


@pytest.fixture
def bob(pve_cluster, pve_api):
    """bob@pve with PVEVMUser on /vms/100 only (VM.Audit there, nothing else)."""
    pve_api.access.users.post(userid="bob@pve", password=PASSWORD)
    pve_api.access.acl.put(path="/vms/100", roles="PVEVMUser", users="bob@pve")
    return login(pve_cluster)


def test_listing_resources_vm_audit_per_guest(bob):
    # Cluster.pm resources 588: a guest only with VM.Audit on /vms/<vmid>; no pool, storage or SDN entries
    rows = bob.cluster.resources.get()
    assert [row["vmid"] for row in rows if "vmid" in row] == [100]
    assert {row["type"] for row in rows} == {"qemu", "node"}


def test_listing_resources_pool_of_guest_needs_pool_audit(pve_api, bob):
    # Cluster.pm resources 596-601: the guest's 'pool' only with Pool.Audit on it; 536-548: pool rows likewise
    assert "pool" not in bob.cluster.resources.get(type="vm")[0]
    pve_api.access.acl.put(path="/pool/prod", roles="PVEAuditor", users="bob@pve")
    rows = bob.cluster.resources.get()
    assert next(row for row in rows if row.get("vmid") == 100)["pool"] == "prod"
    assert [row["id"] for row in rows if row["type"] == "pool"] == ["/pool/prod"]


def test_listing_resources_node_figures_need_sys_audit(pve_api, bob):
    # Cluster.pm resources 621-624 and API2Tools.pm extract_node_stats 38-79: every node, figures only with Sys.Audit
    nodes = bob.cluster.resources.get(type="node")
    assert len(nodes) == 3 and all(not NODE_FIGURES & set(row) for row in nodes)
    assert {row["status"] for row in nodes} == {"online"}
    pve_api.access.acl.put(path="/nodes/pve1", roles="PVEAuditor", users="bob@pve")
    figures = {row["node"]: set(row) >= NODE_FIGURES for row in bob.cluster.resources.get(type="node")}
    assert figures == {"pve1": True, "pve2": False, "pve3": False}


def test_listing_resources_storage_needs_datastore_audit(pve_api, bob):
    # Cluster.pm resources 646-657: a storage (one row per node) only with Datastore.Audit on /storage/<id>
    assert bob.cluster.resources.get(type="storage") == []
    pve_api.access.acl.put(path="/storage/nas", roles="PVEAuditor", users="bob@pve")
    assert {row["storage"] for row in bob.cluster.resources.get(type="storage")} == {"nas"}


def test_listing_nodes_figures_need_sys_audit(bob):
    # Nodes.pm index 2985-2994: every node, with ssl_fingerprint; the figures only with Sys.Audit on it
    nodes = bob.nodes.get()
    assert sorted(row["node"] for row in nodes) == ["pve1", "pve2", "pve3"]
    assert all(not NODE_FIGURES & set(row) and row["ssl_fingerprint"] for row in nodes)


def test_listing_qemu_and_lxc_need_vm_audit(pve_api, bob):
    # qemu-server Qemu.pm vmlist 1112-1113, pve-container LXC.pm vmlist 129: VM.Audit per guest
    assert [vm["vmid"] for vm in bob.nodes("pve1").qemu.get()] == [100]
    assert bob.nodes("pve2").lxc.get() == []
    pve_api.access.acl.put(path="/vms/110", roles="PVEAuditor", users="bob@pve")
    assert [ct["vmid"] for ct in bob.nodes("pve2").lxc.get()] == [110]


def test_listing_storage_needs_audit_or_allocate_space(pve_api, bob):
    # pve-storage Config.pm index 161-163 and Status.pm index 243-245: Datastore.Audit or Datastore.AllocateSpace
    assert bob.storage.get() == [] and bob.nodes("pve1").storage.get() == []
    pve_api.access.acl.put(path="/storage/local", roles="PVEDatastoreUser", users="bob@pve")
    assert [row["storage"] for row in bob.storage.get()] == ["local"]
    assert [row["storage"] for row in bob.nodes("pve1").storage.get()] == ["local"]


def test_listing_pools_need_pool_audit(pve_api, bob):
    # Pool.pm index 146-153: pools with Pool.Audit; ?poolid= reads one pool whatever the rights (check noerr, 93)
    pve_api.pools.post(poolid="dev")
    assert bob.pools.get() == []
    pve_api.access.acl.put(path="/pool/dev", roles="PVEPoolUser", users="bob@pve")
    assert [pool["poolid"] for pool in bob.pools.get()] == ["dev"]


def test_listing_token_privsep_sees_own_acl_only(pve_cluster, pve_api, bob):
    # pve-access-control AccessControl.pm roles 1788-1896 / RPCEnvironment.pm permissions 136-176: a privilege-
    # separated token has the intersection of its own ACL and its user's; without its own entries it sees nothing
    separated = token(pve_cluster, pve_api, "sep", privsep=1)
    assert [row for row in separated.cluster.resources.get() if "vmid" in row] == []
    pve_api.access.acl.put(path="/vms", roles="PVEAuditor", tokens="bob@pve!sep")
    assert [row["vmid"] for row in separated.cluster.resources.get(type="vm")] == [100]


def test_listing_token_without_privsep_sees_as_user(pve_cluster, pve_api, bob):
    # RPCEnvironment.pm permissions 136-176: privsep=0 gives the token its user's privileges
    full = token(pve_cluster, pve_api, "full", privsep=0)
    assert [row["vmid"] for row in full.cluster.resources.get(type="vm")] == [100]
    assert [vm["vmid"] for vm in full.nodes("pve1").qemu.get()] == [100]
