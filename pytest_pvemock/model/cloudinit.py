"""What qemu-server writes on a VM's cloud-init drive, as ``GET .../cloudinit/dump`` shows it.

A port of qemu-server src/PVE/QemuServer/Cloudinit.pm (commit e6352be6): ``get_cloudinit_format`` (94-110: ``citype``,
else ``configdrive2`` for Windows, else ``nocloud``), ``get_hostname_fqdn`` (112-125), ``get_dns_conf`` (127-143: the
VM's ``searchdomain``/``nameserver``, else the node's resolv.conf), ``cloudinit_userdata`` (145-189),
``configdrive2_network`` (198-247), ``nocloud_network`` (527-596) and the metadata of both formats (249-264,
598-608: an instance id that is the SHA-1 of user data and network config), ``dump_cloudinit_config`` (741-765).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.guest_config import property_options
from pytest_pvemock.model.nodes.files import resolv_conf

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest

_NET = re.compile(r"^net(\d+)$")
_MAC = re.compile(r"^(?:[a-z0-9]+)=([0-9A-Fa-f:]{17})$")


def cloudinit_format(config: dict[str, Any]) -> str:
    """``nocloud``, ``configdrive2`` (Windows, or as ``citype`` says) or ``opennebula``."""
    if config.get("citype"):
        return str(config["citype"])
    ostype = str(config.get("ostype", ""))
    windows = ostype in ("wxp", "w2k", "w2k3", "w2k8", "wvista") or re.fullmatch(r"win\d+", ostype)
    return "configdrive2" if windows else "nocloud"


def _hostname_fqdn(config: dict[str, Any], vmid: int) -> tuple[str, str]:
    hostname = str(config.get("name", f"VM{vmid}"))
    if "." in hostname:
        return hostname.split(".", 1)[0], hostname
    if config.get("searchdomain"):
        return hostname, f"{hostname}.{config['searchdomain']}"
    return hostname, hostname


def _dns(cluster: FakeCluster, guest: Guest) -> tuple[list[str], list[str]]:
    config = guest.config
    node = cluster.find_node(guest.node)
    host = resolv_conf(cluster, node) if node is not None else {}
    search = str(config.get("searchdomain") or host.get("search") or "").split()
    if config.get("nameserver") is not None:
        servers = str(config["nameserver"]).split()
    else:
        servers = [str(host[key]) for key in ("dns1", "dns2", "dns3") if host.get(key)]
    return search, servers


def user_data(guest: Guest, mask_password: bool = False) -> str:
    """``cloudinit_userdata``: hostname, user, (masked) password, SSH keys, ``package_upgrade``."""
    config = guest.config
    hostname, fqdn = _hostname_fqdn(config, guest.vmid)
    text = f"#cloud-config\nhostname: {hostname}\nmanage_etc_hosts: true\nfqdn: {fqdn}\n"
    username = config.get("ciuser")
    if username is not None:
        text += f"user: {username}\n"
        if username == "root":
            text += "disable_root: False\n"
    password = config.get("cipassword")
    if password is not None:
        # PVE stores a crypt(3) hash (qemu-server encrypts cipassword on write) and shows it to VM.Config.Cloudinit;
        # the fake keeps what the client sent, so a clear password is never written back, only a hash
        shown = str(password) if str(password).startswith("$") and not mask_password else "**********"
        text += f"password: {shown}\n"
    if config.get("sshkeys") is not None:
        keys = [key for key in unquote(str(config["sshkeys"])).split("\n") if key.strip()]
        text += "ssh_authorized_keys:\n" + "".join(f"  - {key}\n" for key in keys)
    text += "chpasswd:\n  expire: False\n"
    if username != "root":
        text += "users:\n  - default\n"
    if str(config.get("ciupgrade", 1)) not in ("0", "False", "false"):
        text += "package_upgrade: true\n"
    return text


def _interfaces(config: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(id, ``net`` value, parsed ``ipconfigN``) of each NIC with an ``ipconfigN``, in ``sort`` order of the keys."""
    found = []
    for key in sorted(key for key in config if _NET.match(key)):
        number = key[3:]
        ipconfig = config.get(f"ipconfig{number}")
        if not ipconfig:
            continue
        options = dict(part.split("=", 1) for part in str(ipconfig).split(",") if "=" in part)
        found.append((number, str(config[key]), options))
    return found


