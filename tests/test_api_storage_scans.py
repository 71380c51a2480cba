"""``/nodes/{node}/scan/{nfs,cifs,glusterfs,iscsi,pbs}``: the servers ``storage.cfg`` names answer with what the
storages use of them; any other host does not answer, and the scan fails as PVE's tools fail then.

Sources: pve-storage 0c56bad8b2a7d69e5ce2c243651fe830d6caa936 ``src/PVE/API2/Storage/Scan.pm`` (nfsscan 59-108,
cifsscan 110-181, pbsscan 183-247, iscsiscan 249-298), ``src/PVE/Storage.pm`` (scan_nfs 1544, scan_cifs 1570,
resolv_portal 1633, scan_iscsi 1650), ``src/PVE/Storage/ISCSIPlugin.pm`` iscsi_discovery 128-158,
``src/PVE/Storage/PBSPlugin.pm`` scan_datastores 833; pve-common f665029e ``src/PVE/Cmd.pm`` 289-324 (the
``command '...' failed: exit code 1`` message); GlusterFS: pve-storage 0c6234f (8.3.6) Scan.pm 243-290.
"""

from __future__ import annotations

import re

import pytest

from tests.support.clients import proxmoxer_client, refused


def test_the_nas_answers_the_exports_storage_cfg_uses(pve_api, pve_cluster):
    scan = pve_api.nodes("pve1").scan
    nas = next(row for row in pve_api.storage.get() if row["storage"] == "nas")
    # showmount lists each export with the clients it is exported to, sorted by path (Scan.pm nfsscan 96-107)
    assert scan.nfs.get(server=nas["server"]) == [{"path": nas["export"], "options": "192.168.100.0/24"}]
    pve_cluster.add_storage("iso-share", "nfs", ["iso"], shared=True)
    assert [row["path"] for row in scan.nfs.get(server=nas["server"])] == ["/volume1/iso-share", "/volume1/nas"]


def test_storages_added_through_the_api_are_found_by_the_next_scan(pve_api):
    pve_api.storage.post(storage="smb", type="cifs", server="192.168.100.5", share="proxmox", content="backup")
    pve_api.storage.post(storage="lun0", type="iscsi", portal="192.168.100.5", target="iqn.2005-10.org.freenas.ctl:pve")
    for store in ("main", "offsite"):
        pve_api.storage.post(storage=f"pbs-{store}", type="pbs", server="pbs.lab.internal", datastore=store,
                             username="root@pam", password="secret")  # fmt: skip
    scan = pve_api.nodes("pve1").scan
    # smbclient -L: the disk shares, sorted (cifsscan 162-180)
    assert scan.cifs.get(server="192.168.100.5") == [{"share": "proxmox", "description": ""}]
    # iscsiadm discovery prints 'ip:port,tpgt target' (ISCSIPlugin.pm $ISCSI_TARGET_RE; iscsiscan 286-297)
    assert scan.iscsi.get(portal="192.168.100.5:3260") == [
        {"target": "iqn.2005-10.org.freenas.ctl:pve", "portal": "192.168.100.5:3260"}
    ]
    # PBS's /admin/datastore lists every datastore of the server, whichever storage named it; its name resolves
    assert scan.pbs.get(server="pbs.lab.internal", username="root@pam", password="secret") == [
        {"store": "main"},
        {"store": "offsite"},
    ]
    # the NAS serves no NFS export the cluster uses but 'nas'
    assert [row["path"] for row in scan.nfs.get(server="192.168.100.5")] == ["/volume1/nas"]


