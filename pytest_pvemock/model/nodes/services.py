"""The systemd services of a PVE node as ``/nodes/{node}/services`` lists them: PVE's own list per release (its
schema's enum), each unit's description and its state on a running node (data: ``third_party/pve-services``, see
its SOURCE.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.pve_data import pve_data
from pytest_pvemock.schema.registry import get_registry

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster


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


def service_state(cluster: FakeCluster, service: str) -> dict[str, Any]:
    """``service``, ``name``, ``desc`` and the unit's ``state``, ``unit-state`` and ``active-state``."""
    data = _data()
    unit = data["unit_extra_names"][_release(cluster)].get(service, service)
    facts = data["units"][unit]
    return {
        "service": service,
        "name": service,
        "desc": facts["desc"],
        "state": facts["state"],
        "unit-state": facts["unit-state"],
        "active-state": facts["active-state"],
    }
