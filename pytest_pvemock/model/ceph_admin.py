"""What ``pveceph`` and the Ceph API methods do to the Ceph cluster (:mod:`pytest_pvemock.model.ceph`): the checks
they make before forking a worker (the HTTP call fails), the checks inside it (the task fails with PVE's message),
the effect, the task's type, id and log lines.

Read from pve-manager commit 14a22df3 (PVE/API2/Ceph.pm, Ceph/{OSD,Pool,MON,MGR,MDS}.pm, Cluster/Ceph.pm,
PVE/Ceph/Tools.pm, PVE/Ceph/Services.pm) and pve-storage commit 0c56bad8 (PVE/Diskmanage.pm). A monitor command
that Ceph refuses dies in PVE::RADOS as ``error with '<prefix>': mon_cmd failed - <Ceph's message>``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.ceph import CephCluster
from pytest_pvemock.model.tasks import start_worker

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.tasks import Task

# PVE::Ceph::Tools $ceph_service: the binary each check names.
BINARIES = {
    "ceph_bin": "/usr/bin/ceph",
    "ceph_mon": "/usr/bin/ceph-mon",
    "ceph_mgr": "/usr/bin/ceph-mgr",
    "ceph_osd": "/usr/bin/ceph-osd",
    "ceph_mds": "/usr/bin/ceph-mds",
    "ceph_volume": "/usr/sbin/ceph-volume",
}
NOT_INITIALIZED = "pveceph configuration not initialized - missing '/etc/pve/ceph.conf', missing '/etc/pve/ceph'"
NO_ADMIN_KEYRING = "ceph not fully configured - missing '/etc/pve/priv/ceph.client.admin.keyring'"
# PVE::RADOS->new without a monitor to ask (no mon_host in ceph.conf): librados' ENOENT.
NO_MONITORS = "rados_connect failed - No such file or directory"
# Cluster/Ceph.pm: the settable flags (sorted, as the worker walks them) and the flag Ceph sets for 'pause'.
POSSIBLE_FLAGS = ("nobackfill", "nodeep-scrub", "nodown", "noin", "noout", "norebalance", "norecover", "noscrub",
                  "notieragent", "noup", "pause")  # fmt: skip
REAL_FLAGS = {"pause": ("pauserd", "pausewr")}


def mon_error(prefix: str, message: str) -> PVEError:
    return PVEError(f"error with '{prefix}': mon_cmd failed - {message}", 500)


# ---- PVE::Ceph::Tools checks ------------------------------------------------------------------------------------


def check_installed(cluster: FakeCluster, node: str, service: str = "ceph_bin") -> CephCluster:
    """``check_ceph_installed``: the Ceph packages are on ``node`` (Tools.pm lines 189-202)."""
    ceph = cluster.ceph
    if ceph is None or node not in ceph.installed:
        raise PVEError(f"binary not installed: {BINARIES[service]}", 500)
    return ceph


def check_inited(cluster: FakeCluster, node: str) -> CephCluster:
    """``check_ceph_inited``: installed (ceph-mon) and ``pveceph init`` wrote ceph.conf (Tools.pm lines 214-231)."""
    ceph = check_installed(cluster, node, "ceph_mon")
    if not ceph.initialized:
        raise PVEError(NOT_INITIALIZED, 500)
    return ceph


def check_configured(cluster: FakeCluster, node: str) -> CephCluster:
    """``check_ceph_configured``: initialized and the admin keyring exists (Tools.pm lines 204-212)."""
    ceph = check_inited(cluster, node)
    if not ceph.admin_keyring:
        raise PVEError(NO_ADMIN_KEYRING, 500)
    return ceph


def connect(ceph: CephCluster) -> CephCluster:
    """``PVE::RADOS->new``: fails while ceph.conf names no monitor."""
    if not ceph.mons:
        raise PVEError(NO_MONITORS, 500)
    return ceph


def _warn(task: Task, message: str) -> None:
    task.log.append(message)
    task.warnings += 1


# ---- init ----------------------------------------------------------------------------------------------------------


def init(cluster: FakeCluster, node: str, params: Mapping[str, Any]) -> None:
    """``pveceph init`` (Ceph.pm lines 263-335): a new [global] section unless one exists (then only the networks
    and the client keyring are written again), the admin keyring with cephx. No worker."""
    ceph = cluster.ceph
    if ceph is None or node not in ceph.installed:
        raise PVEError("Ceph Nautilus required - please run 'pveceph install'", 500)
    cephx = not params.get("disable_cephx")
    if not ceph.initialized:
        ceph.initialized = True
        ceph.cephx = cephx
        ceph.default_size = int(params.get("size") or 3)
        ceph.default_min_size = int(params.get("min_size") or 2)
        ceph.created = cluster.clock.now()
    if params.get("network"):
        ceph.public_network = ceph.cluster_network = str(params["network"])
    if params.get("cluster-network"):
        ceph.cluster_network = str(params["cluster-network"])
    if cephx:
        ceph.admin_keyring = True
    cluster.revision.touch()


# ---- services: start / stop / restart ------------------------------------------------------------------------------


def _daemons_on(ceph: CephCluster, node: str) -> list[str]:
    """The daemons of ``node`` as systemd names them (``mon.pve1``, ``osd.3``)."""
    names = [f"mon.{monid}" for monid, host in ceph.mons.items() if host == node]
    names += [f"mgr.{mgrid}" for mgrid, host in ceph.mgrs.items() if host == node]
    names += [f"mds.{mdsid}" for mdsid, host in ceph.mds.items() if host == node]
    names += [f"osd.{osd.osdid}" for osd in ceph.osds_on(node)]
    return names


def service_command(cluster: FakeCluster, node: str, action: str, service: str | None, authid: str) -> Task:
    """``pveceph start|stop|restart [service]`` (Ceph.pm lines 363-494): ``systemctl <action>`` of ceph.target
    (every Ceph daemon of the node), ``ceph-<type>.target`` or one ``ceph-<type>@<id>`` (Services.pm lines
    126-136). Starting a daemon the node does not have fails as systemd does; stopping one is a no-op."""
    ceph = check_inited(cluster, node)
    kind = {"start": "srvstart", "stop": "srvstop", "restart": "srvrestart"}[action]

    def work(task: Task) -> None:
        daemons = _daemons_on(ceph, node)
        kind_name, _, ident = (service or "ceph").partition(".")
        if kind_name == "ceph":
            chosen = daemons
        elif not ident:
            chosen = [name for name in daemons if name.split(".")[0] == kind_name]
        else:
            chosen = [name for name in daemons if name == service]
            if not chosen and action != "stop":
                unit = f"ceph-{kind_name}@{ident}"
                task.log.append(f"Job for {unit}.service failed because the control process exited with error code.")
                task.log.append(f'See "systemctl status {unit}.service" and "journalctl -xeu {unit}.service" for '
                                "details.")  # fmt: skip
                raise PVEError(f"command '/bin/systemctl {action} {unit}' failed: exit code 1")
        for name in chosen:
            if action == "stop":
                ceph.stopped.setdefault(name, cluster.clock.now())
            else:
                ceph.stopped.pop(name, None)

    return start_worker(cluster, node, kind, service or "ceph", authid, work)


# ---- monitors ------------------------------------------------------------------------------------------------------


def in_network(ip: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _mon_ips(cluster: FakeCluster, ceph: CephCluster, node: str, mon_address: str | None) -> list[str]:
    """MON.pm ``$find_mon_ips`` (lines 23-96): the node's address in the public network, or the ones asked for."""
    node_ip = cluster.node(node).ip
    asked = list(dict.fromkeys(part for part in re.split(r"[\s,;]+", mon_address or "") if part))
    if not ceph.public_network:
        return asked or [node_ip]
    networks = [net for net in re.split(r"[\s,;]+", ceph.public_network) if net]
    if not asked:
        found = []
        for net in networks:
            if not in_network(node_ip, net):
                raise PVEError(f"No active IP found for the requested ceph public network '{net}' on node '{node}'")
            found.append(node_ip)
        return found
    allowed = {node_ip} if any(in_network(node_ip, net) for net in networks) else set()
    for ip in asked:
        if ip not in allowed:
            raise PVEError(f"Specified monitor IP '{ip}' not configured or up on {node}!")
    return asked


