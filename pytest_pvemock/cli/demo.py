"""``pvemock demo``: a built-in cluster driven by a real proxmoxer client, in-process, shown step by step.

    pvemock demo                          # the default 3-node cluster, PVE 9.1
    pvemock demo --scenario single-node --pve-version 8.4

It prints the cluster (nodes, guests, storage), the life of a task (start a stopped VM: its UPID, its status
while the virtual clock moves, its log), a migration second by second (the ``migrate`` lock, then the new
node, as ``/cluster/resources`` reports them) and, when the cluster runs the HA manager, a failover. Every
answer is checked against PVE's schema on the way. The clock is in ``manual`` mode, so each step is visible.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from pytest_pvemock.cli.tables import cpu_share, duration, heading, plural, table, used_of, utc, wants_colour

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

INSTALL_HINT = "pip install 'pytest-pvemock[proxmoxer]'"
HA_SCENARIO = "ha-three-node"
# Virtual seconds between two looks at a running task, and the most the demo waits for one.
MIGRATION_STEP = 3
HA_STEP = 10
TASK_LIMIT = 600
HA_LIMIT = 900

Api = Any  # a proxmoxer.ProxmoxAPI; proxmoxer is optional, so not imported at module level


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        default="default",
        metavar="NAME|FILE",
        help="a built-in scenario name or a scenario YAML file (default: default, three nodes)",
    )
    parser.add_argument(
        "--pve-version",
        metavar="VERSION",
        help="PVE release the fake answers as: 8.2.5, a minor (8.2: its last release), a major (8: its newest) "
        "or latest (default: the scenario's)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        import proxmoxer  # noqa: F401
    except ImportError:
        print(
            f"pvemock demo: the demo drives the fake with proxmoxer, which is not installed: {INSTALL_HINT}",
            file=sys.stderr,
        )
        return 1
    try:
        cluster = build_cluster(args.scenario, args.pve_version)
    except (ValueError, OSError) as error:  # ScenarioError is a ValueError naming the file and line
        print(f"pvemock demo: {error}", file=sys.stderr)
        return 2
    demo = Demo(sys.stdout)
    try:
        demo.run(cluster, args.scenario, args.pve_version)
    except DemoError as error:
        print(f"pvemock demo: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `pvemock demo | head`: the reader has seen enough
        # as the Python docs advise: the interpreter's final flush goes to /dev/null, not a second BrokenPipeError
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


def build_cluster(scenario: str, version: str | None) -> FakeCluster:
    """The scenario's cluster on a manual clock, so that tasks stay visible until the demo moves time."""
    from pytest_pvemock.model.cluster import FakeCluster

    return FakeCluster.from_scenario(scenario, version=version, task_mode="manual")


class DemoError(Exception):
    """A step the demo could not take (an API error or a schema violation), said in one line."""


