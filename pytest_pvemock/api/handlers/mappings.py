"""``/cluster/mapping/{pci,usb,dir}``: resource mappings, as pve-manager PVE/API2/Cluster/Mapping/PCI.pm, USB.pm
and Dir.pm (commit 14a22df3) answer them over pve-guest-common's PVE::Mapping::PCI, USB and Dir (commit 4a8f6cb).

A mapping is a section of ``/etc/pve/mapping/<kind>.cfg``: a description, ``map`` (one property string per node
entry) and for PCI ``mdev`` and ``live-migration-capable``. The list answers each entry with ``id``, ``type`` and
the file's ``digest``; with ``check-node`` (the request goes to that node) it adds what that node's hardware says
about the node's entries: PCI and dir under ``checks``, USB under ``errors`` (USB.pm lines 107-127). The checks
read the node's hardware (``model/node_hardware.py``) and files (``model/nodes/files.py``) as
PVE::Mapping::*::assert_valid reads sysfs and the node's file system.

Two departures, so that answers are valid under PVE's own schema: USB's schema calls the list ``error`` and
requires it in every entry, which PVE's code never sends (the fake sends both, ``error`` the same list as
``errors``, empty without ``check-node``); the lists' schemas require ``description``, which a mapping may lack
(the fake answers an empty one). Stored in the config store under the collection's path, as the other pmxcfs
files (dumps write them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.config_store import KeyedSection, config_store_of
from pytest_pvemock.model.node_hardware import pci_device, usb_devices
from pytest_pvemock.model.nodes.files import path_kind

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.nodes.node import Node

_VISIBLE_WITH = ["Mapping.Modify", "Mapping.Use", "Mapping.Audit"]
_SPLIT_LIST = re.compile(r"[,;\s\0]+")


@dataclass(frozen=True)
class _Kind:
    name: str
    #: the settings of a section (PVE::Mapping::<kind>::options): all optional but ``map``
    options: tuple[str, ...]
    #: what cfs_lock_file's callers prefix to an error inside the lock, by action
    failed: dict[str, str]
    #: the key under which the list answers the checks of ``check-node``
    checks_key: str = "checks"


_KINDS = {
    "pci": _Kind(
        "pci",
        ("description", "mdev", "live-migration-capable", "map"),
        {"create": "create hardware mapping failed", "update": "update hardware mapping failed"},
    ),
    "usb": _Kind(
        "usb",
        ("description", "map"),
        {"create": "create hardware mapping failed", "update": "update hardware mapping failed"},
        checks_key="errors",
    ),
    "dir": _Kind(
        "dir",
        ("description", "map"),
        {"create": "create directory mapping failed", "update": "update directory mapping failed"},
    ),
}


def mapping_section(cluster: FakeCluster, kind: str) -> KeyedSection:
    """The sections of ``/etc/pve/mapping/<kind>.cfg`` by id."""
    return config_store_of(cluster).section(f"/cluster/mapping/{kind}")


def node_entries(cluster: FakeCluster, kind: str, mapping_id: str, node: str) -> list[dict[str, str]] | None:
    """``get_node_mapping``: the map entries of ``mapping_id`` for ``node`` (``None``: no such mapping)."""
    record = mapping_section(cluster, kind).get(mapping_id)
    if record is None:
        return None
    entries = [_parse_entry(text) for text in _as_list(record.get("map"))]
    return [entry for entry in entries if entry.get("node") == node]


def _parse_entry(text: str) -> dict[str, str]:
    """A map entry's property string (``node=pve1,path=0000:81:00,id=10de:2571``) as its keys."""
    entry: dict[str, str] = {}
    for part in str(text).split(","):
        key, sep, value = part.partition("=")
        if sep:
            entry[key.strip()] = value.strip()
    return entry


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, (list, tuple)) else [str(value)]


def _answering_node(cluster: FakeCluster) -> Node:
    """The node that answers a cluster-wide call (``PVE::INotify::nodename()``): the first online one."""
    return next((node for node in cluster.nodes if node.online), cluster.nodes[0])


