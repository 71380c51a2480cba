"""``/access``: login tickets, users, API tokens and realms, over the cluster's access store.

Wording follows pve-access-control (``PVE::API2::AccessControl`` and ``PVE::API2::User``): a failed login is
401 ``authentication failure`` whatever went wrong (PVE does not tell which, against user enumeration); store
errors carry the ``create user failed: ...`` prefixes of ``lock_user_config``.
"""

from __future__ import annotations

from typing import Any

from pytest_pvemock.api.auth import TicketSigner, user_is_active
from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.index import pve_index_listing
from pytest_pvemock.api.permissions import PermissionChecker, access_control
from pytest_pvemock.errors import ParameterError, PermissionDenied, PVEError
from pytest_pvemock.model import tfa
from pytest_pvemock.model.access.directory import directory_login

# Subdirectories of /access in PVE's order: its subclasses, then the two methods listed by hand.

_ROOT_CAPS_9 = {
    "vms": (
        "VM.Allocate VM.Audit VM.Backup VM.Clone VM.Config.CDROM VM.Config.CPU VM.Config.Cloudinit VM.Config.Disk "
        "VM.Config.HWType VM.Config.Memory VM.Config.Network VM.Config.Options VM.Console VM.GuestAgent.Audit "
        "VM.GuestAgent.FileRead VM.GuestAgent.FileSystemMgmt VM.GuestAgent.FileWrite VM.GuestAgent.Unrestricted "
        "VM.Migrate VM.PowerMgmt VM.Replicate VM.Snapshot VM.Snapshot.Rollback Permissions.Modify"
    ),
    "access": "Group.Allocate User.Modify Permissions.Modify",
    "storage": (
        "Datastore.Allocate Datastore.AllocateSpace Datastore.AllocateTemplate Datastore.Audit Permissions.Modify"
    ),
    "nodes": "Sys.AccessNetwork Sys.Audit Sys.Console Sys.Incoming Sys.Modify Sys.PowerMgmt Sys.Syslog "
    "Permissions.Modify",
    "sdn": "SDN.Allocate SDN.Audit SDN.Use Permissions.Modify",
    "dc": "Sys.Audit Sys.Modify SDN.Allocate SDN.Audit SDN.Use",
    "mapping": "Mapping.Audit Mapping.Modify Mapping.Use Permissions.Modify",
}

# PVE 8 as captured from a real server (third_party/pve-captures/access-ticket__go-proxmox-pve8x.json).
_ROOT_CAPS_8 = {
    "vms": (
        "VM.Allocate VM.Audit VM.Backup VM.Clone VM.Config.CDROM VM.Config.CPU VM.Config.Cloudinit VM.Config.Disk "
        "VM.Config.HWType VM.Config.Memory VM.Config.Network VM.Config.Options VM.Console VM.Migrate VM.Monitor "
        "VM.PowerMgmt VM.Snapshot VM.Snapshot.Rollback Permissions.Modify"
    ),
    "access": "Group.Allocate User.Modify Permissions.Modify",
    "storage": (
        "Datastore.Allocate Datastore.AllocateSpace Datastore.AllocateTemplate Datastore.Audit Permissions.Modify"
    ),
    "nodes": "Sys.Audit Sys.Console Sys.Incoming Sys.Modify Sys.PowerMgmt Sys.Syslog Permissions.Modify",
    "sdn": "SDN.Allocate SDN.Audit SDN.Use Permissions.Modify",
    "dc": "Sys.Audit SDN.Allocate SDN.Audit SDN.Use",
}


def api_permissions(version: str, userid: str) -> dict[str, dict[str, int]]:
    """The ``cap`` map of a login: every privilege for root@pam; empty groups for other users (no ACLs yet)."""
    table = _ROOT_CAPS_8 if int(version.split(".", 1)[0]) < 9 else _ROOT_CAPS_9
    if userid != "root@pam":
        return {group: {} for group in table}
    return {group: dict.fromkeys(privs.split(), 1) for group, privs in table.items()}


@handles("GET", "/access")
def access_index(ctx: HandlerContext) -> list[dict[str, str]]:
    return pve_index_listing(ctx.template, ctx.cluster.version) or []


@handles("GET", "/access/ticket")
def login_page(ctx: HandlerContext) -> None:
    return None


@handles("POST", "/access/ticket")
def create_ticket(ctx: HandlerContext) -> dict[str, Any]:
    """Log in with a password, or renew a ticket by sending it as the password."""
    cluster = ctx.cluster
    username = str(ctx.params["username"])
    if ctx.params.get("realm"):
        username += f"@{ctx.params['realm']}"
    password = str(ctx.params["password"])
    signer = TicketSigner(cluster.access.ticket_secret, cluster.clock.now)
    if not _may_log_in(ctx, signer, username, password):
        raise PVEError("authentication failure\n", code=401)
    result: dict[str, Any] = {"username": username}
    if not (ctx.params.get("path") and ctx.params.get("privs")):
        result["ticket"] = signer.ticket(username)
        result["CSRFPreventionToken"] = signer.csrf_token(username)
    result["cap"] = api_permissions(cluster.version, username)
    if cluster.name and username == "root@pam":
        result["clustername"] = cluster.name
    return result


