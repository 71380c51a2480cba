"""``POST /access/vncticket``: pve-access-control src/PVE/API2/AccessControl.pm ``verify_vnc_ticket`` (lines
328-400, commit 5ccd07d9), as the VNC proxies of another node ask it: the ticket a console call made
(``api/handlers/consoles.py``, ``PVE::AccessControl::verify_vnc_ticket`` at AccessControl.pm 566-575: a websocket
ticket's leading password dropped, signed for this authid, path and port, at most 40 seconds old), then every
privilege of ``privs`` on the normalized ``path``. Any failure answers the same 401 ``authentication failure``
(no detail, "to prevent user enumeration attacks")."""

from __future__ import annotations

import re

from pytest_pvemock.api.auth import TicketSigner
from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.access.acl import normalize_path

_WEBSOCKET_PASSWORD = re.compile(r"^.{8}:(PVEVNC:.*)$")


@handles("POST", "/access/vncticket")
def verify_vnc_ticket(ctx: HandlerContext) -> None:
    authid = str(ctx.params["authid"])
    ticket = str(ctx.params["vncticket"])
    found = _WEBSOCKET_PASSWORD.match(ticket)
    if found:
        ticket = found[1]
    path = normalize_path(str(ctx.params["path"])) if ctx.params.get("path") else ""
    port = ctx.params.get("port")
    signer = TicketSigner(ctx.cluster.access.ticket_secret, ctx.cluster.clock.now)
    valid = signer.verify_short_lived_ticket(ticket, "PVEVNC", authid, path, None if port is None else int(port))
    privs = [priv for priv in re.split(r"[,;\s\0]+", str(ctx.params.get("privs") or "")) if priv]
    if not (valid and path and privs and _has_all(ctx, authid, path, privs)):
        raise PVEError("authentication failure\n", 401)


def _has_all(ctx: HandlerContext, authid: str, path: str, privs: list[str]) -> bool:
    """``$rpcenv->check``: every privilege (an unknown authid or privilege has none)."""
    try:
        return PermissionChecker(ctx.cluster).check(authid, path, privs, noerr=True)
    except PVEError:
        return False
