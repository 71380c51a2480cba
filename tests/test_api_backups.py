"""Backups on a storage: the prune dry run (``/nodes/{node}/storage/{storage}/prunebackups``), the config an archive
carries (``/nodes/{node}/vzdump/extractconfig``) and file restore (PBS only), through proxmoxer.

Sources: pve-storage 0c56bad8b2a7d69e5ce2c243651fe830d6caa936 ``src/PVE/API2/Storage/PruneBackups.pm`` 100-114,
``src/PVE/Storage.pm`` ``archive_info`` 1800-1832, ``extract_vzdump_config`` 1938-1978, ``prune_backups`` 1980-1996,
``prune_mark_backup_group`` 2028-2072, ``src/PVE/Storage/Plugin.pm`` ``prune_backups`` 2074-2143,
``src/PVE/API2/Storage/FileRestore.pm`` 67-86; pve-manager 14a22df3 ``PVE/API2/VZDump.pm`` ``extractconfig`` 293-311;
qemu-server e6352be6 ``src/PVE/VZDump/QemuServer.pm`` ``assemble`` 226-285; pve-container 94f55852
``src/PVE/VZDump/LXC.pm`` ``assemble`` 325-343.
"""

from __future__ import annotations

import pytest

from tests.support.clients import proxmoxer_client, refused

DAY = 86400


@pytest.fixture
def nightly(pve_cluster):
    """Ten nightly backups of VM 100 on 'local' (01:00 UTC), the one of three nights ago protected."""
    midnight = pve_cluster.clock.now() // DAY * DAY
    volumes = [pve_cluster.add_backup("local", 100, ctime=midnight - night * DAY + 3600) for night in range(10)]
    volumes[3].protected = True
    return [volume.volid for volume in volumes]


def test_the_dry_run_marks_what_the_retention_keeps(pve_api, nightly):
    local = pve_api.nodes("pve1").storage("local")
    rows = local.prunebackups.get(**{"prune-backups": "keep-last=2,keep-weekly=2"})
    marks = {row["volid"]: row["mark"] for row in rows}
    # listed in the directory's order; keep-last takes the two newest, keep-weekly the newest of each of the next two
    # ISO weeks, a protected backup is never removed (prune_mark_backup_group, Plugin.pm 40)
    assert [row["volid"] for row in rows] == sorted(nightly)
    # (the cluster's clock: Monday 2026-09-14; the two newest are ISO weeks 38 and 37, so keep-weekly adds week 36's
    # newest, Sunday the 6th, and no fourth week exists)
    kept = [volid for volid in nightly if marks[volid] == "keep"]
    assert kept == [nightly[0], nightly[1], nightly[8]] and marks[nightly[3]] == "protected"
    assert {(row["type"], row["vmid"]) for row in rows} == {("qemu", 100)}
    everything = local.prunebackups.get(**{"prune-backups": "keep-all=1"})
    assert {row["mark"] for row in everything} == {"keep", "protected"}
    assert local.prunebackups.get(**{"prune-backups": "keep-last=2"}, type="lxc") == []


def test_the_ctime_is_the_archive_names_local_time(pve_cluster, pve_api):
    # archive_info: the standard name's time, read in the node's time zone (timelocal)
    pve_cluster.timezone = "Europe/Vienna"
    volume = pve_cluster.add_backup("local", 100, ctime=1788300000)
    assert volume.volid.endswith("-2026_09_02-00_00_00.vma.zst")  # 22:00 UTC is midnight in Vienna (CEST)
    (row,) = pve_api.nodes("pve1").storage("local").prunebackups.get(**{"prune-backups": "keep-daily=1"})
    assert (row["ctime"], row["mark"]) == (1788300000, "keep")


def test_retention_comes_from_storage_cfg_unless_given(pve_api, nightly):
    local = pve_api.nodes("pve1").storage("local")
    # prune_backups 1986-1990: no options given and none in storage.cfg
    assert refused(local.prunebackups.get).content == "no prune-backups options configured for storage 'local'"
    pve_api.storage("local").put(**{"prune-backups": "keep-daily=3"})
    assert sum(row["mark"] == "keep" for row in local.prunebackups.get()) == 3
    # a storage without 'backup' content (prune_backups 1984)
    error = refused(pve_api.nodes("pve1").storage("local-lvm").prunebackups.get, **{"prune-backups": "keep-last=1"})
    assert error.content == "storage 'local-lvm' does not support backups"


def test_extractconfig_answers_the_config_at_backup_time(pve_cluster, pve_api):
    vm = pve_api.nodes("pve1").qemu(100)
    vm.config.put(description="before the upgrade")
    volume = pve_cluster.add_backup("local", 100).volid
    vm.config.put(cores=8, description="after")
    pve_cluster.guest(100).snapshot("pre", "")
    config = pve_api.nodes("pve1").vzdump.extractconfig.get(volume=volume)
    lines = config.splitlines()
    # the config file's lines up to the first section, then one #qmdump#map line per backed-up disk
    assert lines[0] == "#before the upgrade" and "cores: 2" in lines and "cores: 8" not in lines
    assert lines[-1] == "#qmdump#map:scsi0:drive-scsi0:local-lvm:raw:" and "[pre]" not in config
    assert not any(line.startswith(("lock:", "parent:")) for line in lines)


def test_a_container_backup_carries_its_pct_conf(pve_cluster, pve_api):
    volume = pve_cluster.add_backup("nas", 110).volid  # a shared storage: every node reads it
    config = pve_api.nodes("pve3").vzdump.extractconfig.get(volume=volume)
    assert "hostname: dns01" in config and "rootfs: local-lvm:vm-110-disk-0,size=8G" in config.splitlines()
    assert volume.startswith("nas:backup/vzdump-lxc-110-") and volume.endswith(".tar.zst")


