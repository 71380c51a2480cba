"""The guest agent's writes and what they do to the guest: freeze and thaw, fstrim, a new password, shutdown and the
three suspends.

What qemu-ga does (QEMU qga/commands-linux.c, commands-posix.c, commands-win32.c):

- ``guest-fsfreeze-freeze`` freezes every mounted file system (Windows: VSS, every volume) and answers how many;
  the agent is then frozen (:mod:`.guest_agent_state`). ``guest-fsfreeze-thaw`` answers how many it thawed (0 when
  none was frozen).
- ``guest-fstrim``: one result per mounted file system, in reverse mount order (``QAPI_LIST_PREPEND``):
  ``{"path", "trimmed", "minimum"}`` on Linux, where ext4 trims the free space of the block groups it has not
  trimmed since the mount and vfat all its free clusters every time; Windows runs ``defrag.exe /L`` per fixed
  volume and reports its mount path only.
- ``guest-set-user-password`` (base64 password): ``chpasswd`` (``-e`` for a crypted one) for an existing user;
  Windows ``NetUserSetInfo``, which takes no crypted password.
- ``guest-shutdown``, ``guest-suspend-*`` answer nothing: PVE::QMPClient reads no answer for them (src/PVE/QMPClient.pm
  ``$qga_allow_close_cmds`` lines 47-52, ``mux_eof`` 524-545 at e6352be6), so PVE relays ``{"result": null}``
  whatever the agent did, an error included. Their effect is the guest's: powered off on the clock, or asleep.
  Since machine type 9.2+pve1 (PVE 8.4) qemu-server hides ACPI S3 and S4 from the guest unless the ``machine``
  option has ``enable-s3``/``enable-s4`` (src/PVE/QemuServer/Machine.pm ``get_power_state_flags`` 476-510):
  then a Linux guest suspends to idle (s2idle: QEMU's state stays ``running``, the guest and its agent sleep) and
  hibernates by powering off; Windows refuses (``suspend-to-ram not supported by OS``) and does nothing. With S3,
  QEMU's run state is ``suspended`` until a resume (``system_wakeup``).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from pytest_pvemock.model.guest_agent import filesystems
from pytest_pvemock.model.guest_agent_state import QgaError
from pytest_pvemock.model.guest_network import is_windows
from pytest_pvemock.model.guest_power import POWER_OFF_SECONDS, power_off_later, power_states

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import QemuVM

#: Accounts of a Debian base system (/etc/passwd after installation) and of a Windows 11 installation.
LINUX_ACCOUNTS = frozenset({"root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp",
                            "proxy", "www-data", "backup", "list", "irc", "_apt", "nobody", "systemd-network",
                            "messagebus", "sshd"})  # fmt: skip
WINDOWS_ACCOUNTS = frozenset({"Administrator", "Guest", "DefaultAccount", "WDAGUtilityAccount"})
QERR_UNSUPPORTED = "this feature or command is not currently supported"


def freeze(cluster: FakeCluster, guest: QemuVM) -> int:
    """``guest-fsfreeze-freeze``: the number of file systems frozen."""
    agents = cluster.guest_agents
    agents.check_enabled(guest, "guest-fsfreeze-freeze")
    agents.state(guest).frozen = True
    return len(filesystems(cluster, guest))


def thaw(cluster: FakeCluster, guest: QemuVM) -> int:
    """``guest-fsfreeze-thaw``: the number of file systems thawed."""
    state = cluster.guest_agents.state(guest)
    count = len(filesystems(cluster, guest)) if state.frozen else 0
    state.frozen = False
    return count


def fstrim(cluster: FakeCluster, guest: QemuVM) -> dict[str, Any]:
    """``guest-fstrim`` over the guest's mounted file systems."""
    agents = cluster.guest_agents
    agents.check_enabled(guest, "guest-fstrim")
    state = agents.state(guest)
    paths: list[dict[str, Any]] = []
    for mounted in filesystems(cluster, guest):
        if is_windows(guest):
            paths.insert(0, {"path": mounted["mountpoint"]})
            continue
        free = int(mounted["total-bytes"]) - int(mounted["used-bytes"])
        trimmed = 0 if mounted["type"] == "ext4" and mounted["mountpoint"] in state.trimmed else free
        state.trimmed.add(mounted["mountpoint"])
        paths.insert(0, {"path": mounted["mountpoint"], "trimmed": trimmed, "minimum": 0})
    return {"paths": paths}


def set_user_password(cluster: FakeCluster, guest: QemuVM, username: str, password: str, crypted: bool) -> None:
    """``guest-set-user-password``: the account's password from now on (kept hashed, never in clear)."""
    agents = cluster.guest_agents
    agents.check_enabled(guest, "guest-set-user-password")
    if is_windows(guest):  # qga/commands-win32.c qmp_guest_set_user_password
        if crypted:
            raise QgaError(QERR_UNSUPPORTED)
        if username.lower() not in {account.lower() for account in WINDOWS_ACCOUNTS}:
            raise QgaError("failed changing password: The user name could not be found.")
    else:  # qga/commands-posix.c qmp_guest_set_user_password
        if "\n" in password:
            raise QgaError("forbidden characters in raw password")
        if "\n" in username or ":" in username:
            raise QgaError("forbidden characters in username")
        if username not in LINUX_ACCOUNTS:  # chpasswd: user does not exist, exit 1
            raise QgaError("child process has failed to set user password")
    agents.set_password(guest, username, password, crypted, secrets.token_bytes(16))


def power_command(cluster: FakeCluster, guest: QemuVM, command: str) -> None:
    """``shutdown``, ``suspend-ram``, ``suspend-disk`` or ``suspend-hybrid``: what the guest does (nothing where the
    agent refuses; PVE does not read its answer)."""
    try:
        cluster.guest_agents.check_enabled(guest, f"guest-{command}")
    except QgaError:
        return
    windows = is_windows(guest)
    s3, s4 = power_states(cluster, guest)
    if command in ("shutdown", "suspend-disk"):
        if command == "suspend-disk" and windows and not s4:
            return  # 'suspend-to-disk not supported by OS'
        power_off_later(cluster, guest, POWER_OFF_SECONDS[command][windows])
        return
    if windows and (command == "suspend-hybrid" or not s3):
        return  # QERR_UNSUPPORTED for hybrid, 'suspend-to-ram not supported by OS' without S3
    if s3:
        guest.guest_suspend_to_ram()
    else:
        cluster.guest_agents.state(guest).asleep = True
