"""A cluster as scenario YAML: what ``load_scenario`` reads back into the same cluster.

``scenario_of(cluster)`` writes the cluster's ``ClusterSpec`` (``model/builders/spec.py``: its settings, the clock's
current time as ``start_time``, nodes, storage with its static volumes, pools, guests with their whole config, users
and tokens, and the HA resources, groups and rules) in the format of :mod:`pytest_pvemock.model.builders.scenario`.
Sizes drawn from the seed at build time (node memory and disk, storage size and use) are written so that the same
seed draws them again to the same byte.

Not written: passwords and token secrets (unless ``secrets=True``: a scenario is a file, and a file is no place for
them), snapshots' own configs (a loaded snapshot takes the guest's config), pending changes, running tasks, and the
state only the API's collections keep (ACLs, groups, roles, firewall, SDN, backup jobs ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from pytest_pvemock.model.builders.scenario import scenario_data
from pytest_pvemock.model.builders.spec import spec_from_cluster

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster


def scenario_of(cluster: FakeCluster, secrets: bool = False) -> dict[str, Any]:
    """The scenario (as plain data) that builds ``cluster`` as it is now; ``secrets`` adds passwords and tokens'
    secrets. The cluster's :func:`~.spec.spec_from_cluster`, written as a scenario file holds it."""
    data = scenario_data(spec_from_cluster(cluster, secrets=secrets))
    return {"description": f"Dumped from cluster {cluster.name} at {cluster.clock.now()}", **data}


def scenario_yaml(cluster: FakeCluster, secrets: bool = False) -> str:
    """:func:`scenario_of` as YAML text, keys in the order a scenario file writes them."""
    return yaml.safe_dump(scenario_of(cluster, secrets), sort_keys=False, default_flow_style=False, width=120)
