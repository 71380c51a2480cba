"""Catalogue rows (docs/behaviour.md, "Storage definitions"): ``/storage`` created, changed and removed as
pve-storage's ``API2/Storage/Config.pm`` does (commit 0c56bad8), checked against each plugin's ``options`` and
``plugindata`` by ``PVE::SectionConfig::check_config`` (pve-common f665029e), through a real proxmoxer client."""

from __future__ import annotations

import json

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from support.clients import proxmoxer_client, refused  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)


def definitions(api):
    return {row["storage"]: row for row in api.storage.get()}


def test_storage_create_nfs_defaults(pve_api):
    # Config.pm create 198-296; NFSPlugin.pm check_config 113 (path), plugindata 54-71 (default content: images);
    # Plugin.pm parse_config 600-605 (default content, shared for @SHARED_STORAGE 37-39)
    answer = pve_api.storage.post(storage="nas2", type="nfs", server="192.0.2.20", export="/srv/vm")
    assert answer == {"storage": "nas2", "type": "nfs"}
    row = pve_api.storage("nas2").get()
    assert {key: row[key] for key in ("type", "server", "export", "path", "content", "shared")} == {
        "type": "nfs", "server": "192.0.2.20", "export": "/srv/vm", "path": "/mnt/pve/nas2", "content": "images",
        "shared": 1,
    }  # fmt: skip
    for node in ("pve1", "pve2", "pve3"):  # shared: every node sees it
        assert "nas2" in {row["storage"] for row in pve_api.nodes(node).storage.get()}
    resources = {(row["node"], row["storage"]) for row in pve_api.cluster.resources.get(type="storage")}
    assert {("pve1", "nas2"), ("pve3", "nas2")} <= resources


def test_storage_digest_is_the_files(pve_api):
    # Config.pm $api_storage_config 26-41: every definition carries $cfg->{digest}, the SHA-1 of storage.cfg
    before = {row["digest"] for row in pve_api.storage.get()}
    assert len(before) == 1
    pve_api.storage.post(storage="backups", type="dir", path="/srv/backups", content="backup")
    after = {row["digest"] for row in pve_api.storage.get()}
    assert len(after) == 1 and after != before


def test_storage_create_unexpected_property(pve_api):
    # SectionConfig.pm check_value 1178, before the lock: the bare message, nothing created
    error = refused(pve_api.storage.post, storage="d2", type="dir", path="/srv/d2", server="192.0.2.1")
    assert error.status_code == 500 and "unexpected property 'server'" in str(error)
    assert "d2" not in definitions(pve_api)


def test_storage_create_missing_required_option(pve_api):
    # SectionConfig.pm check_config 1631-1638: nfs needs 'export' (NFSPlugin.pm options 88-108: fixed, not optional)
    error = refused(pve_api.storage.post, storage="nas3", type="nfs", server="192.0.2.21")
    assert error.status_code == 500 and "missing value for required option 'export'" in str(error)


def test_storage_create_duplicate_id(pve_api):
    # Config.pm create 254-258, inside lock_storage_config (Storage.pm 242-250 prefixes the message)
    error = refused(pve_api.storage.post, storage="local", type="dir", path="/srv/other")
    assert error.status_code == 500 and "create storage failed: storage ID 'local' already defined" in str(error)


def test_storage_create_content_the_type_cannot_hold(pve_api):
    # Plugin.pm decode_value 475-496: unsupported types are dropped with a warning; nothing left and no 'none' dies
    pve_api.storage.post(storage="thin2", type="lvmthin", vgname="pve", thinpool="data2", content="images,iso")
    assert pve_api.storage("thin2").get()["content"] == "images"
    error = refused(pve_api.storage.post, storage="thin3", type="lvmthin", vgname="pve", thinpool="d3", content="iso")
    assert "storage does not support content type 'none'" in str(error)


def test_storage_create_directory_path_checked(pve_api):
    # DirPlugin.pm check_config 255-266: the path must be plain and loses its trailing slashes
    pve_api.storage.post(storage="d4", type="dir", path="/srv//d4/")
    assert pve_api.storage("d4").get()["path"] == "/srv/d4"
    error = refused(pve_api.storage.post, storage="d5", type="dir", path="/srv/d 5")
    assert "illegal path for directory storage: /srv/d 5" in str(error)


def test_storage_update_fixed_option(pve_api):
    # SectionConfig.pm check_config 1620-1621 (inside the lock: 'update storage failed: ')
    pve_api.storage.post(storage="nas4", type="nfs", server="192.0.2.22", export="/srv/a")
    error = refused(pve_api.storage("nas4").put, server="192.0.2.23")
    assert "update storage failed: can't change value of fixed parameter 'server'" in str(error)
    pve_api.storage("nas4").put(content="images,iso", options="vers=4.2")
    row = pve_api.storage("nas4").get()
    assert row["server"] == "192.0.2.22" and row["content"] == "images,iso" and row["options"] == "vers=4.2"