# -- what a node's hardware and files say about an entry (PVE::Mapping::<kind>::assert_valid) ---------------------
def _assert_valid_pci(cluster: FakeCluster, node: Node, name: str, entry: dict[str, str], mdev: Any) -> None:
    """PVE::Mapping::PCI::assert_valid (lines 141-200): each path's device, its ids, the IOMMU group of the first
    one and whether it supports mediated devices, in that order of properties (sorted)."""
    for index, path in enumerate(entry.get("path", "").split(";") if entry.get("path") else []):
        if not re.search(r"\.[a-f0-9]", path, re.IGNORECASE):
            path = f"{path}.0"  # whole device: its first function must exist
        device = pci_device(node, path)
        if device is None:
            raise PVEError(f"pci device '{path}' not found")
        expected: dict[str, str | None] = {
            "id": f"{device.vendor}:{device.device}",
            "iommugroup": str(device.iommugroup),
            "subsystem-id": f"{device.subsystem_vendor}:{device.subsystem_device}",
            "mdev": "0",  # no device of the fake's hardware has mdev_supported_types
        }
        configured: dict[str, str | None] = {key: entry.get(key) for key in ("id", "iommugroup", "subsystem-id")}
        configured["mdev"] = "1" if str(mdev or 0) not in ("0", "") else "0"
        for prop in sorted(expected):
            if prop == "iommugroup" and index > 0:
                continue
            want, have = expected[prop], configured[prop]
            if want is None and have is None:
                continue
            if want is not None and have is None:
                raise PVEError(f"missing expected property '{prop}' for device '{path}'")
            if want is None and have is not None:
                raise PVEError(f"unexpected property '{prop}' configured for device '{path}'")
            want, have = str(want).replace("0x", ""), str(have).replace("0x", "")
            if want != have:
                raise PVEError(f"'{prop}' does not match for '{name}' ({want} != {have})")


def _assert_valid_usb(cluster: FakeCluster, node: Node, name: str, entry: dict[str, str]) -> None:
    """PVE::Mapping::USB::assert_valid (lines 110-140): the device at the path with the same ids, or any device
    with the ids."""
    wanted = entry.get("id", "")
    devices = usb_devices(node, cluster.kernel[0])
    path = entry.get("path")
    if path:
        found = [device for device in devices if device.usbpath and f"{device.busnum}-{device.usbpath}" == path]
        if not found:
            raise PVEError(f"usb device '{path}' not found")
        real = f"{found[-1].vendid}:{found[-1].prodid}"
        if real != wanted:
            raise PVEError(f"'id' does not match for '{name}' ({real} != {wanted})")
    elif not any(f"{device.vendid}:{device.prodid}" == wanted for device in devices):
        raise PVEError(f"usb device '{wanted}' not found")


def _assert_valid_dir(cluster: FakeCluster, node: Node, entry: dict[str, str]) -> None:
    """PVE::Mapping::Dir::assert_valid (lines 110-125): an absolute path without ``;,=()`` that is a directory."""
    path = entry.get("path", "")
    if not re.match(r"^/[^;,=\(\)]+", path):
        raise PVEError(
            "Value does not look like a valid absolute path. These symbols are currently not allowed in path: ;,=()"
        )
    kind = path_kind(cluster, node, path)
    if kind is None:
        raise PVEError(f"Path {path} does not exist")
    if kind != "dir":
        raise PVEError(f"Path {path} exists, but is not a directory")


def _checks(cluster: FakeCluster, kind: str, mapping_id: str, record: dict[str, Any], node: Node) -> list[Any]:
    checks: list[dict[str, str]] = []
    entries = node_entries(cluster, kind, mapping_id, node.name) or []
    if not entries:
        checks.append({"severity": "warning", "message": f"No mapping for node {node.name}."})
    for entry in entries:
        try:
            if kind == "pci":
                _assert_valid_pci(cluster, node, mapping_id, entry, record.get("mdev"))
            elif kind == "usb":
                _assert_valid_usb(cluster, node, mapping_id, entry)
            else:
                _assert_valid_dir(cluster, node, entry)
        except PVEError as error:
            checks.append({"severity": "error", "message": f"Invalid configuration: {error.message}\n"})
    return checks


