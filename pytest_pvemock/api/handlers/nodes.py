"""``/nodes``: the node list, a node's index and status, and its task list."""

from __future__ import annotations

import re
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, Result, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.api.index import pve_index_listing
from pytest_pvemock.api.permissions import PermissionChecker, privileges_of
from pytest_pvemock.api.views.resources import node_resource
from pytest_pvemock.api.visibility import Visibility
from pytest_pvemock.errors import ParameterError
from pytest_pvemock.model import figures
from pytest_pvemock.model.nodes.node import Node

CPU_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx "
    "mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid aperfmperf pni "
    "pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm "
    "extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw skinit wdt tce topoext perfctr_core perfctr_nb bpext "
    "perfctr_llc mwaitx cpb hw_pstate ssbd ibpb vmmcall fsgsbase bmi1 avx2 smep bmi2 rdseed adx smap clflushopt clwb "
    "sha_ni xsaveopt xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc cqm_mbm_total cqm_mbm_local clzero irperf xsaveerptr "
    "rdpru wbnoinvd arat npt lbrv svm_lock nrip_save tsc_scale vmcb_clean flushbyasid decodeassists pausefilter "
    "pfthreshold avic v_vmsave_vmload vgif umip rdpid overflow_recov succor smca"
)


def _node(ctx: HandlerContext) -> Node:
    return ctx.cluster.require_node_reachable(ctx.params["node"])


