"""What is stored on a storage besides the guests' disks, and the API's writes to it: uploads, downloads from a URL,
images allocated by hand, volumes deleted, notes and protection.

Guest disks stay derived from the guest configs (they always agree with them); everything else is a
:class:`~pytest_pvemock.model.storage.Volume` kept on its storage: ISO images, container templates, import files,
backups, and images allocated with ``POST .../content`` that no config names yet. A volume a config still names
but that was deleted through ``DELETE .../content/{volume}`` is remembered as freed (PVE deletes it all the same).

Sources read (pve-storage at 0c56bad8b2a7d69e5ce2c243651fe830d6caa936):

- ``src/PVE/API2/Storage/Status.pm`` ``upload`` 519-735 and ``download_url`` 737-913;
- ``src/PVE/API2/Storage/Content.pm`` ``create`` 187-280, ``$real_volume_id`` 282-300, ``info`` 303-395,
  ``updateattributes`` 397-450, ``delete`` 452-543;
- ``src/PVE/Storage.pm`` ``storage_config`` 252, ``storage_check_node`` 264, ``storage_check_enabled`` 280,
  ``volume_is_base_and_used`` 661, ``vdisk_alloc`` 1150, ``vdisk_free`` 1186, ``normalize_content_filename`` 2483,
  the file name patterns 116-126;
- ``src/PVE/Storage/Plugin.pm`` ``parse_name_dir`` 784, ``alloc_image`` 1049, ``free_image`` 1121,
  ``$get_subdir_files`` 1694 (the formats listed); ``DirPlugin.pm`` ``update_volume_attribute`` 195 (notes and
  protection only for backups); ``LvmThinPlugin.pm`` ``alloc_image`` 99; ``ZFSPoolPlugin.pm`` ``alloc_image`` 264.
- pve-manager (14a22df35955d97dfc1af21e117dc894a29df0c9) ``PVE/API2/Nodes.pm`` ``query_url_metadata`` 1894.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.storage import Storage, Volume
from pytest_pvemock.model.volumes import is_file_storage, next_disk_name, parse_volid

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.tasks import Task

ISO_EXT = re.compile(r"[^/]+\.(?:iso|img)$", re.IGNORECASE)
VZTMPL_EXT = re.compile(r"[^/]+\.(?:(tar)(?!\.)|tar\.(gz|xz|zst|bz2))$", re.IGNORECASE)
UPLOAD_IMPORT_EXT = re.compile(r"^[a-zA-Z0-9\-.+=_]+\.(ova|qcow2|raw|vmdk)$")
CHECKSUM_ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
_FILE_IMAGE_NAME = re.compile(r"^((vm-|base-|subvol-)(\d+)-[^/\s]+\.(raw|qcow2|vmdk|subvol))$")
_OTHER_IMAGE_NAME = re.compile(r"^((base-)?[^/\s]+\.(raw|qcow2|vmdk|subvol))$")
_KIB = 1024

#: The file a download writes, by content type: (directory in the volid, plausible size range in bytes).
_DOWNLOAD_SIZES = {"iso": (300 * 1024**2, 4700 * 1024**2), "vztmpl": (90 * 1024**2, 400 * 1024**2)}
_MIME_TYPES = {
    ".iso": "application/x-iso9660-image",
    ".img": "application/octet-stream",
    ".gz": "application/gzip",
    ".xz": "application/x-xz",
    ".zst": "application/zstd",
    ".bz2": "application/x-bzip2",
    ".tar": "application/x-tar",
    ".ova": "application/x-tar",
}


def check_enabled(cluster: FakeCluster, storage_id: str, node: str) -> Storage:
    """Storage.pm ``storage_check_enabled``: the storage exists, is enabled and is available on ``node``."""
    storage = cluster.storage(storage_id)
    if storage is None:
        raise PVEError(f"storage '{storage_id}' does not exist")
    if not storage.enabled:
        raise PVEError(f"storage '{storage_id}' is disabled")
    if not storage.available_on(node):
        raise PVEError(f"storage '{storage_id}' is not available on node '{node}'")
    return storage


def normalize_content_filename(filename: str) -> str:
    """Storage.pm ``normalize_content_filename``: the base name with unsafe characters replaced by ``_``."""
    name = filename[:-1] if filename.endswith("\n") else filename
    name = re.sub(r"^.*[/\\]", "", name, flags=re.DOTALL)
    return re.sub(r"[^a-zA-Z0-9_.-]", "_", name)


def _template_volume(content: str, filename: str, not_allowed: str) -> tuple[str, str]:
    """(volname, format) of an ISO, a container template or an import file, with PVE's extension checks."""
    if content == "iso":
        if not ISO_EXT.search(filename):
            raise ParameterError({"filename": "wrong file extension"})
        return f"iso/{filename}", "iso"
    if content == "vztmpl":
        match = VZTMPL_EXT.search(filename)
        if match is None:
            raise ParameterError({"filename": "wrong file extension"})
        return f"vztmpl/{filename}", "tar" if match[1] else f"t{match[2]}"
    if content == "import":
        match = UPLOAD_IMPORT_EXT.search(filename)
        if match is None:
            raise ParameterError({"filename": "invalid filename or wrong extension"})
        return f"import/{filename}", match[1]
    raise ParameterError({"content": not_allowed.format(content=content)})


