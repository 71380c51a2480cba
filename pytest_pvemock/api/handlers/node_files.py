"""``/nodes/{node}/hosts``: the node's ``/etc/hosts`` with its SHA-1 digest (pve-manager PVE/API2/Nodes.pm
``get_etc_hosts``/``write_etc_hosts``, commit 14a22df3; PVE::INotify ``read_etc_hosts``): the installer's file
(:mod:`pytest_pvemock.model.nodes.files`) until a client writes another, then that one."""

from __future__ import annotations

import hashlib
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.config_store import config_store_of
from pytest_pvemock.model.nodes.files import etc_hosts


def _stored(ctx: HandlerContext) -> dict[str, Any]:
    return config_store_of(ctx.cluster).option_set(f"/nodes/{ctx.params['node']}/hosts")


def _content(ctx: HandlerContext) -> str:
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    return str(_stored(ctx).get("data") or etc_hosts(ctx.cluster, node))


@handles("GET", "/nodes/{node}/hosts")
def read_etc_hosts(ctx: HandlerContext) -> dict[str, Any]:
    content = _content(ctx)
    return {"digest": hashlib.sha1(content.encode()).hexdigest(), "data": content}


@handles("POST", "/nodes/{node}/hosts")
def write_etc_hosts(ctx: HandlerContext) -> None:
    content = _content(ctx)
    digest = ctx.params.get("digest")
    if digest and digest != hashlib.sha1(content.encode()).hexdigest():
        raise PVEError("detected modified configuration - file changed by other user? Try again.")
    _stored(ctx)["data"] = str(ctx.params["data"])
