"""``/nodes/{node}/syslog``: the node's journal (:mod:`pytest_pvemock.model.nodes.journal`) paged as
``dump_journal`` pages it (pve-common src/PVE/Tools.pm, commit f665029e; pve-manager PVE/API2/Nodes.pm ``syslog``):
``start``/``limit`` (default 50), ``since``/``until``, ``service`` (``sshd`` is the ``ssh`` unit, ``postfix``
``postfix@-``), ``total`` beside the lines, and one ``no content`` line when nothing matches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, Result, handles
from pytest_pvemock.errors import ParameterError
from pytest_pvemock.model.nodes.journal import journal


def _moment(ctx: HandlerContext, name: str) -> int | None:
    text = ctx.params.get(name)
    if text is None:
        return None
    try:
        moment = datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S" if ":" in str(text) else "%Y-%m-%d")
    except ValueError:
        raise ParameterError({name: "value does not match the regex pattern"}) from None
    return int(moment.replace(tzinfo=ctx.cluster.tzinfo).timestamp())


@handles("GET", "/nodes/{node}/syslog")
def read_syslog(ctx: HandlerContext) -> Result:
    node = ctx.cluster.require_node_reachable(ctx.params["node"])
    since, until = _moment(ctx, "since"), _moment(ctx, "until")
    service = ctx.params.get("service")
    entries = [
        entry
        for entry in journal(ctx.cluster, node)
        if (since is None or entry.time >= since)
        and (until is None or entry.time <= until)
        and (not service or entry.unit == service)
    ]
    start, limit = int(ctx.params.get("start") or 0), int(ctx.params.get("limit") or 50)
    lines: list[dict[str, Any]] = [
        {"n": number, "t": entry.text} for number, entry in enumerate(entries, 1) if number > start
    ][:limit]
    count = len(entries)
    if not count:
        count, lines = 1, [{"n": 1, "t": "no content"}]
    return Result(lines, extra={"total": count})
