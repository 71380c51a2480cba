"""The transport patches that :func:`pytest_pvemock.mock` installs, one per HTTP client library.

Each patch is a module with ``install()``, ``uninstall()`` and ``is_installed()`` that hooks one library
(``requests``: its ``HTTPAdapter.send``) so that requests to routed hosts reach the fake in-process; the hook
itself is a :class:`~pytest_pvemock.transports.patching.MethodPatch`. A patch is installed while at least one
:func:`installed` block is open, and only when its library can be imported. Patches for other libraries
register themselves here with :func:`register_transport`::

    register_transport("httpx", library="httpx", module="pytest_pvemock.transports.httpx_patch")
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class TransportPatch:
    """``module`` patches the client library ``library`` (a top-level import name)."""

    name: str
    library: str
    module: str


TRANSPORT_PATCHES: dict[str, TransportPatch] = {}

_lock = threading.RLock()
_depth = 0
_active: list[ModuleType] = []
_available: dict[str, bool] = {}


def register_transport(name: str, *, library: str, module: str) -> None:
    """Add (or replace) the patch called ``name``; it takes effect at the next outermost :func:`installed`."""
    TRANSPORT_PATCHES[name] = TransportPatch(name, library, module)


register_transport("requests", library="requests", module="pytest_pvemock.transports.requests_patch")
register_transport("httpx", library="httpx", module="pytest_pvemock.transports.httpx_patch")
register_transport("aiohttp", library="aiohttp", module="pytest_pvemock.transports.aiohttp_patch")
register_transport("urllib3", library="urllib3", module="pytest_pvemock.transports.urllib3_patch")
register_transport("pvesh", library="proxmoxer", module="pytest_pvemock.transports.pvesh")


def _library_available(library: str) -> bool:
    known = _available.get(library)
    if known is None:
        known = _available[library] = importlib.util.find_spec(library) is not None
    return known


def _install_all() -> None:
    for patch in TRANSPORT_PATCHES.values():
        if not _library_available(patch.library):
            continue
        module = importlib.import_module(patch.module)
        module.install()
        _active.append(module)


def _uninstall_all() -> None:
    while _active:
        _active.pop().uninstall()


def installed_names() -> list[str]:
    """The names of the libraries patched right now (for messages and tests)."""
    with _lock:
        return [module.__name__ for module in _active]


@contextmanager
def installed() -> Iterator[None]:
    """Keep every available transport patch installed inside the block; blocks nest."""
    global _depth
    with _lock:
        if _depth == 0:
            try:
                _install_all()
            except BaseException:
                _uninstall_all()
                raise
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _uninstall_all()
