"""Formats of pve-network (SDN) and of proxmox-perl-rs (SDN fabrics, route maps, prefix lists)."""

from __future__ import annotations

import re

from pytest_pvemock.schema.formats import common
from pytest_pvemock.schema.formats.checks import (
    Checker,
    FormatError,
    fail_unless,
    fullmatch,
    ip_version,
    is_cidr,
    registrar,
)

FORMATS: dict[str, Checker] = {}
register = registrar(FORMATS)


# --- pve-network (SDN) and proxmox-perl-rs (fabrics) ---


@register("pve-sdn-isis-net")
def _isis_net(value: str) -> None:
    ok = fullmatch(r"[a-fA-F0-9]{2}(?:\.[a-fA-F0-9]{4}){3,9}\.[a-fA-F0-9]{2}", value)
    fail_unless(ok, "value does not look like a valid isis net")


@register("pve-sdn-subnet-id")
def _subnet_id(value: str) -> None:
    if "/" in value:
        cidr = value
    else:
        parts = value.split("-")
        cidr = f"{parts[1] if len(parts) > 1 else ''}/{parts[2] if len(parts) > 2 else ''}"
    fail_unless(is_cidr(cidr, 4) or is_cidr(cidr, 6), "value does not look like a valid CIDR network")


@register("pve-sdn-bgp-rt")
def _bgp_rt(value: str) -> None:
    match = re.match(r"^(\d+):(\d+)$", value)
    ok = match is not None and int(match.group(1)) <= 4294967295 and int(match.group(2)) <= 4294967295
    fail_unless(ok, "value does not look like a valid bgp route-target")


@register("pve-sdn-vlanrange")
def _sdn_vlanrange(value: str) -> None:
    common.FORMATS["pve-vlan-id-or-range"](value)


@register("pve-sdn-fabric-id")
def _fabric_id(value: str) -> None:
    ok = fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9-]{0,6}[a-zA-Z0-9]?", value, re.I)
    fail_unless(ok, f"Fabric ID '{value}' contains illegal characters")


# The next formats are registered from Rust (proxmox-perl-rs); their syntax is taken from the schema texts.
_SDN_OBJECT_ID = r"[a-zA-Z0-9][a-zA-Z0-9_-]{0,31}"


@register("pve-sdn-route-map-id")
def _route_map_id(value: str) -> None:
    fail_unless(fullmatch(_SDN_OBJECT_ID, value), f"invalid route map id '{value}'")


@register("pve-sdn-prefix-list-id")
def _prefix_list_id(value: str) -> None:
    fail_unless(fullmatch(_SDN_OBJECT_ID, value), f"invalid prefix list id '{value}'")


@register("FullRangeCIDR")
def _full_range_cidr(value: str) -> None:
    """A CIDR whose prefix may take the whole range (``/0`` .. ``/32`` or ``/128``), unlike ``CIDR``."""
    address, slash, bits = value.rpartition("/")
    version = ip_version(address) if slash else 0
    ok = version != 0 and bits.isdigit() and int(bits) <= (32 if version == 4 else 128)
    fail_unless(ok, "value does not look like a valid CIDR network")


@register("pve-sdn-fabric-wireguard-interface")
def _wireguard_interface(value: str) -> None:
    fail_unless(fullmatch(r"[a-zA-Z][a-zA-Z0-9_.-]{0,14}", value), f"invalid interface name '{value}'")


# pve-network up to PVE 8.x (removed in 9.x, where the schema uses patterns instead).
def _sdn_id(kind: str, pattern: str, max_length: int | None) -> None:
    def check(value: str) -> None:
        fail_unless(fullmatch(pattern, value, re.I), f"{kind} ID '{value}' contains illegal characters")
        if max_length is not None and len(value) > max_length:
            raise FormatError(f"{kind} ID '{value}' can't be more length than {max_length} characters")

    register(f"pve-sdn-{kind}-id")(check)


_sdn_id("zone", r"[a-z][a-z0-9]*[a-z0-9]", 8)
_sdn_id("vnet", r"[a-z][a-z0-9]*[a-z0-9]", 8)
_sdn_id("controller", r"[a-z][a-z0-9_-]*[a-z0-9]", 64)
_sdn_id("dns", r"[a-z][a-z0-9]*[a-z0-9]", None)
_sdn_id("ipam", r"[a-z][a-z0-9]*[a-z0-9]", None)
