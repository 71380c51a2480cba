"""How a transport hooks its client library: one method of one class, replaced while the fake is installed.

Every in-process transport declares its hook as a :class:`MethodPatch` and calls ``install()``/``uninstall()``
from its own module functions; nesting, threads and putting the library's own method back are handled here.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any


class MethodPatch:
    """``Class.method`` replaced by ``replacement`` while any :meth:`install` is not yet matched by :meth:`uninstall`.

    ``target`` names the method as ``"module.Class.method"``; the module is imported only when the patch is
    installed, so a transport module can be imported without its library. The replaced method is kept in
    :attr:`original` for the replacement to pass requests through to. Thread-safe.
    """

    def __init__(self, target: str, replacement: Callable[..., Any]) -> None:
        self.module, self.owner, self.name = _split_target(target)
        self.replacement = replacement
        self.original: Any = None
        self._installs = 0
        self._lock = threading.Lock()

    @property
    def installed(self) -> bool:
        return self._installs > 0

    def install(self) -> None:
        """Put the replacement in place (the first call does; later ones are counted)."""
        with self._lock:
            self._installs += 1
            if self._installs > 1:
                return
            owner = self._owner_class()
            current = getattr(owner, self.name)
            # Still ours when another library patched over us and, after we left, put "its original" (us) back.
            if current is not self.replacement:
                self.original = current
            setattr(owner, self.name, self.replacement)

    def uninstall(self) -> None:
        """Undo one :meth:`install`; the last one puts the original back."""
        with self._lock:
            if self._installs == 0:
                return
            self._installs -= 1
            if self._installs > 0:
                return
            owner = self._owner_class()
            # A patch another library laid over ours is left in place: it will restore ours, which passes through.
            if getattr(owner, self.name) is self.replacement:
                setattr(owner, self.name, self.original)

    def _owner_class(self) -> type:
        return getattr(importlib.import_module(self.module), self.owner)  # type: ignore[no-any-return]


def _split_target(target: str) -> tuple[str, str, str]:
    owner_path, _, method = target.rpartition(".")
    module, _, owner = owner_path.rpartition(".")
    if not module:
        raise ValueError(f"a patch target names module.Class.method, not {target!r}")
    return module, owner, method
