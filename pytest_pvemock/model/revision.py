"""Change tracking: a revision number that moves whenever something a view shows may have changed.

Answers that are costly to compute (``/cluster/resources`` over a thousand guests) are kept until the cluster's
revision or the clock moves. Guests, nodes and storages report assignments to their watched attributes, and
guest configs are :class:`TrackedDict` instances that report every change, so tests may change them directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Revision:
    """A counter; :meth:`touch` moves it."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def touch(self) -> None:
        self.value += 1


def _untracked() -> None:
    return None


class TrackedDict(dict[Any, Any]):
    """A dict that calls ``on_change`` after every change (set, delete, update, pop, clear ...)."""

    __slots__ = ("on_change",)

    def __init__(self, *args: Any, on_change: Callable[[], None] = _untracked, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_change = on_change

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self.on_change()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self.on_change()

    def pop(self, *args: Any) -> Any:
        result = super().pop(*args)
        self.on_change()
        return result

    def popitem(self) -> tuple[Any, Any]:
        result = super().popitem()
        self.on_change()
        return result

    def setdefault(self, key: Any, default: Any = None) -> Any:
        result = super().setdefault(key, default)
        self.on_change()
        return result

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self.on_change()

    def clear(self) -> None:
        super().clear()
        self.on_change()

    # |= takes any mapping or pairs, | only dicts: typeshed's own dict.__ior__ carries the same ignore
    def __reduce__(self) -> tuple[Any, ...]:
        """Copies and pickles get the items first and ``on_change`` last: rebuilding one reports no change."""
        return (TrackedDict, (dict(self),), (None, {"on_change": self.on_change}))

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[misc]
        self.update(other)
        return self


class Watched:
    """Mixin: assigning one of ``WATCHED`` attributes calls the object's ``_on_change`` (when one is set)."""

    WATCHED: frozenset[str] = frozenset()
    #: What to call on a change; None (the default) while the object is being built or not yet registered.
    _on_change: Callable[[], None] | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in self.WATCHED:
            callback = self._on_change
            if callback is not None:
                callback()
