"""``/nodes/{node}/hardware/pci``, ``.../pci/{pci-id-or-mapping}/mdev`` and ``/hardware/usb``: a plausible host
behind the node's CPU (``/nodes/{node}/status`` cpuinfo: an AMD board for AMD models, an Intel C246 board for
Intel ones), as pve-manager PVE/API2/Hardware/PCI.pm and USB.pm (commit 14a22df3) scan it: PCI devices with
their pci.ids names, classes ``05``/``06``/``0b`` left out by default (``pci-class-blacklist``); USB devices as
pve-common SysFSTools ``scan_usb`` walks ``/sys/bus/usb/devices`` (root hubs first, then their ports). None of
these devices supports mediated devices, so ``mdev`` lists no types (qemu-server PCI/Mdev.pm
``get_mdev_types``)."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered_rows
from pytest_pvemock.errors import PVEError

# (id, class, vendor, device, subsystem vendor, subsystem device, iommu group, names from pci.ids)
_Device = tuple[str, str, str, str, str, str, int, str, str]
_BOARDS: dict[str, list[_Device]] = {
    "AuthenticAMD": [
        ("0000:00:00.0", "0x060000", "0x1022", "0x1480", "0x1022", "0x1480", 0,
         "Advanced Micro Devices, Inc. [AMD]", "Starship/Matisse Root Complex"),
        ("0000:01:00.0", "0x010802", "0x144d", "0xa808", "0x144d", "0xa801", 8,
         "Samsung Electronics Co Ltd", "NVMe SSD Controller SM981/PM981/PM983"),
        ("0000:02:00.0", "0x020000", "0x8086", "0x1533", "0x15d9", "0x1533", 9,
         "Intel Corporation", "I210 Gigabit Network Connection"),
        ("0000:03:00.0", "0x030000", "0x1a03", "0x2000", "0x15d9", "0x1b95", 10,
         "ASPEED Technology, Inc.", "ASPEED Graphics Family"),
        ("0000:04:00.3", "0x0c0330", "0x1022", "0x149c", "0x15d9", "0x1b95", 12,
         "Advanced Micro Devices, Inc. [AMD]", "Matisse USB 3.0 Host Controller"),
        ("0000:05:00.0", "0x010601", "0x1022", "0x7901", "0x15d9", "0x1b95", 13,
         "Advanced Micro Devices, Inc. [AMD]", "FCH SATA Controller [AHCI mode]"),
        ("0000:00:14.0", "0x0c0500", "0x1022", "0x790b", "0x15d9", "0x1b95", 6,
         "Advanced Micro Devices, Inc. [AMD]", "FCH SMBus Controller"),
    ],
    "GenuineIntel": [
        ("0000:00:00.0", "0x060000", "0x8086", "0x3e10", "0x15d9", "0x1c48", 0,
         "Intel Corporation", "8th Gen Core 4-core Desktop Processor Host Bridge/DRAM Registers [Coffee Lake S]"),
        ("0000:00:14.0", "0x0c0330", "0x8086", "0xa36d", "0x15d9", "0x1c48", 3,
         "Intel Corporation", "Cannon Lake PCH USB 3.1 xHCI Host Controller"),
        ("0000:00:17.0", "0x010601", "0x8086", "0xa352", "0x15d9", "0x1c48", 5,
         "Intel Corporation", "Cannon Lake PCH SATA AHCI Controller"),
        ("0000:00:1f.4", "0x0c0500", "0x8086", "0xa323", "0x15d9", "0x1c48", 9,
         "Intel Corporation", "Cannon Lake PCH SMBus Controller"),
        ("0000:00:1f.6", "0x020000", "0x8086", "0x15bb", "0x15d9", "0x1c48", 9,
         "Intel Corporation", "Ethernet Connection (7) I219-LM"),
        ("0000:01:00.0", "0x010802", "0x144d", "0xa808", "0x144d", "0xa801", 1,
         "Samsung Electronics Co Ltd", "NVMe SSD Controller SM981/PM981/PM983"),
        ("0000:03:00.0", "0x030000", "0x1a03", "0x2000", "0x15d9", "0x1c48", 11,
         "ASPEED Technology, Inc.", "ASPEED Graphics Family"),
    ],
}  # fmt: skip
_SUBSYSTEM_NAMES = {"0x15d9": "Super Micro Computer Inc", "0x144d": "Samsung Electronics Co Ltd",
                    "0x1022": "Advanced Micro Devices, Inc. [AMD]"}  # fmt: skip


def _board(ctx: HandlerContext) -> list[_Device]:
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    vendor, _family = node.cpu_identity()
    return sorted(_BOARDS.get(vendor, _BOARDS["AuthenticAMD"]))


@handles("GET", "/nodes/{node}/hardware/pci")
def list_pci(ctx: HandlerContext) -> list[dict[str, Any]]:
    blacklist = str(ctx.params.get("pci-class-blacklist", "05;06;0b")).split(";")
    verbose = int(ctx.params.get("verbose", 1))
    rows = []
    for pci_id, klass, vendor, device, sub_vendor, sub_device, group, vendor_name, device_name in _board(ctx):
        if any(prefix and klass[2:].startswith(prefix) for prefix in blacklist):
            continue
        row: dict[str, Any] = {"id": pci_id, "class": klass, "vendor": vendor, "device": device,
                               "subsystem_vendor": sub_vendor, "subsystem_device": sub_device,
                               "iommugroup": group}  # fmt: skip
        if verbose:
            row.update({"vendor_name": vendor_name, "device_name": device_name,
                        "subsystem_vendor_name": _SUBSYSTEM_NAMES.get(sub_vendor, vendor_name),
                        "subsystem_device_name": ""})  # fmt: skip
        rows.append(row)
    return ordered_rows(ctx, rows)


@handles("GET", "/nodes/{node}/hardware/pci/{pci-id-or-mapping}/mdev")
def list_mdev_types(ctx: HandlerContext) -> list[dict[str, Any]]:
    wanted = str(ctx.params["pci-id-or-mapping"])
    full = wanted if wanted.count(":") == 2 else f"0000:{wanted}"
    if ":" in wanted and full not in {device[0] for device in _board(ctx)}:
        raise PVEError(f"no PCI device found for '{wanted}'", 500)
    return []


@handles("GET", "/nodes/{node}/hardware/usb")
def list_usb(ctx: HandlerContext) -> list[dict[str, Any]]:
    ctx.cluster.require_node_reachable(ctx.params["node"])
    kernel = ctx.cluster.kernel[0]
    hub = {"manufacturer": f"Linux {kernel} xhci-hcd", "product": "xHCI Host Controller", "class": 9,
           "vendid": "1d6b", "port": 0, "level": 0}  # fmt: skip
    rows = [
        {**hub, "busnum": 1, "devnum": 1, "prodid": "0002", "speed": "480"},
        {"busnum": 1, "devnum": 2, "port": 0, "level": 1, "usbpath": "1", "class": 0, "vendid": "046b",
         "prodid": "ff10", "speed": "480", "manufacturer": "American Megatrends Inc.",
         "product": "Virtual Keyboard and Mouse"},
        {**hub, "busnum": 2, "devnum": 1, "prodid": "0003", "speed": "5000"},
    ]  # fmt: skip
    return ordered_rows(ctx, rows, key="devnum")