class Demo:
    """Writes each part of the demo to ``out``."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.colour = wants_colour(out)

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def section(self, title: str) -> None:
        self.say()
        self.say(heading(title, self.colour))

    def call(self, code: str) -> None:
        """The proxmoxer call behind what follows, as a user would write it."""
        self.say(f">>> {code}")

    # ---- the whole run ---------------------------------------------------------------------------------------

    def run(self, cluster: FakeCluster, scenario: str, version: str | None) -> None:
        import proxmoxer

        self.say(
            f"pvemock demo: a fake Proxmox VE {cluster.full_version} cluster {cluster.name!r} (scenario {scenario}),\n"
            f"answered in-process to a real proxmoxer {proxmoxer.__version__} client: no socket, no network, every\n"
            "answer checked against PVE's schema. The clock is manual: time moves only when the demo says so."
        )
        self.say()
        options = f'"{scenario}", task_mode="manual"' + (f', version="{version}"' if version else "")
        self.call(f"cluster = FakeCluster.from_scenario({options})")
        self.call("with pytest_pvemock.mock(cluster, validate=True):")
        self.say(
            f'...     api = proxmoxer.ProxmoxAPI("{cluster.host}", user="{cluster.user}", '
            f'password="{cluster.password}", verify_ssl=False)'
        )
        with answered(cluster):
            api = login(cluster)
            guarded(lambda: self.show_cluster(api))
            guarded(lambda: self.show_task_life(api, cluster))
            guarded(lambda: self.show_migration(api, cluster))
        ha_cluster = ha_cluster_for(scenario, version)
        if ha_cluster is not None:
            with answered(ha_cluster):
                guarded(lambda: self.show_failover(login(ha_cluster), ha_cluster))
        self.say()
        self.say(
            "In your tests: the pve_cluster fixture is such a cluster (pve_cluster.url, .user, .password), "
            "pve_api a proxmoxer client logged in to it; see README.md."
        )

    # ---- 1. the cluster ----------------------------------------------------------------------------------------

    def show_cluster(self, api: Api) -> None:
        status = api.cluster.status.get()
        summary = next((entry for entry in status if entry.get("type") == "cluster"), None)
        self.section("The cluster")
        self.call("api.cluster.status.get()")
        if summary is not None:
            self.say(
                f"  cluster {summary['name']!r}: {plural(summary['nodes'], 'node')}, "
                f"{'quorate' if summary['quorate'] else 'NOT quorate'}"
            )
        else:
            self.say("  a single node, not part of a cluster")
        self.call('api.cluster.resources.get(type="node")')
        nodes = sorted(api.cluster.resources.get(type="node"), key=lambda row: row["node"])
        self.say(
            table(
                ("NODE", "STATUS", "CPU", "MEMORY", "UPTIME"),
                [
                    (
                        row["node"],
                        row["status"],
                        cpu_share(row.get("cpu"), row.get("maxcpu")),
                        used_of(row.get("mem"), row.get("maxmem")),
                        duration(row.get("uptime")),
                    )
                    for row in nodes
                ],
                right=(2, 4),
            )
        )
        self.call('api.cluster.resources.get(type="vm")')
        self.say(guest_table(api.cluster.resources.get(type="vm")))
        self.call('api.cluster.resources.get(type="storage")')
        self.say(storage_table(api.cluster.resources.get(type="storage")))

    # ---- 2. a task's life --------------------------------------------------------------------------------------

    def show_task_life(self, api: Api, cluster: FakeCluster) -> None:
        guest = pick_guest(api, lambda row: row["status"] == "stopped" and not row.get("template"))
        self.section("A task's life")
        if guest is None:
            self.say("  (no stopped guest to start in this scenario)")
            return
        kind, vmid, node = guest["type"], guest["vmid"], guest["node"]
        ha = "hastate" in guest
        self.say(f"  {kind} {vmid} ({guest.get('name', '')}) is stopped on {node}; start it.")
        self.call(f'upid = api.nodes("{node}").{kind}({vmid}).status.start.post()')
        upid = getattr(api.nodes(node), kind)(vmid).status.start.post()
        self.say(f"  {upid}")
        self.say(describe_upid(upid))
        self.say("  It runs until the clock moves: cluster.clock.advance(seconds), or cluster.clock.settle().")
        self.call(f'api.nodes("{node}").tasks(upid).status.get()   # then cluster.clock.advance(1), again')

        def state() -> tuple[Any, ...]:
            row = guest_row(api, vmid)
            return (row["status"], row.get("hastate")) if ha else (row["status"],)

        rows = follow_task(api, cluster, node, upid, 1, state, done=lambda: state()[0] == "running")
        headers = ("CLOCK", "TASK STATUS", "EXITSTATUS", f"{kind.upper()} {vmid}") + (("HASTATE",) if ha else ())
        self.say(table(headers, rows))
        if ha:
            self.say("  HA manages this guest: the hastart task only asks the HA manager, which starts it.")
        self.call(f'api.nodes("{node}").tasks(upid).log.get(limit=1000)')
        self.say(log_lines(api, node, upid))

    # ---- 3. a migration ----------------------------------------------------------------------------------------

    def show_migration(self, api: Api, cluster: FakeCluster) -> None:
        online_nodes = sorted(row["node"] for row in api.nodes.get() if row.get("status") == "online")
        guest = pick_guest(
            api, lambda row: row["status"] == "running" and row["type"] == "qemu" and row["node"] in online_nodes
        ) or pick_guest(api, lambda row: row["status"] == "running" and row["node"] in online_nodes)
        self.section("A migration, step by step")
        targets = [name for name in online_nodes if guest is None or name != guest["node"]]
        if guest is None or not targets:
            self.say("  (needs a running guest and a second online node; this scenario has none)")
            return
        kind, vmid, source = guest["type"], guest["vmid"], guest["node"]
        ha = "hastate" in guest
        target = targets[0]
        # a running VM's local disks move only with with-local-disks (qemu-server QemuMigrate.pm 540-544)
        option = 'online=1, **{"with-local-disks": 1}' if kind == "qemu" else "restart=1"
        self.say(f"  {kind} {vmid} ({guest.get('name', '')}) is running on {source}; move it to {target}.")
        self.call(f'upid = api.nodes("{source}").{kind}({vmid}).migrate.post(target="{target}", {option})')
        endpoint = getattr(api.nodes(source), kind)(vmid).migrate
        upid = endpoint.post(
            target=target, **({"online": 1, "with-local-disks": 1} if kind == "qemu" else {"restart": 1})
        )
        self.say(f"  {upid}")
        self.call(f'api.cluster.resources.get(type="vm")   # every {MIGRATION_STEP} s of cluster.clock')

        def where() -> tuple[Any, ...]:
            row = guest_row(api, vmid)
            found = (row["node"], row.get("lock"), row["status"])
            return (*found, row.get("hastate")) if ha else found

        def arrived() -> bool:
            node, lock, _status, *hastate = where()
            return node == target and not lock and hastate in ([], ["started"])

        rows = follow_task(api, cluster, source, upid, MIGRATION_STEP, where, done=arrived)
        headers = ("CLOCK", "TASK STATUS", "EXITSTATUS", "NODE", "LOCK", "STATUS") + (("HASTATE",) if ha else ())
        self.say(table(headers, rows))
        if not arrived():
            self.say(f"  {vmid} did not reach {target} within {TASK_LIMIT} s of cluster time.")
        elif ha:
            self.say(
                "  HA manages this guest: the hamigrate task only asks the HA manager. Its CRM sets hastate migrate,\n"
                f"  the LRM of {source} runs the migration (a qmigrate/vzmigrate task of root@pam, lock migrate)\n"
                f"  and the CRM's next round after it ends sets started on {target}."
            )
        else:
            self.say(f"  The guest holds the 'migrate' lock while the task runs; its node is {target} once it ends.")
        self.call(f'api.nodes("{source}").tasks(upid).log.get(limit=1000)')
        self.say(log_lines(api, source, upid))

    # ---- 4. HA failover ----------------------------------------------------------------------------------------

    def show_failover(self, api: Api, cluster: FakeCluster) -> None:
        rows = api.cluster.resources.get(type="vm")
        managed = [row for row in rows if row.get("hastate") == "started" and row["status"] == "running"]
        self.section("HA failover")
        if not managed:
            self.say("  (no running HA-managed guest in this scenario)")
            return
        master = crm_master(api)
        # a guest away from the CRM master: when the master itself is lost, a new master is elected only after
        # its lock expires and then fences and recovers in its first round, so 'fence' would not be seen.
        # Without an answer from the API, the first node is the likely master (its CRM took the lock first).
        avoid = master or min(row["node"] for row in managed)
        guest = sorted(managed, key=lambda row: (row["node"] == avoid, row["vmid"]))[0]
        vmid, node = guest["vmid"], guest["node"]
        where = f" (the CRM master is {master})" if master else ""
        self.say(
            f"  {cluster.name}: {guest['type']} {vmid} ({guest.get('name', '')}) is HA-managed, "
            f"started on {node}{where}. {node} loses power."
        )
        self.call(f'cluster.set_node_online("{node}", False)   # then cluster.clock.advance({HA_STEP}), again')

        def state() -> tuple[Any, ...]:
            row = guest_row(api, vmid)
            return row.get("hastate"), row["node"], row["status"]

        seen = [("before", *state())]
        start = cluster.clock.now()
        cluster.set_node_online(node, False)
        seen.append(("t+0s", *state()))
        while cluster.clock.now() - start < HA_LIMIT:
            cluster.clock.advance(HA_STEP)
            current = state()
            if current != seen[-1][1:]:
                seen.append((f"t+{cluster.clock.now() - start}s", *current))
            if current[0] == "started" and current[1] != node and current[2] == "running":
                break
        self.call('api.cluster.resources.get(type="vm")   # rows where something changed')
        self.say(table(("CLOCK", "HASTATE", "NODE", "STATUS"), seen))
        _clock, hastate, now_on, status = seen[-1]
        if hastate == "started" and now_on != node and status == "running":
            self.say(
                f"  The CRM master marks the lost node's services 'fence'. Once {node}'s HA lock has expired (its\n"
                f"  watchdog has reset it by then) the master takes the lock, so {node} counts as fenced, and\n"
                f"  recovers {vmid} on {now_on}: recovery, then started, within one round of the CRM."
            )
        else:
            self.say(f"  {vmid} did not recover within {HA_LIMIT} s of cluster time.")


# ---- helpers shared by the parts -------------------------------------------------------------------------------


class answered:
    """The cluster's hosts answered in-process (schema-checked) inside the block."""

    def __init__(self, cluster: FakeCluster) -> None:
        from pytest_pvemock.mocking import mock

        self.mock = mock(cluster, validate=True)

    def __enter__(self) -> FakeCluster:
        return self.mock.start()

    def __exit__(self, *exc_info: object) -> None:
        self.mock.stop()


