"""Formats of pve-firewall (``Firewall.pm``); service and protocol names as a Debian host lists them."""

from __future__ import annotations

import ipaddress
import re

from pytest_pvemock.schema.formats.checks import (
    IPV4_RE,
    IPV6_RE,
    Checker,
    FormatError,
    fail_unless,
    registrar,
    words,
)

FORMATS: dict[str, Checker] = {}
register = registrar(FORMATS)


# --- pve-firewall (Firewall.pm) ---

FIREWALL_HELPERS = {"amanda", "ftp", "irc", "netbios-ns", "pptp", "sane", "sip", "snmp", "tftp"}
ICMP_TYPES = words(
    """any echo-reply destination-unreachable network-unreachable host-unreachable protocol-unreachable
    port-unreachable fragmentation-needed source-route-failed network-unknown host-unknown network-prohibited
    host-prohibited communication-prohibited host-precedence-violation precedence-cutoff source-quench redirect
    network-redirect host-redirect TOS-network-redirect TOS-host-redirect echo-request router-advertisement
    router-solicitation time-exceeded ttl-zero-during-transit ttl-zero-during-reassembly parameter-problem
    ip-header-bad required-option-missing timestamp-request timestamp-reply address-mask-request
    address-mask-reply"""
)
ICMPV6_TYPES = words(
    """destination-unreachable no-route communication-prohibited beyond-scope address-unreachable
    port-unreachable failed-policy reject-route packet-too-big time-exceeded ttl-zero-during-transit
    ttl-zero-during-reassembly parameter-problem bad-header unknown-header-type unknown-option echo-request
    echo-reply router-solicitation router-advertisement neighbor-solicitation neighbour-solicitation
    neighbor-advertisement neighbour-advertisement redirect"""
)
# PVE reads /etc/services and /etc/protocols; these are Debian's netbase names that firewall rules use.
SERVICE_NAMES = words(
    """ftp-data ftp ssh telnet smtp domain tftp http www kerberos pop3 sunrpc nntp ntp netbios-ns netbios-dgm
    netbios-ssn imap2 imap snmp snmp-trap bgp ldap https microsoft-ds submission ldaps rsync imaps pop3s openvpn
    radius radius-acct nfs mysql postgresql sip sip-tls xmpp-client xmpp-server amanda irc sane-port
    iscsi-target svn git isakmp ipsec-nat-t syslog rdp ms-wbt-server vnc-server x11 ceph"""
)
PROTOCOL_NAMES = words(
    """ip hopopt icmp igmp ggp ipencap st tcp egp igp pup udp hmp xns-idp rdp iso-tp4 dccp xtp ddp idpr-cmtp
    ipv6 ipv6-route ipv6-frag idrp rsvp gre esp ah skip ipv6-icmp ipv6-nonxt ipv6-opts rspf vmtp eigrp ospf
    ax.25 ipip etherip encap pim ipcomp vrrp l2tp isis sctp fc mobility-header udplite mpls-in-ip manet hip shim6
    wesp rohc ethernet"""
)


@register("IPorCIDR")
def _ip_or_cidr(value: str) -> None:
    match = re.match(rf"^(?:{IPV6_RE}|{IPV4_RE})(?:/(\d+))?$", value)
    if match is None:
        raise FormatError("value does not look like a valid IP address or CIDR network")
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as error:
        raise FormatError(str(error)) from None


@register("IPorCIDRorAlias")
def _ip_or_cidr_or_alias(value: str) -> None:
    if re.match(r"^(?:dc/|guest/)?[A-Za-z][A-Za-z0-9\-\_]+$", value):
        return
    _ip_or_cidr(value)


def _comma_list(value: str) -> list[str]:
    items = value.split(",")
    while items and items[-1] == "":
        items.pop()  # Perl's split drops trailing empty fields
    if value != ",".join(items):
        raise FormatError("extraneous commas in list")
    return items


@register("pve-fw-conntrack-helper")
def _conntrack_helper(value: str) -> None:
    for helper in _comma_list(value):
        fail_unless(helper in FIREWALL_HELPERS, f"unknown helper {helper}")


def _ports(value: str, dport: bool) -> None:
    count = 0
    icmp = False
    for item in _comma_list(value):
        range_match = re.match(r"^([0-9]+):([0-9]+)$", item)
        if range_match:
            count += 2
            first, last = int(range_match.group(1)), int(range_match.group(2))
            for port in (range_match.group(1), range_match.group(2)):
                fail_unless(int(port) <= 65535, f"invalid port '{port}'")
            fail_unless(first <= last, f"backwards range '{first}:{last}' not allowed, did you mean '{last}:{first}'?")
        elif re.match(r"^[0-9]+$", item):
            count += 1
            fail_unless(int(item) <= 65535, f"invalid port '{item}'")
        elif dport and (item in ICMP_TYPES or item in ICMPV6_TYPES):
            icmp = True
        else:
            fail_unless(item in SERVICE_NAMES, f"invalid port '{item}'")
    fail_unless(not (icmp and count > 0), "ICMP ports not allowed in port range")
    fail_unless(count <= 15, "too many entries in port list (> 15 numbers)")


@register("pve-fw-sport-spec")
def _sport(value: str) -> None:
    _ports(value, False)


@register("pve-fw-dport-spec")
def _dport(value: str) -> None:
    _ports(value, True)


def _firewall_address(element: str) -> int:
    """An element of a firewall address list (Net::IP syntax): IP, CIDR or range ``a-b``; returns the version."""
    first, _, last = element.partition("-")
    for part in (first, last) if last else (first,):
        address = part.split("/", 1)[0] if not last else part
        try:
            ipaddress.ip_network(part if not last else address, strict=False)
        except ValueError:
            raise FormatError(f"invalid IP address: Invalid IP {element}") from None
    return 6 if ":" in first else 4


@register("pve-fw-addr-spec")
def _addr_spec(value: str) -> None:
    if re.match(r"^\+\S+$", value):
        fail_unless(len(value) <= 65, "ipset name too long")
        return
    if re.match(r"^(?:dc/|guest/)?[A-Za-z][A-Za-z0-9\-\_]+$", value):
        fail_unless(len(value) <= 64, "alias name too long")
        return
    versions = set()
    elements = _comma_list(value)
    for element in elements:
        versions.add(_firewall_address(element))
    fail_unless(len(versions) <= 1, f"detected mixed ipv4/ipv6 addresses in address list '{value}'")
    fail_unless(not (any("-" in e for e in elements) and len(elements) > 1), "you can't use a range in a list")


@register("pve-fw-protocol-spec")
def _protocol(value: str) -> None:
    ok = value in ("", "0") or value in PROTOCOL_NAMES or (value.isdigit() and int(value) <= 255)
    fail_unless(ok, f"unknown protocol '{value}'")


@register("pve-fw-icmp-type-spec")
def _icmp_type(value: str) -> None:
    ok = value == "" or value in ICMP_TYPES or value in ICMPV6_TYPES or re.match(r"^\d+(?:/\d+)?$", value)
    fail_unless(bool(ok), f"invalid icmp-type value '{value}'")
