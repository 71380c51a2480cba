"""``/nodes``: the node list, a node's index and status, and its task list."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, Result, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.api.index import pve_index_listing
from pytest_pvemock.api.views.resources import node_resource
from pytest_pvemock.errors import PVEError
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
    for node in ctx.cluster.nodes:
        entry = node_resource(ctx.cluster, node, loads.get(node.name, (0, 0.0)))
        entry.pop("cgroup-mode", None)
        entry.pop("hastate", None)
        entry["ssl_fingerprint"] = node.ssl_fingerprint
        rows.append(entry)
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


def _matches(task_entry: dict[str, Any], params: dict[str, Any], running: bool) -> bool:
    if params.get("errors") and task_entry.get("status") in ("OK", None):
        return False
    typefilter = params.get("typefilter")
    if typefilter and task_entry["type"] != typefilter:
        return False
    vmid = params.get("vmid")
    if vmid is not None and task_entry["id"] != str(vmid):
        return False
    userfilter = params.get("userfilter")
    if userfilter and userfilter not in task_entry["user"]:
        return False
    since, until = params.get("since"), params.get("until")
    if since is not None and task_entry["starttime"] < since:
        return False
    if until is not None and task_entry["starttime"] > until:
        return False
    statusfilter = params.get("statusfilter")
    if statusfilter:
        wanted = {part.strip() for part in str(statusfilter).split(",")}
        status = task_entry.get("status")
        kind = (
            "active"
            if running
            else "ok"
            if status == "OK"
            else "warning"
            if str(status).startswith("WARN")
            else "error"
        )
        if kind not in wanted:
            return False
    return True


def _status_kind(status: Any, running: bool) -> str:
    if running:
        return "active"
    if status == "OK":
        return "ok"
    return "warning" if str(status).startswith("WARNINGS") else "error"


@handles("GET", "/nodes/{node}/tasks")
def node_tasks(ctx: HandlerContext) -> Result:
    """The node's tasks, newest first, with ``total``; running ones only for ``source=active|all``."""
    node = _node(ctx)
    params = ctx.params
    source = params.get("source", "archive")
    rows = []
    for task in ctx.cluster.tasks.on_node(node.name):
        if (task.running and source == "archive") or (not task.running and source == "active"):
            continue
        entry = task.list_entry()
        if _matches(entry, params, task.running):
            rows.append(entry)
    start = int(params.get("start", 0))
    limit = int(params.get("limit", 50))
    page = rows[start : start + limit] if limit else rows[start:]
    return Result(ordered_rows(ctx, page, key="upid"), extra={"total": len(rows)})


def task_for(ctx: HandlerContext) -> Any:
    """The task named by the path's ``upid`` on the path's ``node``, or PVE's error."""
    node = _node(ctx)
    upid = ctx.params["upid"]
    task = ctx.cluster.tasks.get(upid)
    if task is None or task.node != node.name:
        raise PVEError(f"no such task '{upid}'" if task is None else "no such task", 500)
    return task
