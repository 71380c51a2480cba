"""PVE's directory index listings: template -> (key, children in PVE's order), per PVE major version.

PVE writes each index method's answer by hand in its API module; the lists below were read from those modules
(the comment above each names the repository and file) and hold PVE's order and contents, including entries that
are no path of their own (``move`` in the QEMU guest index, ``migrate`` in the LXC status index) and leaving out
children PVE does not list (``permissions`` under ``/access``). Version 8 is read from the stable-8/bookworm
branches, version 9 from the state of the 9.1 API schema in ``third_party/pve-api`` (2026-05-15).
"""

from __future__ import annotations

__all__ = ["INDEX_LISTINGS", "IndexListing"]

IndexListing = tuple[str, tuple[str, ...]]  # (key, names): answered as [{key: name}, ...]


def _every_version(listing: IndexListing) -> dict[int, IndexListing]:
    return {8: listing, 9: listing}


INDEX_LISTINGS: dict[str, dict[int, IndexListing]] = {
    # proxmox/pve-access-control src/PVE/API2/AccessControl.pm
    "/access": _every_version(
        ("subdir", ("users", "groups", "roles", "acl", "domains", "openid", "tfa", "ticket", "password"))
    ),
    # proxmox/pve-access-control src/PVE/API2/OpenId.pm
    "/access/openid": _every_version(("subdir", ("auth-url", "login"))),
    # proxmox/pve-manager PVE/API2/Cluster.pm
    "/cluster": {
        8: (
            "name",
            (
                "acme",
                "backup",
                "backup-info",
                "ceph",
                "config",
                "firewall",
                "ha",
                "jobs",
                "log",
                "mapping",
                "metrics",
                "notifications",
                "nextid",
                "options",
                "replication",
                "resources",
                "status",
                "tasks",
                "sdn",
            ),
        ),
        9: (
            "name",
            (
                "acme",
                "backup",
                "backup-info",
                "bulk-action",
                "ceph",
                "config",
                "firewall",
                "ha",
                "jobs",
                "log",
                "mapping",
                "metrics",
                "notifications",
                "nextid",
                "options",
                "replication",
                "resources",
                "status",
                "tasks",
                "sdn",
            ),
        ),
    },
    # proxmox/pve-manager PVE/API2/ACMEAccount.pm
    "/cluster/acme": _every_version(("name", ("account", "tos", "meta", "directories", "plugins", "challenge-schema"))),
    # proxmox/pve-manager PVE/API2/Cluster/BackupInfo.pm
    "/cluster/backup-info": _every_version(("subdir", ("not-backed-up",))),
    # proxmox/pve-manager PVE/API2/Cluster/BulkAction.pm
    "/cluster/bulk-action": {9: ("name", ("guest",))},
    # proxmox/pve-manager PVE/API2/Cluster/BulkAction/Guest.pm
    "/cluster/bulk-action/guest": {9: ("name", ("start", "shutdown", "migrate", "suspend"))},
    # proxmox/pve-manager PVE/API2/Cluster/Ceph.pm
    "/cluster/ceph": _every_version(("name", ("metadata", "status", "flags"))),
    # proxmox/pve-cluster src/PVE/API2/ClusterConfig.pm
    "/cluster/config": _every_version(("name", ("nodes", "totem", "join", "qdevice", "apiversion"))),
    # proxmox/pve-firewall src/PVE/API2/Firewall/Cluster.pm
    "/cluster/firewall": _every_version(("name", ("aliases", "rules", "options", "groups", "ipset", "macros", "refs"))),
    # proxmox/pve-manager PVE/API2/HAConfig.pm
    "/cluster/ha": {
        8: ("id", ("status", "resources", "groups")),
        9: ("id", ("status", "resources", "groups", "rules")),
    },
    # proxmox/pve-ha-manager src/PVE/API2/HA/Status.pm
    "/cluster/ha/status": {
        8: ("name", ("current", "manager_status")),
        9: ("name", ("current", "manager_status", "disarm-ha", "arm-ha")),
    },
    # proxmox/pve-manager PVE/API2/Cluster/Jobs.pm
    "/cluster/jobs": _every_version(("subdir", ("schedule-analyze", "realm-sync"))),
    # proxmox/pve-manager PVE/API2/Cluster/Mapping.pm
    "/cluster/mapping": _every_version(("name", ("dir", "pci", "usb"))),
    # proxmox/pve-manager PVE/API2/Cluster/MetricServer.pm
    "/cluster/metrics": _every_version(("name", ("server",))),
    # proxmox/pve-manager PVE/API2/Cluster/Notifications.pm
    "/cluster/notifications": _every_version(
        ("name", ("endpoints", "matchers", "targets", "matcher-fields", "matcher-field-values"))
    ),
    # proxmox/pve-manager PVE/API2/Cluster/Notifications.pm
    "/cluster/notifications/endpoints": _every_version(("name", ("gotify", "sendmail", "smtp", "webhook"))),
    # proxmox/pve-network src/PVE/API2/Network/SDN.pm
    "/cluster/sdn": {
        8: ("id", ("vnets", "zones", "controllers", "ipams", "dns")),
        9: ("id", ("vnets", "zones", "controllers", "ipams", "dns", "fabrics")),
    },
    # proxmox/pve-network src/PVE/API2/Network/SDN/Fabrics.pm
    "/cluster/sdn/fabrics": {9: ("subdir", ("fabric", "node", "all"))},
    # proxmox/pve-firewall src/PVE/API2/Firewall/Vnet.pm
    "/cluster/sdn/vnets/{vnet}/firewall": _every_version(("name", ("rules", "options"))),
    # proxmox/pve-manager PVE/API2/Nodes.pm
    "/nodes/{node}": {
        8: (
            "name",
            (
                "aplinfo",
                "apt",
                "capabilities",
                "ceph",
                "certificates",
                "config",
                "disks",
                "dns",
                "firewall",
                "hardware",
                "hosts",
                "journal",
                "lxc",
                "migrateall",
                "netstat",
                "network",
                "qemu",
                "query-url-metadata",
                "replication",
                "report",
                "rrd",
                "rrddata",
                "scan",
                "services",
                "spiceshell",
                "startall",
                "status",
                "stopall",
                "storage",
                "subscription",
                "suspendall",
                "syslog",
                "tasks",
                "termproxy",
                "time",
                "version",
                "vncshell",
                "vzdump",
                "wakeonlan",
                "sdn",
            ),
        ),
        9: (
            "name",
            (
                "aplinfo",
                "apt",
                "capabilities",
                "ceph",
                "certificates",
                "config",
                "disks",
                "dns",
                "firewall",
                "hardware",
                "hosts",
                "journal",
                "lxc",
                "migrateall",
                "netstat",
                "network",
                "qemu",
                "query-oci-repo-tags",
                "query-url-metadata",
                "replication",
                "report",
                "rrd",
                "rrddata",
                "scan",
                "sdn",
                "services",
                "spiceshell",
                "startall",
                "status",
                "stopall",
                "storage",
                "subscription",
                "suspendall",
                "syslog",
                "tasks",
                "termproxy",
                "time",
                "version",
                "vncshell",
                "vzdump",
                "wakeonlan",
            ),
        ),
    },
    # proxmox/pve-manager PVE/API2/APT.pm
    "/nodes/{node}/apt": _every_version(("id", ("changelog", "repositories", "update", "versions"))),
    # proxmox/pve-manager PVE/API2/Capabilities.pm
    "/nodes/{node}/capabilities": _every_version(("name", ("qemu",))),
    # proxmox/pve-manager PVE/API2/Capabilities.pm
    "/nodes/{node}/capabilities/qemu": {
        8: ("name", ("cpu", "machines")),
        9: ("name", ("cpu", "machines", "migration")),
    },
    # proxmox/pve-manager PVE/API2/Ceph.pm
    "/nodes/{node}/ceph": _every_version(
        (
            "name",
            (
                "cmd-safety",
                "cfg",
                "crush",
                "fs",
                "init",
                "log",
                "mds",
                "mgr",
                "mon",
                "osd",
                "pool",
                "restart",
                "rules",
                "start",
                "status",
                "stop",
            ),
        )
    ),
    # proxmox/pve-manager PVE/API2/Ceph/Cfg.pm
    "/nodes/{node}/ceph/cfg": _every_version(("name", ("raw", "db", "value"))),
    # proxmox/pve-manager PVE/API2/Ceph/OSD.pm
    "/nodes/{node}/ceph/osd/{osdid}": _every_version(("name", ("metadata", "lv-info"))),
    # proxmox/pve-manager PVE/API2/Ceph/Pool.pm
    "/nodes/{node}/ceph/pool/{name}": _every_version(("name", ("status",))),
    # proxmox/pve-manager PVE/API2/Certificates.pm
    "/nodes/{node}/certificates": _every_version(("name", ("acme", "custom", "info"))),
    # proxmox/pve-manager PVE/API2/ACME.pm
    "/nodes/{node}/certificates/acme": _every_version(("name", ("certificate",))),
    # proxmox/pve-storage src/PVE/API2/Disks.pm
    "/nodes/{node}/disks": _every_version(
        ("name", ("list", "initgpt", "smart", "lvm", "lvmthin", "directory", "wipedisk", "zfs"))
    ),
    # proxmox/pve-firewall src/PVE/API2/Firewall/Host.pm
    "/nodes/{node}/firewall": _every_version(("name", ("rules", "options", "log"))),
    # proxmox/pve-manager PVE/API2/Hardware.pm
    "/nodes/{node}/hardware": _every_version(("type", ("pci", "usb"))),
    # proxmox/pve-manager PVE/API2/Hardware/PCI.pm
    "/nodes/{node}/hardware/pci/{pci-id-or-mapping}": _every_version(("method", ("mdev",))),
    # proxmox/pve-container src/PVE/API2/LXC.pm
    "/nodes/{node}/lxc/{vmid}": _every_version(
        (
            "subdir",
            (
                "config",
                "pending",
                "status",
                "vncproxy",
                "termproxy",
                "vncwebsocket",
                "spiceproxy",
                "migrate",
                "clone",
                "rrd",
                "rrddata",
                "firewall",
                "snapshot",
                "resize",
                "interfaces",
            ),
        )
    ),
    # proxmox/pve-firewall src/PVE/API2/Firewall/VM.pm
    "/nodes/{node}/lxc/{vmid}/firewall": _every_version(("name", ("rules", "aliases", "ipset", "refs", "options"))),
    # proxmox/pve-container src/PVE/API2/LXC/Snapshot.pm
    "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}": _every_version(("cmd", ("rollback", "config"))),
    # proxmox/pve-container src/PVE/API2/LXC/Status.pm
    "/nodes/{node}/lxc/{vmid}/status": _every_version(
        ("subdir", ("current", "start", "stop", "shutdown", "reboot", "migrate"))
    ),
    # proxmox/qemu-server src/PVE/API2/Qemu.pm
    "/nodes/{node}/qemu/{vmid}": _every_version(
        (
            "subdir",
            (
                "config",
                "cloudinit",
                "pending",
                "status",
                "unlink",
                "vncproxy",
                "termproxy",
                "migrate",
                "resize",
                "move",
                "rrd",
                "rrddata",
                "monitor",
                "agent",
                "snapshot",
                "spiceproxy",
                "sendkey",
                "firewall",
                "mtunnel",
                "remote_migrate",
            ),
        )
    ),
    # proxmox/qemu-server src/PVE/API2/Qemu/Agent.pm: the agent commands plus exec, file and password ones, sorted
    "/nodes/{node}/qemu/{vmid}/agent": _every_version(
        (
            "name",
            (
                "exec",
                "exec-status",
                "file-read",
                "file-write",
                "fsfreeze-freeze",
                "fsfreeze-status",
                "fsfreeze-thaw",
                "fstrim",
                "get-fsinfo",
                "get-host-name",
                "get-memory-block-info",
                "get-memory-blocks",
                "get-osinfo",
                "get-time",
                "get-timezone",
                "get-users",
                "get-vcpus",
                "info",
                "network-get-interfaces",
                "ping",
                "set-user-password",
                "shutdown",
                "suspend-disk",
                "suspend-hybrid",
                "suspend-ram",
            ),
        )
    ),
    # proxmox/pve-firewall src/PVE/API2/Firewall/VM.pm
    "/nodes/{node}/qemu/{vmid}/firewall": _every_version(("name", ("rules", "aliases", "ipset", "refs", "options"))),
    # proxmox/qemu-server src/PVE/API2/Qemu.pm
    "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}": _every_version(("cmd", ("rollback", "config"))),
    # proxmox/qemu-server src/PVE/API2/Qemu.pm
    "/nodes/{node}/qemu/{vmid}/status": _every_version(
        ("subdir", ("current", "start", "stop", "reset", "shutdown", "suspend", "reboot"))
    ),
    # proxmox/pve-manager PVE/API2/Replication.pm
    "/nodes/{node}/replication/{id}": _every_version(("name", ("schedule_now", "log", "status"))),
    # proxmox/pve-storage src/PVE/API2/Storage/Scan.pm
    "/nodes/{node}/scan": {
        8: ("method", ("cifs", "glusterfs", "iscsi", "lvm", "nfs", "pbs", "zfs")),
        9: ("method", ("cifs", "iscsi", "lvm", "nfs", "pbs", "zfs")),
    },
    # proxmox/pve-network src/PVE/API2/Network/SDN/Nodes/Status.pm
    "/nodes/{node}/sdn": {8: ("name", ("zones",)), 9: ("name", ("fabrics", "vnets", "zones"))},
    # proxmox/pve-network src/PVE/API2/Network/SDN/Nodes/Fabric.pm
    "/nodes/{node}/sdn/fabrics/{fabric}": {9: ("subdir", ("neighbors", "routes"))},
    # proxmox/pve-network src/PVE/API2/Network/SDN/Nodes/Vnet.pm
    "/nodes/{node}/sdn/vnets/{vnet}": {9: ("subdir", ("mac-vrf",))},
    # proxmox/pve-network src/PVE/API2/Network/SDN/Nodes/Zone.pm
    "/nodes/{node}/sdn/zones/{zone}": {8: ("subdir", ("content",)), 9: ("subdir", ("content", "bridges", "ip-vrf"))},
    # proxmox/pve-manager PVE/API2/Services.pm
    "/nodes/{node}/services/{service}": _every_version(("subdir", ("state", "start", "stop", "restart", "reload"))),
    # proxmox/pve-storage src/PVE/API2/Storage/Status.pm
    "/nodes/{node}/storage/{storage}": {
        8: (
            "subdir",
            (
                "content",
                "download-url",
                "file-restore",
                "import-metadata",
                "prunebackups",
                "rrd",
                "rrddata",
                "status",
                "upload",
            ),
        ),
        9: (
            "subdir",
            (
                "content",
                "download-url",
                "file-restore",
                "import-metadata",
                "identity",
                "oci-registry-pull",
                "prunebackups",
                "rrd",
                "rrddata",
                "status",
                "upload",
            ),
        ),
    },
    # proxmox/pve-manager PVE/API2/Tasks.pm
    "/nodes/{node}/tasks/{upid}": _every_version(("name", ("log", "status"))),
}
