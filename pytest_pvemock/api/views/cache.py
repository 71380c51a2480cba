"""One cache of rendered views per cluster, keyed on (revision, clock, release).

Every fact a view shows moves the cluster's revision when it changes (guests, nodes and storages report their
changes, see :mod:`pytest_pvemock.model.revision`), except two that are read directly: the pools' member lists
(plain lists tests may append to) and the HA manager's own revision; both are part of the revision here. An
answer kept under one key is the answer for as long as the key holds. What does not move with the clock is kept
while the revision holds (:attr:`ViewCache.steady`: each guest's row with the figures that grow with its uptime
set aside, storage entries, the guests' load per node), so that a moving clock only redraws what moves; the rows
of guests whose own facts did not change are kept even across revisions (:attr:`ViewCache.rows`).

The cache lives beside the cluster (a weak mapping in this module), not inside it: the model knows nothing of it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

T = TypeVar("T")


class ViewCache:
    """The views of one cluster: :attr:`answers` at one key, :attr:`steady` at one (revision, release), and
    :attr:`rows`, which outlive both (each row carries the facts it was rendered from)."""

    __slots__ = ("__weakref__", "answers", "key", "rows", "steady", "steady_key")

    def __init__(self) -> None:
        #: (revision, clock, release), or ``None`` when it cannot be known (then nothing is kept).
        self.key: tuple[Any, ...] | None = None
        self.answers: dict[Hashable, Any] = {}
        #: What does not move with the clock: kept while the revision and the release stay.
        self.steady_key: tuple[Any, ...] | None = None
        self.steady: dict[Hashable, Any] = {}
        #: Per object (``qemu/100``): what its row depends on besides the clock, and the row.
        self.rows: dict[str, tuple[Any, Any]] = {}

    def answer(self, name: Hashable, compute: Callable[[], T]) -> T:
        """The view ``name`` at the current key, computed once per key."""
        if self.key is None:
            return compute()
        found = self.answers.get(name)
        if found is None:
            found = self.answers[name] = compute()
        return found

    def steady_part(self, name: Hashable, compute: Callable[[], T]) -> T:
        """The part ``name`` of a view that does not move with the clock, computed once per revision."""
        if self.steady_key is None:
            return compute()
        found = self.steady.get(name)
        if found is None:
            found = self.steady[name] = compute()
        return found


_CACHES: weakref.WeakKeyDictionary[FakeCluster, ViewCache] = weakref.WeakKeyDictionary()


def view_key(cluster: FakeCluster) -> tuple[Any, ...] | None:
    """(revision, clock, release) of ``cluster``; ``None`` with an HA provider that keeps no revision."""
    ha_revision = None
    if cluster.ha_provider is not None:
        ha_revision = getattr(cluster.ha_provider, "revision", None)
        if ha_revision is None:
            return None
    pools = tuple((pool.poolid, tuple(pool.vmids), tuple(pool.storages)) for pool in cluster.pools)
    revision = (cluster.revision.value, ha_revision, pools, cluster.key_order.enabled)
    return (revision, cluster.clock.now(), cluster.version)


def view_cache(cluster: FakeCluster) -> ViewCache:
    """The cluster's cache, emptied of answers when its key moved since the last call."""
    cache = _CACHES.get(cluster)
    if cache is None:
        cache = _CACHES[cluster] = ViewCache()
    key = view_key(cluster)
    if key is None or key != cache.key:
        cache.answers.clear()
        cache.key = key
        steady_key = None if key is None else (key[0], key[2])
        if steady_key is None or steady_key != cache.steady_key:
            cache.steady.clear()
            cache.steady_key = steady_key
    return cache
