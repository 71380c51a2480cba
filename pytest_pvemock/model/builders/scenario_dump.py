"""A cluster as scenario YAML: what ``load_scenario`` reads back into the same cluster.

``scenario_of(cluster)`` writes the cluster's ``ClusterSpec`` (``model/builders/spec.py``: its settings, the clock's
current time as ``start_time``, nodes, storage with its static volumes, pools, guests with their whole config, users
and tokens, groups, roles and ACL, the HA resources, groups and rules, and under ``config`` every collection clients
wrote through the API: firewall, SDN, jobs, metric servers, notifications, mappings, realms, options) in the format
of :mod:`pytest_pvemock.model.builders.scenario` (docs/scenarios.md). Sizes drawn from the seed at build time (node
memory and disk, storage size and use) are written so that the same seed draws them again to the same byte.

Never written: a secret (passwords, token secrets, the ticket key, anything PVE's schema classes as secret); a
loaded token exists with its properties and a new secret (docs/scenarios.md, "Secrets"). Not written either: the
history (tasks, logs). The applied SDN configuration (``cluster.sdn``) is written under ``sdn``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from pytest_pvemock.model.builders.scenario import scenario_data
from pytest_pvemock.model.builders.spec import spec_from_cluster

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster


def scenario_of(cluster: FakeCluster) -> dict[str, Any]:
    """The scenario (as plain data) that builds ``cluster`` as it is now, without a secret: the cluster's
    :func:`~.spec.spec_from_cluster`, written as a scenario file holds it."""
    data = scenario_data(spec_from_cluster(cluster))
    return {"description": f"Dumped from cluster {cluster.name} at {cluster.clock.now()}", **data}


def scenario_yaml(cluster: FakeCluster) -> str:
    """:func:`scenario_of` as YAML text, keys in the order a scenario file writes them."""
    return yaml.safe_dump(scenario_of(cluster), sort_keys=False, default_flow_style=False, width=120)