def _directory(storage: Storage, content: str) -> str:
    sub = {"iso": "template/iso", "vztmpl": "template/cache", "import": "import"}[content]
    return f"{storage.path or '/mnt/pve/' + storage.storage}/{sub}"


def _store(cluster: FakeCluster, storage: Storage, node: str, volid: str, content: str, size: int, fmt: str) -> None:
    """Add (or overwrite, as ``cp`` does) a file on the storage; on a local storage only on ``node``."""
    where = None if storage.shared else node
    storage.volumes = [v for v in storage.volumes if not (v.volid == volid and v.node in (None, where))]
    storage.volumes.append(Volume(volid, content, size, fmt, cluster.clock.now(), node=where))
    cluster.revision.touch()


def upload(
    cluster: FakeCluster, node: str, storage_id: str, params: dict[str, Any], data: bytes | None, authid: str
) -> Task:
    """``POST .../upload``: the checks of Status.pm ``upload`` 576-626 before the worker, then the ``imgcopy``
    task (checksum 677-692, the log lines 713-730) that leaves the file on the storage."""
    storage = check_enabled(cluster, storage_id, node)
    if not is_file_storage(storage.plugintype):
        raise PVEError(f"can't upload to storage type '{storage.plugintype}'")
    content = str(params["content"])
    tmpfilename = params.get("tmpfilename")
    if not tmpfilename or data is None:
        raise PVEError("missing temporary file name")
    filename = normalize_content_filename(str(params["filename"]))
    volname, fmt = _template_volume(content, filename, "upload content type '{content}' not allowed")
    if content not in storage.content:
        raise PVEError(f"storage '{storage_id}' does not support '{content}' content")
    dest = f"{_directory(storage, content)}/{filename}"
    size = len(data)
    checksum, algorithm = params.get("checksum"), params.get("checksum-algorithm")

    def copy(task: Task) -> None:
        task.log.append(f"starting file import from: {tmpfilename}")
        if algorithm:
            got = hashlib.new(str(algorithm), data).hexdigest()
            if got.lower() != str(checksum).lower():
                task.log.append("calculating checksum...")
                raise PVEError(f"checksum mismatch: got '{got}' != expect '{checksum}'")
            task.log.append("calculating checksum...OK, checksum verified")
        task.log.extend(
            [
                f"target node: {node}",
                f"target file: {dest}",
                f"file size is: {size}",
                f"command: cp -- {tmpfilename} {dest}",
            ]
        )
        _store(cluster, storage, node, f"{storage_id}:{volname}", content, size, fmt)
        task.log.append("finished file import successfully")

    return cluster.tasks.start(node, "imgcopy", "", authid, work=copy)


def downloaded_size(url: str, content: str) -> int:
    """The size the fake gives a file at ``url`` (it never fetches): drawn from the URL, the same every time."""
    low, high = _DOWNLOAD_SIZES.get(content, (200 * 1024**2, 2048 * 1024**2))
    return figures.bytes_between(figures.seeded("download", url), low, high)