def test_extractconfig_refuses_what_is_no_backup(pve_cluster, pve_api):
    extract = pve_api.nodes("pve1").vzdump.extractconfig.get
    missing = "local:backup/vzdump-qemu-100-2020_01_01-00_00_00.vma.zst"
    assert refused(extract, volume=missing).content == f"can't find file '{missing}'"  # abs_filesystem_path
    iso = "local:iso/debian-13.1.0-amd64-netinst.iso"  # check_volume_access 627
    assert refused(extract, volume=iso).content == f"unable to use volume {iso} - content type needs to be 'backup'"
    assert refused(extract, volume="local:vm-100").content == "unable to parse directory volume name 'vm-100'"
    # a local backup lies on the guest's node only
    volume = pve_cluster.add_backup("local", 102).volid
    assert refused(pve_api.nodes("pve1").vzdump.extractconfig.get, volume=volume).content.startswith("can't find")


def test_extractconfig_needs_vm_backup_on_the_guest(pve_cluster, nightly):
    pve_cluster.access.add_user("backup@pve", password="backuppassword")
    pve_cluster.acl.grant("/storage/local", "PVEDatastoreUser", user="backup@pve")
    api = proxmoxer_client(pve_cluster, "backup@pve", "backuppassword")
    assert refused(api.nodes("pve1").vzdump.extractconfig.get, volume=nightly[0]).status_code == 403
    pve_cluster.acl.grant("/vms/100", "PVEVMUser", user="backup@pve")  # VM.Backup
    assert "name: web01" in api.nodes("pve1").vzdump.extractconfig.get(volume=nightly[0])


def test_file_restore_is_for_pbs_storages(pve_api, nightly):
    restore = pve_api.nodes("pve1").storage("local")("file-restore").list.get
    error = refused(restore, volume=nightly[0], filepath="/")
    assert (error.status_code, error.errors) == (400, {"storage": "Only PBS storages supported for file-restore."})
    error = refused(restore, volume="nas:backup/x.vma.zst", filepath="/")
    assert error.errors == {"volume": "storage ID mismatch (nas != local)."}


def test_backups_are_listed_with_their_guest_type(pve_cluster, pve_api, nightly):
    # Plugin.pm $get_subdir_files 1716-1743: a backup's subtype is its archive's guest type
    rows = pve_api.nodes("pve1").storage("local").content.get(content="backup")
    assert {(row["subtype"], row["vmid"], row["format"]) for row in rows} == {("qemu", 100, "vma.zst")}
    assert [row["protected"] for row in rows if row["volid"] == nightly[3]] == [1]


def test_a_backup_server_names_snapshots_in_utc(pve_cluster, pve_api):
    # PBSPlugin.pm print_volid 226-233 and prune_backups 409-503: PBS groups snapshots per guest
    pve_api.storage.post(storage="pbs", type="pbs", server="10.1.1.30", datastore="main", username="root@pam",
                         password="secret", content="backup")  # fmt: skip
    pve_cluster.timezone = "Europe/Vienna"
    first = pve_cluster.add_backup("pbs", 110, ctime=1788300000).volid
    second = pve_cluster.add_backup("pbs", 110, ctime=1788300000 + 86400).volid
    assert first == "pbs:backup/ct/110/2026-09-01T22:00:00Z"
    rows = pve_api.nodes("pve2").storage("pbs").prunebackups.get(**{"prune-backups": "keep-last=1"})
    assert {row["volid"]: (row["type"], row["mark"]) for row in rows} == {
        first: ("lxc", "remove"),
        second: ("lxc", "keep"),
    }
    (row,) = [r for r in pve_api.nodes("pve2").storage("pbs").content.get() if r["volid"] == first]
    assert (row["subtype"], row["format"]) == ("lxc", "pbs-ct")
    assert "hostname: dns01" in pve_api.nodes("pve2").vzdump.extractconfig.get(volume=first)


def test_file_restore_download_checks_as_list_does(pve_api):
    # pve-storage FileRestore.pm download 148-236 (0c56bad8): check_volume_access, then PBS only, before the worker
    local = pve_api.nodes("pve1").storage("local")
    error = refused(local("file-restore").download.get, volume="local:iso/debian.iso", filepath="Lw==")
    assert "unable to use volume local:iso/debian.iso - content type needs to be 'backup'" in str(error.content)


def test_import_metadata_refuses_what_the_importer_cannot_read(pve_api):
    # pve-storage Storage.pm get_import_metadata 2495-2507, DirPlugin.pm 268-276, GuestImport/OVF.pm read_ovf_file
    # 171-185 (0c56bad8): a plugin without the importer API, then the content type, the format, and the file
    node = pve_api.nodes("pve1")
    error = refused(node.storage("local-lvm")("import-metadata").get, volume="import/debian-13.ova")
    assert "storage does not support the importer API" in str(error.content)
    error = refused(node.storage("local")("import-metadata").get, volume="iso/debian-13.1.0-amd64-netinst.iso")
    assert "invalid content type 'iso'" in str(error.content)
    error = refused(node.storage("local")("import-metadata").get, volume="import/disk.qcow2")
    assert "invalid format" in str(error.content)
    error = refused(node.storage("local")("import-metadata").get, volume="import/missing.ovf")
    assert "unable to open file '/var/lib/vz/import/missing.ovf' - No such file or directory" in str(error.content)
