"""Resource mappings (PCI, USB, directories) as PVE answers them: pve-manager PVE/API2/Cluster/Mapping/{PCI,USB,Dir}.pm
at 14a22df3 over pve-guest-common src/PVE/Mapping/{PCI,USB,Dir}.pm at 4a8f6cb; the ``check-node`` checks read the
node's hardware, as ``/nodes/{node}/hardware/pci`` and ``/usb`` list it."""

from __future__ import annotations

import pytest
from support.clients import proxmoxer_client, refused

pytestmark = pytest.mark.pve_cluster("production", validate=True)

GPU = "node={node},path=0000:81:00,id=10de:2571,subsystem-id=10de:1611,iommugroup=20"


def test_the_production_mappings_name_hardware_the_nodes_have(pve_api):
    # the GPU the PCI mapping names is in pve1's and pve2's PCI listing, with the ids and IOMMU group it expects
    (gpu,) = [row for row in pve_api.nodes("pve1").hardware.pci.get() if row["id"] == "0000:81:00.0"]
    assert (gpu["vendor"], gpu["device"], gpu["subsystem_vendor"], gpu["subsystem_device"], gpu["iommugroup"]) == (
        "0x10de", "0x2571", "0x10de", "0x1611", 20)  # fmt: skip
    assert gpu["device_name"] == "GA106 [RTX A2000 12GB]"
    assert not [row for row in pve_api.nodes("pve3").hardware.pci.get() if row["id"].startswith("0000:81:")]
    (dongle,) = [row for row in pve_api.nodes("pve3").hardware.usb.get() if row["vendid"] == "0529"]
    assert (dongle["busnum"], dongle["usbpath"], dongle["prodid"]) == (1, "2", "0001")
    # Mapping/PCI.pm 96-140: every entry with its id, type and the file's digest; no checks without check-node
    (pci,) = pve_api.cluster.mapping.pci.get()
    assert pci["id"] == "rtx-a2000" and pci["type"] == "pci" and len(pci["digest"]) == 40 and "checks" not in pci
    assert pci["map"] == [GPU.format(node="pve1"), GPU.format(node="pve2")]
    # get (148-173): the section and the digest, no id
    single = pve_api.cluster.mapping.pci("rtx-a2000").get()
    assert single == {key: value for key, value in pci.items() if key != "id"}


def test_check_node_answers_what_the_nodes_hardware_says(pve_api):
    # PCI.pm 110-136: the node's entries checked with assert_valid (Mapping/PCI.pm 141-200), a warning without one
    assert pve_api.cluster.mapping.pci.get(**{"check-node": "pve1"})[0]["checks"] == []
    (pci,) = pve_api.cluster.mapping.pci.get(**{"check-node": "pve3"})
    assert pci["checks"] == [{"severity": "warning", "message": "No mapping for node pve3."}]
    # USB.pm 107-127 answers its checks under 'errors'
    (usb,) = pve_api.cluster.mapping.usb.get(**{"check-node": "pve3"})
    assert usb["errors"] == []
    assert pve_api.cluster.mapping.usb.get(**{"check-node": "pve1"})[0]["errors"][0]["severity"] == "warning"
    # Dir.pm: the NAS mount is a directory on every node
    (share,) = pve_api.cluster.mapping.dir.get(**{"check-node": "pve2"})
    assert share["checks"] == []


def test_a_mapping_that_no_longer_fits_the_hardware_is_reported(pve_api):
    entries = [
        GPU.format(node="pve1").replace("81:00", "82:00"),
        GPU.format(node="pve2").replace("iommugroup=20", "iommugroup=7"),
        "node=pve3,path=0000:03:00.0,id=1a03:2000,iommugroup=10",
    ]
    pve_api.cluster.mapping.pci.post(id="moved", map=entries)
    checks = {node: pve_api.cluster.mapping.pci.get(**{"check-node": node}) for node in ("pve1", "pve2", "pve3")}
    moved = {node: next(row for row in rows if row["id"] == "moved")["checks"] for node, rows in checks.items()}
    # PVE::Mapping::PCI::assert_valid's messages, each wrapped by the list's "Invalid configuration: " (PCI.pm 126)
    invalid = "Invalid configuration: "
    assert moved["pve1"] == [{"severity": "error", "message": f"{invalid}pci device '0000:82:00.0' not found\n"}]
    assert moved["pve2"] == [
        {"severity": "error", "message": "Invalid configuration: 'iommugroup' does not match for 'moved' (20 != 7)\n"}
    ]
    assert moved["pve3"] == [{"severity": "error", "message": "Invalid configuration: missing expected property "
                              "'subsystem-id' for device '0000:03:00.0'\n"}]  # fmt: skip
    pve_api.cluster.mapping.usb.post(id="stick", map=["node=pve3,id=0529:0002,path=1-2", "node=pve2,id=0529:0001"])
    errors = {node: next(row for row in pve_api.cluster.mapping.usb.get(**{"check-node": node}) if row["id"] == "stick")
              ["errors"] for node in ("pve2", "pve3")}  # fmt: skip
    assert errors["pve3"][0]["message"] == f"{invalid}'id' does not match for 'stick' (0529:0001 != 0529:0002)\n"
    assert errors["pve2"][0]["message"] == "Invalid configuration: usb device '0529:0001' not found\n"