def url_metadata(url: str) -> dict[str, Any]:
    """``GET /nodes/{node}/query-url-metadata``: the name Nodes.pm 1978 takes from the URL's path, the size the
    fake's download gives that file, a MIME type from the extension."""
    match = re.match(r"^[^?]+/([^?/]*)(?:\?.*)?$", url)
    answer: dict[str, Any] = {}
    if match:
        answer["filename"] = match[1]
    lowered = url.split("?", 1)[0].lower()
    content = "iso" if ISO_EXT.search(lowered) else "vztmpl" if VZTMPL_EXT.search(lowered) else "import"
    answer["size"] = downloaded_size(url, content)
    extension = "." + lowered.rsplit(".", 1)[-1] if "." in lowered.rsplit("/", 1)[-1] else ""
    answer["mimetype"] = _MIME_TYPES.get(extension, "application/octet-stream")
    return answer


def download_url(cluster: FakeCluster, node: str, storage_id: str, params: dict[str, Any], authid: str) -> Task:
    """``POST .../download-url``: Status.pm ``download_url`` 820-864 before the worker, the ``download`` task
    (worker id: the file name) that leaves the file on the storage; the URL is never fetched."""
    storage = check_enabled(cluster, storage_id, node)
    if not is_file_storage(storage.plugintype):
        raise PVEError(f"can't upload to storage type '{storage.plugintype}', not a file based storage!")
    content, url = str(params["content"]), str(params["url"])
    if content not in storage.content:
        raise PVEError(f"storage '{storage_id}' is not configured for content-type '{content}'")
    filename = normalize_content_filename(str(params["filename"]))
    volname, fmt = _template_volume(content, filename, "upload content-type '{content}' is not allowed")
    compression = params.get("compression")
    dest = f"{_directory(storage, content)}/{filename}"
    size = downloaded_size(url, content)

    def download(task: Task) -> None:
        if compression and content != "iso":
            raise PVEError(f"decompression not supported for {content}")
        task.log.append(f"downloading {url} to {dest}")
        if params.get("checksum"):
            # PVE::Tools::download_file_from_url compares the checksum of the fetched file; the fake has no file
            # to hash, so it takes the given checksum as the file's.
            task.log.append(f"calculating checksum of '{dest}.tmp.{task.pid}'...")
            task.log.append("checksum verified")
        task.log.append(f"download of '{url}' to '{dest}' finished")
        _store(cluster, storage, node, f"{storage_id}:{volname}", content, size, fmt)

    return cluster.tasks.start(node, "download", encode_text(filename), authid, work=download)


def encode_text(text: str) -> str:
    """PVE::Tools ``encode_text``: what is not ``\\w``, ``.`` or ``-`` as ``\\xHH`` (a worker id without ``:``)."""
    return re.sub(r"[^-\w.]", lambda m: "".join(f"\\x{byte:02x}" for byte in m[0].encode()), text)


def real_volume_id(storage_id: str | None, volume: str) -> tuple[str, str]:
    """Content.pm ``$real_volume_id``: a full volid, or a volume name completed with the path's storage."""
    if ":" in volume:
        sid, _, volname = volume.partition(":")
        if not re.match(r"^[a-z][a-z0-9\-_.]*[a-z0-9]$", sid, re.IGNORECASE) or not volname:
            raise ParameterError({"volume": f"unable to parse volume ID '{volume}'"})
        if storage_id and sid != storage_id:
            raise ParameterError({"volume": f"storage ID mismatch ({sid} != {storage_id})"})
        return volume, sid
    if not storage_id:
        raise ParameterError({"volume": "no storage specified - incomplete volume ID"})
    return f"{storage_id}:{volume}", storage_id


def parse_alloc_size(text: str) -> int:
    """Content.pm ``create`` 245-253: kibibytes, or ``M``/``G``; the size in bytes."""
    for pattern, factor in ((r"^(\d+)$", 1), (r"^(\d+)M$", 1024), (r"^(\d+)G$", 1024 * 1024)):
        match = re.match(pattern, text)
        if match:
            return int(match[1]) * factor * _KIB
    raise ParameterError({"size": f"unable to parse size '{text}'"})