def login(cluster: FakeCluster) -> Api:
    import proxmoxer

    return proxmoxer.ProxmoxAPI(
        cluster.host, port=cluster.port, user=cluster.user, password=cluster.password, verify_ssl=False
    )


def guarded(step: Callable[[], None]) -> None:
    """Run a part; an API error or a schema violation becomes a :class:`DemoError` (one line, no traceback)."""
    from proxmoxer.core import ResourceException

    from pytest_pvemock.schema.validation import SchemaValidationError

    try:
        step()
    except ResourceException as error:
        raise DemoError(f"the fake answered with an error: {error}") from None
    except SchemaValidationError as error:
        raise DemoError(f"an answer did not match PVE's schema: {error}") from None


def ha_cluster_for(scenario: str, version: str | None) -> FakeCluster | None:
    """A fresh cluster for the failover: the user's scenario if it has HA resources, else the built-in HA one.

    ``None`` when the FakeCluster does not run the HA manager (no ``ha_provider``).
    """
    cluster = build_cluster(scenario, version)
    if not cluster.ha_resources:
        cluster = build_cluster(HA_SCENARIO, version)
    return cluster if cluster.ha_provider is not None else None


def crm_master(api: Api) -> str | None:
    """The node whose CRM is the HA master (``/cluster/ha/status/manager_status``), or ``None`` when unknown."""
    status = api.cluster.ha.status.manager_status.get()
    manager = status.get("manager_status") if isinstance(status, dict) else None
    master = manager.get("master_node") if isinstance(manager, dict) else None
    return master if isinstance(master, str) else None


