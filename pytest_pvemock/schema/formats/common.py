"""Formats of pve-common (``PVE::JSONSchema``, ``PVE::Certificate``, ``PVE::CalendarEvent``), with PVE's messages."""

from __future__ import annotations

import re

from pytest_pvemock.schema.formats.checks import (
    CONFIGID_RE,
    DNS_NAME_PART,
    EMAIL_RE,
    EMAIL_USER_RE,
    IPV4_MASKS,
    IPV4_RE,
    IPV6_RE,
    PVE_TAG_RE,
    Checker,
    FormatError,
    fail_unless,
    fullmatch,
    ip_version,
    is_cidr,
    parse_id,
    parse_size,
    perl_true,
    registrar,
)

FORMATS: dict[str, Checker] = {}
register = registrar(FORMATS)


@register("string")
def _string(value: str) -> None:
    return None


@register("urlencoded")
def _urlencoded(value: str) -> None:
    fail_unless(fullmatch(r"[-%a-zA-Z0-9_.!~*'()]*", value), f"invalid urlencoded string: {value}")


@register("pve-configid")
def _configid(value: str) -> None:
    fail_unless(fullmatch(CONFIGID_RE, value, re.I), f"invalid configuration ID '{value}'")


@register("pve-storage-id")
def _storage_id(value: str) -> None:
    parse_id(value, "storage")


@register("acme-plugin-id")
def _acme_plugin_id(value: str) -> None:
    parse_id(value, "ACME plugin")


@register("pve-bridge-id")
def _bridge_id(value: str) -> None:
    fail_unless(fullmatch(r"[-_.\w\d]+", value), f"invalid bridge ID '{value}'")


@register("pve-vmid")
def _vmid(value: str) -> None:
    fail_unless(fullmatch(r"[1-9][0-9]{2,8}", value), "value does not look like a valid VM ID")


@register("pve-node")
def _node(value: str) -> None:
    fail_unless(fullmatch(DNS_NAME_PART, value), "value does not look like a valid node name")


def _id_pair(value: str, id_format: str) -> None:
    """``parse_idmap`` for one entry of a storage/bridge pair list: ``1``, ``source:target`` or a default id."""
    if value == "1":
        return
    match = re.match(r"^([^:]+):([^:]+)$", value)
    try:
        if match:
            FORMATS[id_format](match.group(1))
            FORMATS[id_format](match.group(2))
        else:
            FORMATS[id_format](value)
    except FormatError as error:
        raise FormatError(f"entry '{value}' contains invalid ID - {error}") from None


@register("storage-pair")
@register("storagepair")  # its name until pve-common da9f41f (2021-11-05, schemas up to 7.0-4)
def _storage_pair(value: str) -> None:
    _id_pair(value, "pve-storage-id")


@register("bridge-pair")
def _bridge_pair(value: str) -> None:
    _id_pair(value, "pve-bridge-id")


@register("mac-addr")
def _mac_addr(value: str) -> None:
    fail_unless(
        fullmatch(r"[a-f0-9][02468ace](?::[a-f0-9]{2}){5}", value, re.I),
        "value does not look like a valid unicast MAC address",
    )


@register("ipv4")
def _ipv4(value: str) -> None:
    fail_unless(fullmatch(IPV4_RE, value), "value does not look like a valid IPv4 address")


@register("ipv6")
def _ipv6(value: str) -> None:
    fail_unless(fullmatch(IPV6_RE, value), "value does not look like a valid IPv6 address")


@register("ip")
def _ip(value: str) -> None:
    fail_unless(ip_version(value) != 0, "value does not look like a valid IP address")


@register("ldap-simple-attr")
def _ldap_simple_attr(value: str) -> None:
    fail_unless(fullmatch(r"[a-zA-Z0-9]+", value), f"value '{value}' does not look like a simple ldap attribute name")


@register("ipv4mask")
def _ipv4mask(value: str) -> None:
    fail_unless(value in IPV4_MASKS, "value does not look like a valid IP netmask")


@register("CIDRv6")
def _cidrv6(value: str) -> None:
    fail_unless(is_cidr(value, 6), "value does not look like a valid IPv6 CIDR network")


@register("CIDRv4")
def _cidrv4(value: str) -> None:
    fail_unless(is_cidr(value, 4), "value does not look like a valid IPv4 CIDR network")


@register("CIDR")
def _cidr(value: str) -> None:
    fail_unless(is_cidr(value, 4) or is_cidr(value, 6), "value does not look like a valid CIDR network")


@register("pve-ipv4-config")
def _ipv4_config(value: str) -> None:
    ok = fullmatch("dhcp|manual", value) or is_cidr(value, 4)
    fail_unless(ok, "value does not look like a valid ipv4 network configuration")


@register("pve-ipv6-config")
def _ipv6_config(value: str) -> None:
    ok = fullmatch("auto|dhcp|manual", value) or is_cidr(value, 6)
    fail_unless(ok, "value does not look like a valid ipv6 network configuration")


@register("email")
def _email(value: str) -> None:
    fail_unless(fullmatch(EMAIL_RE, value), "value does not look like a valid email address")


@register("email-or-username")
def _email_or_username(value: str) -> None:
    ok = fullmatch(EMAIL_RE, value) or fullmatch(EMAIL_USER_RE, value)
    fail_unless(ok, "value does not look like a valid email address or user name")


@register("dns-name")
def _dns_name(value: str) -> None:
    ok = fullmatch(rf"(?:{DNS_NAME_PART}\.)*{DNS_NAME_PART}", value)
    fail_unless(ok, "value does not look like a valid DNS name")