def alloc_image(
    cluster: FakeCluster,
    node: str,
    storage_id: str,
    vmid: int,
    filename: str,
    size_text: str,
    fmt: str | None,
) -> str:
    """``POST .../content``: ``vdisk_alloc`` of a named image (the name's checks per storage type); answers the
    volid. The image is kept on the storage until a config names it or it is deleted."""
    size = parse_alloc_size(size_text)
    match = re.search(r"\.(raw|qcow2|vmdk)$", filename)
    if match:
        if fmt and fmt != match[1]:
            raise ParameterError({"format": f"different storage formats ({fmt} != {match[1]})"})
        fmt = match[1]
    storage = cluster.storage(storage_id)
    if storage is None:
        raise PVEError(f"storage '{storage_id}' does not exist")
    taken = {name for name in _all_volnames(cluster, storage, node)}
    if is_file_storage(storage.plugintype):
        fmt = fmt or "raw"
        name = filename or next_disk_name(vmid, taken, storage_id, fmt, suffix=True)
        file_match = _FILE_IMAGE_NAME.match(name) or _OTHER_IMAGE_NAME.match(name)
        if file_match is None:
            if re.match(r"^snap-.*\.qcow2$", name):
                raise PVEError(f"'{name}' is a snapshot filename, not a volume!")
            raise PVEError(f"unable to parse volume filename '{name}'")
        found = file_match[4] if file_match.re is _FILE_IMAGE_NAME else file_match[3]
        if found != fmt:
            raise PVEError(f"illegal name '{name}' - wrong extension for format ('{found} != '{fmt}')")
        volname = f"{vmid}/{name}"
        if volname in taken:
            dest = f"{storage.path or '/mnt/pve/' + storage_id}/images/{volname}"
            raise PVEError(f"disk image '{dest}' already exists")
    else:
        fmt = fmt or "raw"
        if fmt != "raw" and storage.plugintype in ("lvmthin", "lvm", "rbd"):
            raise PVEError(f"unsupported format '{fmt}'")
        if filename and not filename.startswith(f"vm-{vmid}-"):
            raise PVEError(f"illegal name '{filename}' - should be 'vm-{vmid}-*'")
        volname = filename or next_disk_name(vmid, taken, storage_id)
        if volname in taken:
            raise PVEError(f"volume '{volname}' already exists")
    volid = f"{storage_id}:{volname}"
    storage.volumes.append(
        Volume(volid, "images", size, fmt, cluster.clock.now(), vmid=vmid, node=None if storage.shared else node)
    )
    cluster.revision.touch()
    return volid


def _all_volnames(cluster: FakeCluster, storage: Storage, node: str) -> list[str]:
    from pytest_pvemock.model.provisioning import volume_names

    names = volume_names(cluster, storage.storage)
    names.extend(v.volid.split(":", 1)[1] for v in storage.volumes if v.node in (None, node))
    return names


def find_volume(cluster: FakeCluster, storage: Storage, node: str, volid: str) -> Volume | None:
    """The stored volume ``volid`` as ``node`` sees it, or a guest disk named by a config (as a Volume)."""
    for volume in storage.volumes:
        if volume.volid == volid and volume.node in (None, node) and volid not in storage.freed:
            return volume
    for guest, guest_volid, size in cluster.guest_volumes(storage.storage, node):
        if guest_volid == volid and volid not in storage.freed:
            parsed = parse_volid(volid)
            fmt = parsed.format if parsed is not None else "raw"
            return Volume(volid, "images" if guest.kind == "qemu" else "rootdir", size, fmt, 0, vmid=guest.vmid)
    return None


def _require_volume(cluster: FakeCluster, node: str, storage_id: str | None, volume: str) -> tuple[Storage, Volume]:
    volid, sid = real_volume_id(storage_id, volume)
    storage = cluster.storage(sid)
    if storage is None:
        raise PVEError(f"storage '{sid}' does not exist")
    found = find_volume(cluster, storage, node, volid)
    if found is None:  # Content.pm info 372: volume_size_info finds no file
        raise PVEError(f"volume_size_info on '{volid}' failed - no format")
    return storage, found


