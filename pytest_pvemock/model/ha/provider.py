"""What the rest of the model asks the HA stack: ``hastate`` and ``ha`` of guests, ``hastate`` of nodes.

:class:`HAStatusProvider` answers the FakeCluster's ``HaStatusProvider`` protocol from a host that keeps
the HA files (an :class:`.ha_files.HAFiles`). Guests and nodes are duck-typed: a guest has ``kind``
(``qemu``/``lxc``) and ``vmid``, a node has ``name``.
"""

from __future__ import annotations

from typing import Any, Protocol

from .status import guest_ha_status, guest_hastate, is_ha_managed, node_hastate, sid_of


class HAState(Protocol):
    revision: int
    #: ``resources.cfg`` as written (no defaults): ``hastate`` shows a missing state as ``None``.
    service_config: dict[str, dict[str, Any]]

    def read_manager_status(self) -> dict[str, Any]: ...


class HAStatusProvider:
    def __init__(self, files: HAState) -> None:
        self.files = files

    @property
    def revision(self) -> int:
        return self.files.revision

    @staticmethod
    def sid(guest: Any) -> str:
        return sid_of(guest.kind, guest.vmid)

    def guest_hastate(self, guest: Any) -> str | None:
        return guest_hastate(self.sid(guest), self.files.read_manager_status(), self.files.service_config)

    def guest_ha_status(self, guest: Any) -> dict[str, Any] | None:
        return guest_ha_status(self.sid(guest), self.files.read_manager_status(), self.files.service_config)

    def node_hastate(self, node: Any) -> str | None:
        return node_hastate(node.name, self.files.read_manager_status())

    def is_ha_managed(self, guest: Any) -> bool:
        return is_ha_managed(self.sid(guest), self.files.read_manager_status(), self.files.service_config)
