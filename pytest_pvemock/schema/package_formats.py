"""Named formats that PVE packages other than pve-common register (same contract as ``formats.py``).

Grouped by the package that owns them, with PVE's messages. Where PVE's check depends on the host (the
``/etc/services`` and ``/etc/protocols`` tables, ``zone.tab``, the CPU model list) or on Rust code
(``proxmox-perl-rs``: calendar events, SDN fabric ids), the check below follows the documented syntax; such
places say so.
"""

from __future__ import annotations

import ipaddress
import re

from pytest_pvemock import json_nesting
from pytest_pvemock.schema.formats import (
    DNS_NAME_PART,
    IPV4_RE,
    IPV6_RE,
    FormatError,
    _fail_unless,
    _fullmatch,
    _ip_version,
    check_format,
    is_cidr,
    register,
    split_list,
)

__all__: list[str] = []


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- pve-storage (PVE/Storage/Plugin.pm) ---

STORAGE_CONTENT_TYPES = {"images", "rootdir", "vztmpl", "iso", "backup", "snippets", "none", "import"}


@register("pve-storage-path")
def _storage_path(value: str) -> None:
    _fail_unless(re.match(r"^/[^;\(\)]+", value) is not None, "value does not look like a valid absolute path")


@register("pve-storage-server")
def _storage_server(value: str) -> None:
    ok = _ip_version(value) != 0 or _fullmatch(rf"(?:{DNS_NAME_PART}\.)*{DNS_NAME_PART}", value)
    _fail_unless(ok, "value does not look like a valid server name or IP address")


@register("pve-storage-vgname")
def _storage_vgname(value: str) -> None:
    ok = _fullmatch(r"[a-z0-9][a-z0-9\-\_\.]*[a-z0-9]", value, re.I)
    _fail_unless(ok, f"lvm name '{value}' contains illegal characters")


def parse_host_and_port(value: str) -> bool:
    """``PVE::Tools::parse_host_and_port``: host, IPv4 or ``[IPv6]`` with an optional port."""
    return bool(
        re.match(rf"^(?:{IPV4_RE}|[A-Za-z0-9\-.]+)(?::\d+)?$", value)
        or re.match(rf"^\[(?:{IPV6_RE}|{IPV4_RE}|[A-Za-z0-9\-.]+)\](?::\d+)?$", value)
        or re.match(rf"^(?:{IPV6_RE})(?:\.\d+)?$", value)
    )


@register("pve-storage-portal-dns")
def _storage_portal_dns(value: str) -> None:
    _fail_unless(parse_host_and_port(value), "value does not look like a valid portal address")


@register("pve-storage-content")
def _storage_content(value: str) -> None:
    _fail_unless(value in STORAGE_CONTENT_TYPES, f"invalid content type '{value}'")


@register("pve-storage-options")
def _storage_options(value: str) -> None:
    _fail_unless(re.match(r"^\S+$", value) is not None, f"invalid options '{value}'")


@register("pve-volume-id")
def _volume_id(value: str) -> None:
    ok = re.match(r"^[a-z][a-z0-9\-\_\.]*[a-z0-9]:.+$", value, re.I) is not None
    _fail_unless(ok, f"unable to parse volume ID '{value}'")


@register("pve-dir-override")
def _dir_override(value: str) -> None:
    # PVE's /^([a-z]+)=([^.]*(?:\.?[^.]+)+)$/ backtracks exponentially in Python's re on 'a=bbb...b.': the
    # yes/no is asked of the linear engine, the groups split at the first '=' (the first group has no '=').
    content_type, _, relative = value.partition("=")
    if (
        _fullmatch(r"([a-z]+)=([^.]*(?:\.?[^.]+)+)", value)
        and content_type in STORAGE_CONTENT_TYPES
        and len(relative) < 1023
        and not any(len(part) >= 255 for part in relative.split("/"))
    ):
        return
    raise FormatError(f"invalid override '{value}'")


