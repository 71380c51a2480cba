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
    from pytest_pvemock.model.builders.spec import ClusterSpec
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


def keep_credentials(current: FakeCluster, loaded: FakeCluster, spec: ClusterSpec) -> None:
    """What ``loaded`` (built from ``spec``, to replace ``current`` in place) keeps of the credentials ``current``
    has, so that loading a dump of a server into itself locks nobody out (a dump never holds a secret):

    - the key tickets are signed with: a node's ``authkey.key`` is no part of a scenario, so a ticket stays valid
      while its user exists;
    - a user the scenario declares without ``password``/``password_env`` (root@pam, also when not declared) keeps the
      password it has now, and a token declared without ``secret``/``secret_env`` keeps its secret (a new token
      gets a new one).
    """
    loaded.access.ticket_secret = current.access.ticket_secret
    declared = {user.userid: user for user in spec.users}
    for userid, after in loaded.access.users.items():  # root@pam too, which every cluster has
        before = current.access.users.get(userid)
        if before is None:
            continue
        user_spec = declared.get(userid)
        given = user_spec is not None and (user_spec.password is not None or user_spec.password_env is not None)
        if not given and before.password is not None:
            after.password = before.password
        for token_spec in user_spec.tokens if user_spec is not None else ():
            old = before.tokens.get(token_spec.tokenid)
            new = after.tokens.get(token_spec.tokenid)
            if old is not None and new is not None and token_spec.secret is None and token_spec.secret_env is None:
                new.secret = old.secret