def _assert_valid_map_list(cluster: FakeCluster, entries: list[str]) -> None:
    """PVE::Mapping::Dir::assert_valid_map_list: the answering node's own entry must be a directory there, and no
    node may have two entries."""
    local = _answering_node(cluster)
    count: dict[str, int] = {}
    for text in entries:
        entry = _parse_entry(text)
        if entry.get("node") == local.name:
            _assert_valid_dir(cluster, local, entry)
        count[entry.get("node", "")] = count.get(entry.get("node", ""), 0) + 1
    for node, times in count.items():
        if times > 1:
            raise PVEError(f"Node '{node}' is specified {times} times.")


# -- the methods ------------------------------------------------------------------------------------------------------
def _kind_of(ctx: HandlerContext) -> _Kind:
    return _KINDS[ctx.template.split("/")[3]]


def list_mappings(ctx: HandlerContext) -> list[dict[str, Any]]:
    """The mappings the caller may see (any of Mapping.Modify, Use, Audit on ``/mapping/<kind>/<id>``), with the
    checks of ``check-node`` on that node."""
    kind = _kind_of(ctx)
    check_node = ctx.params.get("check-node")
    node = ctx.cluster.require_node_reachable(str(check_node)) if check_node is not None else None  # proxied there
    section = mapping_section(ctx.cluster, kind.name)
    checker = PermissionChecker(ctx.cluster)
    answer = []
    for mapping_id in sorted(section.records):
        if not checker.check(ctx.principal.authid, f"/mapping/{kind.name}/{mapping_id}", _VISIBLE_WITH, True, True):
            continue
        record = section.records[mapping_id]
        entry: dict[str, Any] = {
            "description": "",
            **record,
            "type": kind.name,
            "id": mapping_id,
            "digest": section.digest,
        }
        if node is not None:
            entry[kind.checks_key] = _checks(ctx.cluster, kind.name, mapping_id, record, node)
        if kind.name == "usb":
            entry["error"] = list(entry.get("errors", []))
        answer.append(entry)
    return answer


def read_mapping(ctx: HandlerContext) -> dict[str, Any]:
    """One mapping's section and the file's digest (the section has no ``id``: Mapping/PCI.pm lines 148-173)."""
    kind = _kind_of(ctx)
    section = mapping_section(ctx.cluster, kind.name)
    record = section.get(str(ctx.params["id"]))
    if record is None:
        raise PVEError(f"mapping '{ctx.params['id']}' not found")
    return {**record, "type": kind.name, "digest": section.digest}


def _settings(ctx: HandlerContext, kind: _Kind) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in kind.options:
        if name in ctx.params:
            values[name] = _as_list(ctx.params[name]) if name == "map" else ctx.params[name]
    return values


def create_mapping(ctx: HandlerContext) -> None:
    """A new section; a dir mapping's entry for the answering node must be a directory there (checked before the
    lock, so without the lock's prefix)."""
    kind = _kind_of(ctx)
    mapping_id = str(ctx.params["id"])
    values = _settings(ctx, kind)
    if "map" not in values:
        raise PVEError("missing value for required option 'map'")
    if kind.name == "dir":
        _assert_valid_map_list(ctx.cluster, values["map"])
    section = mapping_section(ctx.cluster, kind.name)
    section.create(mapping_id, values, f"{kind.failed['create']}: {kind.name} ID '{mapping_id}' already defined")


def update_mapping(ctx: HandlerContext) -> None:
    """Inside the lock, in PVE's order: the digest, the mapping exists, the settings (``map`` is required even
    here: check_config is called with create=1), a dir mapping's entries, then ``delete``."""
    kind = _kind_of(ctx)
    mapping_id = str(ctx.params["id"])
    section = mapping_section(ctx.cluster, kind.name)
    failed = kind.failed["update"]
    digest = ctx.params.get("digest")
    if digest is not None and digest != section.digest:
        raise PVEError(f"{failed}: detected modified configuration - file changed by other user? Try again.")
    if section.get(mapping_id) is None:
        raise PVEError(f"{failed}: {kind.name} ID '{mapping_id}' does not exist")
    values = _settings(ctx, kind)
    if "map" not in values:
        raise PVEError(f"{failed}: missing value for required option 'map'")
    if kind.name == "dir":
        try:
            _assert_valid_map_list(ctx.cluster, values["map"])
        except PVEError as error:
            raise PVEError(f"{failed}: {error.message}") from None
    delete = [name for name in _SPLIT_LIST.split(str(ctx.params.get("delete") or "")) if name]
    for name in delete:
        if name not in kind.options:
            raise PVEError(f"{failed}: no such option '{name}'")
        if name == "map":
            raise PVEError(f"{failed}: unable to delete required option '{name}'")
        if name in values:
            raise PVEError(f"{failed}: cannot set and delete property '{name}' at the same time!")
    section.update(mapping_id, values, delete)


