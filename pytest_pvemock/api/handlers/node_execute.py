"""``POST /nodes/{node}/execute``: a batch of API calls on this node, each answered with its status.

pve-manager PVE/API2/Nodes.pm ``execute`` lines 597-671 at 14a22df3 (root only: the method declares no permissions):
each command's ``path`` is taken below ``nodes/{node}/``, its ``args`` added to the path's parameters (one naming a
path parameter is ``duplicate parameter``), the method's permissions checked for the caller, then it runs. Every
command gets ``{"status": 200, "data": ...}`` or its error: ``status`` (500 unless the error has a code),
``message`` and, for parameter errors, ``errors``. A failing command does not stop the next.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError


@handles("POST", "/nodes/{node}/execute")
def execute(ctx: HandlerContext) -> list[dict[str, Any]]:
    """Each command's answer, in order."""
    assert ctx.call is not None
    node = str(ctx.params["node"])
    results: list[dict[str, Any]] = []
    for command in json.loads(str(ctx.params["commands"])):
        path = f"/nodes/{node}/{str(command['path']).lstrip('/')}"
        try:
            data = ctx.call(str(command["method"]).upper(), path, dict(command.get("args") or {}))
            results.append({"status": 200, "data": data})
        except PVEError as error:
            answer: dict[str, Any] = {"status": error.code or 500}
            if error.errors:
                answer["errors"] = error.errors
            message = error.message
            answer["message"] = message if message.endswith("\n") else message + "\n"
            results.append(answer)
    return results
