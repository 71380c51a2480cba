"""Node data a real PVE node reads from its packages and its kernel: ``capabilities/qemu/{cpu,cpu-flags,machines}``
(qemu-server PVE/API2/Qemu/CPU.pm, CPUFlags.pm, Machine.pm, commit e6352be6, with the release's qemu-server and
QEMU: :mod:`pytest_pvemock.model.node_packages`), ``vzdump/defaults`` (pve-manager PVE/API2/VZDump.pm and
PVE/VZDump.pm ``read_vzdump_defaults``, commit 14a22df3), ``journal`` (Nodes.pm ``journal``: mini-journalreader's
lines between a start and an end cursor), ``netstat`` (Nodes.pm ``netstat``: the counters of each running
guest's tap/veth devices) and ``aplinfo`` (Nodes.pm ``aplinfo``: a node whose appliance index was never
downloaded lists nothing)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.nodes import CPU_FLAGS
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import appliances
from pytest_pvemock.model.node_packages import qemu_server_facts, release_packages
from pytest_pvemock.model.nodes.journal import journal
from pytest_pvemock.schema.registry import get_registry

# QEMU releases, each of which added versioned pc-i440fx-X.Y and pc-q35-X.Y machine types (qemu.org/download;
# PVE's machine list is ``qemu-system-x86_64 -machine help`` at build time, pve-qemu debian/parse-machines.pl).
_FIRST, _LAST = (
    "2.4 2.5 2.6 2.7 2.8 2.9 2.10 2.11 2.12 3.0 3.1 4.0 4.1 4.2 5.0 5.1",
    "5.2 6.0 6.1 6.2 7.0 7.1 7.2 8.0 8.1 8.2 9.0 9.1 9.2 10.0 10.1 10.2 11.0",
)
QEMU_RELEASES = (*_FIRST.split(), *_LAST.split())


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


@handles("GET", "/nodes/{node}/capabilities/qemu/cpu")
def qemu_cpu_models(ctx: HandlerContext) -> list[dict[str, Any]]:
    """``get_cpu_models(1)``: every model of the release's qemu-server with its vendor, then its built-in
    x86-64-vN models (``abstract``, vendor of their reported model ``qemu64``); no custom models configured."""
    ctx.cluster.require_node_reachable(ctx.params["node"])
    facts = qemu_server_facts(ctx.cluster.version)
    models: dict[str, str] = facts["cpu_models"]
    rows: list[dict[str, Any]] = [{"name": name, "custom": 0, "vendor": vendor} for name, vendor in models.items()]
    for name in facts["builtin_models"]:
        rows.append({"name": name, "custom": 0, "abstract": 1, "vendor": models.get("qemu64", "default")})
    return ordered_rows(ctx, rows, key="name")


def _host_has(flag: str, flags: set[str]) -> bool:
    if flag == "nested-virt":
        return "svm" in flags or "vmx" in flags
    return flag.replace("-", "_") in flags or flag in flags


@handles("GET", "/nodes/{node}/capabilities/qemu/cpu-flags")
def qemu_cpu_flags(ctx: HandlerContext) -> list[dict[str, Any]]:
    """``query_available_cpu_flags``: the VM-specific flags qemu-server allows, with the nodes whose host CPU
    (``pvestatd``'s ``cpuflags-kvm``, the flags of ``/nodes/{node}/status``) has them."""
    ctx.cluster.require_node_reachable(ctx.params["node"])
    if ctx.params.get("accel", "kvm") == "tcg":
        host: set[str] = set()
    else:
        host = set(CPU_FLAGS.split())
    nodes = sorted(node.name for node in ctx.cluster.nodes)
    rows = []
    for name, description in sorted(qemu_server_facts(ctx.cluster.version)["vm_cpu_flags"].items()):
        row: dict[str, Any] = {"name": name, "description": description}
        row["supported-on"] = nodes if _host_has(name, host) else []
        rows.append(row)
    return ordered_rows(ctx, rows, key="name")


@handles("GET", "/nodes/{node}/capabilities/qemu/machines")
def qemu_machines(ctx: HandlerContext) -> list[dict[str, Any]]:
    """The machine types of the release's QEMU (``pve-qemu-kvm``) plus qemu-server's ``+pveN`` revisions,
    newest first (PVE::API2::Qemu::Machine ``types``)."""
    ctx.cluster.require_node_reachable(ctx.params["node"])
    qemu = release_packages(ctx.cluster.version).get("pve-qemu-kvm", "")
    top = _version_key(qemu)[:2]
    revisions: dict[str, dict[str, str]] = qemu_server_facts(ctx.cluster.version)["machine_revisions"]
    rows: list[tuple[tuple[int, ...], int, dict[str, Any]]] = []
    for version in QEMU_RELEASES:
        if _version_key(version) > top:
            continue
        for kind, prefix in (("q35", "pc-q35"), ("i440fx", "pc-i440fx")):
            base = {"id": f"{prefix}-{version}", "type": kind, "version": version}
            rows.append((_version_key(version), 0, base))
            for revision, changes in sorted(revisions.get(version, {}).items()):
                entry = {"id": f"{prefix}-{version}{revision}", "type": kind, "version": f"{version}{revision}"}
                if changes:
                    entry["changes"] = changes
                rows.append((_version_key(version), int(revision.removeprefix("+pve")), entry))
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return ordered_rows(ctx, [row for _key, _rev, row in rows])


@handles("GET", "/nodes/{node}/vzdump/defaults")
def vzdump_defaults(ctx: HandlerContext) -> dict[str, Any]:
    """The schema's defaults (``read_vzdump_defaults`` on a node whose ``/etc/vzdump.conf`` is all comments, as
    pve-manager configs/vzdump.conf ships it), the storage (``local`` unless given) with its dump directory
    and retention (``storage_info``)."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"])
    schema = get_registry(cluster.version).endpoint("GET", ctx.template).returns_schema
    answer: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        default = prop.get("default")
        if default is not None and name not in ("performance", "fleecing"):
            answer[name] = default
    storage_id = ctx.params.get("storage") or "local"
    storage = next((s for s in cluster.storages_on(node.name) if s.storage == storage_id), None)
    if ctx.params.get("storage") and storage is None:
        raise PVEError(f"storage '{storage_id}' does not exist", 500)
    answer["storage"] = storage_id
    if storage is not None and storage.path and "backup" in storage.content:
        answer["dumpdir"] = f"{storage.path}/dump"
    return ordered(ctx, answer, node.name)


def _cursor(cluster_seed: Any, node: str, boot: int, index: int, time: int) -> str:
    boot_id = hashlib.sha256(f"{cluster_seed}/{node}/{boot}".encode()).hexdigest()[:32]
    seqnum = hashlib.sha256(f"{cluster_seed}/{node}/seqnum".encode()).hexdigest()[:32]
    return (f"s={seqnum};i={0x1000 + index:x};b={boot_id};m={max(time - boot, 0) * 1_000_000:x};"
            f"t={time * 1_000_000:x};x={hashlib.sha256(f'{boot_id}{index}'.encode()).hexdigest()[:16]}")  # fmt: skip


def _cursor_index(text: str) -> int | None:
    match = re.search(r"(?:^|;)i=([0-9a-f]+)", text)
    return int(match.group(1), 16) - 0x1000 if match else None


@handles("GET", "/nodes/{node}/journal")
def read_journal(ctx: HandlerContext) -> list[str]:
    """The journal's lines (``since``/``until`` epochs, ``lastentries``, ``startcursor``/``endcursor``), the
    first and last line the cursors to continue from, as mini-journalreader ``-j`` prints them."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"])
    entries = list(enumerate(journal(cluster, node)))
    since, until = ctx.params.get("since"), ctx.params.get("until")
    start = _cursor_index(str(ctx.params.get("startcursor") or ""))
    end = _cursor_index(str(ctx.params.get("endcursor") or ""))
    chosen = [
        (index, entry)
        for index, entry in entries
        if (since is None or entry.time >= int(since))
        and (until is None or entry.time <= int(until))
        and (start is None or index > start)
        and (end is None or index < end)
    ]
    last = ctx.params.get("lastentries")
    if last:
        chosen = chosen[-int(last) :]
    elif start is None and end is None and since is None and until is None:
        chosen = chosen[-500:]  # the GUI's default view; mini-journalreader without a range prints the tail
    if not chosen:
        return []
    first_index, first = chosen[0]
    last_index, final = chosen[-1]
    lines = [_cursor(cluster.seed, node.name, node.boot_time, first_index - 1, first.time)]
    lines += [entry.text for _index, entry in chosen]
    lines.append(_cursor(cluster.seed, node.name, node.boot_time, last_index, final.time))
    return lines


