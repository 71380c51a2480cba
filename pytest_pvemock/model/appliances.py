"""The appliance index of a node and the template download from it: pve-manager PVE/APLInfo.pm ``load_data``
(the files ``pveam update`` leaves in ``/var/lib/pve-manager/apl-info``) and PVE/API2/Nodes.pm ``apl_download``
(lines 1772-1845 at commit 14a22df3), whose worker is pve-common PVE/Tools.pm ``download_file_from_url``
(lines 1486-1596 at f665029e)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.storage_content import (
    _directory,
    _store,
    _template_volume,
    check_enabled,
    downloaded_size,
    encode_text,
)

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.tasks import Task


def appliance_index(cluster: FakeCluster, node: str) -> dict[str, dict[str, Any]]:
    """``load_data()->{all}``: the appliances by template file name. A node of the fake never reached
    download.proxmox.com (``pveam update``), so its index is empty."""
    return {}


def download_appliance(cluster: FakeCluster, node: str, storage_id: str, template: str, authid: str) -> Task:
    """``POST /nodes/{node}/aplinfo``: the template must be in the node's index, the storage enabled on the node
    and configured for ``vztmpl``; the ``download`` task leaves ``vztmpl/<template>`` on the storage. Nothing
    is fetched: the file's size is the one the fake gives every download of that URL."""
    appliance = appliance_index(cluster, node).get(template)
    if appliance is None:
        raise ParameterError({"template": "no such template"})
    storage = check_enabled(cluster, storage_id, node)
    if appliance.get("type") not in ("openvz", "lxc"):
        raise PVEError(f"unknown template type '{appliance.get('type')}'")
    if "vztmpl" not in storage.content:
        raise PVEError(f"storage '{storage_id}' does not support templates")
    url = str(appliance["location"])
    dest = f"{_directory(storage, 'vztmpl')}/{template}"
    volname, fmt = _template_volume("vztmpl", template, "")
    volid = f"{storage_id}:{volname}"

    def download(task: Task) -> None:
        task.log.append(f"downloading {url} to {dest}")
        where = None if storage.shared else node
        if any(v.volid == volid and v.node in (None, where) for v in storage.volumes):
            # the file PVE finds is the one an earlier download verified
            task.log.append("calculating checksum of existing file...OK, got correct file already, no need to download")
            return
        # wget's progress lines go to the log too; the fake fetches nothing and takes the index's checksum as the
        # file's (hash_required: sha512sum, else md5sum)
        task.log.append("calculating checksum...OK, checksum verified")
        task.log.append(f"download of '{url}' to '{dest}' finished")
        _store(cluster, storage, node, volid, "vztmpl", downloaded_size(url, "vztmpl"), fmt)

    return cluster.tasks.start(node, "download", encode_text(template), authid, work=download)