def pick_guest(api: Api, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The first guest (by vmid) that is ``wanted``, one that HA does not manage if there is such a one."""
    rows = sorted(api.cluster.resources.get(type="vm"), key=lambda row: ("hastate" in row, row["vmid"]))
    return next((row for row in rows if wanted(row)), None)


def guest_row(api: Api, vmid: int) -> dict[str, Any]:
    return next(row for row in api.cluster.resources.get(type="vm") if row["vmid"] == vmid)


def follow_task(
    api: Api,
    cluster: FakeCluster,
    node: str,
    upid: str,
    step: int,
    watch: Callable[[], tuple[Any, ...]],
    done: Callable[[], bool],
) -> list[tuple[Any, ...]]:
    """A row per look at the task (its status, exit status and ``watch()``), moving the clock ``step`` s each time,
    until the task has ended and ``done()`` (an HA request task ends before the HA manager acts on it; after the
    task, only the looks where something changed get a row)."""
    start = cluster.clock.now()
    rows: list[tuple[Any, ...]] = []
    while True:
        status = api.nodes(node).tasks(upid).status.get()
        row = (f"t+{cluster.clock.now() - start}s", status["status"], status.get("exitstatus"), *watch())
        if status["status"] == "running" or not rows or rows[-1][1:] != row[1:]:
            rows.append(row)
        finished = status["status"] != "running" and done()
        if finished or cluster.clock.now() - start >= TASK_LIMIT:
            return rows
        cluster.clock.advance(step)


def describe_upid(upid: str) -> str:
    """The UPID's fields: ``UPID:node:PID:PSTART:STARTTIME:TYPE:ID:USER:`` with the hex fields decoded."""
    _, node, pid, pstart, starttime, kind, ident, user = upid.split(":")[:8]
    return table(
        ("FIELD", "VALUE", "AS WRITTEN"),
        [
            ("node", node, node),
            ("pid", int(pid, 16), pid),
            ("pstart", int(pstart, 16), pstart),
            ("starttime", utc(int(starttime, 16)), starttime),
            ("type", kind, kind),
            ("id", ident, ident),
            ("user", user, user),
        ],
        indent="    ",
    )


def log_lines(api: Api, node: str, upid: str) -> str:
    lines = api.nodes(node).tasks(upid).log.get(limit=1000)
    return table(("N", "LINE"), [(line["n"], line["t"]) for line in lines], right=(0,))


def guest_table(rows: list[dict[str, Any]]) -> str:
    rows = sorted(rows, key=lambda row: row["vmid"])
    return table(
        ("VMID", "TYPE", "NAME", "NODE", "STATUS", "UPTIME", "CPU", "MEMORY", "TAGS", "POOL"),
        [
            (
                row["vmid"],
                row["type"] + (" (template)" if row.get("template") else ""),
                row.get("name"),
                row["node"],
                row["status"] + (f" [{row['hastate']}]" if row.get("hastate") else ""),
                duration(row.get("uptime")),
                cpu_share(row.get("cpu"), row.get("maxcpu")) if row["status"] == "running" else None,
                used_of(row.get("mem"), row.get("maxmem")) if row["status"] == "running" else None,
                row.get("tags"),
                row.get("pool"),
            )
            for row in rows
        ],
        right=(0, 5, 6),
    )


def storage_table(rows: list[dict[str, Any]]) -> str:
    """One line per storage and node; a shared storage once, for every node that sees it."""
    by_storage: dict[str, dict[str, Any]] = {}
    nodes: dict[str, list[str]] = {}
    lines = []
    for row in sorted(rows, key=lambda row: (row["storage"], row["node"])):
        if row.get("shared"):
            nodes.setdefault(row["storage"], []).append(row["node"])
            if row["storage"] in by_storage:
                continue
            by_storage[row["storage"]] = row
        lines.append(row)
    return table(
        ("STORAGE", "NODE", "TYPE", "SHARED", "CONTENT", "USED"),
        [
            (
                row["storage"],
                ",".join(nodes[row["storage"]]) if row.get("shared") else row["node"],
                row.get("plugintype"),
                "yes" if row.get("shared") else "no",
                row.get("content"),
                used_of(row.get("disk"), row.get("maxdisk")),
            )
            for row in lines
        ],
    )
