"""``POST /nodes/{node}/{qemu,lxc}/{vmid}/remote_migrate``: the checks PVE makes before it talks to the remote
cluster, then the remote's API, which no fake cluster reaches: the call fails as PVE's API client fails.

qemu-server e6352be67f70042a7433a3a3c712b36d02f9f7cb ``src/PVE/API2/Qemu.pm`` ``remote_migrate_vm`` 5670-5876 and
pve-container 94f558522ef61f9858c39c264d0ac4e697e49268 ``src/PVE/API2/LXC.pm`` ``remote_migrate_vm`` 1306-1416:
quorum, the guest's config and lock, (LXC: a running CT needs online or restart), HA, then ``Establishing API
connection``; without a ``fingerprint`` the remote's certificates are read first, with one the replication, run
state and storage/bridge maps are checked (``parse_idmap`` of pve-common ``src/PVE/JSONSchema.pm`` 372-409) before
``/cluster/status`` is asked. pve-apiclient a5615282 ``src/PVE/APIClient/LWP.pm`` ``call`` 352-368: a failed
request dies with LWP's message.
"""

from __future__ import annotations

import ipaddress
import re

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.config_store import config_store_of
from pytest_pvemock.model.guests import Guest
from pytest_pvemock.schema.formats.checks import split_list


def _endpoint(text: str) -> dict[str, str]:
    """The ``proxmox-remote`` property string (``host=...,apitoken=...,fingerprint=...,port=...``)."""
    found = {}
    for part in split_list(text.replace(",", " ")):
        key, _, value = part.partition("=")
        found[key.strip()] = value.strip()
    return found


def unreachable(host: str, port: int) -> str:
    """LWP's message for a host the fake's network does not have: a name nothing resolves, an address no route
    leads to."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return f"Can't connect to {host}:{port} (Name or service not known)"
    return f"Can't connect to {host}:{port} (No route to host)"


def parse_idmap(text: str | None, kind: str) -> dict[str, object]:
    """pve-common ``parse_idmap``: ``1`` (identity), ``source:target`` entries and one default target."""
    found: dict[str, object] = {}
    if not text:
        return found
    entries: dict[str, str] = {}
    pattern = r"[a-z][a-z0-9\-_.]*[a-z0-9]" if kind == "storage" else r"[-_.\w\d]+"
    for entry in split_list(text):
        if entry == "1":
            found["identity"] = 1
            continue
        pair = re.fullmatch(r"([^:]+):([^:]+)", entry)
        if pair is not None:
            for value in pair.groups():
                if not re.fullmatch(pattern, value, re.IGNORECASE):
                    raise PVEError(f"entry '{entry}' contains invalid ID - value does not look like a valid {kind} ID")
            if pair[1] in entries:
                raise PVEError(f"duplicate mapping for source '{pair[1]}'")
            entries[pair[1]] = pair[2]
            continue
        if "default" in found:
            raise PVEError("default target ID can only be provided once")
        found["default"] = entry
    if entries:
        found["entries"] = entries
    if found.get("identity") and ("default" in found or entries):
        raise PVEError("identity mapping cannot be combined with other mappings")
    return found


def _remote_migrate(ctx: HandlerContext, kind: str) -> str:
    cluster = ctx.cluster
    node = cluster.require_node_reachable(str(ctx.params["node"])).name
    cluster.require_quorum()
    guest: Guest = cluster.guest_on(node, ctx.params["vmid"], kind)
    guest.check_lock()
    online = bool(ctx.params.get("online"))
    if kind == "lxc" and guest.running and not online and not ctx.params.get("restart"):
        raise PVEError("can't migrate running container without --online or --restart")
    if guest.ha_status().get("managed"):
        noun = "VM" if kind == "qemu" else "CT"
        raise ParameterError({"vmid": f"cannot remote-migrate {noun} that is configured for HA"})
    remote = _endpoint(str(ctx.params["target-endpoint"]))
    host, port = remote.get("host", ""), int(remote.get("port") or 8006)
    if not remote.get("fingerprint"):  # the remote's certificates are read before anything else
        raise PVEError(unreachable(host, port))
    replicated = any(
        str(job.get("guest")) == str(guest.vmid)
        for job in config_store_of(cluster).section("/cluster/replication").records.values()
    )
    if kind == "qemu":
        if replicated:
            raise PVEError("cannot remote-migrate replicated VM")
        if guest.running and not online:
            raise PVEError("can't migrate running VM without --online")
    try:
        storagemap = parse_idmap(ctx.params.get("target-storage"), "storage")
    except PVEError as error:
        raise ParameterError({"target-storage": f"failed to parse storage map: {error.message}\n"}) from None
    try:
        parse_idmap(ctx.params.get("target-bridge"), "bridge")
    except PVEError as error:
        raise ParameterError({"target-bridge": f"failed to parse bridge map: {error.message}\n"}) from None
    if storagemap.get("identity"):
        raise PVEError("remote migration requires explicit storage mapping!")
    raise PVEError(unreachable(host, port))  # GET /cluster/status of the remote


@handles("POST", "/nodes/{node}/qemu/{vmid}/remote_migrate")
def remote_migrate_vm(ctx: HandlerContext) -> str:
    return _remote_migrate(ctx, "qemu")


@handles("POST", "/nodes/{node}/lxc/{vmid}/remote_migrate")
def remote_migrate_ct(ctx: HandlerContext) -> str:
    return _remote_migrate(ctx, "lxc")