@handles("GET", "/nodes/{node}/netstat")
def netstat(ctx: HandlerContext) -> list[dict[str, Any]]:
    """One row per network device of each running guest on the node (``tap<vmid>i<n>``, ``veth<vmid>i<n>``):
    ``in`` is what the host transmitted to the guest, ``out`` what it received, from the guest's counters."""
    cluster = ctx.cluster
    node = cluster.require_node_reachable(ctx.params["node"])
    rows = []
    for guest in sorted(cluster.guests_on(node.name), key=lambda g: str(g.vmid)):
        if not guest.running:
            continue
        nets = sorted((key for key in guest.config if re.fullmatch(r"net\d+", key)), key=lambda k: int(k[3:]))
        if not nets:
            continue
        usage = guest.usage()
        share = len(nets)
        for position, key in enumerate(nets):
            part = 2 if position == 0 and share > 1 else 1
            whole = share + 1 if share > 1 else 1
            rows.append({"vmid": str(guest.vmid), "dev": key, "in": str(usage["netin"] * part // whole),
                         "out": str(usage["netout"] * part // whole)})  # fmt: skip
    return rows


@handles("GET", "/nodes/{node}/aplinfo")
def appliance_index(ctx: HandlerContext) -> list[dict[str, Any]]:
    """``PVE::APLInfo::load_data``: a node reads ``/var/lib/pve-manager/apl-info/*``, which ``pveam update``
    (the daily ``pve-daily-update`` timer, or ``POST /nodes/{node}/aplinfo``'s download) fills from the
    internet; a node of the fake was never connected, so the list is empty. ``pve-web-news`` is not listed."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    index = appliances.appliance_index(ctx.cluster, node.name)
    return [dict(entry) for entry in index.values() if entry.get("package") != "pve-web-news"]


@handles("POST", "/nodes/{node}/aplinfo")
def download_appliance(ctx: HandlerContext) -> str:
    """Nodes.pm ``apl_download``: the ``download`` task of a template of the node's index onto a storage."""
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    task = appliances.download_appliance(
        ctx.cluster, node.name, str(ctx.params["storage"]), str(ctx.params["template"]), ctx.principal.authid
    )
    return task.upid
