"""Requests for every documented method, with valid parameters, for the whole-API tests.

``SurfaceRig`` holds a prepared cluster (the default scenario plus a user, a token, a group, a role and a
snapshot that methods can name) and, for one ``(method, template)``, builds the concrete path and the
parameters a real client would send, creates what the path names (a backup job before ``GET
/cluster/backup/{id}``, a firewall rule before ``.../rules/{pos}``) and sends it through ``PveApi.handle``.
Each method runs against its own copy of the prepared cluster, so a ``DELETE`` never hides a later ``GET``.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import trustme

from pytest_pvemock.api.app import PveApi
from pytest_pvemock.api.collections import COLLECTIONS, Keyed, Rules
from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.api.permissions import access_control
from pytest_pvemock.api.synthesis import cluster_facts
from pytest_pvemock.model.access.acl import Group
from pytest_pvemock.model.ceph import SpareDisk
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.model.node_disk_writes import create_directory, create_lvm, create_lvmthin, create_zpool
from pytest_pvemock.model.node_disks import add_spare_disks
from pytest_pvemock.schema.synthesis import Facts, synthesize

USER = "surface@pve"
TOKEN = "surface"
SNAPSHOT = "before"
QEMU_VMID, LXC_VMID = 100, 110  # running, with a snapshot
STOPPED_QEMU, STOPPED_LXC = 102, 111
# Methods PVE refuses on a running guest (start, destroy, convert to template) get a stopped one.
NEEDS_STOPPED = (
    "/status/start",
    "/template",
    "/nodes/{node}/qemu/{vmid}",
    "/nodes/{node}/lxc/{vmid}",
    "/lxc/{vmid}/clone",  # a full clone of a running CT needs a snapshot (pve-container LXC.pm 2085-2089)
)

NAS = "192.168.100.5"
# Names a create method is given, so that it does not collide with what the prepared cluster already has.
FRESH = {
    "userid": "new@pve",
    "groupid": "newgroup",
    "roleid": "NewRole",
    "realm": "corp",
    "tokenid": "newtoken",
    "snapname": "after",
    "poolid": "newpool",
    "storage": "newstore",
    "vmid": 4242,
    "newid": 4243,
    "iface": "vmbr1",
}
# Optional parameters some methods need to succeed (PVE checks them in the method's code).
EXTRA: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", "/access/acl"): {"users": USER},
    ("POST", "/access/ticket"): {"username": "root@pam", "password": "pvemock"},
    ("GET", "/nodes/{node}/disks/smart"): {"disk": "/dev/sda"},  # a disk the node has (else not a block device)
    # the NAS of the storage 'nas' (NFS) and of the CIFS, PBS and GlusterFS storages SurfaceRig adds
    **{("GET", f"/nodes/{{node}}/scan/{kind}"): {"server": NAS} for kind in ("nfs", "cifs", "pbs", "glusterfs")},
    ("PUT", "/access/password"): {"confirmation-password": "pvemock"},
    # an account the guest has: chpasswd refuses others (qga/commands-posix.c qmp_guest_set_user_password)
    ("POST", "/nodes/{node}/qemu/{vmid}/agent/set-user-password"): {"username": "root"},
    ("DELETE", "/pools"): {"poolid": "empty"},
    ("POST", "/nodes/{node}/qemu/{vmid}/migrate"): {"online": 1},
    ("POST", "/nodes/{node}/lxc/{vmid}/migrate"): {"restart": 1},
    # a disk that exists, a size that grows, a storage to move to (resize and move check them like PVE)
    ("PUT", "/nodes/{node}/qemu/{vmid}/resize"): {"disk": "scsi0", "size": "+1G"},
    ("PUT", "/nodes/{node}/lxc/{vmid}/resize"): {"disk": "rootfs", "size": "+1G"},
    ("POST", "/nodes/{node}/qemu/{vmid}/move_disk"): {"disk": "scsi0", "storage": "nas"},
    ("POST", "/nodes/{node}/lxc/{vmid}/move_volume"): {"volume": "rootfs", "storage": "nas"},
    # a type and the options it requires (pve-storage check_config: btrfs, the first type, needs a path)
    ("POST", "/storage"): {"type": "dir", "path": "/mnt/surface"},
    # PVE's default storage for a container's root file system is 'local', which holds no rootdir here
    ("POST", "/nodes/{node}/lxc"): {"storage": "local-lvm"},
    # a config update with no option fails with "no options specified" (Qemu.pm 2110, API2/LXC/Config.pm 161)
    **{
        (method, f"/nodes/{{node}}/{kind}/{{vmid}}/config"): {"description": "surface"}
        for method, kind in (("PUT", "qemu"), ("POST", "qemu"), ("PUT", "lxc"))
    },
}
# Path values some methods need (PVE refuses to delete a pool that still has members).
PATH_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("DELETE", "/pools/{poolid}"): {"poolid": "empty"},
    # a unit every release installs and the API may stop (pveproxy, the enum's first, is essential: Services.pm 44-48)
    **{
        ("POST", f"/nodes/{{node}}/services/{{service}}/{command}"): {"service": "cron"}
        for command in ("start", "stop", "restart", "reload")
    },
    # the ACME account and DNS plugin SurfaceRig registers (PVE answers 400/500 for ones that do not exist)
    **{(method, "/cluster/acme/account/{name}"): {"name": "surface"} for method in ("GET", "PUT", "DELETE")},
    **{(method, "/cluster/acme/plugins/{id}"): {"id": "surface-dns"} for method in ("GET", "PUT", "DELETE")},
    **{(method, "/cluster/jobs/realm-sync/{id}"): {"id": "surface-sync"} for method in ("GET", "PUT", "DELETE")},
    **{(method, "/cluster/ha/groups/{group}"): {"group": "surface-group"} for method in ("GET", "PUT", "DELETE")},
    **{(method, "/cluster/ha/rules/{rule}"): {"rule": "surface-rule"} for method in ("GET", "PUT", "DELETE")},
    # an OSD of the node in the path (pve1 holds osd.0 and osd.1) and a pool that exists
    **{("GET", f"/nodes/{{node}}/ceph/osd/{{osdid}}{tail}"): {"osdid": 0} for tail in ("", "/metadata", "/lv-info")},
    **{
        ("GET", template): {"name": "ceph-vm"}
        for template in (
            "/nodes/{node}/ceph/pool/{name}",
            "/nodes/{node}/ceph/pool/{name}/status",
            "/nodes/{node}/ceph/pools/{name}",
        )
    },
    # Ceph writes (pve-manager PVE/API2/Ceph/*.pm): daemons of pve1, an OSD of pve1 (destroy: osd.1, taken out
    # and stopped by prepare_ceph), a pool no guest disk is on
    **{(method, "/nodes/{node}/ceph/mon/{monid}"): {"monid": "pve1"} for method in ("POST", "DELETE")},
    ("DELETE", "/nodes/{node}/ceph/mgr/{id}"): {"id": "pve1"},
    ("DELETE", "/nodes/{node}/ceph/mds/{name}"): {"name": "pve1"},
    ("DELETE", "/nodes/{node}/ceph/osd/{osdid}"): {"osdid": 1},
    ("POST", "/nodes/{node}/ceph/fs/{name}"): {"name": "archive"},
    **{("POST", f"/nodes/{{node}}/ceph/osd/{{osdid}}/{action}"): {"osdid": 0} for action in ("in", "out", "scrub")},
    **{
        (method, template): {"name": "ceph-vm"}
        for method in ("PUT", "DELETE")
        for template in ("/nodes/{node}/ceph/pool/{name}", "/nodes/{node}/ceph/pools/{name}")
    },
    # storage content: an image on a storage for images; a file that exists (its volid keeps its '/')
    ("POST", "/nodes/{node}/storage/{storage}/content"): {"storage": "local-lvm"},
    **{
        (method, "/nodes/{node}/storage/{storage}/content/{volume}"): {
            "volume": "local:iso/debian-13.1.0-amd64-netinst.iso"
        }
        for method in ("GET", "PUT", "DELETE", "POST")
    },
}
EXTRA[("POST", "/nodes/{node}/storage/{storage}/content")] = {"vmid": 100, "filename": "vm-100-disk-9", "size": "1G"}
EXTRA[("POST", "/nodes/{node}/storage/{storage}/download-url")] = {
    "content": "iso",
    "filename": "surface.iso",
    "url": "https://example.org/surface.iso",
}
EXTRA[("POST", "/nodes/{node}/storage/{storage}/upload")] = {"content": "iso"}
EXTRA[("PUT", "/nodes/{node}/apt/repositories")] = {"handle": "no-subscription"}  # proxmox-apt's handles only
EXTRA[("POST", "/nodes/{node}/apt/repositories")] = {"index": 0, "enabled": 0}  # path: a file the node holds
EXTRA[("POST", "/nodes/{node}/vzdump")] = {"all": 1}  # vzdump needs vmid, all, pool or stop (VZDump.pm 1551-1554)
# bulk actions on a guest each can act on without a warning (a stopped VM to start, a running CT to shut down, ...)
EXTRA[("POST", "/nodes/{node}/migrateall")] = {"max-workers": 1, "maxworkers": 1, "target": "pve3", "vms": "9000"}
EXTRA[("POST", "/cluster/bulk-action/guest/start")] = {"vms": [102]}
EXTRA[("POST", "/cluster/bulk-action/guest/shutdown")] = {"vms": [110]}
EXTRA[("POST", "/cluster/bulk-action/guest/suspend")] = {"vms": [101]}
EXTRA[("POST", "/cluster/bulk-action/guest/migrate")] = {"vms": [9000], "target": "pve3"}
EXTRA[("POST", "/nodes/{node}/storage/{storage}/content/{volume}")] = {"target": "local:iso/surface-copy.iso"}
# HA: vm:100 is an HA resource; PVE 8 has a group; PVE 9 has a rule, and a group only where groups are used
# (PVE 9 refuses group methods once no group is left, and rule changes while one is).
HA_GROUP = {"group": "surface-group", "nodes": "pve1,pve2"}
HA_RULE = {"rule": "surface-rule", "type": "node-affinity", "resources": f"vm:{QEMU_VMID}", "nodes": "pve1"}
EXTRA[("POST", "/cluster/acme/plugins")] = {"type": "dns", "api": "cf"}  # a DNS plugin needs its API
# a custom certificate needs its key, which must match (pve-manager PVE/CertHelpers.pm set_cert_files 87-107)
_LEAF = trustme.CA().issue_cert("pve1.surface.example")
EXTRA[("POST", "/nodes/{node}/certificates/custom")] = {
    "certificates": _LEAF.cert_chain_pems[0].bytes().decode(),
    "key": _LEAF.private_key_pem.bytes().decode(),
}
# recovery keys need nothing more (proxmox-tfa add_tfa_entry); a Yubico key needs its realm's setting (TFA.pm 400-420)
EXTRA[("POST", "/access/tfa/{userid}")] = {"type": "recovery", "userid": USER}
# a realm sync job syncs an LDAP or AD realm (pve-access-control src/PVE/API2/Jobs/RealmSync.pm 186-194)
EXTRA[("POST", "/cluster/jobs/realm-sync/{id}")] = {"realm": "surface-ldap", "scope": "both"}
# a sync needs a scope, given or in the realm's sync-defaults-options (Domains.pm 477-503)
EXTRA[("POST", "/access/domains/{realm}/sync")] = {"scope": "both"}
# Let's Encrypt registers only an account that agrees to its terms (Boulder's 'must agree to terms of service')
EXTRA[("POST", "/cluster/acme/account")] = {
    "tos_url": "https://letsencrypt.org/documents/LE-SA-v1.5-February-24-2025.pdf"
}
EXTRA[("POST", "/cluster/ha/resources")] = {"sid": f"vm:{STOPPED_QEMU}"}
EXTRA[("POST", "/cluster/ha/rules")] = {"nodes": "pve1", "resources": f"vm:{QEMU_VMID}"}
# the guest agent runs a program and reads a file the guest has (qga's error for others)
EXTRA[("POST", "/nodes/{node}/qemu/{vmid}/agent/exec")] = {"command": "uptime"}  # PVE 7: a string, 8 on: an array
EXTRA[("GET", "/nodes/{node}/qemu/{vmid}/agent/file-read")] = {"file": "/etc/hostname"}


EXTRA[("POST", "/nodes/{node}/ceph/osd")] = {"dev": "/dev/nvme3n1"}
# resource mappings (api/handlers/mappings.py): one of each kind, named after hardware and a directory pve1 has; a
# dir mapping's entry for the answering node must be a directory there, and an update needs 'map' (check_config)
MAPPING_ENTRIES = {
    "pci": ["node=pve1,path=0000:03:00.0,id=1a03:2000,subsystem-id=15d9:1b95,iommugroup=10"],
    "usb": ["node=pve1,id=046b:ff10,path=1-1"],
    "dir": ["node=pve1,path=/var/lib/vz"],
}
# a test notification goes to the built-in mail-to-root, which mails root@pam's address (the rig gives it one)
PATH_OVERRIDES[("POST", "/cluster/notifications/targets/{name}/test")] = {"name": "mail-to-root"}
for _kind, _entries in MAPPING_ENTRIES.items():
    EXTRA[("POST", f"/cluster/mapping/{_kind}")] = {"map": _entries}
    EXTRA[("PUT", f"/cluster/mapping/{_kind}/{{id}}")] = {"map": _entries}
    for _method in ("GET", "PUT", "DELETE"):
        PATH_OVERRIDES[(_method, f"/cluster/mapping/{_kind}/{{id}}")] = {"id": f"surface-{_kind}"}


def prepare_ceph(cluster: FakeCluster, method: str, template: str) -> None:
    """What a Ceph write needs first, as an admin would do it: a new monitor needs pve1's old one gone (one per
    node and address), a new OSD an empty disk, destroying an OSD that it is out and stopped."""
    ceph = cluster.ceph
    if ceph is None:
        return
    if (method, template) == ("POST", "/nodes/{node}/ceph/mon/{monid}"):
        del ceph.mons["pve1"]
    elif (method, template) == ("POST", "/nodes/{node}/ceph/osd"):
        ceph.spare_disks.append(SpareDisk("pve1", "/dev/nvme3n1", 960_197_124_096, "SAMSUNG", "S6SURFACE", "nvme"))
    elif (method, template) == ("DELETE", "/nodes/{node}/ceph/osd/{osdid}"):
        osd = ceph.osd(1)
        assert osd is not None
        osd.placed = False
        ceph.stopped["osd.1"] = cluster.clock.now()


# SDN (9.x): a fabric with a node, a prefix list with an entry, an EVPN zone, all applied (PUT /cluster/sdn), for the
# methods that read them; the create methods make fab1 / plist1 / pve1 themselves.
SDN_SETUP = (
    ("POST", "/cluster/sdn/fabrics/fabric", {"id": "fab2", "protocol": "openfabric", "ip_prefix": "10.255.0.0/24"}),
    ("POST", "/cluster/sdn/fabrics/node/fab2", {"node_id": "pve2", "protocol": "openfabric", "ip": "10.255.0.2"}),
    ("POST", "/cluster/sdn/prefix-lists", {"id": "plist2"}),
    ("POST", "/cluster/sdn/prefix-lists/plist2/entries", {"seq": 10, "action": "permit", "prefix": "10.0.0.0/8"}),
    ("POST", "/cluster/sdn/controllers", {"controller": "evpnctl", "type": "evpn", "asn": 65000, "peers": "10.0.0.1"}),
    ("POST", "/cluster/sdn/zones", {"zone": "evpnz", "type": "evpn", "controller": "evpnctl", "vrf-vxlan": 10000}),
    ("POST", "/cluster/sdn/vnets", {"vnet": "evpnv", "zone": "evpnz", "tag": 12000}),
    ("POST", "/cluster/sdn/route-maps/entries", {"route-map-id": "rmap2", "order": 10, "action": "permit"}),
    ("PUT", "/cluster/sdn", {}),
)
# SDN IPAM (8.1+): a simple zone with DHCP from the PVE IPAM, applied, and one IP mapping the PUT and DELETE of
# /cluster/sdn/vnets/{vnet}/ips change (the POST adds the synthesised 192.0.2.10)
IPAM_SETUP = (
    ("POST", "/cluster/sdn/zones", {"zone": "ipamz", "type": "simple", "ipam": "pve", "dhcp": "dnsmasq"}),
    ("POST", "/cluster/sdn/vnets", {"vnet": "ipamnet", "zone": "ipamz"}),
    (
        "POST",
        "/cluster/sdn/vnets/ipamnet/subnets",
        {"subnet": "192.0.2.0/24", "type": "subnet", "gateway": "192.0.2.1"},
    ),
    ("PUT", "/cluster/sdn", {}),
    ("POST", "/cluster/sdn/vnets/ipamnet/ips", {"zone": "ipamz", "ip": "192.0.2.20", "mac": "BC:24:11:00:00:20"}),
)
for _method in ("POST", "PUT", "DELETE"):
    PATH_OVERRIDES[(_method, "/cluster/sdn/vnets/{vnet}/ips")] = {"vnet": "ipamnet"}
EXTRA[("POST", "/cluster/sdn/vnets/{vnet}/ips")] = {"zone": "ipamz"}
EXTRA[("PUT", "/cluster/sdn/vnets/{vnet}/ips")] = {"zone": "ipamz", "ip": "192.0.2.21", "mac": "BC:24:11:00:00:20"}
EXTRA[("DELETE", "/cluster/sdn/vnets/{vnet}/ips")] = {"zone": "ipamz", "ip": "192.0.2.20", "mac": "BC:24:11:00:00:20"}
PATH_OVERRIDES[("GET", "/cluster/sdn/ipams/{ipam}/status")] = {"ipam": "pve"}
# an EVPN zone needs an EVPN controller (Zones/EvpnPlugin.pm on_update_hook 349-357): the sweep's zones are simple
EXTRA[("POST", "/cluster/sdn/zones")] = {"type": "simple"}
PATH_OVERRIDES[("GET", "/nodes/{node}/sdn/vnets/{vnet}/mac-vrf")] = {"vnet": "evpnv"}
PATH_OVERRIDES[("GET", "/cluster/sdn/route-maps/entries/{route-map-id}")] = {"route-map-id": "rmap2"}
for _method in ("GET", "PUT", "DELETE"):
    PATH_OVERRIDES[(_method, "/cluster/sdn/route-maps/entries/{route-map-id}/entry/{order}")] = {
        "route-map-id": "rmap2",
        "order": 10,
    }
SDN_PATHS = {"id": "fab2", "fabric_id": "fab2", "node_id": "pve2", "fabric": "fab2"}
for _method in ("GET", "PUT", "DELETE"):
    PATH_OVERRIDES[(_method, "/cluster/sdn/fabrics/fabric/{id}")] = {"id": "fab2"}
    PATH_OVERRIDES[(_method, "/cluster/sdn/fabrics/node/{fabric_id}/{node_id}")] = SDN_PATHS
    PATH_OVERRIDES[(_method, "/cluster/sdn/prefix-lists/{id}")] = {"id": "plist2"}
    PATH_OVERRIDES[(_method, "/cluster/sdn/prefix-lists/{id}/entries/{url_seq}")] = {"id": "plist2", "url_seq": 10}
for _method in ("GET", "POST"):
    PATH_OVERRIDES[(_method, "/cluster/sdn/fabrics/node/{fabric_id}")] = SDN_PATHS
    PATH_OVERRIDES[(_method, "/cluster/sdn/prefix-lists/{id}/entries")] = {"id": "plist2"}
for _status in ("interfaces", "neighbors", "routes"):
    PATH_OVERRIDES[("GET", f"/nodes/{{node}}/sdn/fabrics/{{fabric}}/{_status}")] = SDN_PATHS
PATH_OVERRIDES[("GET", "/nodes/{node}/sdn/zones/{zone}/bridges")] = {"zone": "localnetwork"}
PATH_OVERRIDES[("GET", "/nodes/{node}/sdn/zones/{zone}/ip-vrf")] = {"zone": "evpnz"}
# the ZFS pool of pve1's ZFS storage, the replication job and the PBS storage SurfaceRig adds
PATH_OVERRIDES[("GET", "/nodes/{node}/disks/zfs/{name}")] = {"name": "rpool"}
# job 120-0 replicates VM 120 (on local-zfs: only ZFS volumes replicate) from pve1 to pve2; a new job goes to pve3
REPLICATION_JOB = {"id": "120-0"}
for _method in ("GET", "PUT", "DELETE"):
    PATH_OVERRIDES[(_method, "/cluster/replication/{id}")] = REPLICATION_JOB
for _tail in ("", "/log", "/status"):
    PATH_OVERRIDES[("GET", f"/nodes/{{node}}/replication/{{id}}{_tail}")] = REPLICATION_JOB
PATH_OVERRIDES[("POST", "/nodes/{node}/replication/{id}/schedule_now")] = REPLICATION_JOB
EXTRA[("POST", "/cluster/replication")] = {"id": "120-1", "target": "pve3", "type": "local"}
PATH_OVERRIDES[("GET", "/nodes/{node}/storage/{storage}/identity")] = {"storage": "pbs"}
# A valid request for these answers PVE's error: the fake never goes online (no OCI registry answers), and its
# backup server holds no snapshot contents to browse
OFFLINE = {
    ("GET", "/nodes/{node}/query-oci-repo-tags"): "command 'skopeo list-tags docker://",
    ("GET", "/nodes/{node}/storage/{storage}/file-restore/list"): "unable to find snapshot ",
    ("GET", "/nodes/{node}/storage/{storage}/file-restore/download"): "unable to find snapshot ",
    # nor OVA/OVF contents: reading the appliance's OVF fails as PVE's reader fails on it
    ("GET", "/nodes/{node}/storage/{storage}/import-metadata"): "command 'tar -xO --wildcards",
    # no OpenID provider answers discovery at the realm's issuer URL (api/handlers/openid.py)
    ("POST", "/access/openid/auth-url"): "Request failed",
    # no remote cluster answers the fake (qemu-server Qemu.pm remote_migrate_vm 5760-5770)
    ("POST", "/nodes/{node}/qemu/{vmid}/remote_migrate"): "Can't connect to ",
    ("POST", "/nodes/{node}/lxc/{vmid}/remote_migrate"): "Can't connect to ",
}
# and so no login state was ever stored: OpenId.pm turns that into its 401 (api/handlers/openid.py)
REFUSED = {("POST", "/access/openid/login"): (401, "authentication failure")}
# a node that never ran `pveam update` has no appliance index: Nodes.pm apl_download's 400 'no such template'
REFUSED[("POST", "/nodes/{node}/aplinfo")] = (400, "Parameter verification failed.")
EXTRA[("POST", "/access/openid/auth-url")] = {"realm": "surface-sso", "redirect-url": "https://pve1.surface.test:8006"}
# VM 100 is an HA resource here, which PVE refuses to migrate remotely: VM 101 (running, on pve1)
PATH_OVERRIDES[("POST", "/nodes/{node}/qemu/{vmid}/remote_migrate")] = {"node": "pve1", "vmid": 101}
for _kind, _live in (("qemu", "online"), ("lxc", "restart")):  # the guests run: a live or restart migration
    EXTRA[("POST", f"/nodes/{{node}}/{_kind}/{{vmid}}/remote_migrate")] = {
        _live: 1,
        "target-storage": "local-lvm:local-lvm",
        "target-bridge": "vmbr0",
    }
PATH_OVERRIDES[("GET", "/nodes/{node}/storage/{storage}/file-restore/list")] = {"storage": "pbs"}
EXTRA[("GET", "/nodes/{node}/storage/{storage}/file-restore/list")] = {"volume": "backup/vm/100/2026-09-13T12:00:00Z"}
PATH_OVERRIDES[("GET", "/nodes/{node}/storage/{storage}/file-restore/download")] = {"storage": "pbs"}
EXTRA[("GET", "/nodes/{node}/storage/{storage}/file-restore/download")] = {
    "volume": "backup/vm/100/2026-09-13T12:00:00Z",
    "filepath": "L2V0Yy9ob3N0bmFtZQ==",  # base64 of /etc/hostname, as the GUI sends it
}
EXTRA[("GET", "/nodes/{node}/storage/{storage}/import-metadata")] = {"volume": "import/debian-13.ova"}
# a backup of VM 100 on 'local' that SurfaceRig makes (at 2026-09-13 12:00:00 UTC), and retention for the dry run
BACKUP = "local:backup/vzdump-qemu-100-2026_09_13-12_00_00.vma.zst"
EXTRA[("GET", "/nodes/{node}/vzdump/extractconfig")] = {"volume": BACKUP}
EXTRA[("GET", "/nodes/{node}/storage/{storage}/prunebackups")] = {"prune-backups": "keep-last=3"}
EXTRA[("DELETE", "/nodes/{node}/storage/{storage}/prunebackups")] = {"prune-backups": "keep-last=3"}


# the target side of a remote migration runs on the node answering (pve1) for a VMID not in use; a key QEMU knows;
# Wake-on-LAN to another node with a MAC in its config (SurfaceRig sets pve2's)
for _kind in ("qemu", "lxc"):
    PATH_OVERRIDES[("POST", f"/nodes/{{node}}/{_kind}/{{vmid}}/mtunnel")] = {"node": "pve1", "vmid": 4260}
EXTRA[("PUT", "/nodes/{node}/qemu/{vmid}/sendkey")] = {"key": "ret"}
PATH_OVERRIDES[("POST", "/nodes/{node}/wakeonlan")] = {"node": "pve2"}


# node disks (pve-storage API2/Disks*.pm): a spare disk of pve1 to set up, and what the removals take down
DISK_WRITES = {"lvm": create_lvm, "lvmthin": create_lvmthin, "directory": create_directory, "zfs": create_zpool}
for _kind in ("lvm", "lvmthin", "directory"):
    EXTRA[("POST", f"/nodes/{{node}}/disks/{_kind}")] = {"name": "surface", "device": "/dev/sdb"}
    PATH_OVERRIDES[("DELETE", f"/nodes/{{node}}/disks/{_kind}/{{name}}")] = {"name": "surface"}
EXTRA[("POST", "/nodes/{node}/disks/zfs")] = {"name": "surface", "devices": "/dev/sdb", "raidlevel": "single"}
PATH_OVERRIDES[("DELETE", "/nodes/{node}/disks/zfs/{name}")] = {"name": "surface"}
EXTRA[("DELETE", "/nodes/{node}/disks/lvmthin/{name}")] = {"volume-group": "surface"}
for _method, _kind in (("POST", "initgpt"), ("PUT", "wipedisk")):
    EXTRA[(_method, f"/nodes/{{node}}/disks/{_kind}")] = {"disk": "/dev/sdb"}


def prepare_disks(cluster: FakeCluster, method: str, template: str) -> None:
    """A disk write needs an unused disk (pve1's /dev/sdb); a removal what it removes, made as the API makes it."""
    if not template.startswith("/nodes/{node}/disks/") or method == "GET":
        return
    add_spare_disks(cluster, "pve1")
    kind = template.split("/")[4]
    if method == "DELETE":
        params = {"name": "surface", "device": "/dev/sdb", "devices": "/dev/sdb", "raidlevel": "single"}
        DISK_WRITES[kind](cluster, "pve1", params, "root@pam", lambda: None, lambda settings: None)
        cluster.clock.settle()


def prepare_ha(cluster: FakeCluster, template: str) -> None:
    if template.startswith("/cluster/ha/groups") and cluster.version_at_least(9):
        cluster.ha.set_groups([dict(HA_GROUP)])


class SurfaceRig:
    def __init__(self, version: str) -> None:
        cluster = FakeCluster.default(version=version)
        signer = PveApi(cluster).auth.signer
        self.root_ticket = signer.ticket("root@pam")
        self.root_csrf = signer.csrf_token("root@pam")
        cluster.access.add_user(USER, password="surface-password", groups=["admins"])
        cluster.access.add_token(USER, "automation", privsep=True)
        access_control(cluster).groups["admins"] = Group("admins", "surface test group")
        access_control(cluster).add_role("SurfaceRole", ["VM.Audit"])
        cluster.add_pool("empty")
        cluster.configs.option_set("/nodes/pve2/config")["wakeonlan"] = "bc:24:11:5e:0a:12"
        # a CIFS share, a backup server and (PVE 8) a GlusterFS volume for the scans to find (else: no such host)
        cluster.add_backup("local", QEMU_VMID, ctime=1789300800)
        cluster.add_storage("local-zfs", "zfspool", ["images"], nodes=["pve1", "pve2"], options={"pool": "rpool/data"})
        cluster.add_vm(120, "pve1", name="replicated", status="running", storage="local-zfs", disk_gib=8)
        cluster.add_storage("smb", "cifs", ["backup"], shared=True, options={"server": NAS, "share": "proxmox"})
        cluster.add_storage("pbs", "pbs", ["backup"], shared=True, options={"server": NAS, "datastore": "main"})
        if not cluster.version_at_least(9):
            cluster.add_storage(
                "gluster", "glusterfs", ["images"], shared=True, options={"server": NAS, "volume": "gv0"}
            )
        cluster.enable_ceph(cephfs={"name": "cephfs"})  # PVE answers Ceph reads only where Ceph is set up
        cluster.guest(QEMU_VMID).config["agent"] = "1"  # PVE answers guest agent calls only for a VM with its agent on
        # exec-status asks for a process the agent started (the same pid in every rig: seeded by the guest's boot)
        pid = cluster.guest_programs.start(cluster, cluster.guest(QEMU_VMID), ["uname", "-r"], None)
        EXTRA[("GET", "/nodes/{node}/qemu/{vmid}/agent/exec-status")] = {"pid": pid}
        cluster.access.users["root@pam"].email = "root@surface.test"
        cluster.guest(QEMU_VMID).config["vga"] = "qxl"  # SPICE runs only with a QXL display
        # websockets take the ticket their proxy call answered (minted as the POSTs do; the rig's clock stands still)
        for template, authpath in (
            ("/nodes/{node}/vncwebsocket", f"/nodes/{cluster.guest(QEMU_VMID).node}"),
            ("/nodes/{node}/qemu/{vmid}/vncwebsocket", f"/vms/{QEMU_VMID}"),
            ("/nodes/{node}/lxc/{vmid}/vncwebsocket", f"/vms/{LXC_VMID}"),
        ):
            EXTRA[("GET", template)] = {
                "port": 5900,
                "vncticket": signer.short_lived_ticket("PVEVNC", "root@pam", authpath, 5900),
            }
        for kind, vmid in (("qemu", QEMU_VMID), ("lxc", LXC_VMID)):
            socket = f"/run/qemu-server/{vmid}.mtunnel"
            ticket = signer.short_lived_ticket("PVETUNNEL", "root@pam", f"/socket/{socket}")
            EXTRA[("GET", f"/nodes/{{node}}/{kind}/{{vmid}}/mtunnelwebsocket")] = {"socket": socket, "ticket": ticket}
        cluster.ha.add_resource(f"vm:{QEMU_VMID}")
        if cluster.version_at_least(9):
            cluster.ha.set_rules([dict(HA_RULE)])
        else:
            cluster.ha.set_groups([dict(HA_GROUP)])
        self.prepared = cluster
        self.registry = PveApi(cluster).registry
        api = PveApi(cluster)
        for kind, vmid in (("qemu", QEMU_VMID), ("lxc", LXC_VMID)):
            node = cluster.guest(vmid).node
            api.handle(self.request("POST", f"/nodes/{node}/{kind}/{vmid}/snapshot", {"snapname": SNAPSHOT}))
        self.task_upid = next(iter(cluster.tasks)).upid
        tos = EXTRA[("POST", "/cluster/acme/account")]["tos_url"]
        api.handle(
            self.request(
                "POST", "/cluster/acme/account", {"name": "surface", "contact": "root@surface.test", "tos_url": tos}
            )
        )
        api.handle(self.request("POST", "/cluster/acme/plugins", {"id": "surface-dns", "type": "dns", "api": "cf"}))
        job = {"id": "120-0", "target": "pve2", "type": "local"}
        assert api.handle(self.request("POST", "/cluster/replication", job)).status == 200
        for kind, entries in MAPPING_ENTRIES.items():  # 501 where the release has no such mapping
            api.handle(self.request("POST", f"/cluster/mapping/{kind}", {"id": f"surface-{kind}", "map": entries}))
        documented = {(method, re.sub(r"\{[^}]+\}", "*", template)) for method, template in self.registry.endpoints()}
        if ("POST", "/cluster/sdn/fabrics/fabric") in documented:
            for method, path, params in SDN_SETUP:
                if (method, re.sub(r"(fab2|plist2)", "*", path)) not in documented:
                    continue  # a release without prefix lists or route maps
                response = api.handle(self.request(method, path, params))
                assert response.status == 200, (method, path, response.status, response.reason)
        if ("POST", "/cluster/sdn/vnets/*/ips") in documented:
            for method, path, params in IPAM_SETUP:
                response = api.handle(self.request(method, path, params))
                assert response.status == 200, (method, path, response.status, response.reason)
        api.handle(self.request("PUT", "/access/domains/pve", {"tfa": "type=yubico,id=1,key=surface-yubico-key"}))
        key = {"type": "yubico", "description": "surface key", "value": "ccccccsurfacekeyotp"}
        response = api.handle(self.request("POST", f"/access/tfa/{quote(USER, safe='')}", key))
        if response.status == 200:  # releases before the TFA API (7.0, 7.1) answer 501
            for method in ("GET", "PUT", "DELETE"):  # the second factor SurfaceRig gives its user
                PATH_OVERRIDES[(method, "/access/tfa/{userid}/{id}")] = {"id": response.json()["data"]["id"]}
        sso = {"realm": "surface-sso", "type": "openid", "issuer-url": "https://sso.surface.test", "client-id": "pve"}
        api.handle(self.request("POST", "/access/domains", sso))  # 501 before PVE 7.0's OpenID realms: none needed
        # the ticket a VNC proxy of VM 100 would be given, for its verification (the rig's clock stands still)
        EXTRA[("POST", "/access/vncticket")] = {
            "authid": "root@pam",
            "vncticket": signer.short_lived_ticket("PVEVNC", "root@pam", f"/vms/{QEMU_VMID}", 5900),
            "path": f"/vms/{QEMU_VMID}",
            "privs": "VM.Console",
            "port": 5900,
        }
        ldap = {"realm": "surface-ldap", "type": "ldap", "server1": "ldap.surface.test", "base_dn": "dc=surface"}
        api.handle(self.request("POST", "/access/domains", {**ldap, "user_attr": "uid"}))
        sync = {"schedule": "daily", "realm": "surface-ldap", "scope": "both"}
        api.handle(self.request("POST", "/cluster/jobs/realm-sync/surface-sync", sync))

    @property
    def auth(self) -> dict[str, str]:
        """root@pam's ticket: methods without ``permissions`` are for root@pam itself, not for its tokens."""
        return {"Cookie": f"PVEAuthCookie={quote(self.root_ticket, safe='')}", "CSRFPreventionToken": self.root_csrf}

    def fresh(self) -> tuple[FakeCluster, PveApi]:
        cluster = copy.deepcopy(self.prepared)
        return cluster, PveApi(cluster)

    def request(
        self, method: str, path: str, params: dict[str, Any], headers: dict[str, str] | None = None
    ) -> ApiRequest:
        encoded = urlencode({key: _text(value) for key, value in params.items()}, doseq=True)
        headers = {**self.auth, **(headers or {})}
        if method in ("GET", "DELETE"):
            return ApiRequest(method, "/api2/json" + path, encoded, headers, b"")
        if method == "POST" and path.endswith("/upload"):  # pveproxy reads uploads as multipart/form-data only
            boundary = "surfaceboundary"
            form = ("content", "checksum-algorithm", "checksum")  # AnyEvent.pm 1316-1318; the rest: in the query
            fields = [(k, str(v)) for k, v in params.items() if k in form]
            query = urlencode({k: _text(v) for k, v in params.items() if k not in form and k != "filename"}, doseq=True)
            parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields]
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="filename"; filename="surface.iso"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\nISO\r\n--{boundary}--\r\n"
            )
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            return ApiRequest(method, "/api2/json" + path, query, headers, "".join(parts).encode())
        if any(isinstance(value, list) for value in params.values()):  # arrays travel best as JSON
            headers["Content-Type"] = "application/json"
            return ApiRequest(method, "/api2/json" + path, "", headers, json.dumps(params).encode())
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return ApiRequest(method, "/api2/json" + path, "", headers, encoded.encode())

    # -- parameters ---------------------------------------------------------------------------------------------
    def facts(self, cluster: FakeCluster, template: str, method: str = "GET") -> Facts:
        facts = cluster_facts(cluster)
        lxc = "/lxc/" in template
        vmid = LXC_VMID if lxc else QEMU_VMID
        if method != "GET" and template.endswith(NEEDS_STOPPED):
            vmid = STOPPED_LXC if lxc else STOPPED_QEMU
        guest = cluster.find_guest(vmid)
        facts.params = {"node": guest.node if guest else facts.nodes[0], "vmid": vmid}
        facts.userids = [USER]
        facts.upid = self.task_upid
        return facts

    def path_values(self, cluster: FakeCluster, template: str, method: str = "GET") -> dict[str, Any]:
        facts = self.facts(cluster, template, method)
        values: dict[str, Any] = {"node": facts.node, "vmid": facts.vmid}
        if template.startswith("/nodes/{node}/tasks/{upid}"):
            values["node"] = self.task_upid.split(":")[1]
        values.update(
            {
                "snapname": SNAPSHOT,
                "userid": USER,
                "tokenid": "automation",
                "groupid": "admins",
                "roleid": "SurfaceRole",
                "poolid": "prod",
                "realm": "corp",
                "upid": self.task_upid,
                "storage": "local",
                "pos": 0,
                "iface": "vmbr1",
            }
        )
        values.update(PATH_OVERRIDES.get((method, template), {}))
        return values

    def valid_params(
        self, cluster: FakeCluster, method: str, template: str, given: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The concrete path and the required (and path) parameters of one method, valid under its schema.

        ``given`` fixes values (the ids of the record a later request names); otherwise a create method gets
        fresh ids and other methods the ids of things that exist.
        """
        endpoint = self.registry.endpoint(method, template)
        schema = endpoint.parameters_schema
        facts = self.facts(cluster, template, method)
        fixed = self.path_values(cluster, template, method)
        path_names = re.findall(r"\{([^}]+)\}", template)
        creates = method == "POST" and (not path_names or not template.endswith("}")) and given is None
        required = set(schema.get("required") or ())
        params: dict[str, Any] = {}
        for name, sub in (schema.get("properties") or {}).items():
            if given is not None and name in given:
                params[name] = given[name]
            elif creates and name in FRESH and name not in path_names and name in required:
                params[name] = FRESH[name]
            elif method == "POST" and given is None and template.endswith(f"{{{name}}}") and name in FRESH:
                params[name] = FRESH[name]  # POST on the item's own path creates it
            elif name in path_names and name in fixed:
                params[name] = fixed[name]
            elif name in required or name in path_names:
                params[name] = synthesize(sub, facts, name)
        known = schema.get("properties") or {}  # only what the release's schema has (7.x: no confirmation-password)
        if given is None:
            params.update({k: v for k, v in EXTRA.get((method, template), {}).items() if k in known})
            if (method, template) == ("POST", "/nodes/{node}/apt/repositories"):
                params["path"] = cluster.apt_sources.files("pve1", cluster.release.major)[0].path
        elif (method, template) == ("POST", "/cluster/sdn/zones"):  # a parent zone too (not an EVPN one)
            params.update({k: v for k, v in EXTRA[(method, template)].items() if k in known and k not in given})
        path = template
        for name in path_names:
            value = params.pop(name, fixed.get(name, "example"))
            path = path.replace(f"{{{name}}}", quote(str(value), safe=""))
        return path, params

    def path_names_values(self, cluster: FakeCluster, method: str, template: str) -> dict[str, Any]:
        """The values ``valid_params`` puts into the path of ``template``, by parameter name."""
        schema = self.registry.endpoint(method, template).parameters_schema
        facts = self.facts(cluster, template, method)
        fixed = self.path_values(cluster, template, method)
        values = {}
        for name in re.findall(r"\{([^}]+)\}", template):
            sub = (schema.get("properties") or {}).get(name, {})
            values[name] = fixed[name] if name in fixed else synthesize(sub, facts, name)
        return values

    # -- what a path names must exist first --------------------------------------------------------------------
    def create_parents(self, cluster: FakeCluster, api: PveApi, method: str, template: str) -> dict[str, str]:
        """Create the collection records a path names (outermost first), as a client would before using them.

        Returns ``{path value meant: key PVE made up}`` for records whose create method takes no key (PVE 7.0's
        backup jobs: pve-manager generated the id, PVE/API2/Backup.pm before ca62f164)."""
        wanted = []
        for spec in COLLECTIONS:
            if isinstance(spec, (Keyed, Rules)) and (template == spec.item or template.startswith(spec.item + "/")):
                if method == "POST" and isinstance(spec, Keyed) and spec.create_on_item and template == spec.item:
                    continue
                wanted.append(spec)
        names = self.path_names_values(cluster, method, template)
        renamed: dict[str, str] = {}
        for spec in sorted(wanted, key=lambda spec: len(spec.item)):
            create_template = spec.item if isinstance(spec, Keyed) and spec.create_on_item else spec.base
            path, params = self.valid_params(cluster, "POST", create_template, given=names)
            known = isinstance(spec, Keyed) and not spec.create_on_item and spec.key in params
            if known and str(params[spec.key]) in self._keys(api, spec, path):
                continue  # the prepared cluster has it already (the built-in PVE IPAM, an SDN setup vnet)
            before = self._keys(api, spec) if isinstance(spec, Keyed) and spec.key not in params else None
            response = api.handle(self.request("POST", path, params))
            assert response.status == 200, (create_template, response.status, response.reason)
            if before is not None:
                (made_up,) = self._keys(api, spec) - before
                renamed[str(names[spec.key])] = made_up
        return renamed

    def _keys(self, api: PveApi, spec: Keyed, base: str | None = None) -> set[str]:
        listed = api.handle(self.request("GET", base or spec.base, {})).json()["data"]
        return {str(row[spec.key]) for row in listed or () if isinstance(row, dict) and spec.key in row}


def _text(value: Any) -> Any:
    if isinstance(value, list):
        return [str(item) for item in value]
    return str(value)


def call(rig: SurfaceRig, method: str, template: str) -> tuple[ApiResponse, Any, FakeCluster]:
    """Send one valid request for ``method template`` to a fresh copy of the prepared cluster."""
    cluster, api = rig.fresh()
    prepare_ha(cluster, template)
    prepare_ceph(cluster, method, template)
    prepare_disks(cluster, method, template)
    renamed = rig.create_parents(cluster, api, method, template)
    path, params = rig.valid_params(cluster, method, template)
    for meant, made_up in renamed.items():
        path = path.replace("/" + quote(meant, safe=""), "/" + quote(made_up, safe=""))
    response = api.handle(rig.request(method, path, params))
    return response, rig.registry.endpoint(method, template), cluster