def _assert_mon_prerequisites(cluster: FakeCluster, ceph: CephCluster, monid: str, ips: list[str]) -> None:
    """MON.pm lines 122-151: an address no monitor uses, an id no monitor has."""
    used = {cluster.node(host).ip for host in ceph.mons.values()}
    for ip in ips:
        if ip in used:
            raise PVEError(f"monitor address '{ip}' already in use")
    if monid in ceph.mons:
        raise PVEError(f"monitor '{monid}' already exists")


def _enabled(kind: str, ident: str) -> str:
    """What ``systemctl enable ceph-<kind>@<id>`` prints."""
    return (f"Created symlink /etc/systemd/system/ceph-{kind}.target.wants/ceph-{kind}@{ident}.service -> "
            f"/lib/systemd/system/ceph-{kind}@.service.")  # fmt: skip


def disabled(kind: str, ident: str) -> str:
    return f"Removed /etc/systemd/system/ceph-{kind}.target.wants/ceph-{kind}@{ident}.service."


def create_monitor(cluster: FakeCluster, node: str, monid: str | None, mon_address: str | None, authid: str) -> Task:
    """``pveceph mon create`` (MON.pm lines 352-558); the first monitor also gets a manager on its node."""
    check_installed(cluster, node, "ceph_mon")
    ceph = check_inited(cluster, node)
    is_first = not ceph.mons
    monid = monid or node
    ips = _mon_ips(cluster, ceph, node, mon_address)
    _assert_mon_prerequisites(cluster, ceph, monid, ips)

    def work(task: Task) -> None:
        _assert_mon_prerequisites(cluster, ceph, monid, ips)
        ceph.admin_keyring = True  # get_or_create_admin_keyring
        if is_first:
            task.log.append("creating new monitor keyring")
        ceph.mons[monid] = node
        ceph.stopped.pop(f"mon.{monid}", None)
        if is_first:
            task.log.append("created the first monitor, assume it's safe to disable insecure global ID reclaim "
                            "for new setup")  # fmt: skip
            task.log.append("Configuring keyring for ceph-crash.service")
        task.log.append(_enabled("mon", monid))
        if is_first and node not in ceph.mgrs:
            _create_manager(ceph, node, node, task)

    return start_worker(cluster, node, "cephcreatemon", f"mon.{monid}", authid, work)


