"""The realism check: every GET of a PVE version, asked of a built-in scenario, judged for what a real node would
never send.

An answer is schema-valid long before it is real. This walks every documented GET with path values taken from the
cluster (a guest's own node, a running VM with its agent where there is one, a storage on that node) and flags:

- placeholder words (``example``, ``placeholder``, ``dummy``, ``lorem`` ...) in any string;
- empty objects in lists (``[{}]``: a row with nothing in it);
- ids the cluster does not have (``vmid``, ``node``, ``storage`` keys naming guests, nodes, storages that do not
  exist);
- times off the cluster's clock (epoch fields such as ``time``, ``starttime``, ``ctime`` outside the last years
  before the cluster's ``now``).

``pvemock realism`` prints the counts per method; ``tests/test_realism.py`` asserts the methods made real stay so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from pytest_pvemock.api.app import PveApi
from pytest_pvemock.api.messages import ApiRequest
from pytest_pvemock.api.synthesis import cluster_facts
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.schema.synthesis import synthesize

PLACEHOLDER = re.compile(r"(?i)\b(example|placeholder|dummy|lorem|ipsum|foobar|changeme)\b")
TIME_KEYS = frozenset({"time", "starttime", "endtime", "ctime", "mtime", "checktime", "timestamp", "lastsync",
                       "last_sync", "last-run", "last_try", "logtime", "regdate"})  # fmt: skip
YEAR = 365 * 86400
SCENARIOS = ("default", "ha-three-node", "ceph")
VERSIONS = ("9.1", "8.4")


@dataclass
class Answer:
    """One GET and what is wrong with its answer (``status`` other than 200: not judged)."""

    template: str
    path: str
    status: int
    problems: list[str] = field(default_factory=list)


def problems_in(data: Any, cluster: FakeCluster) -> list[str]:
    """What in ``data`` a real PVE node of this cluster would not send, one line per kind and place."""
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
            if key in TIME_KEYS and value and not now - 10 * YEAR <= value <= now + 86400:
                note(f"time {value} off the cluster's clock ({now}) at {where}")

    walk(data, "data", None)
    return found


def _path_values(cluster: FakeCluster, template: str) -> dict[str, Any]:
    """Path values naming things that exist: the guest's own node, a running guest (with its agent on)."""
    kind = "lxc" if "/lxc/" in template else "qemu"
    guests = [guest for guest in cluster.guests if guest.kind == kind and not guest.template]
    guests.sort(key=lambda guest: (not guest.running, not str(guest.config.get("agent", "0")).startswith("1")))
    values: dict[str, Any] = {}
    online = [node.name for node in cluster.nodes if node.online]
    values["node"] = online[0] if online else cluster.nodes[0].name
    if "{vmid}" in template and guests:
        values["vmid"] = guests[0].vmid
        values["node"] = guests[0].node
    storages = cluster.storages_on(values["node"])
    if storages:
        values["storage"] = storages[0].storage
    ceph = cluster.ceph
    if ceph is not None and ceph.installed_on(values["node"]):
        osds = ceph.osds_on(values["node"])
        if osds:
            values["osdid"] = osds[0].osdid
        if template.startswith("/nodes/{node}/ceph/pool"):
            values["name"] = ceph.pools[-1].name
    return values


def walk_gets(cluster: FakeCluster) -> Iterator[Answer]:
    """Ask every GET of the cluster's version once, in schema order, and judge each answer."""
    api = PveApi(cluster)
    signer = api.auth.signer
    headers = {"Cookie": f"PVEAuthCookie={quote(signer.ticket('root@pam'), safe='')}"}
    facts = cluster_facts(cluster)
    for method, template in api.registry.endpoints():
        if method != "GET":
            continue
        endpoint = api.registry.endpoint(method, template)
        schema = endpoint.parameters_schema
        fixed = _path_values(cluster, template)
        facts.params = fixed
        path_names = re.findall(r"\{([^}]+)\}", template)
        path, query = template, {}
        for name, sub in (schema.get("properties") or {}).items():
            if name in path_names:
                value = fixed.get(name, synthesize(sub, facts, name))
                path = path.replace(f"{{{name}}}", quote(str(value), safe=""))
            elif name in (schema.get("required") or ()):
                query[name] = str(synthesize(sub, facts, name))
        response = api.handle(ApiRequest("GET", "/api2/json" + path, urlencode(query), headers, b""))
        answer = Answer(template, path, response.status)
        if response.status == 200:
            answer.problems = problems_in(response.json().get("data"), cluster)
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
