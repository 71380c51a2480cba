"""The systemd services of a PVE node as ``/nodes/{node}/services`` lists them: PVE's own list per release, each
unit's description and its state on a running node (data: ``third_party/pve-services``, see its SOURCE.md)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_CANDIDATES = (_PACKAGE_DIR / "_pve_services", _PACKAGE_DIR.parent / "third_party" / "pve-services")


@cache
def _data() -> dict[str, Any]:
    for folder in _CANDIDATES:
        path = folder / "services.json"
        if path.is_file():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    raise FileNotFoundError("services.json not found in " + ", ".join(str(folder) for folder in _CANDIDATES))


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
