"""The servers the cluster's network storages live on, and what a node learns when it scans one.

The fake has no network. The servers it knows are the ones ``storage.cfg`` names: the NFS, CIFS and GlusterFS
servers, the iSCSI portals and the Proxmox Backup Servers of its storages (``server``, ``export``, ``share``,
``volume``, ``portal``, ``target``, ``datastore``, ``port`` of :meth:`Storage.cfg_properties`). Scanning a
known server answers what the storages use of it (their exports, shares, volumes, targets and datastores); any other
address is a host that does not answer, and the scan fails as the tool PVE runs fails then. A name that is neither an
IP address, a node nor a server of a storage does not resolve.

Sources (pve-storage 0c56bad8b2a7d69e5ce2c243651fe830d6caa936 unless said otherwise):

- ``src/PVE/Storage.pm`` ``resolv_server`` 1529-1542, ``scan_nfs`` 1544-1568 (``showmount --no-headers --exports``
  run with ``run_command``, which dies ``command '...' failed: exit code 1`` when the host does not answer, pve-common
  f665029e ``src/PVE/Cmd.pm`` 289-324), ``scan_cifs`` 1570-1607 (``smbclient -L``: its ``Connection to ... failed
  (Error NT_STATUS_...)`` line on stdout becomes ``unexpected status: ...``), ``resolv_portal`` 1633-1648,
  ``scan_iscsi`` 1650-1658;
- ``src/PVE/Storage/ISCSIPlugin.pm`` ``iscsi_discovery`` 128-158: a portal that does not answer on TCP is skipped,
  so an unknown portal answers no targets;
- ``src/PVE/Storage/PBSPlugin.pm`` ``pbs_api_connect`` 720-747, ``scan_datastores`` 833-842 (pve-apiclient a5615282
  ``LWP.pm`` ``login`` 182-218 raises the HTTP status line);
- GlusterFS (PVE 8, pve-storage 0c6234f ``src/PVE/API2/Storage/Scan.pm`` 243-290): ``showmount`` again, each
  ``/volname`` export a volume.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model import figures

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.storage import Storage

ISCSI_PORT = 3260
PBS_PORT = 8007


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _settings(storage: Storage) -> dict[str, str]:
    return {key: str(value) for key, value in storage.cfg_properties().items()}


def _host(storage: Storage) -> str | None:
    settings = _settings(storage)
    if storage.plugintype == "iscsi":
        return split_portal(settings.get("portal", ""))[0] or None
    return settings.get("server")


def resolves(cluster: FakeCluster, host: str) -> bool:
    """Whether ``host`` has an address: an IP address, a node's name, or a server ``storage.cfg`` names."""
    if _is_ip(host) or cluster.find_node(host) is not None:
        return True
    return any((_host(storage) or "").lower() == host.lower() for storage in cluster.storages)


def _served_by(cluster: FakeCluster, host: str, plugintype: str) -> list[Storage]:
    return [storage for storage in cluster.storages
            if storage.plugintype == plugintype and (_host(storage) or "").lower() == host.lower()]  # fmt: skip


def _export_clients(cluster: FakeCluster) -> str:
    """The client list ``showmount`` prints beside an export: the nodes' /24 network when they share one, else the
    nodes' addresses (a NAS exports to the hypervisors)."""
    addresses = sorted({node.ip for node in cluster.nodes if node.ip}, key=lambda ip: ipaddress.ip_address(ip))
    networks = {ipaddress.ip_network(f"{ip}/24", strict=False) for ip in addresses}
    if len(networks) == 1:
        return str(networks.pop())
    return ",".join(addresses) or "*"


def _showmount(cluster: FakeCluster, server: str, plugintype: str) -> dict[str, str]:
    """``showmount --no-headers --exports SERVER`` as scan_nfs reads it: export path -> clients."""
    if not resolves(cluster, server):
        raise PVEError(f"unable to resolve address for server '{server}'")
    storages = _served_by(cluster, server, plugintype)
    if not storages:  # the host does not answer: showmount exits 1 ('RPC: Timed out' on its stderr)
        raise PVEError(f"command '/sbin/showmount --no-headers --exports {server}' failed: exit code 1")
    key = "export" if plugintype == "nfs" else "volume"
    clients = _export_clients(cluster) if plugintype == "nfs" else "*"
    exports = {}
    for storage in storages:
        path = _settings(storage).get(key, "")
        exports[path if path.startswith("/") else f"/{path}"] = clients
    return exports