@register("pve-storage-format")
def _storage_format(value: str) -> None:
    _fail_unless(value in {"raw", "qcow2", "vmdk", "subvol"}, f"invalid format '{value}'")


# --- qemu-server ---

QEMU_DRIVE_COUNTS = {"ide": 4, "sata": 6, "scsi": 31, "virtio": 16}


def is_valid_drivename(name: str) -> bool:
    """``Drive::is_valid_drivename``: ide0-3, sata0-5, scsi0-30, virtio0-15, efidisk0, tpmstate0."""
    if name in ("efidisk0", "tpmstate0"):
        return True
    match = re.fullmatch(r"(ide|sata|scsi|virtio)(\d+)", name)
    return (
        bool(match)
        and str(int(match.group(2))) == match.group(2)
        and int(match.group(2)) < QEMU_DRIVE_COUNTS[match.group(1)]
    )


@register("pve-qm-bootdisk")
def _bootdisk(value: str) -> None:
    _fail_unless(is_valid_drivename(value), f"invalid boot disk '{value}'")


@register("pve-qm-bootdev")
def _bootdev(value: str) -> None:
    if is_valid_drivename(value) and not value.startswith(("efidisk", "tpmstate")):
        return
    for base, count in (("net", 32), ("usb", 14), ("hostpci", 16)):
        match = re.fullmatch(rf"{base}(\d+)", value)
        if match and str(int(match.group(1))) == match.group(1) and int(match.group(1)) < count:
            return
    raise FormatError(f"invalid boot device '{value}'")


@register("pve-hotplug-features")
def _hotplug_features(value: str) -> None:
    if value in ("0", "1"):
        return
    for feature in split_list(value):
        _fail_unless(
            re.match(r"^(?:network|disk|cpu|memory|usb|cloudinit)$", feature) is not None,
            "unable to parse hotplug option",
        )


@register("pve-cpuset")
def _cpuset(value: str) -> None:
    for part in value.split(","):
        match = re.match(r"^\s*(\d+)(?:-(\d+))?\s*$", part)
        _fail_unless(match is not None and int(match.group(2) or match.group(1)) >= int(match.group(1)),
                     "unable to parse cpuset option")  # fmt: skip


@register("pve-volume-id-or-absolute-path")
def _volume_id_or_absolute_path(value: str) -> None:
    if value.startswith("/"):
        return
    check_format("pve-volume-id", value)


@register("pve-volume-id-or-qm-path")
def _volume_id_or_qm_path(value: str) -> None:
    if value in ("none", "cdrom"):
        return
    _volume_id_or_absolute_path(value)


@register("pve-phys-bits")
def _phys_bits(value: str) -> None:
    ok = re.match(r"^(?:host|\d{1,2})$", value) is not None and (value == "host" or 8 <= int(value) <= 64)
    _fail_unless(ok, "value must be an integer between 8 and 64 or 'host'")


# --- pve-access-control (AccessControl.pm, Auth/Plugin.pm) ---

REALM_RE = r"[A-Za-z][A-Za-z0-9\.\-_]+"
USER_RE = r"[^\s:/]+"
GROUPNAME_RE = r"[A-Za-z0-9\.\-_]+"
# AccessControl.pm's $privgroups plus 'Permissions.Modify' (PVE 9.x); 'VM.Monitor' existed up to 8.x.
PRIVILEGES = _words(
    """Datastore.Allocate Datastore.AllocateSpace Datastore.AllocateTemplate Datastore.Audit Group.Allocate
    Mapping.Audit Mapping.Modify Mapping.Use Permissions.Modify Pool.Allocate Pool.Audit Realm.Allocate
    Realm.AllocateUser SDN.Allocate SDN.Audit SDN.Use Sys.AccessNetwork Sys.Audit Sys.Console Sys.Incoming
    Sys.Modify Sys.PowerMgmt Sys.Syslog User.Modify VM.Allocate VM.Audit VM.Backup VM.Clone VM.Config.CDROM
    VM.Config.CPU VM.Config.Cloudinit VM.Config.Disk VM.Config.HWType VM.Config.Memory VM.Config.Network
    VM.Config.Options VM.Console VM.GuestAgent.Audit VM.GuestAgent.FileRead VM.GuestAgent.FileSystemMgmt
    VM.GuestAgent.FileWrite VM.GuestAgent.Unrestricted VM.Migrate VM.Monitor VM.PowerMgmt VM.Replicate VM.Snapshot
    VM.Snapshot.Rollback"""
)


