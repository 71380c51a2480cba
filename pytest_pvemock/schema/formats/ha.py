"""Formats of pve-ha-manager (``HA/Tools.pm``)."""

from __future__ import annotations

from pytest_pvemock.schema.formats.checks import (
    DNS_NAME_PART,
    Checker,
    fail_unless,
    fullmatch,
    registrar,
)

FORMATS: dict[str, Checker] = {}
register = registrar(FORMATS)


# --- pve-ha-manager (HA/Tools.pm) ---


@register("pve-ha-resource-id")
def _ha_resource_id(value: str) -> None:
    fail_unless(fullmatch(r"[a-z]+:\S+", value), "value does not look like a valid ha resource id")


@register("pve-ha-resource-or-vm-id")
def _ha_resource_or_vm_id(value: str) -> None:
    fail_unless(fullmatch(r"[a-z]+:\S+|\d+", value), "value does not look like a valid ha resource id")


@register("pve-ha-node")
def _ha_node(value: str) -> None:
    fail_unless(fullmatch(rf"{DNS_NAME_PART}(?::\d+)?", value), "value does not look like a valid ha node")


@register("pve-ha-group-node")
def _ha_group_node(value: str) -> None:
    _ha_node(value)