def destroy_monitor(cluster: FakeCluster, node: str, monid: str, authid: str) -> Task:
    """``pveceph mon destroy`` (MON.pm lines 585-694): a known monitor of this node, never the last one."""
    ceph = connect(check_inited(cluster, node))

    def assert_can_remove() -> None:
        if monid not in ceph.mons:
            raise PVEError(f"no such monitor id '{monid}'")
        if ceph.mons[monid] != node:
            raise PVEError(f"monitor filesystem '/var/lib/ceph/mon/ceph-{monid}' does not exist on this node")
        if len(ceph.mons) <= 1:
            raise PVEError("can't remove last monitor")

    assert_can_remove()

    def work(task: Task) -> None:
        assert_can_remove()
        del ceph.mons[monid]
        ceph.stopped.pop(f"mon.{monid}", None)
        task.log.append(disabled("mon", monid))

    return start_worker(cluster, node, "cephdestroymon", f"mon.{monid}", authid, work)


# ---- managers ------------------------------------------------------------------------------------------------------


def _create_manager(ceph: CephCluster, node: str, mgrid: str, task: Task) -> None:
    """PVE::Ceph::Services::create_mgr (Services.pm lines 368-404)."""
    connect(ceph)
    if ceph.mgrs.get(mgrid) == node:
        raise PVEError(f"ceph manager directory '/var/lib/ceph/mgr/ceph-{mgrid}' already exists")
    task.log += [f"creating manager directory '/var/lib/ceph/mgr/ceph-{mgrid}'", f"creating keys for 'mgr.{mgrid}'",
                 "setting owner for directory", f"enabling service 'ceph-mgr@{mgrid}.service'",
                 _enabled("mgr", mgrid), f"starting service 'ceph-mgr@{mgrid}.service'"]  # fmt: skip
    ceph.mgrs[mgrid] = node
    ceph.stopped.pop(f"mgr.{mgrid}", None)


def create_manager(cluster: FakeCluster, node: str, mgrid: str | None, authid: str) -> Task:
    """``pveceph mgr create`` (MGR.pm lines 136-158)."""
    check_installed(cluster, node, "ceph_mgr")
    ceph = check_inited(cluster, node)
    ident = mgrid or node
    return start_worker(cluster, node, "cephcreatemgr", f"mgr.{ident}", authid,
                   lambda task: _create_manager(ceph, node, ident, task))  # fmt: skip


def destroy_manager(cluster: FakeCluster, node: str, mgrid: str, authid: str) -> Task:
    """``pveceph mgr destroy`` (MGR.pm lines 183-201, Services.pm ``destroy_mgr`` lines 406-434): the manager's
    directory must be on this node."""
    ceph = check_inited(cluster, node)

    def work(task: Task) -> None:
        if ceph.mgrs.get(mgrid) != node:
            raise PVEError(f"ceph manager directory '/var/lib/ceph/mgr/ceph-{mgrid}' not found")
        task.log += [f"disabling service 'ceph-mgr@{mgrid}.service'", disabled("mgr", mgrid),
                     f"stopping service 'ceph-mgr@{mgrid}.service'",
                     f"removing manager directory '/var/lib/ceph/mgr/ceph-{mgrid}'"]  # fmt: skip
        del ceph.mgrs[mgrid]
        ceph.stopped.pop(f"mgr.{mgrid}", None)
        task.log.append(f"removing authkeys for mgr.{mgrid}")
        connect(ceph)

    return start_worker(cluster, node, "cephdestroymgr", f"mgr.{mgrid}", authid, work)