@handles("GET", "/nodes")
def list_nodes(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Every node; an offline one keeps its maxima but has no load figures; ``ssl_fingerprint`` only here."""
    rows = []
    loads = ctx.cluster.guest_loads()
    seen = Visibility(ctx)  # Nodes.pm index 2985-2994: the figures only with Sys.Audit on the node
    for node in ctx.cluster.nodes:
        entry = node_resource(ctx.cluster, node, loads.get(node.name, (0, 0.0)))
        entry.pop("cgroup-mode", None)
        entry.pop("hastate", None)
        entry["ssl_fingerprint"] = node.ssl_fingerprint
        rows.append(seen.node_row(entry))
    return ordered_rows(ctx, rows)


@handles("GET", "/nodes/{node}")
def node_index(ctx: HandlerContext) -> list[dict[str, str]]:
    _node(ctx)
    return pve_index_listing(ctx.template, ctx.cluster.version) or []


@handles("GET", "/nodes/{node}/status")
def node_status(ctx: HandlerContext) -> dict[str, Any]:
    """``pveversion``, kernel, CPU, memory, root filesystem and load, as ``pvestatd`` reports them."""
    cluster = ctx.cluster
    node = _node(ctx)
    now = cluster.clock.now()
    resource = node_resource(cluster, node)
    rng = figures.seeded(cluster.seed, "node-status", node.name, now // 60)
    release, build = cluster.kernel
    mem_used = resource["mem"]
    root_total = min(node.maxdisk, 100_861_726_720)
    root_used = node.disk_used
    loads = [f"{max(resource['cpu'] * node.maxcpu * factor, 0):.2f}" for factor in (1.3, 1.1, 0.9)]
    cores = max(node.maxcpu // 2, 1)
    status = {
        "uptime": resource["uptime"],
        "cpu": resource["cpu"],
        "wait": float(f"{rng.uniform(0, 0.002):.15g}"),
        "idle": 0,
        "loadavg": loads,
        "kversion": f"Linux {release} {build}",
        "pveversion": f"pve-manager/{cluster.full_version}/{cluster.repoid}",
        "current-kernel": {
            "sysname": "Linux",
            "release": release,
            "version": build,
            "machine": "x86_64",
        },
        "boot-info": {"mode": "efi", "secureboot": 0},
        "cpuinfo": {
            "model": node.cpu_model(),
            "cpus": node.maxcpu,
            "cores": cores,
            "sockets": 1,
            "mhz": f"{rng.choice((3400, 3600, 3800, 4400)) + rng.random():.3f}",
            "hvm": "1",
            "flags": CPU_FLAGS,
            "user_hz": 100,
        },
        "memory": {
            "total": node.maxmem,
            "used": mem_used,
            "free": node.maxmem - mem_used,
            "available": node.maxmem - mem_used + node.maxmem // 9,
        },
        "swap": {"total": 8589930496, "used": 0, "free": 8589930496},
        "rootfs": {
            "total": root_total,
            "used": root_used,
            "free": root_total - root_used,
            "avail": root_total - root_used - root_total // 20,
        },
        "ksm": {"shared": 0},
    }
    if cluster.has("cpuinfo-vendor-family"):
        # pve-common read_cpuinfo returns vendor and family since d2582a9b (9.1.6, 2026-01-20)
        status["cpuinfo"]["vendor"], status["cpuinfo"]["family"] = node.cpu_identity()
    return ordered(ctx, status, node.name)


def _status_type(status: Any) -> str:
    """pve-common src/PVE/UPID.pm normalize_status_type 94-106 (f665029e): a running task's status is unknown."""
    if not status:
        return "unknown"
    if status == "OK":
        return "ok"
    if re.fullmatch(r"WARNINGS: \d+", str(status)):
        return "warning"
    return "unknown" if status == "unexpected status" else "error"


def task_visible_to(task: Any, authid: str) -> bool:
    """Tasks.pm check_task_user 27-38 (pve-manager 14a22df3): a token sees its own tasks, a user its own and its
    tokens' tasks."""
    if task.tokenid:
        return authid in (f"{task.user}!{task.tokenid}", task.user)
    return bool(authid == task.user)


@handles("GET", "/nodes/{node}/tasks")
def node_tasks(ctx: HandlerContext) -> Result:
    """pve-manager PVE/API2/Tasks.pm node_tasks 40-257 (14a22df3): running tasks first (``source=active|all``,
    status ``RUNNING``), then the finished ones newest first; without Sys.Audit on the node only the caller's own;
    ``start`` skips, ``limit`` caps (0: none), ``total`` counts every match."""
    node = _node(ctx)
    params = ctx.params
    source = params.get("source", "archive")
    start, limit = int(params.get("start", 0)), int(params.get("limit", 50))
    userfilter, typefilter = params.get("userfilter"), params.get("typefilter")
    since, until, vmid = params.get("since"), params.get("until"), params.get("vmid")
    wanted = {"ok", "warning", "error", "unknown"}
    if params.get("statusfilter") is not None and not params.get("errors"):
        wanted = {part.lower() for part in re.split(r"[,;\s]+", str(params["statusfilter"])) if part}
    elif params.get("errors"):
        wanted.discard("ok")
    authid = ctx.principal.authid
    auditor = "Sys.Audit" in privileges_of(ctx.cluster, authid, f"/nodes/{node.name}")
    tasks = ctx.cluster.tasks.on_node(node.name)
    chosen = [task for task in tasks if task.running] if source in ("active", "all") else []
    if source != "active":
        chosen += [task for task in tasks if not task.running]
    count, rows = 0, list[dict[str, Any]]()
    for task in chosen:
        entry = task.list_entry()
        if userfilter and str(userfilter).lower() not in task.user.lower():
            continue
        if not (auditor or task_visible_to(task, authid)):
            continue
        if (typefilter and task.type != typefilter) or (vmid and task.id != str(vmid)):
            continue
        if (since is not None and task.starttime < since) or (until is not None and task.starttime > until):
            continue
        if _status_type(entry.get("status")) not in wanted:
            continue
        count += 1
        if count <= start or len(rows) >= limit:
            continue
        if task.running:
            entry["status"] = "RUNNING"
        rows.append(entry)
    return Result(ordered_rows(ctx, rows, key="upid"), extra={"total": count})


_UPID = re.compile(
    r"^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):"
    r"([^:\s/]+):([^:\s/]*):([^:\s/]+):$"
)


def task_for(ctx: HandlerContext, privilege: str | None = None) -> Any:
    """The task named by the path's ``upid`` on the path's ``node``, as Tasks.pm finds it (pve-manager 14a22df3,
    read_task_status 514-529): a UPID that does not parse, or whose log the node does not hold, is a parameter
    error; a task of someone else needs ``privilege`` on the node."""
    node = _node(ctx)
    upid = str(ctx.params["upid"])
    if not _UPID.match(upid):
        raise ParameterError({"upid": "unable to parse worker upid"})
    task = ctx.cluster.tasks.get(upid)
    if task is None or task.node != node.name:
        raise ParameterError({"upid": "no such task"})
    authid = ctx.principal.authid
    if privilege and not task_visible_to(task, authid):
        PermissionChecker(ctx.cluster).check(authid, f"/nodes/{node.name}", [privilege])
    return task
