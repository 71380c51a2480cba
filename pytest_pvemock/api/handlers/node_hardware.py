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
from pytest_pvemock.model.node_hardware import PciDevice, pci_devices, usb_devices


def _board(ctx: HandlerContext) -> list[PciDevice]:
    return pci_devices(ctx.cluster.require_node_reachable(ctx.params["node"]))


@handles("GET", "/nodes/{node}/hardware/pci")
def list_pci(ctx: HandlerContext) -> list[dict[str, Any]]:
    blacklist = str(ctx.params.get("pci-class-blacklist", "05;06;0b")).split(";")
    verbose = int(ctx.params.get("verbose", 1))
    rows = []
    for device in _board(ctx):
        if any(prefix and device.klass[2:].startswith(prefix) for prefix in blacklist):
            continue
        row: dict[str, Any] = {"id": device.id, "class": device.klass, "vendor": device.vendor,
                               "device": device.device, "subsystem_vendor": device.subsystem_vendor,
                               "subsystem_device": device.subsystem_device,
                               "iommugroup": device.iommugroup}  # fmt: skip
        if verbose:
            row.update({"vendor_name": device.vendor_name, "device_name": device.device_name,
                        "subsystem_vendor_name": device.subsystem_vendor_name or device.vendor_name,
                        "subsystem_device_name": ""})  # fmt: skip
        rows.append(row)
    return ordered_rows(ctx, rows)


@handles("GET", "/nodes/{node}/hardware/pci/{pci-id-or-mapping}/mdev")
def list_mdev_types(ctx: HandlerContext) -> list[dict[str, Any]]:
    wanted = str(ctx.params["pci-id-or-mapping"])
    full = wanted if wanted.count(":") == 2 else f"0000:{wanted}"
    if ":" in wanted and full not in {device.id for device in _board(ctx)}:
        raise PVEError(f"no PCI device found for '{wanted}'", 500)
    return []


@handles("GET", "/nodes/{node}/hardware/usb")
def list_usb(ctx: HandlerContext) -> list[dict[str, Any]]:
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    rows = []
    for device in usb_devices(node, ctx.cluster.kernel[0]):
        row: dict[str, Any] = {"busnum": device.busnum, "devnum": device.devnum, "port": device.port,
                               "level": device.level, "class": device.klass, "vendid": device.vendid,
                               "prodid": device.prodid, "speed": device.speed,
                               "manufacturer": device.manufacturer, "product": device.product}  # fmt: skip
        if device.usbpath is not None:
            row["usbpath"] = device.usbpath
        rows.append(row)
    return ordered_rows(ctx, rows, key="devnum")