def test_writes_are_checked_in_pves_order(pve_api, pve_cluster):
    mapping = pve_api.cluster.mapping
    # create (PCI.pm 205-240): an id in use is refused inside the lock, with the lock's prefix
    error = refused(mapping.pci.post, id="rtx-a2000", map=[GPU.format(node="pve1")])
    assert "create hardware mapping failed: pci ID 'rtx-a2000' already defined" in error.content
    # update (245-290): the digest first, then whether it exists, then check_config with create=1: 'map' required
    digest = mapping.pci.get()[0]["digest"]
    assert "detected modified configuration" in refused(mapping.pci("rtx-a2000").put, digest="0" * 40,
                                                        map=[GPU.format(node="pve1")]).content  # fmt: skip
    assert "update hardware mapping failed: pci ID 'nope' does not exist" in refused(
        mapping.pci("nope").put, map=[GPU.format(node="pve1")]).content  # fmt: skip
    assert "update hardware mapping failed: missing value for required option 'map'" in refused(
        mapping.pci("rtx-a2000").put, description="x").content  # fmt: skip
    mapping.pci("rtx-a2000").put(digest=digest, map=[GPU.format(node="pve1")], mdev=1)
    assert mapping.pci("rtx-a2000").get()["map"] == [GPU.format(node="pve1")]
    (pci,) = mapping.pci.get(**{"check-node": "pve1"})  # the GPU has no mdev_supported_types
    assert pci["checks"][0]["message"] == "Invalid configuration: 'mdev' does not match for 'rtx-a2000' (0 != 1)\n"
    mapping.pci("rtx-a2000").put(map=[GPU.format(node="pve1")], delete="mdev")
    assert "mdev" not in mapping.pci("rtx-a2000").get()
    # a dir mapping's entry for the answering node (pve1) must be a directory there (Dir.pm 187-192, Mapping/Dir.pm
    # assert_valid_map_list), and a node has one entry at most
    assert "Path /srv/media does not exist" in refused(mapping.dir.post, id="media",
                                                       map=["node=pve1,path=/srv/media"]).content  # fmt: skip
    assert "Path /etc/hosts exists, but is not a directory" in refused(
        mapping.dir.post, id="media", map=["node=pve1,path=/etc/hosts"]).content  # fmt: skip
    assert "Node 'pve2' is specified 2 times." in refused(
        mapping.dir.post, id="media", map=["node=pve2,path=/srv", "node=pve2,path=/mnt"]).content  # fmt: skip
    mapping.dir.post(id="media", map=["node=pve1,path=/srv", "node=pve3,path=/srv/media"])
    (media,) = [row for row in mapping.dir.get(**{"check-node": "pve3"}) if row["id"] == "media"]
    missing = "Invalid configuration: Path /srv/media does not exist\n"
    assert media["checks"] == [{"severity": "error", "message": missing}]
    # get of a missing mapping (PCI.pm 165), delete of a missing one is no error (330-345)
    assert "mapping 'media' not found" in refused(mapping.pci("media").get).content
    mapping.pci("media").delete()
    mapping.dir("media").delete()
    assert [row["id"] for row in mapping.dir.get()] == ["nas-share"]


@pytest.mark.pve_cluster("production", version="8.2")
def test_directory_mappings_came_with_pve_8_3(pve_api):
    assert [row["id"] for row in pve_api.cluster.mapping.pci.get()] == ["rtx-a2000"]
    assert refused(pve_api.cluster.mapping.dir.get).status_code == 501  # the setup skipped it


def test_a_vm_uses_a_mapping_with_mapping_use_on_it(pve_api, pve_cluster):
    # qemu-server src/PVE/API2/Qemu.pm (e6352be6) check_hostpci_perm 918-938, check_usb_perm 882-903, update_vm
    # 2466-2490: raw host devices are root@pam's, a mapping needs Mapping.Use on /mapping/<kind>/<id>
    pve_api.access.users.post(userid="builder@pve", password="builder-password")
    pve_api.access.acl.put(path="/vms/102", roles="PVEVMAdmin", users="builder@pve")
    builder = proxmoxer_client(pve_cluster, user="builder@pve", password="builder-password")
    config = builder.nodes("pve2").qemu(102).config
    error = refused(config.put, hostpci1="0000:81:00.0")
    assert (error.status_code, error.content) == (500, "only root can set 'hostpci1' config for non-mapped devices")
    error = refused(config.put, hostpci1="mapping=rtx-a2000")
    assert error.status_code == 403 and "/mapping/pci/rtx-a2000, Mapping.Use" in error.content
    pve_api.access.acl.put(path="/mapping/pci/rtx-a2000", roles="PVEMappingUser", users="builder@pve")
    # hostpci0 is already the mapping (production's setup): its old value is checked too, now allowed
    config.put(hostpci0="mapping=rtx-a2000,pcie=0")
    assert pve_api.nodes("pve2").qemu(102).config.get()["hostpci0"] == "mapping=rtx-a2000,pcie=0"
    error = refused(config.put, usb0="mapping=licence-dongle")
    assert error.status_code == 403 and "/mapping/usb/licence-dongle, Mapping.Use" in error.content
    assert "only root can set 'usb0' config for real devices" in refused(config.put, usb0="host=0529:0001").content
