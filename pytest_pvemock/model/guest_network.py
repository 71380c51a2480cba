"""The network interfaces a guest sees inside: one per ``netN`` of its config, with the MAC the config holds,
an IPv4 address (the static ``ip=`` of a container or ``ipconfigN`` of a cloud-init VM, otherwise what the DHCP
server of its node's network handed out) and the IPv6 link-local address the kernel derives from the MAC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_pvemock.model import figures
from pytest_pvemock.model.guest_config import property_option

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest

_NET = re.compile(r"^net(\d+)$")
_MAC = re.compile(r"(?:^|,)(?:(?:virtio|e1000e?|rtl8139|vmxnet3|hwaddr)=)([0-9A-Fa-f:]{17})")


@dataclass(frozen=True)
class GuestNic:
    """One interface as the guest names it: ``ens18`` (QEMU, Linux), ``Ethernet`` (Windows), ``eth0`` (LXC)."""

    index: int
    name: str
    mac: str
    ipv4: str | None
    prefix: int

    @property
    def ipv6_link_local(self) -> str:
        """``fe80::`` plus the modified EUI-64 of the MAC, as Linux and Windows derive it."""
        octets = [int(part, 16) for part in self.mac.split(":")]
        eui = [octets[0] ^ 0x02, *octets[1:3], 0xFF, 0xFE, *octets[3:]]
        groups = [f"{eui[i] << 8 | eui[i + 1]:x}" for i in range(0, 8, 2)]
        return "fe80::" + ":".join(groups)


def is_windows(guest: Guest) -> bool:
    return guest.kind == "qemu" and str(guest.config.get("ostype", "")).startswith("w")


def guest_nics(cluster: FakeCluster, guest: Guest) -> list[GuestNic]:
    """The guest's interfaces in ``netN`` order (loopback not included)."""
    node = cluster.find_node(guest.node)
    subnet = ".".join((node.ip if node is not None else "192.168.100.1").split(".")[:3])
    nics = []
    indexes = sorted(int(match.group(1)) for key in guest.config if (match := _NET.match(str(key))))
    for position, index in enumerate(indexes):
        text = str(guest.config[f"net{index}"])
        found = _MAC.search(text)
        mac = found.group(1).upper() if found else figures.mac_address(figures.seeded(cluster.seed, "mac", guest.vmid))
        static = (
            property_option(text, "ip")
            if guest.kind == "lxc"
            else property_option(str(guest.config.get(f"ipconfig{index}", "")), "ip")
        )
        if static and "/" in static and static[0].isdigit():
            address, _, prefix = static.partition("/")
            ipv4: str | None = address
            bits = int(prefix)
        else:
            host = 20 + (guest.vmid * 7 + index * 31) % 230
            ipv4, bits = f"{subnet}.{host}", 24
        if guest.kind == "lxc":
            name = property_option(text, "name") or f"eth{index}"
        elif is_windows(guest):
            name = "Ethernet" if position == 0 else f"Ethernet {position + 1}"
        else:
            name = f"ens{18 + index}"
        nics.append(GuestNic(index, name, mac, ipv4, bits))
    return nics