@register("pve-realm")
def _realm(value: str) -> None:
    _fail_unless(_fullmatch(REALM_RE, value), "value does not look like a valid realm")


@register("pve-userid")
def _userid(value: str) -> None:
    if len(value) < 3:
        raise FormatError(f"user name '{value}' is too short")
    if len(value) > 64:
        raise FormatError(f"user name '{value}' is too long ({len(value)} > 64)")
    _fail_unless(_fullmatch(rf"{USER_RE}@{REALM_RE}", value), f"value '{value}' does not look like a valid user name")


@register("pve-tokenid")
def _tokenid(value: str) -> None:
    ok = _fullmatch(rf"{USER_RE}@{REALM_RE}!{REALM_RE}", value)
    _fail_unless(ok, f"value '{value}' does not look like a valid token ID")


@register("pve-groupid")
def _groupid(value: str) -> None:
    _fail_unless(_fullmatch(GROUPNAME_RE, value), f"group name '{value}' contains invalid characters")


@register("pve-roleid")
def _roleid(value: str) -> None:
    _fail_unless(_fullmatch(r"[A-Za-z0-9\.\-_]+", value), f"role name '{value}' contains invalid characters")


@register("pve-poolid")
def _poolid(value: str) -> None:
    if len([part for part in value.split("/")]) > 3:
        raise FormatError(f"pool name '{value}' nested too deeply (max levels = 3)")
    ok = _fullmatch(r"[A-Za-z0-9\.\-_]+(?:/[A-Za-z0-9\.\-_]+){0,2}", value)
    _fail_unless(ok, f"pool name '{value}' contains invalid characters")


@register("pve-priv")
def _priv(value: str) -> None:
    _fail_unless(value in PRIVILEGES, f"invalid privilege '{value}'")


# --- pve-cluster (DataCenterConfig.pm) ---


@register("mac-prefix")
def _mac_prefix(value: str) -> None:
    ok = _fullmatch(r"[a-f0-9][02468ace](?::[a-f0-9]{2}){0,2}(?::[a-f0-9]?)?", value, re.I)
    _fail_unless(ok, "value is not a valid unicast MAC address prefix")


# --- pve-container (LXC/Config.pm) ---


@register("lxc-ip-with-ll-iface")
def _ip_with_ll_iface(value: str) -> None:
    match = re.match(r"^(fe80:[^%]+)%(.*)$", value)
    if match and _ip_version(match.group(1)) and _fullmatch(r"[a-z][a-z0-9_]{1,20}(?:[:\.]\d+)?", match.group(2), re.I):
        return
    _fail_unless(_ip_version(value) != 0, "value does not look like a valid IP address")


@register("pve-ct-timezone")
def _ct_timezone(value: str) -> None:
    if value == "host":
        return
    check_format("timezone", value)


@register("pve-lxc-mp-string")
def _lxc_mp_string(value: str) -> None:
    bad = re.search(r"/\.\.?/", value) or re.search(r"/\.\.?$", value) or re.match(r"^\.\./", value)
    _fail_unless(not bad, f"{value} contains illegal character sequences")


@register("pve-lxc-dev-string")
def _lxc_dev_string(value: str) -> None:
    bad = re.search(r"/\.\.?(?:/|$)", value) or not value.startswith("/dev/")
    _fail_unless(not bad, f"{value} is not a valid device path")


# --- pve-firewall (Firewall.pm) ---

