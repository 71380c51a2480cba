"""The master CRM's round (``PVE::HA::Manager``): node states, service state machine, commands, fencing."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from .node_status import NodeStatus
from .rules import (
    CompiledRules,
    apply_group_failback,
    canonicalize_rules,
    compile_rules,
    group_rules,
    node_affinity,
    parse_groups,
    parse_rules,
)
from .states import (
    ERROR,
    EWRONG_NODE,
    IGNORED,
    RECOVERY_REMOVABLE_LOCKS,
    SERVICE_STATES,
    SUCCESS,
)
from .usage import BasicUsage, StaticUsage, StaticUsageError, used_service_nodes

if TYPE_CHECKING:
    from .environment import DaemonEnv

HA_RULES_MIN_VERSION = "9.0.0~16"
GROUP_MIGRATION_COOLDOWN_ROUNDS = 6


def count_active_services(ss: dict[str, dict[str, Any]], node: str) -> int:
    """Services that keep a node's LRM busy: on it or moving to it, and not stopped/frozen/in error."""
    count = 0
    for sd in ss.values():
        if sd.get("node") != node and sd.get("target") != node:
            continue
        if sd.get("state") in (None, "stopped", "freeze", "error", "request_start"):
            continue
        count += 1
    return count


def count_fenced_services(ss: dict[str, dict[str, Any]], node: str) -> int:
    return sum(1 for sd in ss.values() if sd.get("node") == node and sd.get("state") == "fence")


def has_min_version(version: str, minimum: str) -> bool:
    def parts(text: str) -> tuple[int, int, int, int | None] | None:
        match = re.match(r"^(\d+)\.(\d+)(?:\.|-)(\d+)(?:~(\d+))?", text)
        if not match:
            return None
        rev = match.group(4)
        return int(match.group(1)), int(match.group(2)), int(match.group(3)), int(rev) if rev else None

    have, need = parts(version), parts(minimum)
    if have is None or need is None:
        return False
    if have[:3] != need[:3]:
        return have[:3] > need[:3]
    return have[3] is None or have[3] >= (need[3] or 0)


def resource_affinity(
    compiled: CompiledRules, sid: str, ss: dict[str, dict[str, Any]], online: set[str]
) -> tuple[dict[str, int], set[str]]:
    """``(together, separate)``: nodes where positive partners run (with counts), nodes negative ones use."""
    together: dict[str, int] = {}
    separate: set[str] = set()
    for other in compiled.positive.get(sid, ()):
        if other in ss:
            current, target = used_service_nodes(online, ss[other])
            node = target if target is not None else current
            if node is not None:
                together[node] = together.get(node, 0) + 1
    for other in compiled.negative.get(sid, ()):
        if other in ss:
            current, target = used_service_nodes(online, ss[other])
            separate.update(n for n in (current, target) if n is not None)
    return together, separate


def _apply_positive_affinity(together: dict[str, int], nodes: set[str]) -> None:
    candidates = sorted(node for node in together if node in nodes)
    if not candidates:
        return
    majority = sorted(candidates, key=lambda node: -together[node])[0]
    nodes.intersection_update({majority})


def select_service_node(
    rules: CompiledRules,
    usage: BasicUsage | StaticUsage,
    sid: str,
    cd: dict[str, Any],
    ss: dict[str, dict[str, Any]],
    preference: str,
) -> str | None:
    """The node a service should run on. ``preference``: ``none`` (stay if allowed), ``best-score``, ``try-next``."""
    sd = ss[sid]
    current: str | None = sd.get("node")
    online = set(usage.list_nodes())
    allowed, preferred = node_affinity(rules, sid, online)
    if not preferred:
        return None
    together, separate = resource_affinity(rules, sid, ss, online)
    if (
        preference == "none"
        and not cd.get("failback", 1)
        and current in allowed
        and (together.get(current) or current not in separate)
    ):
        return current
    if preference == "try-next":
        preferred -= set(sd.get("failed_nodes") or ())
    preferred -= separate
    _apply_positive_affinity(together, preferred)
    fallback: str | None = sd.get("maintenance_node")
    if fallback is not None and fallback in preferred:
        return fallback
    if preference == "none" and current in preferred:
        return current
    scores = usage.score_nodes_to_start_service(sid)
    nodes = sorted(preferred, key=lambda node: (scores.get(node, 0), node))
    if not nodes:
        return None
    if preference == "try-next":
        if current in nodes and nodes.index(current) < len(nodes) - 1:
            return nodes[nodes.index(current) + 1]
        return nodes[0]
    return nodes[0]


