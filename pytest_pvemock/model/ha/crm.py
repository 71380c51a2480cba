"""The cluster resource manager daemon (``PVE::HA::CRM``): elects the master, which runs the Manager."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .environment import ClusterFSError, HAConfigError
from .locks import WatchdogExpired
from .manager import Manager, count_fenced_services

if TYPE_CHECKING:
    from typing import Any

    from .environment import DaemonEnv

MAX_ACTIVE_IDLE_ROUNDS = 90


class CRM:
    def __init__(self, env: DaemonEnv) -> None:
        self.env = env
        self.state = "startup"
        self.state_change_time = 0
        self.manager: Manager | None = None
        self.shutdown_requested = False
        self.cluster_state_update = False
        self.active_idle_rounds = 0
        self.watchdog: str | None = None
        self.disarmed = False
        self.set_state("wait_for_quorum")

    def shutdown_request(self) -> None:
        if not self.shutdown_requested:
            self.env.log("info", "server received shutdown request")
        self.shutdown_requested = True

    def set_state(self, new: str) -> None:
        if new == self.state:
            return
        self.env.log("info", f"status change {self.state} => {new}")
        self.state = new
        self.state_change_time = self.env.get_time()
        if new == "master":
            self.manager = Manager(self.env)
        else:
            self.manager = None

    def _manager_status(self) -> dict[str, Any] | None:
        try:
            return self.env.read_manager_status()
        except ClusterFSError as err:
            self.env.log("err", f"could not read manager status: {err}")
            return None

    def get_protected_ha_manager_lock(self) -> bool:
        env = self.env
        if not env.get_ha_manager_lock():
            return False
        if self.watchdog:
            env.watchdog_update(self.watchdog)
        elif not self.disarmed:
            try:
                ms = env.read_manager_status()
            except ClusterFSError:
                ms = None
            if ms and (ms.get("disarm") or {}).get("state") == "disarmed":
                env.log("info", "taking over as disarmed master, skipping watchdog")
                self.disarmed = True
            else:
                self.watchdog = env.watchdog_open()
        return True

    def give_up_watchdog(self) -> None:
        if self.watchdog:
            self.env.watchdog_close(self.watchdog)
            self.watchdog = None

    def is_cluster_and_ha_healthy(self, ms: dict[str, Any] | None) -> bool:
        env = self.env
        if not env.quorate() or not self.cluster_state_update or ms is None:
            return False
        return not count_fenced_services(ms.get("service_status") or {}, env.node)

    def can_get_active(self, allow_no_service: bool = False) -> bool:
        env = self.env
        ms = self._manager_status()
        if not self.is_cluster_and_ha_healthy(ms):
            return False
        assert ms is not None
        if allow_no_service:
            return True
        try:
            conf = env.read_service_config()
        except ClusterFSError as err:
            env.log("err", f"could not read service config: {err}")
            return False
        if conf:
            return True
        master = ms.get("master_node")
        node_status = ms.get("node_status") or {}
        if not master or node_status.get(master) != "online" or master == env.node:
            requests = ms.get("node_request") or {}
            for node, state in node_status.items():
                if state == "maintenance" and not (requests.get(node) or {}).get("maintenance"):
                    return True
            if env.any_pending_crm_command():
                return True
            if ms.get("service_status"):
                return True
            if ms.get("disarm"):
                return True
        return False

    def allowed_to_get_idle(self) -> bool:
        ms = self._manager_status()
        if not self.is_cluster_and_ha_healthy(ms):
            return False
        assert ms is not None
        if ms.get("disarm"):
            return False
        try:
            conf = self.env.read_service_config()
        except ClusterFSError as err:
            self.env.log("err", f"could not read service config: {err}")
            return False
        return not conf and not ms.get("service_status")

    def do_one_iteration(self) -> bool:
        """One daemon round; False when the daemon exits."""
        env = self.env
        env.loop_start_hook()
        self.cluster_state_update = env.cluster_state_update()
        result = self.work()
        env.loop_end_hook()
        return result

    def work(self) -> bool:
        env = self.env
        state = self.state
        if state == "wait_for_quorum":
            if self.can_get_active():
                self.set_state("master" if self.get_protected_ha_manager_lock() else "slave")
        elif state == "slave":
            if self.can_get_active():
                if self.get_protected_ha_manager_lock():
                    self.set_state("master")
            else:
                self.set_state("wait_for_quorum")
        elif state == "lost_manager_lock":
            if self.can_get_active(True) and self.get_protected_ha_manager_lock():
                self.set_state("master")
        elif state == "master":
            if not self.get_protected_ha_manager_lock():
                self.set_state("lost_manager_lock")
            elif self.allowed_to_get_idle():
                self.active_idle_rounds += 1
                if self.active_idle_rounds > MAX_ACTIVE_IDLE_ROUNDS:
                    self.active_idle_rounds = 0
                    env.log(
                        "info", f"cluster had no service configured for {MAX_ACTIVE_IDLE_ROUNDS} rounds, going idle."
                    )
                    env.release_ha_manager_lock()
                    self.give_up_watchdog()
                    self.set_state("wait_for_quorum")
            elif self.active_idle_rounds:
                self.active_idle_rounds = 0

        state = self.state
        if state == "wait_for_quorum":
            if self.shutdown_requested:
                return False
        elif state == "master":
            return self._master_round()
        elif state == "lost_manager_lock":
            try:
                self.give_up_watchdog()
            except WatchdogExpired:
                self.watchdog = None
            if self.shutdown_requested:
                return False
            self.set_state("wait_for_quorum")
        elif state == "slave" and self.shutdown_requested:
            return False
        return True

    def _master_round(self) -> bool:
        env = self.env
        manager = self.manager
        assert manager is not None
        try:
            if self.shutdown_requested:
                self.give_up_watchdog()
                env.log("info", "voluntary release CRM lock")
                if not env.release_ha_manager_lock():
                    env.log("notice", "CRM lock release failed, let the lock timeout")
                return False
            if not self.cluster_state_update:
                env.log("notice", "temporary inconsistent cluster state (cfs restart?), skip round")
                return True
            manager.manage()
            if manager.all_lrms_disarmed:
                if not self.disarmed:
                    env.log("info", "HA stack fully disarmed, releasing CRM watchdog")
                    self.give_up_watchdog()
                    self.disarmed = True
            elif self.disarmed:
                env.log("info", "re-arming HA stack")
                self.disarmed = False
        except (ClusterFSError, WatchdogExpired, HAConfigError) as err:
            env.log("err", f"got unexpected error - {err}")
        return True