FIREWALL_HELPERS = {"amanda", "ftp", "irc", "netbios-ns", "pptp", "sane", "sip", "snmp", "tftp"}
ICMP_TYPES = _words(
    """any echo-reply destination-unreachable network-unreachable host-unreachable protocol-unreachable
    port-unreachable fragmentation-needed source-route-failed network-unknown host-unknown network-prohibited
    host-prohibited communication-prohibited host-precedence-violation precedence-cutoff source-quench redirect
    network-redirect host-redirect TOS-network-redirect TOS-host-redirect echo-request router-advertisement
    router-solicitation time-exceeded ttl-zero-during-transit ttl-zero-during-reassembly parameter-problem
    ip-header-bad required-option-missing timestamp-request timestamp-reply address-mask-request
    address-mask-reply"""
)
ICMPV6_TYPES = _words(
    """destination-unreachable no-route communication-prohibited beyond-scope address-unreachable
    port-unreachable failed-policy reject-route packet-too-big time-exceeded ttl-zero-during-transit
    ttl-zero-during-reassembly parameter-problem bad-header unknown-header-type unknown-option echo-request
    echo-reply router-solicitation router-advertisement neighbor-solicitation neighbour-solicitation
    neighbor-advertisement neighbour-advertisement redirect"""
)
# PVE reads /etc/services and /etc/protocols; these are Debian's netbase names that firewall rules use.
SERVICE_NAMES = _words(
    """ftp-data ftp ssh telnet smtp domain tftp http www kerberos pop3 sunrpc nntp ntp netbios-ns netbios-dgm
    netbios-ssn imap2 imap snmp snmp-trap bgp ldap https microsoft-ds submission ldaps rsync imaps pop3s openvpn
    radius radius-acct nfs mysql postgresql sip sip-tls xmpp-client xmpp-server amanda irc sane-port
    iscsi-target svn git isakmp ipsec-nat-t syslog rdp ms-wbt-server vnc-server x11 ceph"""
)
PROTOCOL_NAMES = _words(
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
        _fail_unless(helper in FIREWALL_HELPERS, f"unknown helper {helper}")


def _ports(value: str, dport: bool) -> None:
    count = 0
    icmp = False
    for item in _comma_list(value):
        range_match = re.match(r"^([0-9]+):([0-9]+)$", item)
        if range_match:
            count += 2
            first, last = int(range_match.group(1)), int(range_match.group(2))
            for port in (range_match.group(1), range_match.group(2)):
                _fail_unless(int(port) <= 65535, f"invalid port '{port}'")
            _fail_unless(first <= last, f"backwards range '{first}:{last}' not allowed, did you mean '{last}:{first}'?")
        elif re.match(r"^[0-9]+$", item):
            count += 1
            _fail_unless(int(item) <= 65535, f"invalid port '{item}'")
        elif dport and (item in ICMP_TYPES or item in ICMPV6_TYPES):
            icmp = True
        else:
            _fail_unless(item in SERVICE_NAMES, f"invalid port '{item}'")
    _fail_unless(not (icmp and count > 0), "ICMP ports not allowed in port range")
    _fail_unless(count <= 15, "too many entries in port list (> 15 numbers)")


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
        _fail_unless(len(value) <= 65, "ipset name too long")
        return
    if re.match(r"^(?:dc/|guest/)?[A-Za-z][A-Za-z0-9\-\_]+$", value):
        _fail_unless(len(value) <= 64, "alias name too long")
        return
    versions = set()
    elements = _comma_list(value)
    for element in elements:
        versions.add(_firewall_address(element))
    _fail_unless(len(versions) <= 1, f"detected mixed ipv4/ipv6 addresses in address list '{value}'")
    _fail_unless(not (any("-" in e for e in elements) and len(elements) > 1), "you can't use a range in a list")


@register("pve-fw-protocol-spec")
def _protocol(value: str) -> None:
    ok = value in ("", "0") or value in PROTOCOL_NAMES or (value.isdigit() and int(value) <= 255)
    _fail_unless(ok, f"unknown protocol '{value}'")


@register("pve-fw-icmp-type-spec")
def _icmp_type(value: str) -> None:
    ok = value == "" or value in ICMP_TYPES or value in ICMPV6_TYPES or re.match(r"^\d+(?:/\d+)?$", value)
    _fail_unless(bool(ok), f"invalid icmp-type value '{value}'")


# --- pve-guest-common ---


@register("pve-storage-path-in-property-string")
def _path_in_property_string(value: str) -> None:
    _fail_unless(
        re.match(r"^/[^;,=\(\)]+", value) is not None,
        "Value does not look like a valid absolute path. These symbols are currently not allowed in path: ;,=()",
    )


@register("pve-replication-job-id")
def _replication_job_id(value: str) -> None:
    match = re.match(r"^(\d+)-(\d+)$", value)
    _fail_unless(match is not None, f"invalid replication job id '{value}'")
    assert match is not None
    _fail_unless(int(match.group(1)) >= 100, f"invalid replication job id '{value}' (guest IDs < 100 are reserved)")


# --- pve-ha-manager (HA/Tools.pm) ---


@register("pve-ha-resource-id")
def _ha_resource_id(value: str) -> None:
    _fail_unless(_fullmatch(r"[a-z]+:\S+", value), "value does not look like a valid ha resource id")


@register("pve-ha-resource-or-vm-id")
def _ha_resource_or_vm_id(value: str) -> None:
    _fail_unless(_fullmatch(r"[a-z]+:\S+|\d+", value), "value does not look like a valid ha resource id")


@register("pve-ha-node")
def _ha_node(value: str) -> None:
    _fail_unless(_fullmatch(rf"{DNS_NAME_PART}(?::\d+)?", value), "value does not look like a valid ha node")


@register("pve-ha-group-node")
def _ha_group_node(value: str) -> None:
    _ha_node(value)


# --- pve-manager ---


@register("pve-day-of-week")
def _day_of_week(value: str) -> None:
    _fail_unless(_fullmatch("mon|tue|wed|thu|fri|sat|sun", value), f"invalid day '{value}'")


@register("pve-command-batch")
def _command_batch(value: str) -> None:
    try:
        commands = json_nesting.loads(value)
    except ValueError as error:
        raise FormatError(f"commands param did not contain valid JSON: {error}") from None
    ok = isinstance(commands, list) and all(
        isinstance(c, dict) and isinstance(c.get("path"), str) and c.get("method") in ("GET", "POST", "PUT", "DELETE")
        and isinstance(c.get("args", {}), dict)
        for c in commands
    )  # fmt: skip
    _fail_unless(ok, "commands is not a valid array of commands: Parameter verification failed.")


@register("graphite-path")
def _graphite_path(value: str) -> None:
    ok = _fullmatch(rf"(?:{DNS_NAME_PART}\.)*{DNS_NAME_PART}", value)
    _fail_unless(ok, "value does not look like a valid graphite path")


@register("pve-acme-domain")
def _acme_domain(value: str) -> None:
    ok = _fullmatch(r"[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)+", value, re.I)
    _fail_unless(ok, f"value '{value}' does not look like a valid domain name!")


@register("pve-acme-alias")
def _acme_alias(value: str) -> None:
    ok = _fullmatch(r"[a-z0-9_][a-z0-9_-]*(?:\.[a-z0-9_][a-z0-9_-]*)+", value, re.I)
    _fail_unless(ok, f"value '{value}' does not look like a valid alias name!")


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
    _fail_unless(_fullmatch(_pem("CERTIFICATE"), _strip_leading_text(value)), "not a valid PEM-formatted string.")


@register("pem-certificate-chain")
def _pem_certificate_chain(value: str) -> None:
    single = _pem("CERTIFICATE")
    ok = _fullmatch(rf"(?:{single}\n+)*{single}", _strip_leading_text(value))
    _fail_unless(ok, "not a valid PEM-formatted string.")


@register("pem-string")
def _pem_string(value: str) -> None:
    _fail_unless(_fullmatch(_pem(".*?"), _strip_leading_text(value)), "not a valid PEM-formatted string.")


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
    _fail_unless(ok is not None and text != "", f"invalid calendar event '{value}' - unable to parse calendar event")


# --- pve-network (SDN) and proxmox-perl-rs (fabrics) ---


@register("pve-sdn-isis-net")
def _isis_net(value: str) -> None:
    ok = _fullmatch(r"[a-fA-F0-9]{2}(?:\.[a-fA-F0-9]{4}){3,9}\.[a-fA-F0-9]{2}", value)
    _fail_unless(ok, "value does not look like a valid isis net")


@register("pve-sdn-subnet-id")
def _subnet_id(value: str) -> None:
    if "/" in value:
        cidr = value
    else:
        parts = value.split("-")
        cidr = f"{parts[1] if len(parts) > 1 else ''}/{parts[2] if len(parts) > 2 else ''}"
    _fail_unless(is_cidr(cidr, 4) or is_cidr(cidr, 6), "value does not look like a valid CIDR network")


@register("pve-sdn-bgp-rt")
def _bgp_rt(value: str) -> None:
    match = re.match(r"^(\d+):(\d+)$", value)
    ok = match is not None and int(match.group(1)) <= 4294967295 and int(match.group(2)) <= 4294967295
    _fail_unless(ok, "value does not look like a valid bgp route-target")


@register("pve-sdn-vlanrange")
def _sdn_vlanrange(value: str) -> None:
    check_format("pve-vlan-id-or-range", value)


@register("pve-sdn-fabric-id")
def _fabric_id(value: str) -> None:
    ok = _fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9-]{0,6}[a-zA-Z0-9]?", value, re.I)
    _fail_unless(ok, f"Fabric ID '{value}' contains illegal characters")