def test_storage_update_delete_options(pve_api):
    # Config.pm update 365-375: only optional, not fixed options can be deleted, and not set at the same time
    pve_api.storage.post(
        storage="esx", type="esxi", server="192.0.2.30", username="root", **{"skip-cert-verification": 1}
    )
    pve_api.storage("esx").put(delete="skip-cert-verification")
    assert "skip-cert-verification" not in pve_api.storage("esx").get()
    assert "unable to delete required option 'username'" in str(refused(pve_api.storage("esx").put, delete="username"))
    assert "no such option 'export'" in str(refused(pve_api.storage("esx").put, delete="export"))
    error = refused(pve_api.storage("esx").put, delete="nodes", nodes="pve1")
    assert "cannot set and delete property 'nodes' at the same time!" in str(error)


def test_storage_update_digest_mismatch(pve_api):
    # Config.pm update 352 (SectionConfig assert_if_modified), first thing under the lock
    digest = pve_api.storage("local").get()["digest"]
    pve_api.storage.post(storage="d6", type="dir", path="/srv/d6")
    error = refused(pve_api.storage("local").put, content="iso", digest=digest)
    assert "update storage failed: detected modified configuration - file changed by other user?" in str(error)


def test_storage_delete_drops_acl_and_pool_membership(pve_cluster, pve_api):
    # Config.pm delete 415-466, then PVE::AccessControl::remove_storage_access (pve-access-control 5ccd07d9
    # src/PVE/AccessControl.pm 1921)
    pve_api.access.acl.put(path="/storage/nas", roles="PVEDatastoreUser", users="root@pam")
    pve_api.pools.post(poolid="store")
    pve_api.pools.put(poolid="store", storage="nas")
    pve_api.storage("nas").delete()
    assert "nas" not in definitions(pve_api)
    assert [entry for entry in pve_api.access.acl.get() if entry["path"] == "/storage/nas"] == []
    assert pve_api.pools.get(poolid="store")[0]["members"] == []
    assert "does not exist" in str(refused(pve_api.storage("nas").get))


def test_storage_delete_local_comes_back(pve_api):
    # Plugin.pm parse_config 565-586: a missing 'local' is put back as the default directory storage
    pve_api.storage("local").put(content="iso")
    pve_api.storage("local").delete()
    row = pve_api.storage("local").get()
    assert row["type"] == "dir" and row["path"] == "/var/lib/vz" and row["prune-backups"] == "keep-all=1"
    assert row["content"].split(",") == ["backup", "images", "iso", "rootdir", "snippets", "vztmpl"]


def test_storage_pbs_autogen_encryption_key(pve_api):
    # PBSPlugin.pm on_add_hook 506-547: 'autogen' makes a key returned once; the definition keeps its fingerprint
    answer = pve_api.storage.post(
        storage="pbs1", type="pbs", server="192.0.2.40", datastore="main", username="backup@pbs",
        password="not-kept", **{"encryption-key": "autogen"},
    )  # fmt: skip
    key = json.loads(answer["config"]["encryption-key"])
    assert {"kdf", "created", "data", "fingerprint"} <= set(key) and key["kdf"] is None
    row = pve_api.storage("pbs1").get()
    assert row["encryption-key"] == key["fingerprint"] and row["content"] == "backup"
    assert "password" not in row and key["data"] not in json.dumps(pve_api.storage.get())
    error = refused(pve_api.storage.post, storage="pbs2", type="pbs", server="192.0.2.41", datastore="m",
                    **{"encryption-key": "not json"})  # fmt: skip
    assert "create storage failed: Value does not seems like a valid, JSON formatted encryption key!" in str(error)


def test_storage_create_needs_datastore_allocate(pve_cluster, pve_api):
    # Config.pm create 198-207 permissions: ['perm', '/storage', ['Datastore.Allocate']]
    pve_cluster.access.add_user("ops@pve", password="ops-password")
    pve_api.access.acl.put(path="/storage", roles="PVEDatastoreUser", users="ops@pve")
    ops = proxmoxer_client(pve_cluster, "ops@pve", "ops-password")
    error = refused(ops.storage.post, storage="d7", type="dir", path="/srv/d7")
    assert error.status_code == 403 and "Datastore.Allocate" in str(error)
    pve_api.access.acl.put(path="/storage", roles="PVEDatastoreAdmin", users="ops@pve")
    assert ops.storage.post(storage="d7", type="dir", path="/srv/d7") == {"storage": "d7", "type": "dir"}