# ---- metadata servers ----------------------------------------------------------------------------------------------


def create_metadata_server(cluster: FakeCluster, node: str, name: str | None, authid: str) -> Task:
    """``pveceph mds create`` (MDS.pm lines 161-216, Services.pm ``create_mds`` lines 276-328)."""
    check_installed(cluster, node, "ceph_mds")
    ceph = check_inited(cluster, node)
    mdsid = name or node
    if re.match(r"^[0-9]", mdsid):
        raise PVEError("ID of the MDS cannot start with a number!")

    def work(task: Task) -> None:
        connect(ceph)
        if mdsid in ceph.mds:
            raise PVEError(f"MDS '{mdsid}' already referenced in ceph config, abort!")
        directory = f"/var/lib/ceph/mds/ceph-{mdsid}"
        task.log += [f"creating MDS directory '{directory}'", f"creating keys for 'mds.{mdsid}'",
                     "setting ceph as owner for service directory", f"enabling service 'ceph-mds@{mdsid}.service'",
                     _enabled("mds", mdsid), f"starting service 'ceph-mds@{mdsid}.service'"]  # fmt: skip
        ceph.mds[mdsid] = node
        ceph.stopped.pop(f"mds.{mdsid}", None)

    return start_worker(cluster, node, "cephcreatemds", f"mds.{mdsid}", authid, work)


def destroy_metadata_server(cluster: FakeCluster, node: str, name: str, authid: str) -> Task:
    """``pveceph mds destroy`` (MDS.pm lines 241-267, Services.pm ``destroy_mds`` lines 330-364): the section goes
    from ceph.conf; a directory not on this node is a warning."""
    ceph = check_inited(cluster, node)

    def work(task: Task) -> None:
        connect(ceph)
        here = ceph.mds.get(name) == node
        if here:
            del ceph.mds[name]
        task.log += [f"disabling service 'ceph-mds@{name}.service'"]
        if here:
            task.log.append(disabled("mds", name))
        task.log.append(f"stopping service 'ceph-mds@{name}.service'")
        directory = f"/var/lib/ceph/mds/ceph-{name}"
        if here:
            task.log.append(f"removing ceph-mds directory '{directory}'")
        else:
            _warn(task, f"cannot cleanup MDS {name} directory, '{directory}' not found")
        task.log.append(f"removing ceph auth for 'mds.{name}'")
        ceph.stopped.pop(f"mds.{name}", None)

    return start_worker(cluster, node, "cephdestroymds", f"mds.{name}", authid, work)


# ---- flags -------------------------------------------------------------------------------------------------------


def answering_node(cluster: FakeCluster) -> str:
    """The node that answers a ``/cluster/ceph`` call (the one the client talks to: the first online)."""
    return next((node.name for node in cluster.nodes if node.online), cluster.nodes[0].name)


def _set_flag(ceph: CephCluster, flag: str, value: bool) -> None:
    for real in REAL_FLAGS.get(flag, (flag,)):
        if value:
            ceph.flags.add(real)
        else:
            ceph.flags.discard(real)


def flag_is_set(ceph: CephCluster, flag: str) -> bool:
    """``get_real_flag_name``: 'pause' reads as 'pauserd' (Tools.pm lines 612-622)."""
    return REAL_FLAGS.get(flag, (flag,))[0] in ceph.flags


def set_flags(cluster: FakeCluster, values: Mapping[str, Any], authid: str) -> Task:
    """``PUT /cluster/ceph/flags`` (Cluster/Ceph.pm lines 922-960): the worker sets or unsets each flag given that
    is not already so, printing ``set <flag>`` / ``unset <flag>``."""
    node = answering_node(cluster)
    ceph = check_configured(cluster, node)

    def work(task: Task) -> None:
        connect(ceph)
        for flag in POSSIBLE_FLAGS:
            if values.get(flag) is None:
                continue
            wanted = bool(values[flag])
            if wanted == flag_is_set(ceph, flag):
                continue
            task.log.append(f"{'set' if wanted else 'unset'} {flag}")
            _set_flag(ceph, flag, wanted)

    return start_worker(cluster, node, "cephsetflags", "", authid, work)


def set_flag(cluster: FakeCluster, flag: str, value: bool) -> None:
    """``PUT /cluster/ceph/flags/{flag}`` (Cluster/Ceph.pm lines 1027-1041): at once, no worker."""
    ceph = connect(check_configured(cluster, answering_node(cluster)))
    _set_flag(ceph, flag, value)
    cluster.revision.touch()
