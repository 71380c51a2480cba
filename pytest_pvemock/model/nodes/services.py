"""The systemd services of a PVE node as ``/nodes/{node}/services`` lists them: PVE's own list per release (its
schema's enum), each unit's description and its state on a running node (data: ``third_party/pve-services``, see
its SOURCE.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.pve_data import pve_data
from pytest_pvemock.schema.registry import get_registry

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.nodes.node import Node
    from pytest_pvemock.model.tasks import Task


def _data() -> dict[str, Any]:
    data: dict[str, Any] = pve_data("pve-services", "services.json")
    return data


def _release(cluster: FakeCluster) -> str:
    """Which ``unit_extra_names`` apply: PVE 8's (``postfix@-``) until Services.pm read ``postfix`` itself."""
    return "9" if cluster.has("services-postfix-unit") else "8"


def service_names(cluster: FakeCluster) -> list[str]:
    """The services PVE's ``Services.pm`` knows on the cluster's release (the ``service`` enum of that release's
    schema: 16 on 7.0-1, 19 from 7.1-2, 23 from 9.0.3), sorted as the answer lists them."""
    schema = get_registry(cluster.version).endpoint("GET", "/nodes/{node}/services/{service}/state")
    return sorted(schema.parameters_schema["properties"]["service"]["enum"])


def _unit(cluster: FakeCluster, service: str) -> str:
    return str(_data()["unit_extra_names"][_release(cluster)].get(service, service))


def service_state(cluster: FakeCluster, service: str, node: Node | None = None) -> dict[str, Any]:
    """``service``, ``name``, ``desc`` and the unit's ``state``, ``unit-state`` and ``active-state`` (on ``node``:
    ``dead``/``inactive`` once stopped through the API)."""
    unit = _unit(cluster, service)
    facts = _data()["units"][unit]
    stopped = node is not None and unit in node.stopped_units
    return {
        "service": service,
        "name": service,
        "desc": facts["desc"],
        "state": "dead" if stopped else facts["state"],
        "unit-state": facts["unit-state"],
        "active-state": "inactive" if stopped else facts["active-state"],
    }


#: Services.pm ``$essential_services`` (44-48): never stopped through the API.
ESSENTIAL = frozenset({"pveproxy", "pvedaemon", "pve-cluster"})
#: The task type of each command (Services.pm 343-493) and the ``systemctl`` verb its worker runs.
COMMANDS = {"start": ("srvstart", "start"), "stop": ("srvstop", "stop"), "restart": ("srvrestart", "restart"),
            "reload": ("srvreload", "try-reload-or-restart")}  # fmt: skip


def service_command(cluster: FakeCluster, node: Node, service: str, command: str, authid: str) -> Task:
    """``POST /nodes/{node}/services/{service}/{command}``: a worker running ``systemctl <verb> <unit>``. Stopping
    an essential service or a unit the node does not have fails in the task, as ``$service_cmd`` (99-112) and
    ``run_command`` do."""
    task_type, verb = COMMANDS[command]
    unit = _unit(cluster, service)

    def work(task: Task) -> None:
        if service in ESSENTIAL and verb == "stop":
            raise PVEError(f"invalid service cmd '{service} {verb}': refusing to stop essential service!")
        if _data()["units"][unit]["unit-state"] == "not-found":  # 'Unit <unit>.service not loaded.', exit code 5
            raise PVEError(f"command 'systemctl {verb} {service}' failed: exit code 5")
        if verb == "stop":
            node.stopped_units = node.stopped_units | {unit}
        else:
            node.stopped_units = node.stopped_units - {unit}
            if unit == "pveproxy":  # pveproxy.pm 148-157: it reads its certificate files when it (re)starts
                cluster.node_certificates.reload_proxy(node.name)
        if unit in ("pve-ha-lrm", "pve-ha-crm"):
            cluster.ha.daemon_unit(node.name, unit, verb)

    return cluster.tasks.start(node.name, task_type, service, authid, work=work)
