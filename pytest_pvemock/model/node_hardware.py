"""What a node's hardware holds, as sysfs shows it to PVE: the PCI devices of its board (a plausible host behind
its CPU: an AMD board for AMD models, an Intel C246 board for Intel ones), the USB devices on its buses, and the
cards and sticks the admins added to it (a node's ``devices``, named from :data:`ADD_ONS`).

pve-manager's ``/nodes/{node}/hardware/pci`` and ``/usb`` list them; resource mappings
(``/cluster/mapping/pci`` and ``/usb``) are checked against them, as pve-guest-common's ``PVE::Mapping::PCI`` and
``USB`` ``assert_valid`` read sysfs (``PVE::SysFSTools::pci_device_info``, ``scan_usb``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_pvemock.model.nodes.node import Node


@dataclass(frozen=True)
class PciDevice:
    """One PCI function: ids as sysfs writes them (``0x10de``), names from pci.ids."""

    id: str
    klass: str
    vendor: str
    device: str
    subsystem_vendor: str
    subsystem_device: str
    iommugroup: int
    vendor_name: str
    device_name: str
    subsystem_vendor_name: str = ""


@dataclass(frozen=True)
class UsbDevice:
    """One USB device as ``scan_usb`` reads it (ids without ``0x``); ``usbpath`` is the port chain on its bus."""

    busnum: int
    devnum: int
    port: int
    level: int
    klass: int
    vendid: str
    prodid: str
    speed: str
    manufacturer: str
    product: str
    usbpath: str | None = None


_SUPERMICRO = "Super Micro Computer Inc"
_AMD = "Advanced Micro Devices, Inc. [AMD]"
_BOARDS: dict[str, tuple[PciDevice, ...]] = {
    "AuthenticAMD": (
        PciDevice("0000:00:00.0", "0x060000", "0x1022", "0x1480", "0x1022", "0x1480", 0, _AMD,
                  "Starship/Matisse Root Complex", _AMD),
        PciDevice("0000:00:14.0", "0x0c0500", "0x1022", "0x790b", "0x15d9", "0x1b95", 6, _AMD,
                  "FCH SMBus Controller", _SUPERMICRO),
        PciDevice("0000:01:00.0", "0x010802", "0x144d", "0xa808", "0x144d", "0xa801", 8, "Samsung Electronics Co Ltd",
                  "NVMe SSD Controller SM981/PM981/PM983", "Samsung Electronics Co Ltd"),
        PciDevice("0000:02:00.0", "0x020000", "0x8086", "0x1533", "0x15d9", "0x1533", 9, "Intel Corporation",
                  "I210 Gigabit Network Connection", _SUPERMICRO),
        PciDevice("0000:03:00.0", "0x030000", "0x1a03", "0x2000", "0x15d9", "0x1b95", 10, "ASPEED Technology, Inc.",
                  "ASPEED Graphics Family", _SUPERMICRO),
        PciDevice("0000:04:00.3", "0x0c0330", "0x1022", "0x149c", "0x15d9", "0x1b95", 12, _AMD,
                  "Matisse USB 3.0 Host Controller", _SUPERMICRO),
        PciDevice("0000:05:00.0", "0x010601", "0x1022", "0x7901", "0x15d9", "0x1b95", 13, _AMD,
                  "FCH SATA Controller [AHCI mode]", _SUPERMICRO),
    ),
    "GenuineIntel": (
        PciDevice("0000:00:00.0", "0x060000", "0x8086", "0x3e10", "0x15d9", "0x1c48", 0, "Intel Corporation",
                  "8th Gen Core 4-core Desktop Processor Host Bridge/DRAM Registers [Coffee Lake S]", _SUPERMICRO),
        PciDevice("0000:00:14.0", "0x0c0330", "0x8086", "0xa36d", "0x15d9", "0x1c48", 3, "Intel Corporation",
                  "Cannon Lake PCH USB 3.1 xHCI Host Controller", _SUPERMICRO),
        PciDevice("0000:00:17.0", "0x010601", "0x8086", "0xa352", "0x15d9", "0x1c48", 5, "Intel Corporation",
                  "Cannon Lake PCH SATA AHCI Controller", _SUPERMICRO),
        PciDevice("0000:00:1f.4", "0x0c0500", "0x8086", "0xa323", "0x15d9", "0x1c48", 9, "Intel Corporation",
                  "Cannon Lake PCH SMBus Controller", _SUPERMICRO),
        PciDevice("0000:00:1f.6", "0x020000", "0x8086", "0x15bb", "0x15d9", "0x1c48", 9, "Intel Corporation",
                  "Ethernet Connection (7) I219-LM", _SUPERMICRO),
        PciDevice("0000:01:00.0", "0x010802", "0x144d", "0xa808", "0x144d", "0xa801", 1, "Samsung Electronics Co Ltd",
                  "NVMe SSD Controller SM981/PM981/PM983", "Samsung Electronics Co Ltd"),
        PciDevice("0000:03:00.0", "0x030000", "0x1a03", "0x2000", "0x15d9", "0x1c48", 11, "ASPEED Technology, Inc.",
                  "ASPEED Graphics Family", _SUPERMICRO),
    ),
}  # fmt: skip

_NVIDIA = "NVIDIA Corporation"

#: Cards and sticks a node's ``devices`` may name: the PCI functions or the USB device each adds. The GPU sits in
#: the board's first x16 slot behind its own root port (its own IOMMU group, both functions in it); the dongle on
#: the board's second USB port (bus 1, port chain 2: USB path ``1-2``). Ids and names from pci.ids and usb.ids.
ADD_ONS: dict[str, tuple[PciDevice | UsbDevice, ...]] = {
    "nvidia-rtx-a2000": (
        PciDevice("0000:81:00.0", "0x030000", "0x10de", "0x2571", "0x10de", "0x1611", 20, _NVIDIA,
                  "GA106 [RTX A2000 12GB]", _NVIDIA),
        PciDevice("0000:81:00.1", "0x040300", "0x10de", "0x228e", "0x10de", "0x1611", 20, _NVIDIA,
                  "GA106 High Definition Audio Controller", _NVIDIA),
    ),
    "sentinel-hl-dongle": (
        UsbDevice(1, 3, 1, 1, 0, "0529", "0001", "12", "SafeNet Inc.", "Sentinel HL", usbpath="2"),
    ),
}  # fmt: skip


def check_devices(names: tuple[str, ...] | list[str]) -> None:
    """Raise ``ValueError`` naming a device that :data:`ADD_ONS` does not know."""
    for name in names:
        if name not in ADD_ONS:
            raise ValueError(f"unknown device '{name}' (known: {', '.join(sorted(ADD_ONS))})")


def pci_devices(node: Node) -> list[PciDevice]:
    """Every PCI function of the node, by address (``lspci`` order)."""
    vendor, _family = node.cpu_identity()
    devices = list(_BOARDS.get(vendor, _BOARDS["AuthenticAMD"]))
    for name in node.devices:
        devices.extend(device for device in ADD_ONS[name] if isinstance(device, PciDevice))
    return sorted(devices, key=lambda device: device.id)


def pci_device(node: Node, address: str) -> PciDevice | None:
    """``pci_device_info`` of a full address (``0000:81:00.0``); ``None`` where sysfs has no such device."""
    return next((device for device in pci_devices(node) if device.id == address), None)


def usb_devices(node: Node, kernel: str) -> list[UsbDevice]:
    """``scan_usb``: each root hub, then the devices on its ports (the BMC's virtual keyboard on bus 1)."""
    hub = {"port": 0, "level": 0, "klass": 9, "vendid": "1d6b", "manufacturer": f"Linux {kernel} xhci-hcd",
           "product": "xHCI Host Controller"}  # fmt: skip
    bus1 = [
        UsbDevice(busnum=1, devnum=1, prodid="0002", speed="480", **hub),  # type: ignore[arg-type]
        UsbDevice(1, 2, 0, 1, 0, "046b", "ff10", "480", "American Megatrends Inc.", "Virtual Keyboard and Mouse",
                  usbpath="1"),
    ]  # fmt: skip
    for name in node.devices:
        bus1.extend(device for device in ADD_ONS[name] if isinstance(device, UsbDevice))
    bus2 = [UsbDevice(busnum=2, devnum=1, prodid="0003", speed="5000", **hub)]  # type: ignore[arg-type]
    return sorted(bus1, key=lambda device: device.devnum) + bus2