def test_a_host_that_does_not_answer_fails_as_the_tools_fail(pve_api):
    scan = pve_api.nodes("pve1").scan
    # scan_nfs: run_command dies with the command line (Cmd.pm 317-324) when showmount exits 1
    error = refused(scan.nfs.get, server="192.0.2.10")
    assert error.status_code == 500
    assert error.content == "command '/sbin/showmount --no-headers --exports 192.0.2.10' failed: exit code 1"
    # scan_cifs: smbclient's 'Connection to ... failed (Error NT_STATUS_IO_TIMEOUT)' read by the outfunc (1596-1599)
    assert refused(scan.cifs.get, server="192.0.2.10").content == "unexpected status: NT_STATUS_IO_TIMEOUT)"
    # iscsi_discovery skips a portal that does not answer on TCP: no targets, no error (ISCSIPlugin.pm 134)
    assert scan.iscsi.get(portal="192.0.2.10") == []
    # the PBS API client's login fails with LWP's status line (pve-apiclient a5615282 LWP.pm 217-218)
    error = refused(scan.pbs.get, server="192.0.2.10", username="root@pam", password="secret", port=8007)
    assert error.content == "error fetching datastores - 500 Can't connect to 192.0.2.10:8007 (Connection timed out)"


def test_a_name_that_does_not_resolve(pve_api):
    scan = pve_api.nodes("pve1").scan
    # resolv_server finds no address (Storage.pm 1548-1550, 1574-1575)
    assert refused(scan.nfs.get, server="nas.nowhere").content == "unable to resolve address for server 'nas.nowhere'"
    assert refused(scan.cifs.get, server="nas.nowhere").content == "unable to resolve address for server 'nas.nowhere'"
    # resolv_portal raises a parameter error (Storage.pm 1646)
    error = refused(scan.iscsi.get, portal="nas.nowhere:3260")
    assert error.status_code == 400
    assert error.errors == {"portal": "unable to resolve portal address 'nas.nowhere:3260'"}


def test_scanning_needs_datastore_allocate(pve_cluster):
    pve_cluster.access.add_user("ops@pve", password="opspassword")
    pve_cluster.acl.grant("/storage", "PVEDatastoreUser", user="ops@pve")
    scan = proxmoxer_client(pve_cluster, "ops@pve", "opspassword").nodes("pve1").scan
    assert refused(scan.nfs.get, server="192.168.100.5").status_code == 403  # Scan.pm 67: Datastore.Allocate


@pytest.mark.pve_cluster(version="8.4")
def test_glusterfs_scans_the_servers_exports(pve_api):
    # PVE 8 only (dropped in pve-storage 7669a99): showmount of the server, '/volname' exports are volumes
    pve_api.storage.post(storage="gluster", type="glusterfs", server="10.1.1.21", volume="gv0", content="images")
    assert pve_api.nodes("pve1").scan.glusterfs.get(server="10.1.1.21") == [{"volname": "gv0"}]
    error = refused(pve_api.nodes("pve1").scan.glusterfs.get, server="10.1.1.22")
    assert error.content == "command '/sbin/showmount --no-headers --exports 10.1.1.22' failed: exit code 1"


def test_only_a_pbs_storage_has_an_identity(pve_api):
    # pve-storage Status.pm identity 1161-1179 (9.1.3, dcca7c6): the plugin's get_identity; PBSPlugin.pm 1005-1012
    # answers the server's pbs-instance-id, the base plugin dies (Plugin.pm 2678-2682, Perl adds where)
    for store in ("main", "offsite"):
        pve_api.storage.post(storage=f"pbs-{store}", type="pbs", server="pbs.lab.internal", datastore=store,
                             username="root@pam", password="secret")  # fmt: skip
    main = pve_api.nodes("pve1").storage("pbs-main").identity.get()
    assert main["type"] == "pbs" and re.fullmatch(r"[0-9a-f]{64}", main["id"])
    assert pve_api.nodes("pve2").storage("pbs-offsite").identity.get() == main  # one server, one instance
    error = refused(pve_api.nodes("pve1").storage("local").identity.get)
    assert (
        error.content
        == "get_identity not implemented for this plugin at /usr/share/perl5/PVE/Storage/Plugin.pm line 2681."
    )


def test_oci_registries_are_out_of_reach(pve_api):
    # pve-manager Nodes.pm query_oci_repo_tags 1876-1886: skopeo cannot reach the registry; run_command dies
    error = refused(pve_api.nodes("pve1")("query-oci-repo-tags").get, reference="docker.io/library/debian")
    assert error.content == "command 'skopeo list-tags docker://docker.io/library/debian' failed: exit code 1"
