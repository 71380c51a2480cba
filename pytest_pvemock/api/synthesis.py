"""Synthesised answers with the cluster's own names: :func:`cluster_facts` feeds the schema walker.

The walker itself (:func:`synthesize`, pattern-matching values, regex inversion) is pure schema code in
:mod:`pytest_pvemock.schema.synthesis`; its names are re-exported here for the API's modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_pvemock.schema.synthesis import (
    UPID_EXAMPLE,
    Facts,
    format_value,
    pattern_value,
    property_string,
    schema_type,
    synthesize,
    value_fits,
)

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

__all__ = [
    "UPID_EXAMPLE",
    "Facts",
    "cluster_facts",
    "format_value",
    "pattern_value",
    "property_string",
    "schema_type",
    "synthesize",
    "value_fits",
]


def cluster_facts(cluster: FakeCluster, params: Mapping[str, Any] | None = None) -> Facts:
    """The cluster's own names for synthesised answers, with the request's parameters taking precedence."""
    facts = Facts(params=dict(params or {}))
    names = [node.name for node in cluster.nodes]
    if names:
        facts.nodes = names
    vmids = [guest.vmid for guest in cluster.guests]
    if vmids:
        facts.vmids = vmids
    storages = [storage.storage for storage in cluster.storages]
    if storages:
        facts.storages = storages
    pools = [pool.poolid for pool in cluster.pools]
    if pools:
        facts.pools = pools
    facts.userids = list(cluster.access.users) or facts.userids
    facts.now = cluster.clock.now()
    latest = next(iter(reversed(list(cluster.tasks))), None)
    if latest is not None:
        facts.upid = latest.upid
    return facts
