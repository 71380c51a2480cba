"""Directory index methods: ``GET /cluster`` -> ``[{"name": "acme"}, ...]``, as PVE lists a path's children.

An index method is a ``GET`` whose answer is a list of one-key objects naming the children (the key is
``name``, ``subdir``, ``id``, ...: the ``href`` of the ``links`` in PVE's schema).
PVE writes these lists by hand in each API module; :data:`~pytest_pvemock.api.index_listings.INDEX_LISTINGS`
holds the ones read from PVE's sources (PVE's order and contents, per major version). An index without one there
lists the schema's static children.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_pvemock.api.index_listings import INDEX_LISTINGS

__all__ = ["index_children", "index_key", "pve_index_listing"]


def pve_index_listing(template: str, version: str) -> list[dict[str, str]] | None:
    """PVE's own answer for the index at ``template`` on PVE ``version`` ("8.4", "9.1"), or ``None`` if unknown."""
    listings = INDEX_LISTINGS.get(template)
    if not listings:
        return None
    major = int(version.split(".", 1)[0])
    known = [listed for listed in sorted(listings) if listed <= major]
    if not known:
        return None
    key, names = listings[known[-1]]
    return [{key: name} for name in names]


def index_key(returns: Mapping[str, Any], child_templates: list[str]) -> str | None:
    """The key of an index listing (``name``, ``subdir``, ...) when the method is one, else ``None``.

    The generated schemas drop PVE's display-only ``links``, so an index is recognised by its shape: a list of
    objects with at most one property, on a path whose children are all fixed names.
    """
    if returns.get("type") != "array" or not child_templates:
        return None
    if any(child.rsplit("/", 1)[1].startswith("{") for child in child_templates):
        return None
    items = returns.get("items")
    if not isinstance(items, Mapping):
        return None
    properties = list((items.get("properties") or {}).keys())
    if len(properties) > 1:
        return None
    return properties[0] if properties else "name"


def index_children(template: str, child_templates: list[str], key: str, version: str = "9.1") -> list[dict[str, str]]:
    """The listing of an index method: PVE's own list where it is known, else one ``{key: child}`` per child."""
    listing = pve_index_listing(template, version)
    if listing is not None:
        return listing
    static = [child.rsplit("/", 1)[1] for child in child_templates if not child.rsplit("/", 1)[1].startswith("{")]
    return [{key: name} for name in static]