def _subdir(volname: str) -> str:
    head, _, rest = volname.partition("/")
    if head in ("iso", "vztmpl", "backup", "snippets", "import"):
        return {"iso": "template/iso", "vztmpl": "template/cache", "backup": "dump"}.get(head, head) + "/" + rest
    return f"images/{volname}"


def volume_info(cluster: FakeCluster, node: str, storage_id: str | None, volume: str) -> dict[str, Any]:
    """``GET .../content/{volume}``: path, size, used, format, and notes/protection for backups."""
    storage, found = _require_volume(cluster, node, storage_id, volume)
    volname = found.volid.split(":", 1)[1]
    if is_file_storage(storage.plugintype):
        path = f"{storage.path or '/mnt/pve/' + storage.storage}/{_subdir(volname)}"
    elif storage.plugintype == "zfspool":
        path = f"/dev/zvol/rpool/data/{volname}"
    else:
        path = f"/dev/pve/{volname}"
    entry: dict[str, Any] = {"path": path, "size": found.size, "used": found.size, "format": found.format}
    if found.content == "backup":
        if found.notes:
            entry["notes"] = found.notes
        entry["protected"] = int(found.protected)
    return entry


def update_attributes(
    cluster: FakeCluster, node: str, storage_id: str | None, volume: str, params: dict[str, Any]
) -> None:
    """``PUT .../content/{volume}``: notes and protection, which dir-like storages keep only for backups."""
    storage, found = _require_volume(cluster, node, storage_id, volume)
    for attribute in ("notes", "protected"):
        if attribute not in params:
            continue
        if found.content != "backup" or not is_file_storage(storage.plugintype):
            if attribute == "notes":
                raise PVEError("only backups can have notes")
            raise PVEError(f"only backups support attribute '{attribute}'")
        if attribute == "notes":
            found.notes = str(params["notes"]) or None
        else:
            found.protected = bool(int(params["protected"]))
    cluster.revision.touch()


def free_volume(cluster: FakeCluster, node: str, storage_id: str | None, volume: str, authid: str) -> Task:
    """``DELETE .../content/{volume}``: the ``imgdel`` task runs ``vdisk_free``, which refuses a base volume that
    linked clones use and a protected volume (inside the worker). PVE does not look at guest configs: a disk a
    config names is deleted all the same."""
    volid, sid = real_volume_id(storage_id, volume)
    storage = cluster.storage(sid)
    if storage is None:
        raise PVEError(f"storage '{sid}' does not exist")
    found = find_volume(cluster, storage, node, volid)
    owner = found.vmid if found is not None else None
    volname = volid.split(":", 1)[1]

    def free(task: Task) -> None:
        current = find_volume(cluster, storage, node, volid)
        if current is None:
            if not is_file_storage(storage.plugintype):
                raise PVEError(f"no such volume '{volid}'")
            path = f"{storage.path or '/mnt/pve/' + sid}/{_subdir(volname)}"
            task.log.append(f"WARN: disk image '{path}' does not exist")  # Plugin.pm free_image 1139
            task.warnings += 1
            task.log.append(f"Removed volume '{volid}'")
            return
        parsed = parse_volid(volid)
        # Storage.pm vdisk_free 1203-1205 (LVM-thin clones name no base: "LVM-thin allows deletion")
        if parsed is not None and parsed.is_base and storage.plugintype != "lvmthin":
            for _guest, other, _size in cluster.guest_volumes(sid, node):
                child = parse_volid(other)
                if child is not None and child.base_name == parsed.name and child.base_vmid == parsed.vmid:
                    raise PVEError(f"base volume '{volname}' is still in use by linked clones")
        if current.protected:
            raise PVEError(f"cannot remove protected volume '{volname}' on '{sid}'")
        storage.volumes = [v for v in storage.volumes if v is not current]
        if any(other == volid for _g, other, _s in cluster.guest_volumes(sid, node)):
            storage.freed.add(volid)
        cluster.revision.touch()
        task.log.append(f"Removed volume '{volid}'")

    task_id = f"{owner}@{sid}" if owner is not None else sid
    return cluster.tasks.start(node, "imgdel", task_id, authid, work=free)
