"""Give a cluster another cluster's state in place: a reset or a scenario load that keeps the same object.

Fixtures, transports, servers and tests hold the :class:`FakeCluster` object itself; replacing it would leave
them answering (or looking at) the old one. :func:`become` copies the state of ``source`` into ``target`` so that
every part that pointed at ``source`` (HA, guests, nodes, the clock's timers) points at ``target``, and keeps
what belongs to the object rather than to the state: its lock (held by every transport) and its request log.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

#: Attributes that stay with the object across a reset or a load: the lock and the log of requests.
KEPT = ("lock", "requests")


def become(target: FakeCluster, source: FakeCluster) -> None:
    """Make ``target`` a copy of ``source`` (``source`` is left as it was and shares nothing with ``target``)."""
    kept = {name: target.__dict__[name] for name in KEPT if name in target.__dict__}
    revision = target.revision.value
    state = copy.deepcopy(source.__dict__, {id(source): target})
    target.__dict__.clear()
    target.__dict__.update(state)
    target.__dict__.update(kept)
    # caches keyed on the revision must never take the new state for an old one: the number only goes up
    target.revision.value = max(revision, target.revision.value) + 1
