"""The systemd services of a PVE node as ``/nodes/{node}/services`` lists them: PVE's own list per release, each
unit's description and its state on a running node (data: ``third_party/pve-services``, see its SOURCE.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_pvemock.pve_data import pve_data

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster


def _data() -> dict[str, Any]:
    data: dict[str, Any] = pve_data("pve-services", "services.json")
    return data


def _release(cluster: FakeCluster) -> str:
    return "9" if cluster.version_at_least(9) else "8"


def service_names(cluster: FakeCluster) -> list[str]:
    """The services PVE's ``Services.pm`` knows on the cluster's release, sorted as the answer lists them."""
    return sorted(_data()["lists"][_release(cluster)])


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