class Manager:
    """Runs one ``manage()`` round per CRM iteration while its node is master."""

    def __init__(self, env: DaemonEnv) -> None:
        self.env = env
        old = env.read_manager_status()
        self.ns = NodeStatus(env, dict(old.get("node_status") or {}), self._notify)
        self.ss: dict[str, dict[str, Any]] = copy.deepcopy(old.get("service_status") or {})
        self.ms: dict[str, Any] = {"master_node": env.node}
        if "node_request" in old:
            self.ms["node_request"] = copy.deepcopy(old["node_request"])
        if "disarm" in old:
            self.ms["disarm"] = dict(old["disarm"])
        self.crs: dict[str, Any] = {"scheduler": None}
        self.compiled_rules = CompiledRules()
        self._rules_key: Any = None
        self.group_migration_round = 3
        self.sustained_imbalance_round = 0
        self.usage: BasicUsage | StaticUsage = BasicUsage()
        self.all_lrms_disarmed = False
        self.update_crs_scheduler_mode()

    # -- helpers ---------------------------------------------------------------------------------------------
    def _notify(self, prefix: str, status: str, node: str) -> None:
        self.env.log("email", f"{prefix}: {status}")

    def update_crs_scheduler_mode(self) -> None:
        crs = self.env.host.datacenter_settings().get("crs") or {}
        self.crs["rebalance_on_request_start"] = bool(int(crs.get("ha-rebalance-on-start", 0) or 0))
        self.crs["auto_rebalance"] = {
            "enable": bool(int(crs.get("ha-auto-rebalance", 0) or 0)),
            "threshold": float(crs.get("ha-auto-rebalance-threshold", 0.3)),
            "method": crs.get("ha-auto-rebalance-method", "bruteforce"),
            "hold_duration": int(crs.get("ha-auto-rebalance-hold-duration", 3)),
            "margin": float(crs.get("ha-auto-rebalance-margin", 0.1)),
        }
        new_mode = crs.get("ha") or "basic"
        old_mode = self.crs["scheduler"]
        if old_mode is None:
            if new_mode != "basic":
                self.env.log("info", f"using scheduler mode '{new_mode}'")
        elif new_mode == old_mode:
            return
        else:
            self.env.log("info", f"switching scheduler mode from '{old_mode}' to '{new_mode}'")
        self.crs["scheduler"] = new_mode

    def flush_master_status(self) -> None:
        self.ms["node_status"] = self.ns.status
        self.ms["service_status"] = self.ss
        self.ms["timestamp"] = self.env.get_time()
        self.env.write_manager_status(self.ms)

    def change_service_state(self, sid: str, new_state: str, **params: Any) -> None:
        sd = self.ss[sid]
        old_state = sd["state"]
        assert old_state != new_state, "no state change"
        assert new_state in SERVICE_STATES, new_state
        kept = {k: sd[k] for k in ("node", "failed_nodes", "maintenance_node") if k in sd}
        sd.clear()
        sd["state"] = new_state
        sd["node"] = kept.get("node")
        if "failed_nodes" in kept:
            sd["failed_nodes"] = kept["failed_nodes"]
        if "maintenance_node" in kept:
            sd["maintenance_node"] = kept["maintenance_node"]
        sd.update(params)
        self.usage.remove_service_usage(sid)
        self.usage.add_service_usage(sid, sd)
        sd["uid"] = self.env.new_uid(new_state)
        text = ", ".join(f"{k} = {params[k]}" for k in sorted(params))
        suffix = f"  ({text})" if text else ""
        self.env.log("info", f"service '{sid}': state changed from '{old_state}' to '{new_state}'{suffix}")

    def _new_usage(self) -> BasicUsage | StaticUsage:
        mode = self.crs["scheduler"]
        online = self.ns.list_online_nodes()
        usage: BasicUsage | StaticUsage
        if mode in ("static", "dynamic"):
            host = self.env.host
            try:
                if mode == "static":
                    usage = StaticUsage(host.static_node_stats(), host.static_service_stats(), mode)
                else:
                    usage = StaticUsage(host.dynamic_node_stats(), host.dynamic_service_stats(), mode)
                for node in online:
                    usage.add_node(node)
                return usage
            except StaticUsageError as err:
                self.env.log("warning", f"fallback to 'basic' scheduler mode, init for '{mode}' failed - {err}")
        elif mode not in ("basic", None):
            self.env.log("warning", f"got unknown scheduler mode '{mode}', using 'basic'")
        usage = BasicUsage()
        for node in online:
            usage.add_node(node)
        return usage

    def recompute_online_node_usage(self, sc: dict[str, dict[str, Any]]) -> None:
        usage = self._new_usage()
        for sid in sorted(self.ss):
            usage.add_service_usage(sid, self.ss[sid])
        for sid in sorted(sc):
            if sid in self.ss:
                continue
            cfg = sc[sid]
            usage.add_service_usage(
                sid, {"node": cfg["node"], "state": cfg["state"], "running": cfg["state"] == "started"}
            )
        self.usage = usage

    def read_lrm_status(self) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        results: dict[str, dict[str, Any]] = {}
        modes: dict[str, str] = {}
        for node in self.ns.list_nodes():
            lrm = self.env.read_lrm_status(node)
            modes[node] = lrm.get("mode") or "active"
            for uid, result in (lrm.get("results") or {}).items():
                results.setdefault(uid, result)
        return results, modes

    def select_node(self, sid: str, cd: dict[str, Any], preference: str) -> str | None:
        return select_service_node(self.compiled_rules, self.usage, sid, cd, self.ss, preference)

    # -- rules -----------------------------------------------------------------------------------------------
    def update_rules(self, sc: dict[str, dict[str, Any]], groups_text: str | None) -> None:
        host = self.env.host
        rules_text = host.read_rules_config()
        nodes = self.ns.list_nodes()
        membership = tuple(sorted((sid, cfg.get("group") or "") for sid, cfg in sc.items() if cfg.get("group")))
        key = (rules_text, groups_text, membership, tuple(nodes))
        if key == self._rules_key:
            return
        rules = parse_rules(rules_text)
        if groups_text:
            rules += group_rules(parse_groups(groups_text), sc)
        rules, messages = canonicalize_rules(rules, nodes)
        for message in messages:
            self.env.log("info", message)
        self.compiled_rules = compile_rules(rules, nodes)
        self._rules_key = key

    def try_persistent_group_migration(self) -> None:
        host = self.env.host
        groups_text = host.read_groups_config()
        if groups_text is None or not parse_groups(groups_text):
            return
        self.group_migration_round -= 1
        if self.group_migration_round > 0:
            return
        self.group_migration_round = GROUP_MIGRATION_COOLDOWN_ROUNDS
        log = self.env.log
        log("notice", "start ha group migration...")
        try:
            self._assert_cluster_can_migrate_groups()
            groups = parse_groups(groups_text)
            resources = self.env.read_service_config()
            rules_text = host.read_rules_config()
            new_rules = group_rules(groups, resources)
            host.write_rules_config(rules_text + "".join(_format_rule(rule) for rule in new_rules))
            log("notice", "ha groups migration: migration to rules config successful")
            changes: dict[str, dict[str, Any]] = {}
            for sid, cfg in resources.items():
                if cfg.get("group"):
                    group = groups.get(cfg["group"])
                    changes[sid] = {"group": None}
                    if group and group.nofailback:
                        changes[sid]["failback"] = 0
            host.update_service_config(changes)
            log("notice", "ha groups migration: migration to resources config successful")
            host.delete_groups_config()
            log("notice", "ha groups migration: group config deletion successful")
        except _MigrationAborted as err:
            log("err", f"abort ha groups migration: {err}")
            log("err", "ha groups migration failed")
            log(
                "notice",
                f"retry ha groups migration in {GROUP_MIGRATION_COOLDOWN_ROUNDS} rounds "
                f"(~ {GROUP_MIGRATION_COOLDOWN_ROUNDS * 10} seconds)",
            )
            return
        log("notice", "ha groups migration successful")

    def _assert_cluster_can_migrate_groups(self) -> None:
        env = self.env
        if not env.quorate():
            raise _MigrationAborted("cluster is not quorate")
        nodes = self.ns.list_nodes()
        if not nodes:
            raise _MigrationAborted("node list is empty")
        for node in nodes:
            state = self.ns.get_node_state(node)
            env.log("notice", f"ha groups migration: node '{node}' is in state '{state}'")
            if state != "online":
                raise _MigrationAborted(f"node '{node}' is not online")
            lrm = env.read_lrm_status(node)
            lrm_state, lrm_mode = lrm.get("state"), lrm.get("mode")
            if not lrm_state or not lrm_mode:
                raise _MigrationAborted(f"could not retrieve state for lrm '{node}'")
            env.log("notice", f"ha groups migration: lrm '{node}' is in state '{lrm_state}' and mode '{lrm_mode}'")
            idle = lrm_state == "wait_for_agent_lock" and not count_active_services(self.ss, node)
            if lrm_state != "active" and not idle:
                raise _MigrationAborted(f"lrm '{node}' is not in state 'active' or 'idle'")
            if lrm_mode != "active":
                raise _MigrationAborted(f"lrm '{node}' is not in mode 'active'")
            version = env.host.node_version(node)
            env.log("notice", f"ha groups migration: node '{node}' has version '{version}'")
            if not has_min_version(version, HA_RULES_MIN_VERSION):
                raise _MigrationAborted(f"node '{node}' needs at least pve-manager version '{HA_RULES_MIN_VERSION}'")

    # -- crm commands ----------------------------------------------------------------------------------------
    def queue_resource_motion(self, cmd: str, task: str, sid: str, target: str) -> None:
        ss = self.ss
        for other in sorted(self.compiled_rules.negative.get(sid, ())):
            od = ss.get(other)
            if od is None:
                continue
            if od.get("node") and od["node"] != target:
                continue
            if od.get("target") and od["target"] != target:
                continue
            self.env.log(
                "err",
                f"crm command '{cmd}' error - service '{other}' on node '{target}' in"
                f" negative affinity with service '{sid}'",
            )
            return
        self.env.log("info", f"got crm command: {cmd}")
        ss[sid]["cmd"] = [task, target]
        for other in sorted(self.compiled_rules.positive.get(sid, ())):
            od = ss.get(other)
            if od is None or od.get("node") == target or (od.get("target") and od["target"] == target):
                continue
            self.env.log(
                "info",
                f"crm command '{cmd}' - {task} service '{other}' to node '{target}'"
                f" (service '{other}' in positive affinity with service '{sid}')",
            )
            od["cmd"] = [task, target]

    def update_crm_commands(self) -> None:
        env, ms, ns, ss = self.env, self.ms, self.ns, self.ss
        for cmd in env.read_crm_commands():
            cmd = cmd.strip()
            if not cmd:
                continue
            words = cmd.split()
            if len(words) == 3 and words[0] in ("migrate", "relocate"):
                task, sid, node = words
                sd = ss.get(sid)
                if sd is None:
                    env.log("err", f"crm command error - no such service: {cmd}")
                elif not ns.node_is_online(node):
                    env.log("err", f"crm command error - node not online: {cmd}")
                elif node == sd.get("node"):
                    env.log("info", f"ignore crm command - service already on target node: {cmd}")
                else:
                    self.queue_resource_motion(cmd, task, sid, node)
            elif len(words) == 3 and words[0] == "stop":
                sid, timeout = words[1], words[2]
                if sid in ss:
                    env.log("info", f"got crm command: {cmd}")
                    ss[sid]["cmd"] = ["stop", int(timeout) if timeout.isdigit() else timeout]
                else:
                    env.log("err", f"crm command error - no such service: {cmd}")
            elif len(words) == 2 and words[0] == "enable-node-maintenance":
                node = words[1]
                state = ns.get_node_state(node)
                if ms.get("disarm"):
                    env.log("warn", f"ignoring maintenance command for node {node} - HA stack is disarmed")
                elif state == "online":
                    ms.setdefault("node_request", {}).setdefault(node, {})["maintenance"] = 1
                elif state == "maintenance":
                    env.log("info", f"ignoring crm command - node {node} is already in maintenance state")
                else:
                    env.log("err", f"crm command error - node not online: {cmd}")
            elif len(words) == 2 and words[0] == "disable-node-maintenance":
                node = words[1]
                state = ns.get_node_state(node)
                if state != "maintenance":
                    env.log("warn", f"clearing maintenance of node {node} requested, but it's in state {state}")
                ms.setdefault("node_request", {}).setdefault(node, {}).pop("maintenance", None)
            elif len(words) == 2 and words[0] == "disarm-ha" and words[1] in ("freeze", "ignore"):
                mode = words[1]
                if ms.get("disarm"):
                    env.log("notice", f"ignoring disarm-ha command - already in disarm state ({ms['disarm']['state']})")
                else:
                    env.log("info", f"got crm command: disarm-ha {mode}")
                    if mode == "ignore":
                        for sid in sorted(ss):
                            env.log("info", f"disarm: suspending HA tracking for service '{sid}'")
                    ms["disarm"] = {"mode": mode, "state": "disarming"}
            elif words == ["arm-ha"]:
                if ms.get("disarm"):
                    env.log("info", "got crm command: arm-ha")
                    if ms["disarm"]["mode"] == "ignore":
                        sc = env.read_service_config()
                        for sid in sorted(ss):
                            cd = sc.get(sid)
                            if cd and cd["node"] != ss[sid].get("node"):
                                env.log(
                                    "info",
                                    f"service '{sid}': updating node '{ss[sid].get('node')}' => '{cd['node']}'"
                                    " (changed while disarmed)",
                                )
                                ss[sid]["node"] = cd["node"]
                    del ms["disarm"]
                else:
                    env.log("notice", "ignoring arm-ha command - HA stack is not disarmed")
            else:
                env.log("err", f"unable to parse crm command: {cmd}")

    # -- automatic rebalancing (CRS ha-auto-rebalance) ------------------------------------------------------
    def any_resource_motion_queued_or_running(self) -> bool:
        for sd in self.ss.values():
            if sd["state"] in ("migrate", "relocate"):
                return True
            cmd = sd.get("cmd")
            if cmd and cmd[0] in ("migrate", "relocate"):
                return True
        return False

    def resource_migration_candidates(self) -> list[dict[str, Any]]:
        """Bundles of started services that stay together (positive affinity), and where each could go."""
        ss, rules = self.ss, self.compiled_rules
        online = set(self.usage.list_nodes())
        candidates = []
        for sid in sorted(ss):
            if ss[sid]["state"] != "started":
                continue
            resources, nodes, moving = [sid], {ss[sid]["node"]}, False
            for other in rules.positive.get(sid, ()):
                od = ss.get(other)
                if od is None:
                    continue
                if od["state"] in ("migrate", "relocate"):
                    moving = True
                    break
                if od["state"] == "started":
                    nodes.add(od["node"])
                    resources.append(other)
            if moving or len(nodes) > 1:
                continue
            resources.sort()
            if resources[0] != sid:
                continue  # the bundle is led by its lowest sid
            _allowed, targets = node_affinity(rules, sid, online)
            _together, separate = resource_affinity(rules, sid, ss, online)
            targets -= separate
            targets.discard(ss[sid]["node"])
            if targets:
                candidates.append({"leader": sid, "nodes": sorted(targets), "resources": resources})
        return candidates

    def load_balance(self) -> None:
        options = self.crs["auto_rebalance"]
        usage = self.usage
        if not options["enable"] or not isinstance(usage, StaticUsage):
            return
        if self.any_resource_motion_queued_or_running():
            return
        imbalance = usage.calculate_node_imbalance()
        if imbalance <= options["threshold"]:
            self.sustained_imbalance_round = 0
            return
        self.sustained_imbalance_round += 1
        if self.sustained_imbalance_round < options["hold_duration"]:
            return
        self.sustained_imbalance_round = 0
        candidates = self.resource_migration_candidates()
        if options["method"] == "topsis":
            best = usage.best_balancing_migration_topsis(candidates)
        else:
            best = usage.best_balancing_migration(candidates)
        if best is None:
            return
        sid, _source, target, target_imbalance = best
        if (imbalance - target_imbalance) / imbalance < options["margin"]:
            return
        task = "migrate" if sid.startswith("vm:") else "relocate"
        self.env.log(
            "info",
            f"auto rebalance - {task} {sid} to {target} (expected change for imbalance from"
            f" {imbalance:.2f} to {target_imbalance:.2f})",
        )
        self.queue_resource_motion(f"{task} {sid} {target}", task, sid, target)

    # -- disarm ----------------------------------------------------------------------------------------------
    def handle_disarm(self, disarm: dict[str, Any], lrm_modes: dict[str, str]) -> set[str] | None:
        env, ss = self.env, self.ss
        mode = disarm.get("mode")
        if mode not in ("freeze", "ignore"):
            env.log("err", f"unknown disarm-mode '{mode}', ignoring")
            return None
        deferred = set()
        for sid in sorted(ss):
            state = ss[sid]["state"]
            if state in ("fence", "recovery"):
                env.log("warn", f"deferring disarm - service '{sid}' is in '{state}' state")
                deferred.add(sid)
            elif state in ("migrate", "relocate"):
                env.log("info", f"deferring disarm - service '{sid}' is in '{state}' state")
                deferred.add(sid)
        if deferred:
            return deferred
        keep = ("state", "node", "uid", "maintenance_node")
        for sid in sorted(ss):
            sd = ss[sid]
            for key in [k for k in sd if k not in keep]:
                del sd[key]
            if mode == "freeze" and sd["state"] in (
                "started",
                "stopped",
                "request_stop",
                "request_start",
                "request_start_balance",
            ):
                env.log("info", f"disarm: freezing service '{sid}' (was '{sd['state']}')")
                sd["state"] = "freeze"
                sd["uid"] = self.env.new_uid("freeze")
        all_disarmed = all(lrm_modes.get(node, "unknown") == "disarm" for node in self.ns.list_online_nodes())
        if all_disarmed and disarm["state"] != "disarmed":
            env.log("info", "all LRMs disarmed, HA stack is now fully disarmed")
            disarm["state"] = "disarmed"
        self.all_lrms_disarmed = disarm["state"] == "disarmed"
        self.flush_master_status()
        return None

    # -- the round -------------------------------------------------------------------------------------------
    def manage(self) -> None:
        env, ms, ns, ss = self.env, self.ms, self.ns, self.ss
        node_info, _quorate = env.host.node_membership()
        changed_nodelist = ns.changed_nodelist(node_info)
        lrm_results, lrm_modes = self.read_lrm_status()
        ns.update(node_info, lrm_modes)
        if not ns.node_is_operational(env.node):
            env.log("info", "master seems offline")
            return
        self.update_crs_scheduler_mode()
        self.try_persistent_group_migration()
        sc = {sid: dict(cfg) for sid, cfg in env.read_service_config().items()}  # the round may change entries
        groups_text = env.host.read_groups_config()
        if not ms.get("disarm"):
            for sid in sorted(sc):
                if sid in ss:
                    continue
                cd = sc[sid]
                if cd["state"] == "ignored":
                    continue
                env.log("info", f"adding new service '{sid}' on node '{cd['node']}'")
                state = "request_start" if cd["state"] == "started" else "request_stop"
                ss[sid] = {"state": state, "node": cd["node"], "uid": self.env.new_uid("started")}
            for sid in list(ss):
                if sid in sc and sc[sid]["state"] != "ignored":
                    continue
                reason = "ignored state requested" if sid in sc else "no config"
                env.log("info", f"removing stale service '{sid}' ({reason})")
                del ss[sid]
        self.recompute_online_node_usage(sc)
        if groups_text:
            apply_group_failback(parse_groups(groups_text), sc)
        if changed_nodelist:
            self._rules_key = None
        self.update_rules(sc, groups_text)
        self.update_crm_commands()

        deferred: set[str] | None = None
        if ms.get("disarm"):
            deferred = self.handle_disarm(ms["disarm"], lrm_modes)
            if not deferred:
                return
        else:
            self.load_balance()
        self.all_lrms_disarmed = False

        while True:
            repeat = False
            for sid in sorted(ss):
                if deferred is not None and sid not in deferred:
                    continue
                sd = ss.get(sid)
                if sd is None:
                    continue
                cd = sc.get(sid) or {"state": "disabled"}
                lrm_res = lrm_results.get(sd["uid"]) if sd.get("uid") else None
                last_state = sd["state"]
                self._next_state(sid, cd, sd, lrm_res, lrm_modes)
                mode = lrm_modes.get(sd["node"]) if sd.get("node") else None
                if mode == "restart" and sd["state"] in ("started", "stopped", "request_stop"):
                    self.change_service_state(sid, "freeze")
                if sd["state"] != last_state:
                    repeat = True
            fenced: dict[str, bool] = {}
            for sid in sorted(ss):
                sd = ss[sid]
                if sd["state"] != "fence":
                    continue
                node = sd["node"]
                if node not in fenced:
                    fenced[node] = ns.fence_node(node)
                if not fenced[node]:
                    continue
                self.change_service_state(sid, "recovery")
                repeat = True
            for node in sorted(n for n in ns.status if n not in fenced):
                if ns.get_node_state(node) != "fence":
                    continue
                env.log("notice", f"node '{node}' in fence state but no services to-fence! admin interference?!")
                if ns.fence_node(node):
                    repeat = True
            if not repeat:
                break
        self.flush_master_status()

    def _next_state(
        self,
        sid: str,
        cd: dict[str, Any],
        sd: dict[str, Any],
        lrm_res: dict[str, Any] | None,
        lrm_modes: dict[str, str],
    ) -> None:
        state = sd["state"]
        if state == "stopped":
            self.next_state_stopped(sid, cd, sd)
        elif state == "started":
            self.next_state_started(sid, cd, sd, lrm_res)
        elif state == "request_start":
            self.next_state_request_start(sid, cd, sd)
        elif state in ("migrate", "relocate", "request_start_balance"):
            self.next_state_migrate_relocate(sid, cd, sd, lrm_res)
        elif state == "recovery":
            self.next_state_recovery(sid, cd, sd)
        elif state == "request_stop":
            self.next_state_request_stop(sid, cd, sd, lrm_res)
        elif state == "freeze":
            mode = lrm_modes.get(sd["node"]) if sd.get("node") else None
            if mode == "active":
                self.change_service_state(sid, "started" if cd["state"] == "started" else "request_stop")
        elif state == "error" and cd["state"] == "disabled":
            # the only way out of error
            sd.pop("failed_nodes", None)
            self.change_service_state(sid, "stopped")

    def next_state_request_stop(self, sid: str, cd: dict[str, Any], sd: dict[str, Any], lrm_res: Any) -> None:
        if lrm_res:
            code = lrm_res["exit_code"]
            if code == SUCCESS:
                self.change_service_state(sid, "stopped")
            else:
                self.env.log("err", f"service '{sid}' stop failed (exit code {code})")
                self.change_service_state(sid, "error")
            return
        if self.ns.node_is_offline_delayed(sd["node"]):
            self.change_service_state(sid, "fence")

    def next_state_migrate_relocate(self, sid: str, cd: dict[str, Any], sd: dict[str, Any], lrm_res: Any) -> None:
        if lrm_res:
            code = lrm_res["exit_code"]
            req_state = "started" if cd["state"] == "started" else "request_stop"
            if code == SUCCESS:
                self.change_service_state(sid, req_state, node=sd["target"])
                return
            if code == EWRONG_NODE:
                self.env.log("err", f"service '{sid}' - migration failed: service registered on wrong node!")
                self.change_service_state(sid, "error")
            elif code == IGNORED:
                self.env.log("info", f"service '{sid}' - rebalance-on-start request ignored - service already running")
                self.change_service_state(sid, req_state, node=sd["node"])
            else:
                self.env.log("err", f"service '{sid}' - migration failed (exit code {code})")
                self.change_service_state(sid, req_state, node=sd["node"])
                return
        if self.ns.node_is_offline_delayed(sd["node"]):
            self.change_service_state(sid, "fence")

    def next_state_stopped(self, sid: str, cd: dict[str, Any], sd: dict[str, Any]) -> None:
        env, ns = self.env, self.ns
        if "node" in cd and sd["node"] != cd["node"]:
            env.log("info", f"fixup service '{sid}' location ({sd['node']} => {cd['node']})")
            sd["node"] = cd["node"]
        if sd.get("cmd"):
            cmd = sd["cmd"]
            task = cmd[0]
            if task in ("migrate", "relocate"):
                target = cmd[1]
                if not self._move_request_ignored(sid, task, target, sd["node"]):
                    self.change_service_state(sid, task, node=sd["node"], target=target)
                    return
            elif task == "stop":
                env.log("info", f"ignore service '{sid}' {task} request - service already stopped")
            else:
                env.log("err", f"unknown command '{task}' for service '{sid}'")
            sd.pop("cmd", None)
        if cd["state"] == "disabled":
            return
        if ns.node_is_offline_delayed(sd["node"]) and ns.get_node_state(sd["node"]) != "maintenance":
            self.change_service_state(sid, "fence")
            return
        if cd["state"] == "stopped":
            return
        if cd["state"] == "started":
            self.change_service_state(sid, "request_start", node=sd["node"])
            return
        env.log("err", f"service '{sid}' - unknown state '{cd['state']}' in service configuration")

    def next_state_request_start(self, sid: str, cd: dict[str, Any], sd: dict[str, Any]) -> None:
        current = sd["node"]
        if self.crs.get("rebalance_on_request_start"):
            selected = self.select_node(sid, cd, "best-score")
            which = "new" if selected != current else "current"
            self.env.log("info", f"service {sid}: re-balance selected {which} node {selected} for startup")
            if selected != current:
                self.change_service_state(sid, "request_start_balance", node=current, target=selected)
                return
        self.change_service_state(sid, "started", node=current)

    def next_state_started(self, sid: str, cd: dict[str, Any], sd: dict[str, Any], lrm_res: Any) -> None:
        env, ns = self.env, self.ns
        if not ns.node_is_online(sd["node"]):
            if ns.node_is_offline_delayed(sd["node"]):
                self.change_service_state(sid, "fence")
            if ns.get_node_state(sd["node"]) != "maintenance":
                return
            sd["maintenance_node"] = sd["node"]
        if cd["state"] in ("disabled", "stopped"):
            self.change_service_state(sid, "request_stop")
            return
        if cd["state"] != "started":
            env.log("err", f"service '{sid}' - unknown state '{cd['state']}' in service configuration")
            return
        if sd.get("cmd"):
            self._run_started_command(sid, sd)
            return
        preference = "none"
        if lrm_res:
            code = lrm_res["exit_code"]
            if code == SUCCESS:
                if sd.get("failed_nodes") is not None:
                    env.log(
                        "info",
                        f"relocation policy successful for '{sid}' on node '{sd['node']}',"
                        f" failed nodes: {', '.join(sd['failed_nodes'])}",
                    )
                sd.pop("failed_nodes", None)
                sd["running"] = 1
            elif code in (ERROR, EWRONG_NODE):
                sd.pop("running", None)
                sd.setdefault("failed_nodes", []).append(sd["node"])
                if len(sd["failed_nodes"]) <= int(cd.get("max_relocate", 1)):
                    preference = "try-next"
                    env.log("warning", f"starting service {sid} on node '{sd['node']}' failed, relocating service.")
                else:
                    env.log(
                        "err",
                        f"recovery policy for service {sid} failed, entering error state."
                        f" Failed nodes: {', '.join(sd['failed_nodes'])}",
                    )
                    self.change_service_state(sid, "error")
                    return
            else:
                sd.setdefault("failed_nodes", []).append(sd["node"])
                env.log("err", f"service '{sid}' got unrecoverable error (exit code {code})")
                self.change_service_state(sid, "error")
                return
        node = self.select_node(sid, cd, preference)
        if node and sd["node"] != node:
            fallback = sd.get("maintenance_node")
            if fallback is not None:
                if node == fallback:
                    env.log("info", f"moving service '{sid}' back to '{fallback}', node came back from maintenance.")
                    del sd["maintenance_node"]
                elif sd["node"] != fallback:
                    env.log("info", f"dropping maintenance fallback node '{fallback}' for '{sid}'")
                    del sd["maintenance_node"]
            if cd.get("type", sid.split(":", 1)[0]) == "vm":
                env.log("info", f"migrate service '{sid}' to node '{node}' (running)")
                self.change_service_state(sid, "migrate", node=sd["node"], target=node)
            else:
                env.log("info", f"relocate service '{sid}' to node '{node}'")
                self.change_service_state(sid, "relocate", node=sd["node"], target=node)
            return
        if preference == "try-next" and node is None:
            env.log(
                "warning",
                f"Start Error Recovery: Tried all available nodes for service '{sid}', retry"
                f" start on current node. Tried nodes: {', '.join(sd.get('failed_nodes') or [])}",
            )
        maintenance_node = sd.get("maintenance_node")
        if maintenance_node and sd["node"] == maintenance_node and ns.get_node_state(sd["node"]) == "online":
            env.log(
                "info",
                f"service '{sid}': clearing stale maintenance node '{sd['maintenance_node']}' setting"
                " (is current node)",
            )
            del sd["maintenance_node"]
        if lrm_res is not None:
            sd["uid"] = self.env.new_uid(sd["state"])

    def _move_request_ignored(self, sid: str, task: str, target: str, node: str) -> bool:
        """A migrate/relocate request to a node that is not online, or to the one the service is on, is
        ignored (and logged as such), whether the service is stopped or started."""
        if not self.ns.node_is_online(target):
            self.env.log("err", f"ignore service '{sid}' {task} request - node '{target}' not online")
            return True
        if node == target:
            self.env.log("info", f"ignore service '{sid}' {task} request - service already on node '{target}'")
            return True
        return False

    def _run_started_command(self, sid: str, sd: dict[str, Any]) -> None:
        env = self.env
        cmd = sd["cmd"]
        task = cmd[0]
        if task in ("migrate", "relocate"):
            target = cmd[1]
            if not self._move_request_ignored(sid, task, target, sd["node"]):
                env.log("info", f"{task} service '{sid}' to node '{target}'")
                self.change_service_state(sid, task, node=sd["node"], target=target)
        elif task == "stop":
            timeout = cmd[1]
            if timeout == 0:
                env.log("info", f"request immediate service hard-stop for service '{sid}'")
            else:
                env.log("info", f"request graceful stop with timeout '{timeout}' for service '{sid}'")
            self.change_service_state(sid, "request_stop", timeout=timeout)
            env.host.update_service_config({sid: {"state": "stopped"}})
        else:
            env.log("err", f"unknown command '{task}' for service '{sid}'")
        sd.pop("cmd", None)

    def next_state_recovery(self, sid: str, cd: dict[str, Any], sd: dict[str, Any]) -> None:
        env = self.env
        fenced_node = sd["node"]
        node = self.select_node(sid, cd, "best-score")
        if node:
            if node == fenced_node:
                env.log("info", f"recover service '{sid}' to previous failed and fenced node '{fenced_node}' again")
            else:
                env.log("info", f"recover service '{sid}' from fenced node '{fenced_node}' to node '{node}'")
            self._fence_recovery_cleanup(sid)
            env.steal_service(sid, sd["node"], node)
            cd["node"] = sd["node"] = node
            self.change_service_state(sid, "started" if cd["state"] == "started" else "request_stop", node=node)
            return
        env.log("err", f"recovering service '{sid}' from fenced node '{fenced_node}' failed, no recovery node found")
        if cd["state"] == "disabled":
            sd.pop("failed_nodes", None)
            self.change_service_state(sid, "stopped")

    def _fence_recovery_cleanup(self, sid: str) -> None:
        host = self.env.host
        for lock in RECOVERY_REMOVABLE_LOCKS:
            removed = host.remove_guest_lock(sid, lock)
            if removed:
                self.env.log(
                    "warning", f"removed leftover lock '{removed}' from recovered service '{sid}' to allow its start."
                )
                return


class _MigrationAborted(Exception):
    pass


def _format_rule(rule: Any) -> str:
    lines = [f"\n{rule.type}: {rule.id}", f"\tresources {','.join(sorted(rule.resources))}"]
    if rule.type == "node-affinity":
        nodes = ",".join(f"{n}:{p}" if p else n for n, p in sorted(rule.nodes.items()))
        lines.append(f"\tnodes {nodes}")
        lines.append(f"\tstrict {int(rule.strict)}")
    if rule.comment:
        lines.append(f"\tcomment {rule.comment}")
    return "\n".join(lines) + "\n"
