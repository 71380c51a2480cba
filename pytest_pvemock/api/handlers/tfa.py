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
    rows = [
        {
            "userid": userid,
            "entries": tfa.user_entries(ctx.cluster, userid),
            **(tfa.lock_status(ctx.cluster, userid) or {}),
        }
        for userid in users
    ]
    return ordered_rows(ctx, rows, key="userid")


def _locks(ctx: HandlerContext, userid: str) -> dict[str, Any]:
    """``api_list_tfa``'s ``totp-locked`` and ``tfa-locked-until`` (left out when not locked)."""
    return tfa.lock_status(ctx.cluster, userid) or {}


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


@handles("PUT", "/access/users/{userid}/unlock-tfa")
def unlock_tfa(ctx: HandlerContext) -> int:
    """pve-access-control src/PVE/API2/User.pm 652-683 (``unlock_tfa``): whether the user was locked out of TOTP
    or of all second factors (``api_unlock_tfa``); the locks and failure counts are reset (a user without second
    factors was not locked)."""
    return 1 if tfa.unlock(ctx.cluster, str(ctx.params["userid"])) else 0


@handles("GET", "/access/users/{userid}/tfa")
def read_user_tfa_type(ctx: HandlerContext) -> dict[str, Any]:
    """User.pm 567-648 (``read_user_tfa_type``): the realm must exist; ``realm`` is the type of TFA the realm
    enforces. Without ``multiple`` PVE reads ``$tfa_cfg->{users}``, which the Rust-backed tfa.cfg object does not
    have since PVE 7.1: no ``user``. With ``multiple`` PVE puts the user's factor types under ``user``, which its
    own schema declares a string, and dies on a user with recovery keys (``->@*`` of a hash): the fake answers the
    types under ``types``, as the schema describes them, without ``recovery`` (the schema's enum spells it
    ``recovedry``)."""
    userid = str(ctx.params["userid"])
    realm = userid.rpartition("@")[2]
    if config_store_of(ctx.cluster).section("/access/domains").get(realm) is None and realm not in ("pam", "pve"):
        raise PVEError(f"auth domain '{realm}' does not exist\n")
    answer: dict[str, Any] = {}
    realm_type = next(
        (part.partition("=")[2] for part in _realm_tfa(ctx, realm).split(",") if part.startswith("type=")), ""
    )
    if realm_type:
        answer["realm"] = realm_type
    if ctx.params.get("multiple"):
        types = [entry["type"] for entry in tfa.user_entries(ctx.cluster, userid) if entry["type"] in tfa.KINDS]
        answer["types"] = list(dict.fromkeys(types))
    return answer
