"""The local resource manager of one node (``PVE::HA::LRM``): runs the CRM's requests on that node's guests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .environment import ClusterFSError
from .guests import ResourceAgents
from .locks import WatchdogExpired
from .manager import count_active_services, count_fenced_services
from .states import (
    EINVALID_PARAMETER,
    ERROR,
    ETRY_AGAIN,
    EUNKNOWN_COMMAND,
    EUNKNOWN_SERVICE,
    EUNKNOWN_SERVICE_TYPE,
    EWRONG_NODE,
    IGNORED,
    SUCCESS,
)

if TYPE_CHECKING:
    from .environment import DaemonEnv, GuestMigration

MAX_ACTIVE_IDLE_ROUNDS = 60


@dataclass
class LRMShared:
    """State shared by every LRM of one cluster (in PVE: per-process globals of the LRM module)."""

    agents: ResourceAgents
    wrote_status_at_startup: bool = False


@dataclass
class _Worker:
    sid: str
    uid: str | None
    state: str
    params: dict[str, Any] | None
    start_tries: int = 0
    #: A migration the host runs as a worker of its own (PVE: the forked worker's pid).
    job: GuestMigration | None = None


class LRM:
    def __init__(self, env: DaemonEnv, shared: LRMShared) -> None:
        self.env = env
        self.shared = shared
        self.state = "startup"
        self.state_change_time = 0
        self.workers: dict[str, _Worker] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.restart_tries: dict[str, int] = {}
        self.shutdown_requested: int | None = None
        self.shutdown_errors = 0
        self.mode = "active"
        self.cluster_state_update = False
        self.active_idle_rounds = 0
        self.watchdog: str | None = None
        self.service_status: dict[str, dict[str, Any]] = {}
        self.node_status = "unknown"
        self._valid_uids_of: object = None
        self._valid_uid_set: set[str] = set()
        self.set_state("wait_for_agent_lock")

    # -- status ----------------------------------------------------------------------------------------------
    def set_state(self, new: str) -> None:
        if new == self.state:
            return
        self.env.log("info", f"status change {self.state} => {new}")
        self.state = new
        self.state_change_time = self.env.get_time()

    def shutdown_request(self) -> None:
        if self.shutdown_requested is not None:
            return
        env = self.env
        shutdown, reboot = env.host.node_shutdown_request(env.node)
        policy = (env.host.datacenter_settings().get("ha") or {}).get("shutdown_policy") or "conditional"
        if shutdown:
            env.log("info", f"got shutdown request with shutdown policy '{policy}'")
        freeze_all = maintenance = False
        if policy == "conditional":
            freeze_all = reboot
        elif policy == "freeze":
            freeze_all = True
        elif policy == "failover":
            freeze_all = False
        elif policy == "migrate":
            maintenance = True
        else:
            env.log("err", f"unknown shutdown policy '{policy}', fall back to conditional")
            freeze_all = reboot
        if not maintenance and shutdown:
            for sid, sd in self.service_status.items():
                if sd.get("node") == env.node:
                    self.queue_resource_command(sid, None, "request_stop")
        if shutdown:
            kind = "reboot" if reboot else "shutdown"
            if self.mode == "maintenance":
                if maintenance:
                    env.log("info", f"{kind} LRM, ignore maintenance policy, already in maintenance mode")
                else:
                    env.log("info", f"{kind} LRM, ignore {policy} policy as manual maintenance mode is enabled")
            elif maintenance:
                env.log("info", f"{kind} LRM, doing maintenance, removing this node from active list")
                self.mode = "maintenance"
            elif freeze_all:
                env.log("info", f"{kind} LRM, stop and freeze all services")
                self.mode = "restart"
            else:
                env.log("info", "shutdown LRM, stop all services")
                self.mode = "shutdown"
        elif self.mode == "maintenance":
            env.log("info", "Restarting LRM in maintenance mode may be delayed until all services are moved")
        else:
            env.log("info", "restart LRM, freeze all services")
            self.mode = "restart"
        self.shutdown_requested = env.get_time()
        try:
            if not self.update_lrm_status():
                raise ClusterFSError("not quorate?")
        except ClusterFSError as err:
            env.log("err", f"unable to update lrm status file - {err}")

    def update_lrm_status(self) -> bool:
        env = self.env
        if not env.quorate():
            return False
        status = {
            "state": self.state,
            "mode": self.mode,
            "results": {uid: dict(res) for uid, res in self.results.items()},
            "timestamp": env.get_time(),
        }
        try:
            env.write_lrm_status(status)
        except ClusterFSError as err:
            env.log("err", f"unable to write lrm status file - {err}")
            return False
        return True

    def update_service_status(self) -> bool:
        env = self.env
        try:
            ms = env.read_manager_status()
        except ClusterFSError as err:
            env.log("err", f"updating service status from manager failed: {err}")
            return False
        self.service_status = ms.get("service_status") or {}
        self.node_status = (ms.get("node_status") or {}).get(env.node, "unknown")
        if self.shutdown_requested is None:
            request = (ms.get("node_request") or {}).get(env.node) or {}
            if request.get("maintenance"):
                self.mode = "maintenance"
            elif ms.get("disarm"):
                self.mode = "disarm"
            elif self.mode in ("maintenance", "disarm"):
                self.mode = "active"
        return True

    def get_protected_ha_agent_lock(self) -> bool:
        env = self.env
        if not env.get_ha_agent_lock():
            return False
        if self.watchdog:
            env.watchdog_update(self.watchdog)
        else:
            self.watchdog = env.watchdog_open()
        return True

    def give_up_watchdog(self) -> None:
        if self.watchdog:
            try:
                self.env.watchdog_close(self.watchdog)
            finally:
                self.watchdog = None

    def has_configured_service_on_local_node(self) -> bool:
        return any(sd.get("node") == self.env.node for sd in self.service_status.values())

    def is_fence_requested(self) -> bool:
        return bool(count_fenced_services(self.service_status, self.env.node)) or self.node_status == "fence"

    def active_service_count(self) -> int:
        return count_active_services(self.service_status, self.env.node)

    # -- the round -------------------------------------------------------------------------------------------
    def do_one_iteration(self) -> bool:
        env = self.env
        env.loop_start_hook()
        self.cluster_state_update = env.cluster_state_update()
        try:
            result = self.work()
        except WatchdogExpired as err:
            env.log("err", f"got unexpected error - {err}")
            result = True
        env.loop_end_hook()
        return result

    def work(self) -> bool:
        env = self.env
        if not self.shared.wrote_status_at_startup:
            if self.update_lrm_status():
                self.shared.wrote_status_at_startup = True
            else:
                return self.shutdown_requested is None
        self.update_service_status()
        fence_request = self.is_fence_requested()
        state = self.state
        if state == "wait_for_agent_lock":
            if (
                self.mode != "disarm"
                and not fence_request
                and self.active_service_count()
                and env.quorate()
                and self.get_protected_ha_agent_lock()
            ):
                self.set_state("active")
        elif state == "lost_agent_lock":
            if not fence_request and env.quorate() and self.get_protected_ha_agent_lock():
                self.set_state("active")
        elif state == "active":
            self._check_active(fence_request)
        elif state == "maintenance":
            self._check_maintenance(fence_request)

        state = self.state
        if state == "wait_for_agent_lock":
            if self.shutdown_requested is not None:
                return False
            self.update_lrm_status()
        elif state == "active":
            return self._active_round()
        elif state == "lost_agent_lock":
            return self._lost_lock_round()
        elif state == "maintenance":
            return self._maintenance_round()
        return True

    def _check_active(self, fence_request: bool) -> None:
        env = self.env
        if fence_request:
            env.log("err", "node needs to be fenced - releasing agent_lock")
            self.set_state("lost_agent_lock")
        elif not self.get_protected_ha_agent_lock():
            self.set_state("lost_agent_lock")
        elif self.mode == "maintenance":
            self.set_state("maintenance")
        elif self.mode == "disarm" and not self.run_workers():
            env.log("info", "HA disarm requested, releasing agent lock and watchdog")
            env.release_ha_agent_lock()
            self.give_up_watchdog()
            self.set_state("wait_for_agent_lock")
        elif not self.has_configured_service_on_local_node() and not self.run_workers():
            self.active_idle_rounds += 1
            if self.active_idle_rounds > MAX_ACTIVE_IDLE_ROUNDS:
                env.log("info", f"node had no service configured for {MAX_ACTIVE_IDLE_ROUNDS} rounds, going idle.")
                env.release_ha_agent_lock()
                self.give_up_watchdog()
                self.set_state("wait_for_agent_lock")
                self.active_idle_rounds = 0
        elif self.active_idle_rounds:
            self.active_idle_rounds = 0

    def _check_maintenance(self, fence_request: bool) -> None:
        env = self.env
        if fence_request:
            env.log("err", "node needs to be fenced during maintenance mode - releasing agent_lock")
            self.set_state("lost_agent_lock")
        elif self.mode == "disarm" and not self.active_service_count() and not self.run_workers():
            env.log("info", "HA disarm requested during maintenance, releasing agent lock and watchdog")
            env.release_ha_agent_lock()
            self.give_up_watchdog()
            self.set_state("wait_for_agent_lock")
        elif self.active_service_count() or self.run_workers():
            if not self.get_protected_ha_agent_lock():
                self.set_state("lost_agent_lock")
        elif self.mode != "maintenance":
            self.set_state("active" if self.get_protected_ha_agent_lock() else "lost_agent_lock")

    def _active_round(self) -> bool:
        env = self.env
        shutdown = False
        if self.update_service_status():
            if self.shutdown_requested is not None:
                if self.mode == "restart":
                    if self.active_service_count() == 0 and self.run_workers() == 0:
                        self.give_up_watchdog()
                        shutdown = True
                        env.release_ha_agent_lock()
                elif self.run_workers() == 0:
                    if self.shutdown_errors == 0:
                        self.give_up_watchdog()
                        env.release_ha_agent_lock()
                    shutdown = True
            elif not self.cluster_state_update:
                env.log("notice", "temporary inconsistent cluster state (cfs restart?), skip round")
            else:
                self.manage_resources()
        self.update_lrm_status()
        return not shutdown

    def _lost_lock_round(self) -> bool:
        env = self.env
        if self.shutdown_requested is not None:
            count = self.active_service_count()
            if count > 0:
                env.log("err", f"got shutdown request in state 'lost_agent_lock' - detected {count} running services")
                if self.mode == "restart" and env.get_time() - self.state_change_time > 90:
                    env.log("err", "lost agent lock and restart request for over 90 seconds - giving up!")
                    return False
            else:
                self.give_up_watchdog()
                return False
        return True

    def _maintenance_round(self) -> bool:
        env = self.env
        if not self.update_service_status():
            return True
        exit_lrm = False
        if self.active_service_count() == 0 and self.run_workers() == 0:
            self.give_up_watchdog()
            if self.shutdown_requested is not None:
                exit_lrm = True
            env.release_ha_agent_lock()
        if not exit_lrm:
            self.manage_resources()
        self.update_lrm_status()
        return not exit_lrm

    # -- workers ---------------------------------------------------------------------------------------------
    def manage_resources(self) -> int:
        node = self.env.node
        ss = self.service_status
        for sid in [s for s in self.restart_tries if s not in ss]:
            del self.restart_tries[sid]
        for sid, sd in ss.items():
            if sd.get("node") != node or not sd.get("uid"):
                continue
            state = sd.get("state")
            if state is None or state in ("recovery", "freeze", "request_start"):
                continue
            params = {"target": sd.get("target"), "timeout": sd.get("timeout")}
            self.queue_resource_command(sid, sd["uid"], state, params)
        return self.run_workers()

    def queue_resource_command(
        self, sid: str, uid: str | None, state: str, params: dict[str, Any] | None = None
    ) -> None:
        if state != "stopped" and uid and uid in self.results:
            return
        current = self.workers.get(sid)
        if current is not None and current.job is not None:
            return  # already started (LRM.pm queue_resource_command 745-746)
        self.workers[sid] = _Worker(sid, uid, state, params)

    def run_workers(self) -> int:
        """Run every queued command now (the simulator runs agents inline, without forking)."""
        if not self.workers:
            return 0
        try:
            config = self.env.read_service_config()
        except ClusterFSError as err:
            self.env.log("err", f"got unexpected error - {err}")
            return len(self.workers)
        queued = sorted(self.workers.values(), key=lambda w: (-w.start_tries, w.sid))
        for worker in queued:
            code: int | None
            if worker.job is None:
                worker.start_tries += 1
                try:
                    result = self.exec_resource_agent(
                        worker.sid, config.get(worker.sid), worker.state, worker.params or {}
                    )
                except (ClusterFSError, KeyError) as err:
                    self.env.log("err", str(err))
                    result = -1
                if isinstance(result, int):
                    code = result
                else:
                    worker.job = result
                    code = self._job_exit_code(worker)
            else:
                code = self._job_exit_code(worker)
            if code is None:
                continue  # still running: check_active_workers sees it again next round
            if code == -1:
                self.env.log("err", f"resource agent {worker.sid} finished - failed to execute")
            self.workers.pop(worker.sid, None)
            if worker.uid is not None:
                self.resource_command_finished(worker, code, config)
            elif code != SUCCESS:
                self.shutdown_errors += 1
        return len(self.workers)

    def check_active_workers(self) -> int:
        """Report the workers that ended (LRM.pm check_active_workers 763-785); the number still running."""
        if not any(worker.job is not None for worker in self.workers.values()):
            return 0
        try:
            config = self.env.read_service_config()
        except ClusterFSError:
            return len(self.workers)
        running = 0
        for worker in [worker for worker in self.workers.values() if worker.job is not None]:
            code = self._job_exit_code(worker)
            if code is None:
                running += 1
                continue
            self.workers.pop(worker.sid, None)
            if worker.uid is not None:
                self.resource_command_finished(worker, code, config)
        return running

    def _job_exit_code(self, worker: _Worker) -> int | None:
        """The exit code of a migration worker once it ended (exec_resource_agent's tail, LRM.pm 1010-1020)."""
        assert worker.job is not None
        moved = worker.job.outcome()
        if moved is None:
            return None
        target = str((worker.params or {}).get("target"))
        online = worker.state == "migrate" and not worker.sid.startswith("ct:")
        self.shared.agents.migration_finished(self.env, worker.sid, target, online, moved)
        if not moved:
            self.env.log("err", f"service {worker.sid} not moved (migration error)")
            return ERROR
        return SUCCESS

    def resource_command_finished(self, worker: _Worker, code: int, config: dict[str, dict[str, Any]]) -> None:
        code = self.handle_service_exitcode(worker.sid, worker.state, code, config)
        if code == ETRY_AGAIN:
            return
        assert worker.uid is not None
        self.results[worker.uid] = {"sid": worker.sid, "state": worker.state, "exit_code": code}
        valid = self._valid_uids()
        self.results = {uid: res for uid, res in self.results.items() if uid in valid}

    def _valid_uids(self) -> set[str]:
        """The uids of the current service status (computed once per manager status read)."""
        if self._valid_uids_of is not self.service_status:
            self._valid_uid_set = {sd["uid"] for sd in self.service_status.values() if sd.get("uid")}
            self._valid_uids_of = self.service_status
        return self._valid_uid_set

    def handle_service_exitcode(self, sid: str, cmd: str, code: int, config: dict[str, dict[str, Any]]) -> int:
        if cmd != "started":
            return code
        if code == SUCCESS:
            self.restart_tries[sid] = 0
            return code
        if code != ERROR:
            return code
        max_restart = int((config.get(sid) or {}).get("max_restart", 0))
        tries = self.restart_tries.get(sid, 0)
        if tries >= max_restart:
            self.env.log("err", f"unable to start service {sid} on local node after {tries} retries")
            self.restart_tries[sid] = 0
            return ERROR
        self.restart_tries[sid] = tries + 1
        self.env.log("warning", f"restart policy: retry number {tries + 1} for service '{sid}'")
        return ETRY_AGAIN

    def exec_resource_agent(
        self, sid: str, cfg: dict[str, Any] | None, cmd: str, params: dict[str, Any]
    ) -> int | GuestMigration:
        env = self.env
        agents = self.shared.agents
        kind = sid.split(":", 1)[0]
        if not agents.known_type(kind):
            env.log("err", f"service type '{kind}' not implemented")
            return EUNKNOWN_SERVICE_TYPE
        if not cfg:
            env.log("err", f"missing resource configuration for '{sid}'")
            return EUNKNOWN_SERVICE
        if cmd == "error":
            env.log(
                "err",
                f"service {sid} is in an error state and needs manual intervention."
                " Look up 'ERROR RECOVERY' in the documentation.",
            )
            return SUCCESS
        if cfg["node"] != env.node:
            env.log("err", f"service '{sid}' not on this node")
            return EWRONG_NODE
        running = agents.check_running(env, sid)
        if cmd == "started":
            if running:
                return SUCCESS
            env.log("info", f"starting service {sid}")
            agents.start(env, sid)
            if agents.check_running(env, sid):
                env.log("info", f"service status {sid} started")
                return SUCCESS
            env.log("warning", f"unable to start service {sid}")
            return ERROR
        if cmd in ("request_stop", "stopped"):
            if not running:
                return SUCCESS
            timeout = params.get("timeout")
            if timeout is not None:
                env.log("info", f"stopping service {sid} (timeout={timeout})")
            else:
                env.log("info", f"stopping service {sid}")
            agents.shutdown(env, sid)
            if not agents.check_running(env, sid):
                env.log("info", f"service status {sid} stopped")
                return SUCCESS
            env.log("info", f"unable to stop service {sid} (still running)")
            return ERROR
        if cmd in ("migrate", "relocate", "request_start_balance"):
            target = params.get("target")
            if target is None:
                env.log("err", f"{cmd} '{sid}' failed - missing target")
                return EINVALID_PARAMETER
            if cfg["node"] == target:
                return SUCCESS
            if cmd == "request_start_balance" and running:
                env.log("info", f"ignoring rebalance-on-start for service {sid} - already running")
                return IGNORED
            moved = agents.migrate(env, sid, target, cmd == "migrate")
            if not isinstance(moved, bool):
                return moved  # a worker that runs on: run_workers waits for its end
            if not moved:
                env.log("err", f"service {sid} not moved (migration error)")
                return ERROR
            return SUCCESS
        env.log("err", f"implement me (cmd '{cmd}')")
        return EUNKNOWN_COMMAND