def _mac(number: str, net: str) -> str:
    head, options = property_options(net)
    match = _MAC.match(head)
    mac = match[1] if match else options.get("macaddr", "")
    if not mac:
        raise PVEError(f"network interface 'net{number}' has no mac address")
    return mac


def _mask(cidr: str) -> tuple[str, str]:
    address, _, prefix = cidr.partition("/")
    if not prefix:
        raise PVEError(f"not a CIDR: {cidr}")
    return address, str(ipaddress.IPv4Network(f"0.0.0.0/{prefix}").netmask)


def network_config(cluster: FakeCluster, guest: Guest) -> str:
    """``nocloud_network`` (version 1 YAML) or ``configdrive2_network`` (an interfaces file) of the guest."""
    config = guest.config
    search, servers = _dns(cluster, guest)
    if cloudinit_format(config) != "nocloud":
        text = "auto lo\niface lo inet loopback\n\n"
        if servers:
            text += f"        dns_nameservers {' '.join(servers)}\n"
        if search:
            text += f"        dns_search {' '.join(search)}\n"
        for number, _net, ip in _interfaces(config):
            name = f"eth{number}"
            text += f"auto {name}\n"
            if ip.get("ip") == "dhcp":
                text += f"iface {name} inet dhcp\n"
            elif ip.get("ip"):
                address, netmask = _mask(ip["ip"])
                text += f"iface {name} inet static\n        address {address}\n        netmask {netmask}\n"
                text += f"        gateway {ip['gw']}\n" if ip.get("gw") else ""
            if ip.get("ip6") in ("auto", "dhcp"):
                text += f"iface {name} inet6 {ip['ip6']}\n"
            elif ip.get("ip6"):
                address, _, prefix = ip["ip6"].partition("/")
                text += f"iface {name} inet6 static\n        address {address}\n        netmask {prefix}\n"
                text += f"        gateway {ip['gw6']}\n" if ip.get("gw6") else ""
        return text
    text = "version: 1\nconfig:\n"
    indent = "    "
    for number, net, ip in _interfaces(config):
        text += f"{indent}- type: physical\n{indent}  name: eth{number}\n"
        text += f"{indent}  mac_address: '{_mac(number, net).lower()}'\n{indent}  subnets:\n"
        inner = indent + "  "
        if ip.get("ip") == "dhcp":
            text += f"{inner}- type: dhcp4\n"
        elif ip.get("ip"):
            address, netmask = _mask(ip["ip"])
            text += f"{inner}- type: static\n{inner}  address: '{address}'\n{inner}  netmask: '{netmask}'\n"
            text += f"{inner}  gateway: '{ip['gw']}'\n" if ip.get("gw") else ""
        if ip.get("ip6") == "dhcp":
            text += f"{inner}- type: dhcp6\n"
        elif ip.get("ip6") == "auto":
            text += f"{inner}- type: ipv6_slaac\n"
        elif ip.get("ip6"):
            text += f"{inner}- type: static6\n{inner}  address: '{ip['ip6']}'\n"
            text += f"{inner}  gateway: '{ip['gw6']}'\n" if ip.get("gw6") else ""
    # get_dns_conf answers two lists (never undef), so PVE always writes the nameserver entry
    text += f"{indent}- type: nameserver\n"
    if servers:
        text += f"{indent}  address:\n" + "".join(f"{indent}  - '{server}'\n" for server in servers)
    if search:
        text += f"{indent}  search:\n" + "".join(f"{indent}  - '{domain}'\n" for domain in search)
    return text


def meta_data(cluster: FakeCluster, guest: Guest) -> str:
    """The instance id: SHA-1 of the unmasked user data and the network config, in the format's own wrapping."""
    digest = hashlib.sha1((user_data(guest) + network_config(cluster, guest)).encode()).hexdigest()
    if cloudinit_format(guest.config) == "nocloud":
        return f"instance-id: {digest}\n"
    return f'{{\n     "uuid": "{digest}",\n     "network_config": {{ "content_path": "/content/0000" }}\n}}\n'
