"""``pveceph osd create|destroy`` and ``ceph osd in|out|scrub`` (pve-manager 14a22df3 PVE/API2/Ceph/OSD.pm, pve-storage
0c56bad8 PVE/Diskmanage.pm): a whole disk of the node becomes an OSD, an OSD out and down goes, its disk stays
with its LVM (in use) unless ``cleanup``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.ceph import CephCluster, Osd, SpareDisk, lvm_uuid
from pytest_pvemock.model.ceph_admin import check_inited, check_installed, connect, disabled, in_network
from pytest_pvemock.model.tasks import start_worker

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.tasks import Task


def _known_osd(ceph: CephCluster, osdid: int) -> Osd:
    """OSD.pm ``$get_osd_status`` (lines 31-50): the OSD in ``osd dump``."""
    osd = ceph.osd(osdid)
    if osd is None:
        raise PVEError(f"no such OSD '{osdid}'")
    return osd


def mark_osd(cluster: FakeCluster, node: str, osdid: int, placed: bool) -> None:
    """``ceph osd in`` / ``out`` (OSD.pm lines 1154-1211): any OSD of the cluster, whichever node is asked."""
    ceph = connect(check_inited(cluster, node))
    _known_osd(ceph, osdid).placed = placed
    cluster.revision.touch()


def scrub_osd(cluster: FakeCluster, node: str, osdid: int) -> None:
    """``ceph osd scrub|deep-scrub`` (OSD.pm lines 1240-1256): Ceph queues it; nothing PVE reports changes."""
    _known_osd(connect(check_inited(cluster, node)), osdid)


def _node_disks(cluster: FakeCluster, ceph: CephCluster, node: str) -> dict[str, str]:
    """The node's block devices and what uses them (``PVE::Diskmanage::get_disks``' ``used``)."""
    disks = {"/dev/sda": "BIOS boot"}
    disks.update({osd.devpath: "LVM" for osd in ceph.osds_on(node)})
    disks.update({disk.devpath: disk.used for disk in ceph.spare_disks if disk.host == node})
    return disks


def create_osd(cluster: FakeCluster, node: str, params: Mapping[str, Any], authid: str) -> Task:
    """``pveceph osd create`` (OSD.pm lines 315-592): a whole unused disk becomes a BlueStore OSD with the lowest
    free id (``ceph-volume lvm create``), ``in`` and up."""
    ceph = check_inited(cluster, node)
    check_installed(cluster, node, "ceph_osd")
    check_installed(cluster, node, "ceph_volume")
    if params.get("osds-per-device"):
        for kind in ("db_dev", "wal_dev"):
            if params.get(kind):
                raise ParameterError({kind: f"cannot use 'osds-per-device' parameter with '{kind}'"})
    network = ceph.cluster_network or ceph.public_network
    if network and not in_network(cluster.node(node).ip, network):
        base = ipaddress.ip_network(network, strict=False)
        raise PVEError(f"No address from ceph cluster network ({base.network_address}/{base.prefixlen}) found on "
                       f"node '{node}'. Check your network config.")  # fmt: skip
    devs: dict[str, str] = {}
    for kind in ("dev", "db_dev", "wal_dev"):
        if not params.get(kind):
            continue
        path = str(params[kind])
        path = path if path.startswith("/") else "/" + path
        if not path.startswith("/dev/"):
            raise PVEError(f"got unusual device path '{path}'")
        if path not in _node_disks(cluster, ceph, node):
            raise PVEError("not a valid block device")
        if path in devs.values():
            raise ParameterError({kind: f"cannot chose '{path}' for more than one type."})
        devs[kind] = path
    devpath = devs["dev"]

    def test_disk_requirements() -> None:
        disks = _node_disks(cluster, ceph, node)
        if devpath not in disks:
            raise PVEError(f"unable to get device info for '{devpath}'")
        if disks[devpath]:
            raise PVEError(f"device '{devpath}' is already in use")

    test_disk_requirements()
    connect(ceph)
    devname = devpath.rsplit("/", 1)[1]

    def work(task: Task) -> None:
        test_disk_requirements()
        spare = next(disk for disk in ceph.spare_disks if disk.host == node and disk.devpath == devpath)
        task.log += [f"create OSD on {devpath} (bluestore)", f"wiping block device {devpath}"]
        osdid = next(number for number in range(len(ceph.osds) + 1) if ceph.osd(number) is None)
        draw = figures.seeded(ceph.seed, "ceph-osd-created", osdid, cluster.clock.now())
        device_class = str(params.get("crush-device-class") or spare.device_class)
        ceph.osds.append(Osd(
            osdid=osdid, host=node, device_class=device_class, devpath=devpath, size=spare.size, model=spare.model,
            serial=spare.serial, osd_fsid=figures.uuid4(draw), vg_uuid=figures.uuid4(draw),
            lv_uuid=lvm_uuid(draw), created=cluster.clock.now(), pid=draw.randrange(1500, 90000),
            mem_usage=draw.randrange(400_000_000, 900_000_000),
        ))  # fmt: skip
        ceph.osds.sort(key=lambda osd: osd.osdid)
        ceph.spare_disks.remove(spare)
        ceph.stopped.pop(f"osd.{osdid}", None)
        task.log += [f"--> ceph-volume lvm activate successful for osd ID: {osdid}",
                     f"--> ceph-volume lvm create successful for: {devpath}"]  # fmt: skip

    return start_worker(cluster, node, "cephcreateosd", devname, authid, work)


def destroy_osd(cluster: FakeCluster, node: str, osdid: int, cleanup: bool, authid: str) -> Task:
    """``pveceph osd destroy`` (OSD.pm lines 989-1130): an OSD of this node's CRUSH host, out and down; without
    ``cleanup`` its disk keeps the LVM ceph-volume made (in use), with it the disk is free again."""
    ceph = connect(check_inited(cluster, node))
    osd = ceph.osd(osdid)
    if osd is None or osd.host != node:
        # a die without a newline: Perl adds where it died
        raise PVEError(f"OSD osd.{osdid} does not belong to node {node}! at /usr/share/perl5/PVE/API2/Ceph/OSD.pm "
                       "line 1008.")  # fmt: skip
    if ceph.osd_in(cluster, osd):
        raise PVEError("osd is in use (in == 1)")
    if ceph.osd_up(cluster, osd):
        raise PVEError("osd is still running (up == 1)")
    section = f"osd.{osdid}"

    def work(task: Task) -> None:
        task.log += [f"destroy OSD {section}", disabled("osd", str(osdid)), f"Remove {section} from the CRUSH map",
                     f"Remove the {section} authentication key.", f"Remove OSD {section}",
                     f"Remove {section} mclock max capacity iops settings from config"]  # fmt: skip
        ceph.osds.remove(osd)
        ceph.stopped.pop(section, None)
        ceph.spare_disks.append(SpareDisk(osd.host, osd.devpath, osd.size, osd.model, osd.serial,
                                          osd.device_class, "" if cleanup else "LVM"))  # fmt: skip

    return start_worker(cluster, node, "cephdestroyosd", section, authid, work)