def scan_nfs(cluster: FakeCluster, server: str) -> list[dict[str, str]]:
    """Scan.pm ``nfsscan``: the exports sorted by path."""
    exports = _showmount(cluster, server, "nfs")
    return [{"path": path, "options": exports[path]} for path in sorted(exports)]


def scan_glusterfs(cluster: FakeCluster, server: str) -> list[dict[str, str]]:
    """Scan.pm ``glusterfsscan`` (PVE 8): ``showmount`` of the server, each top-level export a volume."""
    exports = _showmount(cluster, server, "glusterfs")
    return [{"volname": path[1:]} for path in sorted(exports) if "/" not in path[1:] and path[1:]]


def scan_cifs(cluster: FakeCluster, server: str) -> list[dict[str, str]]:
    """Scan.pm ``cifsscan``: ``smbclient -L`` of the server, its disk shares sorted by name (a share's comment is
    empty: Samba's default)."""
    if not resolves(cluster, server):
        raise PVEError(f"unable to resolve address for server '{server}'")
    storages = _served_by(cluster, server, "cifs")
    if not storages:
        raise PVEError("unexpected status: NT_STATUS_IO_TIMEOUT)")
    shares = sorted({_settings(storage).get("share", storage.storage) for storage in storages})
    return [{"share": share, "description": ""} for share in shares]


def split_portal(portal: str) -> tuple[str, int | None]:
    """PVE::Tools::parse_host_and_port: ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    if portal.startswith("["):
        host, _, rest = portal[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    if portal.count(":") == 1:
        host, port = portal.split(":")
        return host, int(port) if port.isdigit() else None
    return portal, None


def scan_iscsi(cluster: FakeCluster, portal: str) -> list[dict[str, str]]:
    """Scan.pm ``iscsiscan``: the targets the portal announces (``iscsiadm --mode discovery``), sorted by name;
    none when the portal does not answer."""
    host, port = split_portal(portal)
    if not host or not resolves(cluster, host):
        raise ParameterError({"portal": f"unable to resolve portal address '{portal}'"})
    targets: dict[str, list[str]] = {}
    for storage in _served_by(cluster, host, "iscsi"):
        own_host, own_port = split_portal(_settings(storage).get("portal", ""))
        if (port or ISCSI_PORT) != (own_port or ISCSI_PORT):
            continue
        shown = f"[{own_host}]" if ":" in own_host else own_host
        target = _settings(storage).get("target")
        if target:
            targets.setdefault(target, []).append(f"{shown}:{own_port or ISCSI_PORT}")
    return [{"target": target, "portal": ",".join(targets[target])} for target in sorted(targets)]


def scan_pbs(cluster: FakeCluster, params: dict[str, Any]) -> list[dict[str, str]]:
    """Scan.pm ``pbsscan``: ``GET /api2/json/admin/datastore`` of the backup server, its datastores by name."""
    server = str(params["server"])
    port = int(params.get("port") or PBS_PORT)
    storages = [storage for storage in _served_by(cluster, server, "pbs")
                if int(_settings(storage).get("port", PBS_PORT)) == port]  # fmt: skip
    if not storages:
        shown = f"[{server}]" if ":" in server else server
        if not resolves(cluster, server):
            reason = "Name or service not known"
            raise PVEError(f"error fetching datastores - 500 Can't connect to {shown}:{port} ({reason})")
        raise PVEError(f"error fetching datastores - 500 Can't connect to {shown}:{port} (Connection timed out)")
    stores = sorted({_settings(storage).get("datastore", storage.storage) for storage in storages})
    return [{"store": store} for store in stores]


def identity(cluster: FakeCluster, storage: Storage) -> dict[str, str]:
    """Status.pm ``identity`` (PVE 9.1.3): the plugin's ``get_identity``, which only the PBS plugin has: the backup
    server's ``pbs-instance-id`` (PBSPlugin.pm ``get_identity`` 1005-1012); any other plugin dies in Plugin.pm
    ``get_identity`` (line 2681, a ``die`` without newline: Perl adds where)."""
    if storage.plugintype != "pbs":
        where = "/usr/share/perl5/PVE/Storage/Plugin.pm line 2681"
        raise PVEError(f"get_identity not implemented for this plugin at {where}.")
    server = _settings(storage).get("server", "")
    rng = figures.seeded(cluster.seed, "pbs-instance-id", server.lower())
    return {"type": "pbs", "id": figures.hex_string(rng, 64)}