def delete_mapping(ctx: HandlerContext) -> None:
    """Removes the section; a missing one is no error (Mapping/PCI.pm lines 330-345)."""
    mapping_section(ctx.cluster, _kind_of(ctx).name).remove(str(ctx.params["id"]))


for _name in _KINDS:
    handles("GET", f"/cluster/mapping/{_name}")(list_mappings)
    handles("POST", f"/cluster/mapping/{_name}")(create_mapping)
    handles("GET", f"/cluster/mapping/{_name}/{{id}}")(read_mapping)
    handles("PUT", f"/cluster/mapping/{_name}/{{id}}")(update_mapping)
    handles("DELETE", f"/cluster/mapping/{_name}/{{id}}")(delete_mapping)


# -- guests using a mapping (qemu-server src/PVE/API2/Qemu.pm at e6352be6) ------------------------------------------
def _property(value: Any, key: str) -> str | None:
    """A key of a property string whose first value may stand without its key (``mapping=gpu,pcie=1``)."""
    for part in str(value).split(","):
        name, sep, found = part.partition("=")
        if sep and name.strip() == key:
            return found.strip()
    return None


def check_device_permissions(ctx: HandlerContext, config: dict[str, Any], changes: dict[str, Any]) -> None:
    """update_vm's checks of the passed-through devices a VM config write sets (Qemu.pm 2466-2490): the old value
    first, then the new one; root@pam may set anything. ``check_usb_perm`` (882-903), ``check_hostpci_perm``
    (918-938), ``check_dir_perm`` (968-979): raw host devices are root's, a mapping needs Mapping.Use on it."""
    authid = ctx.principal.authid
    if authid == "root@pam":
        return
    vmid = ctx.params["vmid"]
    checker = PermissionChecker(ctx.cluster)
    for option in sorted(changes):
        kind = re.match(r"^(usb|hostpci|virtiofs)\d+$", option)
        if kind is None:
            continue
        for value in ([config[option]] if config.get(option) and kind[1] != "virtiofs" else []) + [changes[option]]:
            if kind[1] == "usb":
                checker.check(authid, f"/vms/{vmid}", ["VM.Config.HWType"])
                host, mapping = _property(value, "host") or _first(value), _property(value, "mapping")
                if host and host.lower() != "spice":
                    raise PVEError(f"only root can set '{option}' config for real devices\n")
                if not host and mapping:
                    checker.check(authid, f"/mapping/usb/{mapping}", ["Mapping.Use"])
                elif not host:
                    raise PVEError("either 'host' or 'mapping' must be set.\n")
            elif kind[1] == "hostpci":
                host, mapping = _property(value, "host") or _first(value), _property(value, "mapping")
                if host:
                    raise PVEError(f"only root can set '{option}' config for non-mapped devices\n")
                if not mapping:
                    raise PVEError("either 'host' or 'mapping' must be set.\n")
                checker.check(authid, f"/mapping/pci/{mapping}", ["Mapping.Use"])
                checker.check(authid, f"/vms/{vmid}", ["VM.Config.HWType"])
                if _property(value, "romfile") is not None:
                    raise ParameterError({option: "only root@pam can set 'romfile' option"})
            else:
                checker.check(authid, f"/vms/{vmid}", ["VM.Config.Disk"])
                dirid = _property(value, "dirid") or _first(value)
                checker.check(authid, f"/mapping/dir/{dirid}", ["Mapping.Use"])


def _first(value: Any) -> str | None:
    """The default key's value of a property string (``0000:01:00``, ``spice``), when the first part has no key."""
    first = str(value).split(",", 1)[0]
    return first.strip() or None if "=" not in first else None
