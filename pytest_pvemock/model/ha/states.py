"""The documented values of every HA state, as pve-ha-manager defines them."""

from __future__ import annotations

from typing import Final

#: CRM service states (``Manager.pm`` ``$valid_service_states``).
SERVICE_STATES: Final = frozenset(
    {
        "stopped",
        "request_stop",
        "request_start",
        "request_start_balance",
        "started",
        "fence",
        "recovery",
        "migrate",
        "relocate",
        "freeze",
        "error",
    }
)

#: Request states in ``resources.cfg`` after normalisation (``enabled`` is read as ``started``).
REQUEST_STATES: Final = frozenset({"started", "stopped", "disabled", "ignored"})

#: Node states in ``manager_status.node_status``.
NODE_STATES: Final = frozenset({"online", "maintenance", "unknown", "fence", "gone"})

#: LRM daemon states and modes.
LRM_STATES: Final = frozenset({"wait_for_agent_lock", "active", "maintenance", "lost_agent_lock"})
LRM_MODES: Final = frozenset({"active", "restart", "shutdown", "maintenance", "disarm"})

#: CRM daemon states.
CRM_STATES: Final = frozenset({"wait_for_quorum", "master", "lost_manager_lock", "slave"})

#: Every value ``hastate`` can take in ``/cluster/resources`` for a guest (CRM state or, before the CRM has
#: seen the resource, the raw request state).
GUEST_HASTATES: Final = SERVICE_STATES | REQUEST_STATES | {"enabled"}

# Resource agent exit codes (``PVE::HA::Tools`` ``:exit_codes``).
SUCCESS: Final = 0
ERROR: Final = 1
ETRY_AGAIN: Final = 2
EWRONG_NODE: Final = 3
EUNKNOWN_SERVICE_TYPE: Final = 4
EUNKNOWN_COMMAND: Final = 5
EINVALID_PARAMETER: Final = 6
EUNKNOWN_SERVICE: Final = 7
IGNORED: Final = 8

#: Seconds a node must be offline before its services are fenced.
FENCE_DELAY: Final = 60
#: Seconds after its last renewal that a cluster lock expires.
LOCK_TIMEOUT: Final = 120
#: Seconds without an update after which a watchdog resets its node.
WATCHDOG_TIMEOUT: Final = 60

#: Guest locks removed when a service is recovered from a fenced node.
RECOVERY_REMOVABLE_LOCKS: Final = (
    "backup",
    "mounted",
    "migrate",
    "clone",
    "rollback",
    "snapshot",
    "snapshot-delete",
    "suspending",
    "suspended",
)
