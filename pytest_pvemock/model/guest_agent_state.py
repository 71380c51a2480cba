"""What a VM's guest agent holds between calls: frozen file systems, what ``fstrim`` trimmed, a guest asleep, and the
passwords ``set-user-password`` set (never in clear).

The state of a boot ends with it (a rebooted guest's agent starts thawed and awake; ext4 forgets which block groups
it trimmed, so the first ``fstrim`` of a boot trims all free space again); the accounts' passwords live on the
guest's disk and outlast reboots.

qemu-ga while frozen (qga/main.c ``ga_disable_not_allowed_freeze`` with ``ga_freeze_allowlist``): every command but
``guest-ping``, ``guest-info``, ``guest-sync``, ``guest-sync-delimited``, ``guest-fsfreeze-status`` and
``guest-fsfreeze-thaw`` is disabled, and qmp_dispatch answers it ``Command <name> has been disabled: the agent is
in frozen state`` (class ``CommandNotFound``, qapi/qmp-dispatch.c).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError

if TYPE_CHECKING:
    from pytest_pvemock.model.guests import Guest

FREEZE_ALLOWED = frozenset({"guest-ping", "guest-info", "guest-sync", "guest-sync-delimited", "guest-fsfreeze-status",
                            "guest-fsfreeze-thaw"})  # fmt: skip


class QgaError(Exception):
    """An error qemu-ga answered (``{"error": {"class": ..., "desc": ...}}``)."""

    def __init__(self, desc: str, error_class: str = "GenericError") -> None:
        super().__init__(desc)
        self.desc = desc
        self.error_class = error_class

    def as_result(self) -> dict[str, Any]:
        """The error as PVE relays it where it does not check it (``mon_cmd`` hands it back as the result:
        qemu-server src/PVE/QMPClient.pm ``cmd`` lines 90-94, src/PVE/API2/Qemu/Agent.pm 238-240 at e6352be6)."""
        return {"error": {"class": self.error_class, "desc": self.desc}}

    def as_pve_error(self) -> PVEError:
        """The error where PVE checks it: ``agent_cmd``'s ``check_agent_error`` dies ``Agent error: <desc>``
        (src/PVE/QemuServer/Agent.pm 91-101 at e6352be6)."""
        return PVEError(f"Agent error: {self.desc}", 500)


@dataclass
class AgentBootState:
    """One boot of a guest, as its agent sees it."""

    boot: int
    frozen: bool = False
    trimmed: set[str] = field(default_factory=set)
    #: Suspended to idle (s2idle: QEMU still runs the VM, the guest's processes, its agent with them, sleep).
    asleep: bool = False


@dataclass(frozen=True)
class PasswordRecord:
    """How an account's password is kept: a salted PBKDF2 digest of a clear one, or the crypt() string given."""

    scheme: str
    salt: bytes
    digest: bytes


class GuestAgents:
    """The agent state of every VM of the cluster."""

    def __init__(self) -> None:
        self._boots: dict[int, AgentBootState] = {}
        self._passwords: dict[tuple[int, str], PasswordRecord] = {}

    def state(self, guest: Guest) -> AgentBootState:
        """The agent state of the guest's current boot."""
        state = self._boots.get(guest.vmid)
        if state is None or state.boot != guest.started_at:
            state = AgentBootState(boot=guest.started_at)
            self._boots[guest.vmid] = state
        return state

    def check_enabled(self, guest: Guest, command: str) -> None:
        """qemu-ga's refusal of a command while the file systems are frozen."""
        if self.state(guest).frozen and command not in FREEZE_ALLOWED:
            raise QgaError(f"Command {command} has been disabled: the agent is in frozen state", "CommandNotFound")

    def set_password(self, guest: Guest, username: str, password: str, crypted: bool, salt: bytes) -> None:
        """Keep the account's new password: a crypt() string as given (already hashed), a clear one only as a
        salted PBKDF2-SHA256 digest."""
        if crypted:
            record = PasswordRecord("crypt", b"", password.encode())
        else:
            record = PasswordRecord("pbkdf2-sha256", salt, _digest(password, salt))
        self._passwords[(guest.vmid, username)] = record

    def password_is(self, guest: Guest, username: str, password: str) -> bool:
        """Whether ``password`` is the account's password as last set through the agent (a crypted one matches
        its crypt() string)."""
        record = self._passwords.get((guest.vmid, username))
        if record is None:
            return False
        if record.scheme == "crypt":
            return hmac.compare_digest(record.digest, password.encode())
        return hmac.compare_digest(record.digest, _digest(password, record.salt))

    def password_record(self, guest: Guest, username: str) -> PasswordRecord | None:
        """What is kept of the account's password (never the clear text), or ``None`` if none was set."""
        return self._passwords.get((guest.vmid, username))


def _digest(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 100_000)
