"""Handlers per area of the PVE API. Importing this package registers every handler in ``HANDLERS``."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    """Import every handler module once so that their ``@handles`` decorators run."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