@register("timezone")
def _timezone(value: str) -> None:
    # PVE reads /usr/share/zoneinfo/zone.tab; a fake cannot rely on the host's copy, so any Area/City shape passes.
    fail_unless(value == "UTC" or fullmatch(r"[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+", value), f"invalid time zone '{value}'")


@register("pve-iface")
def _iface(value: str) -> None:
    fail_unless(
        fullmatch(r"[a-z][a-z0-9_]{1,20}(?:[:\.]\d+)?", value, re.I), f"invalid network interface name '{value}'"
    )


@register("pve-vlan-id-or-range")
def _vlan_id_or_range(value: str) -> None:
    match = re.match(r"^(\d+)(?:-(\d+))?$", value)
    fail_unless(match is not None, f"invalid VLAN configuration '{value}'")
    assert match is not None
    start, end = match.group(1), match.group(2)
    for tag in (start, end):
        if tag and not 2 <= int(tag) <= 4094:
            raise FormatError(f"invalid VLAN tag '{tag}'")
    if end and perl_true(end) and int(start) >= int(end):
        raise FormatError(f"VLAN range must go from lower to higher tag '{value}'")


@register("address")
def _address(value: str) -> None:
    ok = ip_version(value) != 0 or fullmatch(rf"(?:{DNS_NAME_PART}\.)*{DNS_NAME_PART}", value)
    fail_unless(ok, f"value does not look like a valid address: {value}")


@register("disk-size")
def _disk_size(value: str) -> None:
    fail_unless(parse_size(value) is not None, f"value does not look like a valid disk size: {value}")


@register("pve-startup-order")
def _startup_order(value: str) -> None:
    parts = [part for part in value.split(",") if not re.match(r"^\s*$", part)] if perl_true(value) else None
    ok = parts is not None and all(re.match(r"^(?:(?:order=)?\d+|up=\d+|down=\d+)$", part) for part in parts)
    fail_unless(ok, "unable to parse startup options")


@register("pve-tag")
def _tag(value: str) -> None:
    fail_unless(fullmatch(PVE_TAG_RE, value, re.I), "invalid characters in tag")


@register("pve-tfa-secret")
def _tfa_secret(value: str) -> None:
    ok = (
        fullmatch(r"v2-0x[0-9a-fA-F]{16,128}", value)
        or fullmatch(r"v2-[A-Z2-7=]{16,128}", value)
        or fullmatch(r"[A-Z2-7=]{16}|[A-Fa-f0-9]{40}", value)
    )
    fail_unless(ok, "unable to decode TFA secret")


@register("pve-task-status-type")
def _task_status_type(value: str) -> None:
    fail_unless(fullmatch("ok|error|warning|unknown", value, re.I), f"invalid status '{value}'")


# --- pve-common, other modules (Certificate.pm, CalendarEvent.pm) ---


def _pem(label: str) -> str:
    base64 = r"[0-9A-Za-z\+/]"
    return (
        rf"-----BEGIN\ {label}-----(?:\s|\n)*(?:{base64}+\s*\n)*{base64}*(?:=\s*\n=|={{0,2}})?\s*\n"
        rf"-----END\ {label}-----(?:\s|\n)*"
    )


def _strip_leading_text(value: str) -> str:
    index = value.find("-----BEGIN")
    return value[index:] if index > 0 else value


@register("pem-certificate")
def _pem_certificate(value: str) -> None:
    fail_unless(fullmatch(_pem("CERTIFICATE"), _strip_leading_text(value)), "not a valid PEM-formatted string.")


@register("pem-certificate-chain")
def _pem_certificate_chain(value: str) -> None:
    single = _pem("CERTIFICATE")
    ok = fullmatch(rf"(?:{single}\n+)*{single}", _strip_leading_text(value))
    fail_unless(ok, "not a valid PEM-formatted string.")


@register("pem-string")
def _pem_string(value: str) -> None:
    fail_unless(fullmatch(_pem(".*?"), _strip_leading_text(value)), "not a valid PEM-formatted string.")


_CALENDAR_KEYWORDS = {"minutely", "hourly", "daily", "weekly", "monthly", "yearly", "annually", "quarterly",
                      "semiannually"}  # fmt: skip
_WEEKDAY = r"(?:mon|tue|wed|thu|fri|sat|sun)"
_CALENDAR_VALUE = r"(?:\*|\d+(?:\.\.\d+)?)(?:/\d+)?"
_CALENDAR_LIST = rf"{_CALENDAR_VALUE}(?:,{_CALENDAR_VALUE})*"


@register("pve-calendar-event")
def _calendar_event(value: str) -> None:
    """systemd.time(7)-style events as Proxmox's Rust parser reads them: [weekdays] [date] [time], or a keyword."""
    text = value.strip()
    if text == "":
        raise FormatError(f"invalid calendar event '{value}' - unable to parse calendar event - event is empty")
    if text.lower() in _CALENDAR_KEYWORDS:
        return
    weekdays = rf"{_WEEKDAY}(?:\.\.{_WEEKDAY})?(?:,{_WEEKDAY}(?:\.\.{_WEEKDAY})?)*"
    date = rf"(?:{_CALENDAR_LIST}-)?{_CALENDAR_LIST}-{_CALENDAR_LIST}"
    time = rf"{_CALENDAR_LIST}(?::{_CALENDAR_LIST}){{1,2}}|{_CALENDAR_LIST}"
    ok = re.fullmatch(rf"(?:{weekdays})?(?:\s*(?:{date}))?(?:\s*(?:{time}))?(?:\s+UTC)?", text, re.I)
    fail_unless(ok is not None and text != "", f"invalid calendar event '{value}' - unable to parse calendar event")
