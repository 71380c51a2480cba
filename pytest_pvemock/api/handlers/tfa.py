"""``/access/tfa``: pve-access-control src/PVE/API2/TFA.pm (commit 5ccd07d9) over proxmox-tfa's API methods, with
the second factors of :mod:`pytest_pvemock.model.tfa`. Nothing secret is answered: TOTP secrets are never kept,
recovery keys come back once, in the answer that makes them."""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import ParameterError, PermissionDenied, PVEError
from pytest_pvemock.model import tfa
from pytest_pvemock.model.config_store import config_store_of


def _reauth(ctx: HandlerContext) -> str:
    """``reauth_user_for_user_modification`` (pve-access-control src/PVE/RPCEnvironment.pm 657-683): the user must
    exist, only root@pam changes root@pam, anyone else confirms their own password."""
    userid = str(ctx.params["userid"])
    if userid not in ctx.cluster.access.users:
        raise PVEError(f"no such user ('{userid}')\n")
    authuser = ctx.principal.userid
    if userid == "root@pam" and authuser != "root@pam":
        raise PermissionDenied()
    if authuser != "root@pam":
        password = ctx.params.get("password")
        if password is None:
            raise ParameterError({"password": "password is required to modify user"})
        if ctx.cluster.access.check_password(authuser, str(password)) is None:
            raise PVEError("invalid credentials\n")
    return userid


@handles("GET", "/access/tfa")
def list_tfa(ctx: HandlerContext) -> list[dict[str, Any]]:
    """TFA.pm 287-310 (``list_tfa``): every user tfa.cfg holds (none on a fresh cluster) for callers with
    User.Modify or Sys.Audit on /access/groups, else the caller's own entry."""
    users = tfa.users_with_tfa(ctx.cluster)
    checker = PermissionChecker(ctx.cluster)
    if not checker.check(ctx.principal.authid, "/access/groups", ["User.Modify", "Sys.Audit"], any_of=True, noerr=True):
        users = [userid for userid in users if userid == ctx.principal.userid]
    rows = [{"userid": userid, "entries": tfa.user_entries(ctx.cluster, userid)} for userid in users]
    return ordered_rows(ctx, rows, key="userid")


@handles("GET", "/access/tfa/{userid}")
def list_user_tfa(ctx: HandlerContext) -> list[dict[str, Any]]:
    """TFA.pm 156-160: the user's entries, recovery first (an empty list for a user without any)."""
    return ordered_rows(ctx, tfa.user_entries(ctx.cluster, str(ctx.params["userid"])))


@handles("GET", "/access/tfa/{userid}/{id}")
def get_tfa_entry(ctx: HandlerContext) -> dict[str, Any]:
    """TFA.pm 187-194: 404 ``No such tfa entry``."""
    entry_id = str(ctx.params["id"])
    found = tfa.entry(ctx.cluster, str(ctx.params["userid"]), entry_id)
    if found is None:
        raise PVEError(f"No such tfa entry '{entry_id}'", code=404)
    return ordered(ctx, found, f"tfa/{entry_id}")


@handles("POST", "/access/tfa/{userid}")
def add_tfa_entry(ctx: HandlerContext) -> dict[str, Any]:
    """TFA.pm 362-397 and proxmox-tfa ``add_tfa_entry``: TOTP checked against its URI, recovery keys answered once,
    Yubico after the realm's setting; WebAuthn and U2F need the datacenter's configuration."""
    userid = _reauth(ctx)
    kind = str(ctx.params["type"])
    description = ctx.params.get("description")
    totp, value, challenge = ctx.params.get("totp"), ctx.params.get("value"), ctx.params.get("challenge")
    if kind == "yubico":
        realm = userid.rsplit("@", 1)[1]
        setting = _realm_tfa(ctx, realm)
        if not setting:
            raise PVEError(f"no yubico otp configuration available for realm {realm}\n")
        if "type=yubico" not in setting:
            raise PVEError("realm is not setup for Yubico OTP\n")
    if kind == "totp":
        if challenge is not None:
            raise PVEError("'challenge' parameter is invalid for 'totp' entries\n")
        return {"id": tfa.add_totp(ctx.cluster, userid, description, totp, value)}
    if kind == "recovery":
        if totp is not None or value is not None or challenge is not None:
            raise PVEError("generating recovery tokens does not allow additional parameters\n")
        return {"id": "recovery", "recovery": tfa.add_recovery(ctx.cluster, userid)}
    if kind == "yubico":
        if totp is not None or challenge is not None:
            raise PVEError("'totp' and 'challenge' parameters are invalid for 'yubico' entries\n")
        if value is None:
            raise PVEError("missing 'value' parameter for 'yubico' entry\n")
        return {"id": tfa.add_yubico(ctx.cluster, userid, description, str(value)[:12])}
    if totp is not None:
        raise PVEError(f"'totp' parameter is invalid for '{kind}' entries\n")
    options = config_store_of(ctx.cluster).option_set("/cluster/options")
    if not options.get(kind):
        raise PVEError(f"{kind} not configured\n")
    raise PVEError(f"{kind} registration needs a browser's authenticator, which pytest-pvemock does not model\n")


def _realm_tfa(ctx: HandlerContext, realm: str) -> str:
    record = config_store_of(ctx.cluster).section("/access/domains").get(realm) or {}
    return str(record.get("tfa") or "")


@handles("PUT", "/access/tfa/{userid}/{id}")
def update_tfa_entry(ctx: HandlerContext) -> None:
    """TFA.pm 459-477: description and enable of an entry."""
    userid = _reauth(ctx)
    enable = ctx.params.get("enable")
    tfa.update(ctx.cluster, userid, str(ctx.params["id"]), ctx.params.get("description"),
               None if enable is None else bool(int(enable)))  # fmt: skip


@handles("DELETE", "/access/tfa/{userid}/{id}")
def delete_tfa(ctx: HandlerContext) -> None:
    """TFA.pm 223-241: the entry removed; a user without any left drops out of tfa.cfg."""
    userid = _reauth(ctx)
    tfa.delete(ctx.cluster, userid, str(ctx.params["id"]))