def _may_log_in(ctx: HandlerContext, signer: TicketSigner, username: str, password: str) -> bool:
    cluster = ctx.cluster
    if not user_is_active(cluster, username):
        return False
    renewing = signer.verify_ticket(password) if password.startswith("PVE:") else None
    if renewing is not None and renewing in ("root@pam", username):  # root@pam may make tickets for others
        return True
    if cluster.access.check_password(username, password) != username and not directory_login(
        cluster, username, password
    ):
        return False
    # With path and privs the call only verifies access; without ACLs only root@pam has every privilege.
    return not (ctx.params.get("path") and ctx.params.get("privs")) or username == "root@pam"


@handles("PUT", "/access/password")
def change_password(ctx: HandlerContext) -> None:
    """Root changes anyone's password; other users confirm with their own password, and may not touch root's."""
    userid, authuser = ctx.params["userid"], ctx.principal.userid
    user = _user(ctx, userid)
    if userid == "root@pam" and authuser != "root@pam":
        raise PermissionDenied()
    if authuser != "root@pam":
        confirmation = ctx.params.get("confirmation-password")
        if confirmation is None:
            raise ParameterError({"confirmation-password": "password is required to modify user"})
        if ctx.cluster.access.check_password(authuser, str(confirmation)) != authuser:
            raise PVEError("invalid credentials\n")
        if authuser != userid and user.realm == "pam":
            raise PermissionDenied()
    user.password = str(ctx.params["password"])
    return None


def _user_entry(user: Any, full: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"enable": 1 if user.enable else 0, "expire": int(user.expire or 0)}
    for key in ("firstname", "lastname", "email", "comment"):
        value = getattr(user, key, "")
        if value:
            entry[key] = value
    if full:
        entry["groups"] = sorted(user.groups)
        entry["tokens"] = {tokenid: _token_info(token) for tokenid, token in sorted(user.tokens.items())}
    return entry


def _token_info(token: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"privsep": 1 if token.privsep else 0, "expire": int(token.expire or 0)}
    if token.comment:
        info["comment"] = token.comment
    return info


def _user(ctx: HandlerContext, userid: str, failure: str | None = None) -> Any:
    user = ctx.cluster.access.users.get(userid)
    if user is None:
        message = f"no such user ('{userid}')\n"
        raise PVEError(f"{failure}: {message}" if failure else message)
    return user


def _visible_users(ctx: HandlerContext) -> set[str] | None:
    """User.pm index 235-245: everyone with User.Modify or Sys.Audit on /access/groups, else the members of the
    groups the caller has either on, and the caller itself (``None``: no filter)."""
    authid = ctx.principal.authid
    checker = PermissionChecker(ctx.cluster)
    privs = ["User.Modify", "Sys.Audit"]
    if checker.check(authid, "/access/groups", privs, any_of=True, noerr=True):
        return None
    groups = {
        group
        for group in access_control(ctx.cluster).groups
        if checker.check(authid, f"/access/groups/{group}", privs, any_of=True, noerr=True)
    }
    users = ctx.cluster.access.users
    return {userid for userid, user in users.items() if set(user.groups) & groups} | {authid}


@handles("GET", "/access/users")
def list_users(ctx: HandlerContext) -> list[dict[str, Any]]:
    full = bool(ctx.params.get("full"))
    enabled = ctx.params.get("enabled")
    visible = _visible_users(ctx)
    result = []
    for userid in sorted(ctx.cluster.access.users):
        if visible is not None and userid not in visible:
            continue
        user = ctx.cluster.access.users[userid]
        entry = _user_entry(user, full)
        if enabled is not None and bool(entry["enable"]) != bool(enabled):
            continue
        if entry.get("groups"):
            entry["groups"] = ",".join(entry["groups"])
        else:
            entry.pop("groups", None)
        if "tokens" in entry:
            entry["tokens"] = [{"tokenid": tokenid, **info} for tokenid, info in entry["tokens"].items()]
        if user.realm in ("pam", "pve"):
            entry["realm-type"] = user.realm
        entry["userid"] = userid
        entry.update(tfa.lock_status(ctx.cluster, userid) or {})  # User.pm 269-275: tfa_lock_status
        result.append(entry)
    return result


def _split_groups(value: Any) -> list[str]:
    return [group for group in str(value or "").replace(";", ",").replace(" ", ",").split(",") if group]


def _existing_groups(ctx: HandlerContext, value: Any, failure: str) -> list[str]:
    """The groups of a ``groups`` parameter, each one that exists (User.pm create_user 342-348, update 471-477)."""
    groups = _split_groups(value)
    known = access_control(ctx.cluster).groups
    for group in groups:
        if group not in known:
            raise PVEError(f"{failure}: no such group '{group}'\n")
    return groups


