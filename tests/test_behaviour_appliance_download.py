"""Appliance template downloads, as pve-manager PVE/API2/Nodes.pm ``apl_download`` (lines 1772-1845 at 14a22df3)
answers them: the template must be in the node's appliance index (PVE/APLInfo.pm ``load_data``), the storage
enabled and holding ``vztmpl``; the ``download`` task logs what pve-common PVE/Tools.pm ``download_file_from_url``
(lines 1486-1596 at f665029e) prints and leaves ``vztmpl/<template>`` on the storage.

A node of the fake never ran ``pveam update``, so its index is empty; the tests that download give it the
``debian-12-standard`` record of pve-manager aplinfo/aplinfo.dat (lines 112-124 at 14a22df3) as
``read_aplinfo_from_fh`` parses it for the source ``http://download.proxmox.com/images``."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_pvemock.model import appliances
from tests.support.clients import proxmoxer_client, refused, storage_content, task_log, wait

TEMPLATE = "debian-12-standard_12.12-1_amd64.tar.zst"
LOCATION = f"http://download.proxmox.com/images/system/{TEMPLATE}"
DEBIAN_12 = {
    "package": "debian-12-standard",
    "version": "12.12-1",
    "type": "lxc",
    "os": "debian-12",
    "section": "system",
    "maintainer": "Proxmox Support Team <support@proxmox.com>",
    "architecture": "amd64",
    "location": LOCATION,
    "md5sum": "4e5a0a7183b6c8ca6867489820961e88",
    "sha512sum": "50c85eaaece677a3ebe01cc909b83872e9da2a22c29ae652838afce71e83222fdf40f6accecd7d52b180e912fc1f85ec"
    "df7b3fc4d3027da4d865e509a9e76597",
    "infopage": "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
    "headline": "Debian 12 Bookworm (standard)",
    "description": "A small Debian Bookworm system including all standard packages.",
    "source": "http://download.proxmox.com/images",
    "template": TEMPLATE,
}


@pytest.fixture
def indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nodes whose ``/var/lib/pve-manager/apl-info/download.proxmox.com`` holds the debian-12 record."""

    def index(cluster: Any, node: str) -> dict[str, dict[str, Any]]:
        return {TEMPLATE: dict(DEBIAN_12)}

    monkeypatch.setattr(appliances, "appliance_index", index)


def test_a_node_that_never_updated_its_index_lists_nothing_and_has_no_template(pve_cluster_factory):
    pve = proxmoxer_client(pve_cluster_factory(validate=True))
    assert pve.nodes("pve1").aplinfo.get() == []
    error = refused(pve.nodes("pve1").aplinfo.post, storage="local", template=TEMPLATE)
    assert error.status_code == 400
    assert "template" in error.errors and "no such template" in error.errors["template"]


def test_download_leaves_the_template_on_the_storage_for_pct_create(pve_cluster_factory, indexed):
    cluster = pve_cluster_factory(validate=True)
    pve = proxmoxer_client(cluster)
    assert [row["template"] for row in pve.nodes("pve1").aplinfo.get()] == [TEMPLATE]
    upid = pve.nodes("pve1").aplinfo.post(storage="local", template=TEMPLATE)
    assert upid.split(":")[5:7] == ["download", TEMPLATE]
    assert wait(pve, upid)["exitstatus"] == "OK"
    dest = f"/var/lib/vz/template/cache/{TEMPLATE}"
    assert task_log(pve, upid)[:3] == [
        f"downloading {LOCATION} to {dest}",
        "calculating checksum...OK, checksum verified",
        f"download of '{LOCATION}' to '{dest}' finished",
    ]
    volume = storage_content(pve, "pve1", "local", content="vztmpl")[f"local:vztmpl/{TEMPLATE}"]
    assert volume["format"] == "tzst" and volume["size"] > 0
    assert f"local:vztmpl/{TEMPLATE}" not in storage_content(pve, "pve2", "local")  # a local storage: pve1 only
    created = pve.nodes("pve1").lxc.post(vmid=300, ostemplate=f"local:vztmpl/{TEMPLATE}", storage="local-lvm")
    assert wait(pve, created)["exitstatus"] == "OK"
    # a second download finds the verified file and fetches nothing
    again = pve.nodes("pve1").aplinfo.post(storage="local", template=TEMPLATE)
    wait(pve, again)
    assert task_log(pve, again)[1] == (
        "calculating checksum of existing file...OK, got correct file already, no need to download"
    )


def test_the_storage_must_exist_and_hold_templates(pve_cluster_factory, indexed):
    pve = proxmoxer_client(pve_cluster_factory(validate=True))
    error = refused(pve.nodes("pve1").aplinfo.post, storage="nowhere", template=TEMPLATE)
    assert (error.status_code, error.content) == (500, "storage 'nowhere' does not exist")
    error = refused(pve.nodes("pve1").aplinfo.post, storage="nas", template=TEMPLATE)
    assert (error.status_code, error.content) == (500, "storage 'nas' does not support templates")


def test_downloading_needs_allocate_template_on_the_storage(pve_cluster_factory, indexed):
    cluster = pve_cluster_factory(validate=True)
    pve = proxmoxer_client(cluster)
    pve.access.users.post(userid="reader@pve", password="reader-pass")
    pve.access.acl.put(path="/storage/local", roles="PVEDatastoreUser", users="reader@pve")
    reader = proxmoxer_client(cluster, "reader@pve", "reader-pass")
    assert refused(reader.nodes("pve1").aplinfo.post, storage="local", template=TEMPLATE).status_code == 403
    pve.access.acl.put(path="/storage/local", roles="PVETemplateUser", users="reader@pve")  # no AllocateTemplate
    assert refused(reader.nodes("pve1").aplinfo.post, storage="local", template=TEMPLATE).status_code == 403
    pve.access.acl.put(path="/storage/local", roles="PVEDatastoreAdmin", users="reader@pve")
    assert wait(pve, reader.nodes("pve1").aplinfo.post(storage="local", template=TEMPLATE))["exitstatus"] == "OK"
