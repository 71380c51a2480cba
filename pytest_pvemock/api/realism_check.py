"""The realism check: every GET of a PVE version, asked of a built-in scenario, judged for what a real node would
never send.

An answer is schema-valid long before it is real. This walks every documented GET with path values naming objects
the cluster has: a guest's own node, a running VM with its agent where there is one, a storage on that node, and every
other id (a snapshot, a task, a backup job, a firewall rule, a token ...) read from the cluster's own list above it, as
a client finds them (where the object has children in the path, the first one that has some). It flags:

- placeholder words (``example``, ``placeholder``, ``dummy``, ``lorem`` ...) in any string;
- empty objects in lists (``[{}]``: a row with nothing in it);
- ids the cluster does not have (``vmid``, ``node``, ``storage`` keys naming guests, nodes, storages that do not
  exist);
- times off the cluster's clock (epoch fields such as ``time``, ``starttime``, ``ctime`` outside the last years
  before the cluster's ``now``);
- error answers, unless PVE answers that error for the cluster (:func:`expected_error`: Ceph reads without Ceph,
  agent calls without an agent, HA groups after PVE 9 moved them to rules).

Where the cluster has no object to name (no backup job, no snapshot), the value is made up and the answer is not
judged (:attr:`Answer.unfilled`): PVE's error for a missing id says nothing about the method.
``pvemock realism`` prints the counts per method and the methods never judged; ``tests/test_realism.py`` asserts
every method answers as PVE does, but for the ones still being made real.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from pytest_pvemock.api.app import PveApi
from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.api.synthesis import cluster_facts
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.model.guest_agent import require_agent
from pytest_pvemock.schema.synthesis import synthesize

PLACEHOLDER = re.compile(r"(?i)\b(example|placeholder|dummy|lorem|ipsum|foobar|changeme)\b")
TIME_KEYS = frozenset({"time", "starttime", "endtime", "ctime", "mtime", "checktime", "timestamp", "lastsync",
                       "last_sync", "last-run", "last_try", "logtime", "regdate"})  # fmt: skip
YEAR = 365 * 86400
SCENARIOS = ("default", "production", "ha-three-node", "ceph")
VERSIONS = ("9.1", "8.4")


@dataclass
class Answer:
    """One GET and what is wrong with its answer.

    ``problems`` holds an error answer too (``HTTP 500: <message>``) unless PVE answers that error for this cluster
    (``expected`` says why: no Ceph on the node, no agent in the VM ...). ``unfilled`` names the path values the
    cluster has nothing for (no backup job, no snapshot ...): those were made up, so an error answer is what PVE
    says of a missing id and the method is not judged on this cluster.
    """

    template: str
    path: str
    status: int
    problems: list[str] = field(default_factory=list)
    message: str = ""
    expected: str = ""
    unfilled: tuple[str, ...] = ()

    @property
    def judged(self) -> bool:
        """Whether the answer tells about the method: asked about objects the cluster has (every path value taken
        from it), or an error PVE answers for this cluster whatever the id (no Ceph, HA groups moved to rules)."""
        return not self.unfilled or bool(self.expected)


def problems_in(data: Any, cluster: FakeCluster, ahead: int = 86400) -> list[str]:
    """What in ``data`` a real PVE node of this cluster would not send, one line per kind and place (times later
    than ``ahead`` seconds from now count as off the clock)."""
    nodes = {node.name for node in cluster.nodes}
    vmids = {guest.vmid for guest in cluster.guests}
    storages = {storage.storage for storage in cluster.storages}
    now = cluster.clock.now()
    found: list[str] = []

    def note(problem: str) -> None:
        if problem not in found:
            found.append(problem)

    def walk(value: Any, where: str, key: str | None) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                walk(item, f"{where}.{name}", str(name))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if item == {}:
                    note(f"empty object in list at {where}")
                walk(item, f"{where}[{index}]", key)
        elif isinstance(value, str):
            if PLACEHOLDER.search(value):
                note(f"placeholder {value[:40]!r} at {where}")
            if key == "node" and value and value not in nodes:
                note(f"node {value!r} not in the cluster at {where}")
            if key == "storage" and value and value not in storages and "/" not in where.split(".")[0]:
                note(f"storage {value!r} not in the cluster at {where}")
            if key == "vmid" and value.isdigit() and int(value) not in vmids:
                note(f"vmid {value} not in the cluster at {where}")
        elif isinstance(value, bool):
            return
        elif isinstance(value, int):
            if key == "vmid" and value not in vmids:
                note(f"vmid {value} not in the cluster at {where}")
            if key in TIME_KEYS and value and not now - 10 * YEAR <= value <= now + ahead:
                note(f"time {value} off the cluster's clock ({now}) at {where}")

    walk(data, "data", None)
    return found


# The key of a list's rows that names the object a path value stands for, where it is not the value's own name.
_ROW_KEYS = {"snapname": ("name",), "volume": ("volid",), "pci-id-or-mapping": ("id",), "flag": ("name",),
             "url_seq": ("seq",)}  # fmt: skip
_ROW_KEYS_BY_LIST = {"/cluster/acme/plugins": ("plugin",), "/cluster/acme/account": ("name",),
                     "/cluster/sdn/fabrics/fabric": ("id",)}  # fmt: skip
# Where a client finds the objects of a path value whose parent path lists nothing (no GET, or an index): a node's
# SDN fabrics and vnets are the cluster's, a route map's entries are listed by the route map.
_LIST_OF = {
    "/nodes/{node}/sdn/fabrics": "/cluster/sdn/fabrics/fabric",
    "/nodes/{node}/sdn/vnets": "/cluster/sdn/vnets",
    "/cluster/sdn/route-maps/entries/{route-map-id}/entry": "/cluster/sdn/route-maps/entries/{route-map-id}",
}
# Required query values that name an object of the cluster: (where the cluster lists them, the key of a row).
# A source may carry a query (``/storage?type=nfs``: the servers of the cluster's NFS storages).
_QUERY_SOURCES = {
    "/nodes/{node}/disks/smart": {"disk": ("/nodes/{node}/disks/list", "devpath")},
    "/nodes/{node}/scan/nfs": {"server": ("/storage?type=nfs", "server")},
    "/nodes/{node}/scan/cifs": {"server": ("/storage?type=cifs", "server")},
    "/nodes/{node}/scan/glusterfs": {"server": ("/storage?type=glusterfs", "server")},
    "/nodes/{node}/scan/iscsi": {"portal": ("/storage?type=iscsi", "portal")},
    "/nodes/{node}/scan/pbs": {"server": ("/storage?type=pbs", "server")},
}
# Required query values naming what a VM's agent holds (:meth:`_Walk.agent_values`).
_AGENT_QUERIES = {
    "/nodes/{node}/qemu/{vmid}/agent/exec-status": "pid",
    "/nodes/{node}/qemu/{vmid}/agent/file-read": "file",
}
# Answers that are times to come: when a schedule falls due next (pve-manager PVE/API2/Cluster/Jobs.pm 98-118: ten
# events from now by default, up to a hundred).
_AHEAD = {"/cluster/jobs/schedule-analyze": 10 * YEAR}
_CANDIDATES = 6  # objects tried per path value when looking for one whose children exist
_BACKUP_READS = (
    "/nodes/{node}/vzdump/extractconfig",
    "/nodes/{node}/storage/{storage}/file-restore/list",
    "/nodes/{node}/storage/{storage}/file-restore/download",
)
_IMPORT_METADATA = "/nodes/{node}/storage/{storage}/import-metadata"


class _Walk:
    """Asks the cluster's API as root, remembering the lists it read to find objects by."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.api = PveApi(cluster)
        ticket = self.api.auth.signer.ticket("root@pam")
        self.headers = {"Cookie": f"PVEAuthCookie={quote(ticket, safe='')}"}
        self.lists: dict[str, list[Any]] = {}

    def get(self, path: str, query: dict[str, str]) -> ApiResponse:
        return self.api.handle(ApiRequest("GET", "/api2/json" + path, urlencode(query), self.headers, b""))

    def rows(self, template: str, values: dict[str, Any]) -> list[Any]:
        """The rows of the list at ``template`` (filled with ``values``; ``?query`` sent along), or none when it
        answers an error."""
        if any(name not in values for name in re.findall(r"\{([^}]+)\}", template)):
            return []  # a parent the cluster has none of
        path = _filled(template, values)
        if path not in self.lists:
            base, _, query = path.partition("?")
            response = self.get(base, dict(parse_qsl(query)))
            data = response.json().get("data") if response.status == 200 else None
            self.lists[path] = data if isinstance(data, list) else []
        return self.lists[path]

    def listed(self, template: str, name: str, values: dict[str, Any]) -> list[Any]:
        """The ids of the objects the list above ``{name}`` in ``template`` holds."""
        base = template[: template.index(f"/{{{name}}}")]
        base = _LIST_OF.get(base, base)
        keys = (*_ROW_KEYS_BY_LIST.get(base, ()), *_ROW_KEYS.get(name, ()), name)
        ids = []
        for row in self.rows(base, values):
            if not isinstance(row, dict):
                continue
            key = next((key for key in keys if row.get(key) not in (None, "")), None)
            if key is None or (name == "snapname" and row[key] == "current"):  # 'current' is no snapshot
                continue
            ids.append(row[key])
        return ids

    def candidates(self, template: str, name: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        """The cluster's objects for the path value ``name``, best first, each as the values it sets."""
        cluster = self.cluster
        if name == "node" and "{vmid}" in template:
            kind = "lxc" if "/lxc/" in template else "qemu"
            guests = [guest for guest in cluster.guests if guest.kind == kind and not guest.template]
            guests.sort(key=lambda guest: (not guest.running, not str(guest.config.get("agent", "0")).startswith("1")))
            return [{"node": guest.node, "vmid": guest.vmid} for guest in guests]
        if name == "node":
            nodes = sorted(cluster.nodes, key=lambda node: not node.online)
            return [{"node": node.name} for node in nodes]
        if name == "vmid":
            return [{}] if "vmid" in values else []
        if name == "storage":
            storages = cluster.storages_on(values["node"]) if "node" in values else cluster.storages
            return [{"storage": storage.storage} for storage in storages]
        ceph = cluster.ceph
        if name == "osdid":
            osds = ceph.osds_on(values["node"]) if ceph is not None and ceph.installed_on(values["node"]) else []
            return [{"osdid": osd.osdid} for osd in osds]
        if name == "name" and template.startswith("/nodes/{node}/ceph/pool/"):
            return [{"name": pool.name} for pool in reversed(ceph.pools)] if ceph is not None else []
        return [{name: value} for value in self.listed(template, name, values)]

    def path_values(self, template: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Values for every path parameter of ``template`` naming objects the cluster has, and the names it has
        none for. Where an object has children in the path (a user's tokens, a VM's snapshots), the first object
        that has some is taken."""
        names = re.findall(r"\{([^}]+)\}", template)

        def fill(index: int, values: dict[str, Any]) -> dict[str, Any] | None:
            if index == len(names):
                return values
            for option in self.candidates(template, names[index], values)[:_CANDIDATES]:
                found = fill(index + 1, {**values, **option})
                if found is not None:
                    return found
            return None

        found = fill(0, {})
        if found is not None:
            return found, ()
        values: dict[str, Any] = {}  # the first object where there is one, the rest made up by the caller
        missing = []
        for name in names:
            options = self.candidates(template, name, values)
            if options:
                values.update(options[0])
            elif name not in values:
                missing.append(name)
        return values, tuple(missing)

    def tickets(self, template: str, values: dict[str, Any]) -> dict[str, Any]:
        """What a client holds for a websocket call: the ticket its proxy or tunnel call answered (bound to the path,
        the port or the socket), minted by the cluster's signer as that POST mints it."""
        signer = self.api.auth.signer
        if template.endswith("/vncwebsocket") and "node" in values:
            path = f"/vms/{values['vmid']}" if "vmid" in values else f"/nodes/{values['node']}"
            return {"port": 5900, "vncticket": signer.short_lived_ticket("PVEVNC", "root@pam", path, 5900)}
        if template.endswith("/mtunnelwebsocket") and "vmid" in values:
            # qemu-server Qemu.pm 7225, pve-container LXC.pm 3140: the socket the tunnel ticket is for
            vmid = values["vmid"]
            socket = f"/run/pve/ct-{vmid}.mtunnel" if "/lxc/" in template else f"/run/qemu-server/{vmid}.mtunnel"
            return {"socket": socket, "ticket": signer.short_lived_ticket("PVETUNNEL", "root@pam", f"/socket/{socket}")}
        return {}

    def agent_values(self, template: str, values: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
        """What a client names to a VM's agent, from what that agent has: a pid its ``exec`` answered (a process
        not reported exited yet), a file of the guest (its OS's own, or one ``file-write`` wrote); and the query
        value the VM's agent has nothing for."""
        wanted = _AGENT_QUERIES.get(template)
        guest = self.cluster.find_guest(values["vmid"]) if wanted and "vmid" in values else None
        if wanted is None or guest is None:
            return {}, ()
        try:
            require_agent(self.cluster, guest)
        except PVEError:
            return {}, ()  # PVE refuses before asking the agent: whatever the value, the answer is its error
        cluster = self.cluster
        programs, files = cluster.guest_programs, cluster.guest_files
        found: list[Any] = programs.pids(cluster, guest) if wanted == "pid" else files.paths(cluster, guest)
        return ({wanted: found[0]}, ()) if found else ({}, (wanted,))

    def query_values(self, template: str, values: dict[str, Any]) -> dict[str, Any]:
        found = {}
        for name, (source, key) in _QUERY_SOURCES.get(template, {}).items():
            rows = [row for row in self.rows(source, values) if isinstance(row, dict) and row.get(key)]
            if rows:
                found[name] = rows[0][key]
        if template in _BACKUP_READS:  # a backup the node sees (on the storage the path names), when there is one
            for store in self.cluster.storages:
                if values.get("storage") not in (None, store.storage):
                    continue
                seen = [
                    v.volid for v in store.volumes if v.content == "backup" and v.node in (None, values.get("node"))
                ]
                if seen:
                    found["volume"] = sorted(seen)[0]
                    break
        return found


def _filled(template: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda match: quote(str(values[match[1]]), safe=""), template)


def expected_error(cluster: FakeCluster, template: str, values: dict[str, Any], message: str) -> str:
    """Why PVE answers ``message`` to this GET on this cluster (empty: PVE would answer it)."""
    node = str(values.get("node", ""))
    no_ceph = cluster.ceph is None or not cluster.ceph.installed_on(node)
    ceph_read = re.match(r"^/(cluster|nodes/\{node\})/ceph(/|$)", template) is not None
    # pve-manager PVE/Ceph/Tools.pm line 197 (check_ceph_installed) at 14a22df3
    if ceph_read and no_ceph and message.startswith("binary not installed: /usr/bin/ceph-mon"):
        return "Ceph is not installed on the node"
    guest = cluster.find_guest(values["vmid"]) if "/agent/" in template and "vmid" in values else None
    if guest is not None:  # qemu-server src/PVE/QemuServer/Agent.pm assert_agent_available, in its order
        agent = str(guest.config.get("agent", ""))
        if not agent:
            pve = ("No QEMU guest agent configured", "the VM has no agent configured")
        elif not guest.running:
            pve = (f"VM {guest.vmid} is not running", "the VM is not running")
        elif agent.split(",")[0] in ("0", "enabled=0"):
            pve = ("QEMU guest agent is not running", "the VM's agent is off")
        else:
            pve = ("", "")
        if pve[0] and message == pve[0]:
            return pve[1]
    # pve-storage src/PVE/Storage.pm scan_nfs 1544-1568, scan_cifs 1570-1607 and PBSPlugin.pm scan_datastores 833
    # at 0c56bad8: without a storage of that type the walk scans a server it made up, which does not answer
    scanned = re.match(r"^/nodes/\{node\}/scan/(nfs|cifs|glusterfs|pbs)$", template)
    unanswered = (
        "command '/sbin/showmount --no-headers --exports ",
        "unexpected status: NT_STATUS_IO_TIMEOUT)",
        "error fetching datastores - 500 Can't connect to ",
        "unable to resolve address for server ",
    )
    no_such_storage = scanned and not any(storage.plugintype == scanned[1] for storage in cluster.storages)
    if no_such_storage and message.startswith(unanswered):
        return "no storage of the cluster is on the scanned server"
    # pve-storage src/PVE/Storage/Plugin.pm get_identity 2678-2682 at 0c56bad8: only the PBS plugin has an identity
    storage = cluster.storage(str(values.get("storage", "")))
    not_pbs = storage is not None and storage.plugintype != "pbs"
    if template.endswith("/{storage}/identity") and not_pbs and message.startswith("get_identity not implemented"):
        return "only a PBS storage has an identity"
    # pve-storage src/PVE/Storage.pm prune_backups 1986-1990 at 0c56bad8: a dry run without options uses storage.cfg's
    no_retention = not_pbs and storage is not None and "prune-backups" not in storage.cfg_properties()
    if template.endswith("/{storage}/prunebackups") and no_retention and message.startswith("no prune-backups"):
        return "the storage keeps no retention settings"
    # a backup volume to name (the walk makes one up where the cluster has none): the plugin's parse error;
    # file-restore is for PBS storages only (pve-storage src/PVE/API2/Storage/FileRestore.pm 84-85)
    backup_reads = _BACKUP_READS
    named = str(values.get("volume", ""))
    is_backup = any(v.volid == named and v.content == "backup" for store in cluster.storages for v in store.volumes)
    made_up = ("unable to parse ", "can't find file ", "unable to use volume ")
    if template in backup_reads and not is_backup and message.startswith(made_up):
        return "no backup in the cluster to name"
    if template in backup_reads[1:] and not_pbs and "Only PBS storages supported for file-restore." in message:
        return "file restore reads PBS storages only"
    # pve-storage Storage.pm get_import_metadata 2495-2507, DirPlugin.pm 268-276 at 0c56bad8: no built-in scenario
    # holds an OVA/OVF to import, so the walk names a volume PVE's importer refuses or cannot read
    has_import = any(v.content == "import" for store in cluster.storages for v in store.volumes)
    refusals = ("storage does not support the importer API", "unable to parse directory volume name ",
                "invalid content type ", "invalid format", "command 'tar -xO", "unable to open file ")  # fmt: skip
    if template == _IMPORT_METADATA and not has_import and message.startswith(refusals):
        return "no appliance to import in the cluster"
    # pve-manager PVE/API2/Nodes.pm query_oci_repo_tags 1876-1886 at 14a22df3: skopeo asks the registry, and the fake
    # never goes online
    if template == "/nodes/{node}/query-oci-repo-tags" and message.startswith("command 'skopeo list-tags docker://"):
        return "the fake reaches no OCI registry"
    # pve-ha-manager src/PVE/API2/HA/Groups.pm lines 60, 97 and src/PVE/HA/Config.pm 261-267 at b71218f2: PVE 9
    # answers this once no group is left in groups.cfg (the CRM moved them to rules)
    migrated = template.startswith("/cluster/ha/groups") and cluster.ha.groups_migrated()
    if migrated and message.endswith("ha groups have been migrated to rules"):
        return "PVE 9 migrated the HA groups to rules"
    return ""


def walk_gets(cluster: FakeCluster) -> Iterator[Answer]:
    """Ask every GET of the cluster's version once, in schema order, and judge each answer."""
    walk = _Walk(cluster)
    facts = cluster_facts(cluster)
    for method, template in walk.api.registry.endpoints():
        if method != "GET":
            continue
        schema = walk.api.registry.endpoint(method, template).parameters_schema
        fixed, unfilled = walk.path_values(template)
        fixed.update(walk.query_values(template, fixed))
        agent, no_agent_object = walk.agent_values(template, fixed)
        fixed.update(agent)
        unfilled += no_agent_object
        fixed.update(walk.tickets(template, fixed))
        facts.params = fixed
        path_names = re.findall(r"\{([^}]+)\}", template)
        values, query = dict(fixed), {}
        for name, sub in (schema.get("properties") or {}).items():
            if name in path_names:
                values.setdefault(name, synthesize(sub, facts, name))
            elif name in fixed:
                query[name] = str(fixed[name])
            elif name in (schema.get("required") or ()):
                query[name] = str(synthesize(sub, facts, name))
        for name in path_names:  # a path value the schema does not declare
            values.setdefault(name, synthesize({"type": "string"}, facts, name))
        path = _filled(template, values)
        response = walk.get(path, query)
        body = response.json() or {}
        answer = Answer(template, path, response.status, unfilled=unfilled)
        if response.status == 200:
            answer.problems = problems_in(body.get("data"), cluster, _AHEAD.get(template, 86400))
        else:
            answer.message = str(body.get("message") or "").strip()
            errors = body.get("errors")
            if errors:
                answer.message += " " + "; ".join(f"{key}: {text}" for key, text in sorted(errors.items()))
            answer.expected = expected_error(cluster, template, values, answer.message)
            if not answer.expected and not unfilled:
                answer.problems = [f"HTTP {response.status}: {answer.message}"]
        yield answer


def measure(
    scenarios: tuple[str, ...] = SCENARIOS, versions: tuple[str, ...] = VERSIONS
) -> list[tuple[str, str, Answer]]:
    """Every GET of every version in every scenario: (scenario, version, answer)."""
    results: list[tuple[str, str, Answer]] = []
    for scenario in scenarios:
        for version in versions:
            cluster = FakeCluster.from_scenario(scenario, version=version)
            results.extend((scenario, version, answer) for answer in walk_gets(cluster))
    return results
