"""The QEMU human monitor (HMP) of a running VM, as ``human-monitor-command`` answers it: ``info`` commands read the
VM's state, the run-control commands change it.

QEMU's monitor ends every line with ``\\r\\n`` (monitor/monitor.c ``monitor_puts_locked``). What is modelled:

- ``info status`` (monitor/hmp-cmds.c ``hmp_info_status``: ``VM status: running``, ``paused``, or ``paused (<run
  state>)`` such as ``paused (suspended)``), ``info version`` (``hmp_info_version``: the QEMU version and the package
  pve-qemu-kvm builds it with, ``--with-pkgversion=pve-qemu-kvm_<version>``), ``info name``, ``info uuid`` (the
  ``smbios1`` uuid), ``info kvm``, ``info cpus`` (one line per vCPU with its host thread id), ``info balloon``;
- ``stop``/``s``, ``cont``/``c``, ``system_wakeup`` (QEMU's errors when the guest is not suspended),
  ``system_reset``, ``system_powerdown`` (the guest shuts down on the clock), ``quit``/``q``, ``sendkey``.

Any other command answers nothing, as most HMP commands do on success; an unknown one is HMP's ``unknown command``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_pvemock.model.guest_config import property_option
from pytest_pvemock.model.guest_power import guest_shutdown_later, send_keys, wake
from pytest_pvemock.model.node_packages import release_packages
from pytest_pvemock.model.release_platform import platform_of
from pytest_pvemock.pve_data import pve_data

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import QemuVM

#: HMP's ``info`` items (QEMU hmp-commands-info.hx), for ``unknown command``.
_INFO_ITEMS_TEXT = (
    "version network chardev block blockstats block-jobs registers cpus history irq pic lapic ioapic pci tlb mem "
    "mtree jit opcount sync-profile kvm numa usb usbhost profile capture snapshots mice vnc spice name uuid "
    "cpustats usernet status balloon qtree qom-tree roms trace-events tpm memdev memory-devices iothreads "
    "migrate migrate_capabilities migrate_parameters ramblock hotpluggable-cpus vm-generation-id "
    "memory_size_summary sev sgx dump replay dirty_rate vcpu_dirty_limit stats virtio virtio-status "
    "virtio-queue-status virtio-vhost-queue-status virtio-queue-element cryptodev accel accelerators"
)
INFO_ITEMS = frozenset(_INFO_ITEMS_TEXT.split())


def hmp_command_perms() -> dict[str, str]:
    """qemu-server's table of HMP commands and what each requires (third_party/qemu-server)."""
    commands: dict[str, str] = pve_data("qemu-server", "hmp-command-perms.json")["commands"]
    return commands


def _lines(*lines: str) -> str:
    return "".join(f"{line}\r\n" for line in lines)


def hmp_answer(cluster: FakeCluster, vm: QemuVM, command_line: str) -> str:
    """What the monitor of the running ``vm`` prints for ``command_line``."""
    words = command_line.split()
    name, args = words[0], words[1:]
    if name == "info":
        return _info(cluster, vm, args[0] if args else "")
    if name in ("stop", "s"):
        if vm.run_state == "running":
            vm.run_state = "paused"
            cluster.revision.touch()
        return ""
    if name in ("cont", "c"):
        if vm.run_state == "paused":
            vm.run_state = "running"
            cluster.revision.touch()
        return ""
    if name == "system_wakeup":
        if vm.run_state != "suspended":  # softmmu/runstate.c qemu_system_wakeup_request
            return _lines("Error: Unable to wake up: guest is not in suspended state")
        wake(cluster, vm)
        return ""
    if name == "system_reset":
        vm.guest_reset()
        return ""
    if name == "system_powerdown":
        guest_shutdown_later(cluster, vm)
        return ""
    if name in ("quit", "q"):
        vm.guest_power_off()
        return ""
    if name == "sendkey":
        return send_keys(cluster, vm, args[0] if args else "")
    if name not in hmp_command_perms():
        return _lines(f"unknown command: '{name}'")
    return ""


def _info(cluster: FakeCluster, vm: QemuVM, item: str) -> str:
    if item == "status":
        state = vm.run_state
        return _lines("VM status: running" if state == "running" else f"VM status: paused{_detail(state)}")
    if item == "version":
        package = release_packages(cluster.version).get("pve-qemu-kvm", "")
        qemu = platform_of(cluster.version).qemu
        return _lines(f"{qemu}pve-qemu-kvm_{package}" if package else qemu)
    if item == "name":
        return _lines(vm.name) if vm.config.get("name") else ""
    if item == "uuid":
        uuid = property_option(str(vm.config.get("smbios1", "")), "uuid")
        return _lines(uuid or "00000000-0000-0000-0000-000000000000")
    if item == "kvm":
        return _lines("kvm support: enabled" if str(vm.config.get("kvm", "1")) != "0" else "kvm support: disabled")
    if item == "cpus":
        base = (vm.pid or 0) + 3  # the vCPU threads start after QEMU's main, RCU and I/O threads
        return _lines(*(f"{'*' if index == 0 else ' '} CPU #{index}: thread_id={base + index}"
                        for index in range(vm.maxcpu)))  # fmt: skip
    if item == "balloon":
        if str(vm.config.get("balloon", "")) == "0":
            return _lines("Error: No balloon device has been activated")
        return _lines(f"balloon: actual={vm.maxmem >> 20}")
    if item in INFO_ITEMS or not item:
        return ""  # not modelled
    return _lines(f"unknown command: 'info {item}'")


def _detail(state: str) -> str:
    return "" if state == "paused" else f" ({state})"
