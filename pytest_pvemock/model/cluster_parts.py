"""State that a cluster may carry itself or be given on first use (its ACL, its config store, ...).

A :class:`~pytest_pvemock.model.cluster.FakeCluster` can hold such a part as an attribute; any other object
the API is handed as a cluster gets one kept in its ``__dict__``, so that every request sees the same one.
"""

from __future__ import annotations

from typing import Any, TypeVar

PartT = TypeVar("PartT")


def cluster_part(cluster: Any, attribute: str, kind: type[PartT]) -> PartT:
    """``cluster.<attribute>`` when it is a ``kind``, else a ``kind()`` kept on the cluster on first use."""
    own = getattr(cluster, attribute, None)
    if isinstance(own, kind):
        return own
    key = f"_pvemock_{attribute}"
    kept = cluster.__dict__.get(key)
    if not isinstance(kept, kind):
        kept = cluster.__dict__[key] = kind()
    return kept