# The next formats are registered from Rust (proxmox-perl-rs); their syntax is taken from the schema texts.
_SDN_OBJECT_ID = r"[a-zA-Z0-9][a-zA-Z0-9_-]{0,31}"


@register("pve-sdn-route-map-id")
def _route_map_id(value: str) -> None:
    _fail_unless(_fullmatch(_SDN_OBJECT_ID, value), f"invalid route map id '{value}'")


@register("pve-sdn-prefix-list-id")
def _prefix_list_id(value: str) -> None:
    _fail_unless(_fullmatch(_SDN_OBJECT_ID, value), f"invalid prefix list id '{value}'")


@register("FullRangeCIDR")
def _full_range_cidr(value: str) -> None:
    """A CIDR whose prefix may take the whole range (``/0`` .. ``/32`` or ``/128``), unlike ``CIDR``."""
    address, slash, bits = value.rpartition("/")
    version = _ip_version(address) if slash else 0
    ok = version != 0 and bits.isdigit() and int(bits) <= (32 if version == 4 else 128)
    _fail_unless(ok, "value does not look like a valid CIDR network")


@register("pve-sdn-fabric-wireguard-interface")
def _wireguard_interface(value: str) -> None:
    _fail_unless(_fullmatch(r"[a-zA-Z][a-zA-Z0-9_.-]{0,14}", value), f"invalid interface name '{value}'")


# pve-network up to PVE 8.x (removed in 9.x, where the schema uses patterns instead).
def _sdn_id(kind: str, pattern: str, max_length: int | None) -> None:
    def check(value: str) -> None:
        _fail_unless(_fullmatch(pattern, value, re.I), f"{kind} ID '{value}' contains illegal characters")
        if max_length is not None and len(value) > max_length:
            raise FormatError(f"{kind} ID '{value}' can't be more length than {max_length} characters")

    register(f"pve-sdn-{kind}-id")(check)


_sdn_id("zone", r"[a-z][a-z0-9]*[a-z0-9]", 8)
_sdn_id("vnet", r"[a-z][a-z0-9]*[a-z0-9]", 8)
_sdn_id("controller", r"[a-z][a-z0-9_-]*[a-z0-9]", 64)
_sdn_id("dns", r"[a-z][a-z0-9]*[a-z0-9]", None)
_sdn_id("ipam", r"[a-z][a-z0-9]*[a-z0-9]", None)