@handles("POST", "/access/users")
def create_user(ctx: HandlerContext) -> None:
    p = ctx.params
    userid = p["userid"]
    if userid in ctx.cluster.access.users:
        raise PVEError(f"create user failed: user '{userid}' already exists\n")
    groups = _existing_groups(ctx, p.get("groups"), "create user failed")
    ctx.cluster.access.add_user(
        userid,
        password=p.get("password"),
        enable=bool(p.get("enable", 1)),
        expire=int(p.get("expire", 0) or 0),
        groups=groups,
        comment=p.get("comment", ""),
        email=p.get("email", ""),
        firstname=p.get("firstname", ""),
        lastname=p.get("lastname", ""),
    )
    return None


@handles("GET", "/access/users/{userid}")
def read_user(ctx: HandlerContext) -> dict[str, Any]:
    return _user_entry(_user(ctx, ctx.params["userid"]), full=True)


@handles("PUT", "/access/users/{userid}")
def update_user(ctx: HandlerContext) -> None:
    p = ctx.params
    user = _user(ctx, p["userid"], "update user failed")
    if "enable" in p:
        user.enable = bool(p["enable"])
    if "expire" in p:
        user.expire = int(p["expire"] or 0)
    for key in ("firstname", "lastname", "email", "comment"):
        if key in p:
            setattr(user, key, p[key])
    if "groups" in p:
        groups = _existing_groups(ctx, p["groups"], "update user failed")
        user.groups = sorted(set(user.groups) | set(groups)) if p.get("append") else groups
    return None


@handles("DELETE", "/access/users/{userid}")
def delete_user(ctx: HandlerContext) -> None:
    userid = ctx.params["userid"]
    _user(ctx, userid, "delete user failed")
    ctx.cluster.access.remove_user(userid)
    # User.pm delete_user 551-553: its group memberships and ACL entries go; its tokens' entries with it
    control = access_control(ctx.cluster)
    control.acl = [
        entry
        for entry in control.acl
        if not (entry.kind in ("user", "token") and entry.ugid.partition("!")[0] == userid)
    ]
    return None


def _token(ctx: HandlerContext, failure: str | None = None) -> Any:
    userid, tokenid = ctx.params["userid"], ctx.params["tokenid"]
    token = _user(ctx, userid, failure).tokens.get(tokenid)
    if token is None:
        message = f"no such token '{tokenid}' for user '{userid}'\n"
        raise PVEError(f"{failure}: {message}" if failure else message)
    return token


@handles("GET", "/access/users/{userid}/token")
def list_tokens(ctx: HandlerContext) -> list[dict[str, Any]]:
    user = _user(ctx, ctx.params["userid"])
    return [{"tokenid": tokenid, **_token_info(token)} for tokenid, token in sorted(user.tokens.items())]


@handles("GET", "/access/users/{userid}/token/{tokenid}")
def read_token(ctx: HandlerContext) -> dict[str, Any]:
    return _token_info(_token(ctx))


@handles("POST", "/access/users/{userid}/token/{tokenid}")
def generate_token(ctx: HandlerContext) -> dict[str, Any]:
    p = ctx.params
    userid, tokenid = p["userid"], p["tokenid"]
    user = _user(ctx, userid)
    if tokenid in user.tokens:
        raise ParameterError({"tokenid": "Token already exists."})
    secret = ctx.cluster.access.add_token(
        userid,
        tokenid,
        privsep=bool(p.get("privsep", 1)),
        expire=int(p.get("expire", 0) or 0),
        comment=p.get("comment") or "",
    )
    # User.pm generate_token 812-815, 824-828: the answer's info holds what was set (expire only when given)
    info: dict[str, Any] = {"privsep": 1 if user.tokens[tokenid].privsep else 0}
    if p.get("expire") is not None:
        info["expire"] = int(p["expire"])
    if p.get("comment"):
        info["comment"] = p["comment"]
    return {"info": info, "value": secret, "full-tokenid": f"{userid}!{tokenid}"}


@handles("PUT", "/access/users/{userid}/token/{tokenid}")
def update_token(ctx: HandlerContext) -> dict[str, Any]:
    p = ctx.params
    token = _token(ctx)  # User.pm update_token_info 889: checked before the lock, no prefix
    if "privsep" in p:
        token.privsep = bool(p["privsep"])
    if "expire" in p:
        token.expire = int(p["expire"] or 0)
    if "comment" in p:
        token.comment = p["comment"]
    for key in _split_groups(p.get("delete")):
        if key != "comment":
            raise ParameterError({"delete": f"unknown option '{key}'"})
        token.comment = ""
    result = _token_info(token)
    if p.get("regenerate"):
        userid, tokenid = p["userid"], p["tokenid"]
        result["value"] = ctx.cluster.access.add_token(
            userid, tokenid, privsep=token.privsep, expire=token.expire, comment=token.comment
        )
        result["full-tokenid"] = f"{userid}!{tokenid}"
    return result


@handles("DELETE", "/access/users/{userid}/token/{tokenid}")
def remove_token(ctx: HandlerContext) -> None:
    _token(ctx)  # User.pm remove_token 962: checked before the lock, no prefix
    ctx.cluster.access.remove_token(ctx.params["userid"], ctx.params["tokenid"])
    return None
