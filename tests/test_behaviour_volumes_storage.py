"""Catalogue rows (docs/behaviour.md, "Storage content, uploads and downloads"): what a storage holds besides guest
disks and the API's writes to it, through a real proxmoxer client (in-process, and over the HTTPS server for the
multipart upload). Sources: pve-storage @0c56bad8, pve-http-server @5c9e4ea7, pve-manager @14a22df3."""

from __future__ import annotations

import hashlib

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
from support.clients import refused  # noqa: E402
from support.clients import storage_content as content  # noqa: E402
from support.clients import task_log as log_of  # noqa: E402
from support.clients import wait as finish  # noqa: E402

pytestmark = pytest.mark.pve_cluster(validate=True)

GIB = 1024**3


def iso_file(tmp_path, name="alpine-virt-3.22.iso", size=300_000):
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * (size // 256))
    return path


def upload(api, node, storage, path, **params):
    with open(path, "rb") as handle:
        return api.nodes(node).storage(storage).upload.post(**params, filename=handle)


def used(api, node, storage):
    return next(row for row in api.nodes(node).storage.get() if row["storage"] == storage)["used"]


# ---- upload (pve-storage Status.pm upload 519-735; pve-http-server AnyEvent.pm file_upload_multipart 1280) -----


def test_storage_upload_multipart_iso(pve_api, tmp_path):
    # AnyEvent.pm 1280-1371 (multipart read into /var/tmp/pveupload-*); Status.pm upload 672-733 (imgcopy worker)
    path = iso_file(tmp_path)
    upid = upload(pve_api, "pve1", "local", path, content="iso")
    assert ":imgcopy::root@pam:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    log = log_of(pve_api, upid)
    assert log[0].startswith("starting file import from: /var/tmp/pveupload-")
    assert "target file: /var/lib/vz/template/iso/alpine-virt-3.22.iso" in log
    assert f"file size is: {path.stat().st_size}" in log and log[-2] == "finished file import successfully"
    row = content(pve_api, "pve1", "local", content="iso")["local:iso/alpine-virt-3.22.iso"]
    assert row["size"] == path.stat().st_size and row["format"] == "iso"
    assert "local:iso/alpine-virt-3.22.iso" not in content(pve_api, "pve2", "local")  # a local storage: pve1 only


def test_storage_upload_over_https_server(pve_server, tmp_path):
    # the same multipart parsing serves the HTTPS server (AnyEvent.pm 1662-1700: uploads bypass $limit_max_post)
    api = proxmoxer.ProxmoxAPI(
        "127.0.0.1", port=pve_server.port, user=pve_server.user, password=pve_server.password, verify_ssl=False
    )
    path = iso_file(tmp_path, size=700_160)  # beyond pveproxy's 512 KiB limit for other bodies
    upid = upload(api, "pve1", "nas", path, content="iso")
    assert finish(api, upid)["exitstatus"] == "OK"
    assert content(api, "pve3", "nas")["nas:iso/alpine-virt-3.22.iso"]["size"] == 700_160  # shared: every node


def test_storage_upload_checksum_verified(pve_api, tmp_path):
    # Status.pm upload 677-692: the checksum is computed inside the worker
    path = iso_file(tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    upid = upload(pve_api, "pve1", "local", path, content="iso", **{"checksum-algorithm": "sha256"}, checksum=digest)
    assert finish(pve_api, upid)["exitstatus"] == "OK"
    assert "calculating checksum...OK, checksum verified" in log_of(pve_api, upid)


def test_storage_upload_checksum_mismatch_fails_in_task(pve_api, tmp_path):
    # Status.pm upload 686-691: the task dies, the file is not stored
    path = iso_file(tmp_path)
    got = hashlib.md5(path.read_bytes()).hexdigest()
    upid = upload(pve_api, "pve1", "local", path, content="iso", **{"checksum-algorithm": "md5"}, checksum="0" * 32)
    assert finish(pve_api, upid)["exitstatus"] == f"checksum mismatch: got '{got}' != expect '{'0' * 32}'"
    assert "local:iso/alpine-virt-3.22.iso" not in content(pve_api, "pve1", "local")


def test_storage_upload_form_fields_in_pveproxy_order(pve_api, tmp_path):
    # AnyEvent.pm 1305-1318: pveproxy reads 'content', then 'checksum-algorithm', then 'checksum'; a 'checksum'
    # field sent before 'checksum-algorithm' is swallowed by the next field's pattern and fails its disposition check
    path = iso_file(tmp_path)
    with open(path, "rb") as handle:
        error = refused(
            pve_api.nodes("pve1").storage("local").upload.post,
            content="iso",
            checksum="0" * 64,
            **{"checksum-algorithm": "sha256"},
            filename=handle,
        )
    assert error.status_code == 500 and 'wrong Content-Disposition \'form-data; name="checksum"' in str(error)


def test_storage_upload_wrong_file_field_refused(pve_api, tmp_path):
    # AnyEvent.pm 1321-1326: the file part must be the field 'filename'
    with open(iso_file(tmp_path), "rb") as handle:
        error = refused(pve_api.nodes("pve1").storage("local").upload.post, content="iso", file=handle)
    assert error.status_code == 500 and "wrong field name 'file' for file upload, expected 'filename'" in str(error)


def test_storage_upload_wrong_extension(pve_api, tmp_path):
    # Status.pm upload 596-599: raise_param_exc before the worker
    error = refused(upload, pve_api, "pve1", "local", iso_file(tmp_path, "notes.txt"), content="iso")
    assert error.status_code == 400 and error.errors == {"filename": "wrong file extension"}


def test_storage_upload_content_not_on_storage(pve_api, tmp_path):
    # Status.pm upload 625-626: nas holds no container templates
    path = iso_file(tmp_path, "debian-13-standard_13.1-2_amd64.tar.zst")
    error = refused(upload, pve_api, "pve1", "nas", path, content="vztmpl")
    assert error.status_code == 500 and "storage 'nas' does not support 'vztmpl' content" in str(error)


def test_storage_upload_block_storage_refused(pve_api, tmp_path):
    # Status.pm upload 579-580: a storage without a path
    error = refused(upload, pve_api, "pve1", "local-lvm", iso_file(tmp_path), content="iso")
    assert error.status_code == 500 and "can't upload to storage type 'lvmthin'" in str(error)


def test_storage_upload_filename_normalized(pve_api, tmp_path):
    # Storage.pm normalize_content_filename 2483-2491: unsafe characters become '_'
    path = iso_file(tmp_path, "my image (v2).iso")
    finish(pve_api, upload(pve_api, "pve1", "local", path, content="iso"))
    assert "local:iso/my_image__v2_.iso" in content(pve_api, "pve1", "local")


def test_storage_upload_vztmpl_format(pve_api, tmp_path):
    # Plugin.pm $get_subdir_files 1711-1714: a .tar.zst template is listed with format 'tzst'
    path = iso_file(tmp_path, "alpine-3.22-default_20250617_amd64.tar.xz")
    finish(pve_api, upload(pve_api, "pve1", "local", path, content="vztmpl"))
    row = content(pve_api, "pve1", "local")["local:vztmpl/alpine-3.22-default_20250617_amd64.tar.xz"]
    assert row["content"] == "vztmpl" and row["format"] == "txz"


def test_multipart_body_to_other_method_refused(pve_api, tmp_path):
    # AnyEvent.pm 1719-1722: only the upload method reads multipart bodies (HTTP 506)
    with open(iso_file(tmp_path, size=1024), "rb") as handle:
        error = refused(pve_api.nodes("pve1").qemu(100).config.post, description="x", file=handle)
    assert error.status_code == 506


def test_storage_usage_counts_uploaded_file(pve_api, tmp_path):
    # Plugin.pm status 1821 (the file system's usage): the node's figure and /cluster/resources grow by the file
    before = used(pve_api, "pve1", "local")
    finish(pve_api, upload(pve_api, "pve1", "local", iso_file(tmp_path, size=512_000), content="iso"))
    assert used(pve_api, "pve1", "local") == before + 512_000
    rows = pve_api.cluster.resources.get(type="storage")
    assert next(row for row in rows if row["id"] == "storage/pve1/local")["disk"] == before + 512_000
    assert used(pve_api, "pve2", "local") == next(r for r in rows if r["id"] == "storage/pve2/local")["disk"]


# ---- download-url (Status.pm download_url 737-913) and query-url-metadata (pve-manager Nodes.pm 1894) ----------


def test_storage_download_url_iso(pve_api):
    # Status.pm download_url 898-911: the 'download' task, worker id the file name; the fake never fetches
    url = "https://dl-cdn.alpinelinux.org/alpine/v3.22/releases/x86_64/alpine-virt-3.22.0-x86_64.iso"
    storage = pve_api.nodes("pve1").storage("local")
    upid = storage("download-url").post(content="iso", filename="alpine-virt-3.22.0-x86_64.iso", url=url)
    assert ":download:alpine-virt-3.22.0-x86_64.iso:root@pam:" in upid
    assert finish(pve_api, upid)["exitstatus"] == "OK"
    size = content(pve_api, "pve1", "local")["local:iso/alpine-virt-3.22.0-x86_64.iso"]["size"]
    assert 300 * 1024**2 <= size <= 4700 * 1024**2
    assert pve_api.nodes("pve1")("query-url-metadata").get(url=url)["size"] == size


def test_query_url_metadata_from_url_name(pve_api):
    # Nodes.pm query_url_metadata 1973-1980: the file name from the URL's path (no Content-Disposition)
    url = "https://example.org/images/debian-13-genericcloud-amd64.qcow2?version=1"
    meta = pve_api.nodes("pve2")("query-url-metadata").get(url=url)
    assert meta["filename"] == "debian-13-genericcloud-amd64.qcow2" and meta["size"] > 0
    assert meta["mimetype"] == "application/octet-stream"


def test_storage_download_url_content_not_configured(pve_api):
    # Status.pm download_url 828-829: before the worker
    error = refused(
        pve_api.nodes("pve1").storage("nas")("download-url").post,
        content="vztmpl",
        filename="debian-13-standard_13.1-2_amd64.tar.zst",
        url="https://example.org/debian-13-standard_13.1-2_amd64.tar.zst",
    )
    assert error.status_code == 500 and "storage 'nas' is not configured for content-type 'vztmpl'" in str(error)


def test_storage_download_url_wrong_extension(pve_api):
    # Status.pm download_url 837-840
    error = refused(
        pve_api.nodes("pve1").storage("local")("download-url").post,
        content="iso",
        filename="alpine.tar.gz",
        url="https://example.org/alpine.tar.gz",
    )
    assert error.status_code == 400 and error.errors == {"filename": "wrong file extension"}


def test_storage_download_url_block_storage_refused(pve_api):
    # Status.pm download_url 823-824
    error = refused(
        pve_api.nodes("pve1").storage("local-lvm")("download-url").post,
        content="iso",
        filename="a.iso",
        url="https://example.org/a.iso",
    )
    assert "can't upload to storage type 'lvmthin', not a file based storage!" in str(error)


def test_storage_download_url_needs_sys_modify(pve_cluster, pve_api):
    # Status.pm download_url 748-756: Datastore.AllocateTemplate on the storage and Sys.Audit+Sys.Modify on /
    pve_api.access.users.post(userid="uploader@pve", password="uploader-pass")
    pve_api.access.acl.put(path="/storage/local", roles="PVEDatastoreAdmin", users="uploader@pve")
    user = proxmoxer.ProxmoxAPI(pve_cluster.host, user="uploader@pve", password="uploader-pass", verify_ssl=False)
    params = {"content": "iso", "filename": "a.iso", "url": "https://example.org/a.iso"}
    error = refused(user.nodes("pve1").storage("local")("download-url").post, **params)
    assert error.status_code == 403
    pve_api.access.roles.post(roleid="SysModify", privs="Sys.Audit,Sys.Modify")
    pve_api.access.acl.put(path="/", roles="SysModify", users="uploader@pve")
    assert finish(pve_api, user.nodes("pve1").storage("local")("download-url").post(**params))["exitstatus"] == "OK"


def test_storage_download_url_decompression_only_iso_fails_in_task(pve_api):
    # Status.pm download_url 899-900: checked inside the worker
    upid = (
        pve_api.nodes("pve1")
        .storage("local")("download-url")
        .post(
            content="vztmpl",
            filename="debian-13-standard_13.1-2_amd64.tar.zst",
            url="https://example.org/debian-13-standard_13.1-2_amd64.tar.zst",
            compression="gz",
        )
    )
    assert finish(pve_api, upid)["exitstatus"] == "decompression not supported for vztmpl"
    assert "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst" in content(pve_api, "pve1", "local")  # scenario's


# ---- content: allocate, inspect, annotate, delete (Content.pm 187-543; Storage.pm vdisk_alloc/vdisk_free) -------


def test_storage_content_alloc_named_image(pve_api):
    # Content.pm create 237-278 -> Storage.pm vdisk_alloc 1150 -> LvmThinPlugin.pm alloc_image 99: answers the volid
    before = used(pve_api, "pve1", "local-lvm")
    volid = pve_api.nodes("pve1").storage("local-lvm").content.post(vmid=100, filename="vm-100-disk-7", size="4G")
    assert volid == "local-lvm:vm-100-disk-7"
    row = content(pve_api, "pve1", "local-lvm", vmid=100)[volid]
    assert row["size"] == 4 * GIB and row["format"] == "raw" and row["vmid"] == 100
    assert used(pve_api, "pve1", "local-lvm") == before + 4 * GIB


def test_storage_content_alloc_size_units(pve_api):
    # Content.pm create 245-253: a plain number is KiB, 'M' MiB, 'G' GiB
    storage = pve_api.nodes("pve1").storage("nas")
    kib = storage.content.post(vmid=101, filename="vm-101-disk-8.qcow2", size="2048")
    mib = storage.content.post(vmid=101, filename="vm-101-disk-9.raw", size="512M")
    rows = content(pve_api, "pve1", "nas", vmid=101)
    assert rows[kib]["size"] == 2 * 1024**2 and rows[kib]["format"] == "qcow2"
    assert rows[mib]["size"] == 512 * 1024**2 and mib == "nas:101/vm-101-disk-9.raw"


def test_storage_content_alloc_illegal_name(pve_api):
    # LvmThinPlugin.pm alloc_image 104-105: the name must belong to the VMID
    error = refused(pve_api.nodes("pve1").storage("local-lvm").content.post, vmid=100, filename="data", size="1G")
    assert error.status_code == 500 and "illegal name 'data' - should be 'vm-100-*'" in str(error)


def test_storage_content_alloc_format_mismatch(pve_api):
    # Content.pm create 256-263: the name's extension and 'format' disagree (a parameter error)
    error = refused(
        pve_api.nodes("pve1").storage("nas").content.post,
        vmid=101,
        filename="vm-101-disk-5.qcow2",
        size="1G",
        format="raw",
    )
    assert error.status_code == 400 and error.errors == {"format": "different storage formats (raw != qcow2)"}


def test_storage_content_alloc_existing_image_refused(pve_api):
    # Plugin.pm alloc_image 1063-1068: the file exists already
    error = refused(
        pve_api.nodes("pve1").storage("nas").content.post, vmid=101, filename="vm-101-disk-0.raw", size="1G"
    )
    assert "disk image '/mnt/pve/nas/images/101/vm-101-disk-0.raw' already exists" in str(error)


def test_storage_content_volume_info(pve_api):
    # Content.pm info 360-392: path, size, used and format of a guest disk
    info = pve_api.nodes("pve1").storage("nas").content("nas:101/vm-101-disk-0.raw").get()
    assert info["path"] == "/mnt/pve/nas/images/101/vm-101-disk-0.raw" and info["format"] == "raw"
    assert info["size"] == 64 * GIB
    error = refused(pve_api.nodes("pve1").storage("nas").content("nas:101/vm-101-disk-5.raw").get)
    assert "volume_size_info on 'nas:101/vm-101-disk-5.raw' failed - no format" in str(error)


def test_storage_content_volume_id_storage_mismatch(pve_api):
    # Content.pm $real_volume_id 282-300: a full volid of another storage is a parameter error
    error = refused(pve_api.nodes("pve1").storage("local").content("nas:101/vm-101-disk-0.raw").get)
    assert error.status_code == 400 and error.errors == {"volume": "storage ID mismatch (nas != local)"}


def test_storage_content_notes_only_for_backups(pve_api):
    # DirPlugin.pm update_volume_notes 155-156 (via Content.pm updateattributes 442-446)
    error = refused(
        pve_api.nodes("pve1").storage("local").content("local:iso/debian-13.1.0-amd64-netinst.iso").put, notes="x"
    )
    assert error.status_code == 500 and "only backups can have notes" in str(error)


def test_storage_content_backup_notes_and_protection(pve_cluster, pve_api):
    # DirPlugin.pm update_volume_attribute 195-225; Plugin.pm free_image 1124-1125 refuses a protected volume
    name = "backup/vzdump-qemu-100-2026_12_01-02_00_05.vma.zst"
    pve_cluster.add_volume("nas", name, "backup", 2 * GIB, "vma.zst").vmid = 100
    volume = pve_api.nodes("pve1").storage("nas").content(f"nas:{name}")
    volume.put(notes="before upgrade\nsecond line", protected=1)
    row = content(pve_api, "pve1", "nas", content="backup")[f"nas:{name}"]
    assert row["notes"] == "before upgrade" and row["protected"] == 1
    assert volume.get()["notes"] == "before upgrade\nsecond line"
    upid = volume.delete()
    assert ":imgdel:100@nas:" in upid
    expected = f"cannot remove protected volume '{name}' on 'nas'"
    assert finish(pve_api, upid)["exitstatus"] == expected
    assert f"nas:{name}" in content(pve_api, "pve1", "nas")


def test_storage_content_delete_allocated_image(pve_api):
    # Content.pm delete 496-522: the imgdel task frees the volume; the usage shrinks again
    storage = pve_api.nodes("pve1").storage("local-lvm")
    before = used(pve_api, "pve1", "local-lvm")
    volid = storage.content.post(vmid=100, filename="vm-100-disk-3", size="1G")
    upid = storage.content(volid).delete()
    assert ":imgdel:100@local-lvm:" in upid and finish(pve_api, upid)["exitstatus"] == "OK"
    assert f"Removed volume '{volid}'" in log_of(pve_api, upid)
    assert volid not in content(pve_api, "pve1", "local-lvm") and used(pve_api, "pve1", "local-lvm") == before


def test_storage_content_delete_disk_named_by_config(pve_api):
    # Storage.pm vdisk_free 1186-1211 does not look at guest configs: the disk goes, the config still names it
    upid = pve_api.nodes("pve2").storage("local-lvm").content("vm-102-disk-0").delete()
    assert finish(pve_api, upid)["exitstatus"] == "OK"
    assert "local-lvm:vm-102-disk-0" not in content(pve_api, "pve2", "local-lvm")
    assert pve_api.nodes("pve2").qemu(102).config.get()["scsi0"].startswith("local-lvm:vm-102-disk-0,")


def test_storage_content_delete_base_with_linked_clones_fails_in_task(pve_api):
    # Storage.pm vdisk_free 1203-1205 -> volume_is_base_and_used 661-688, inside the imgdel worker
    finish(pve_api, pve_api.nodes("pve1").qemu(9000).clone.post(newid=120))
    upid = pve_api.nodes("pve1").storage("nas").content("nas:9000/base-9000-disk-0.raw").delete()
    expected = "base volume '9000/base-9000-disk-0.raw' is still in use by linked clones"
    assert finish(pve_api, upid)["exitstatus"] == expected
    assert "nas:9000/base-9000-disk-0.raw" in content(pve_api, "pve1", "nas")


def test_storage_content_delete_missing_file_warns(pve_api):
    # Plugin.pm free_image 1138-1141: a missing image only warns; the task ends with WARNINGS
    upid = pve_api.nodes("pve1").storage("nas").content("nas:101/vm-101-disk-6.raw").delete()
    assert finish(pve_api, upid)["exitstatus"] == "WARNINGS: 1"
    assert "WARN: disk image '/mnt/pve/nas/images/101/vm-101-disk-6.raw' does not exist" in log_of(pve_api, upid)
