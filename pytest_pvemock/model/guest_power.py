"""A VM's guest powering off, sleeping and waking: the ACPI states PVE lets it see, a shutdown on the clock, and
keys sent to it.

Since machine type 9.2+pve1 (PVE 8.4) qemu-server hides ACPI S3 and S4 from the guest unless the ``machine`` option
has ``enable-s3``/``enable-s4`` (qemu-server src/PVE/QemuServer/Machine.pm ``get_power_state_flags`` 476-510 at
e6352be6). A key sent to the VM (``sendkey``) wakes a guest that sleeps: QEMU's PS/2 keyboard requests a wakeup of
a suspended (S3) VM (hw/input/ps2.c), and the key's interrupt ends a guest's suspend to idle.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pytest_pvemock.model.guest_config import property_option
from pytest_pvemock.model.guest_network import is_windows
from pytest_pvemock.model.release_platform import platform_of

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import QemuVM

#: Virtual seconds from the request to the VM powered off: a shutdown, a hibernation (memory written out).
POWER_OFF_SECONDS = {"shutdown": (4, 12), "suspend-disk": (9, 25)}  # (Linux, Windows)

#: QEMU's QKeyCode names (qapi/ui.json), the key names ``sendkey`` takes.
_QKEY_CODES_TEXT = (
    "unmapped shift shift_r alt alt_r ctrl ctrl_r menu esc 1 2 3 4 5 6 7 8 9 0 minus equal backspace tab q w e r t y "
    "u i o p bracket_left bracket_right ret a s d f g h j k l semicolon apostrophe grave_accent backslash z x c v b "
    "n m comma dot slash asterisk spc caps_lock f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 num_lock scroll_lock kp_divide "
    "kp_multiply kp_subtract kp_add kp_enter kp_decimal sysrq kp_0 kp_1 kp_2 kp_3 kp_4 kp_5 kp_6 kp_7 kp_8 kp_9 less "
    "f11 f12 print home pgup pgdn end left up down right insert delete stop again props undo front copy open paste "
    "find cut lf help meta_l meta_r compose pause ro hiragana henkan yen muhenkan katakanahiragana kp_comma "
    "kp_equals power sleep wake audionext audioprev audiostop audioplay audiomute volumeup volumedown mediaselect "
    "mail calculator computer ac_home ac_back ac_forward ac_refresh ac_bookmarks lang1 lang2 f13 f14 f15 f16 f17 "
    "f18 f19 f20 f21 f22 f23 f24"
)
QKEY_CODES = frozenset(_QKEY_CODES_TEXT.split())


def power_states(cluster: FakeCluster, vm: QemuVM) -> tuple[bool, bool]:
    """Whether the guest sees ACPI S3 and S4: off by default from machine type 9.2+pve1 (the machine a VM runs
    without a pinned one is its node's newest), on for a machine pinned before it; ``enable-s3``/``-s4`` decide."""
    machine = str(vm.config.get("machine", ""))
    machine_type = property_option(machine, "type") or machine.split(",")[0]
    if not re.search(r"-\d+\.\d+(\+pve\d+)?$", machine_type):
        machine_type = platform_of(cluster.version).machine
    version = re.search(r"-(\d+)\.(\d+)(?:\+pve(\d+))?$", machine_type)
    default = version is not None and (int(version[1]), int(version[2]), int(version[3] or 0)) < (9, 2, 1)
    s3, s4 = (property_option(machine, key) for key in ("enable-s3", "enable-s4"))
    return (default if s3 is None else s3 == "1", default if s4 is None else s4 == "1")


def power_off_later(cluster: FakeCluster, vm: QemuVM, seconds: int) -> None:
    """The guest shuts itself down: QEMU exits ``seconds`` later on the clock (at once with instant tasks), unless
    the VM was stopped or restarted meanwhile."""
    boot = vm.started_at

    def power_off() -> None:
        if vm.running and vm.started_at == boot:
            vm.guest_power_off()

    if cluster.clock.instant:
        power_off()
    else:
        cluster.clock.call_at(cluster.clock.now() + seconds, power_off)


def guest_shutdown_later(cluster: FakeCluster, vm: QemuVM) -> None:
    """An ACPI power button press (``system_powerdown``): the guest shuts down (a suspended one wakes first)."""
    wake(cluster, vm)
    power_off_later(cluster, vm, POWER_OFF_SECONDS["shutdown"][is_windows(vm)])


def wake(cluster: FakeCluster, vm: QemuVM) -> None:
    """The guest wakes from S3 (QEMU's run state back to ``running``) or from its suspend to idle."""
    if vm.run_state == "suspended":
        vm.run_state = "running"
        cluster.revision.touch()
    cluster.guest_agents.state(vm).asleep = False


def send_keys(cluster: FakeCluster, vm: QemuVM, keys: str) -> str:
    """HMP ``sendkey`` (ui/ui-hmp-cmds.c ``hmp_sendkey``): ``-``-joined QKeyCode names or ``0x`` codes pressed
    together; the monitor's text for a key it does not know, else nothing, and the key wakes a sleeping guest."""
    for key in keys.split("-"):
        name = "less" if key == "<" else key
        if name.startswith("0x"):
            if not re.fullmatch(r"0x[0-9a-fA-F]+", name):
                return f"invalid parameter: {key}\r\n"
        elif name not in QKEY_CODES:
            return f"invalid parameter: {key}\r\n"
    wake(cluster, vm)
    return ""
