"""``/access/groups``, ``/access/roles``, ``/access/acl`` and ``/access/permissions`` over the model's access control.

What a client grants here is what the permission checks use (:mod:`pytest_pvemock.api.permissions`). Wording and
order of checks follow pve-access-control (``PVE::API2::Group``, ``PVE::API2::Role``, ``PVE::API2::ACL``,
``PVE::API2::AccessControl::permissions``); writes need quorum (``access.cfg`` lives in pmxcfs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.permissions import PermissionChecker, access_control
from pytest_pvemock.errors import ParameterError, PermissionDenied, PVEError
from pytest_pvemock.model.access.acl import Group, check_privileges, normalize_path

_LIST_SPLIT = re.compile(r"[,;\s]+")


def _split(value: Any) -> list[str]:
    return [part for part in _LIST_SPLIT.split(str(value or "")) if part]


def _users(ctx: HandlerContext) -> Mapping[str, Any]:
    return getattr(getattr(ctx.cluster, "access", None), "users", {}) or {}


def _members(ctx: HandlerContext, groupid: str) -> list[str]:
    return sorted(userid for userid, user in _users(ctx).items() if groupid in (getattr(user, "groups", ()) or ()))


@handles("GET", "/access/groups")
def list_groups(ctx: HandlerContext) -> list[dict[str, Any]]:
    control = access_control(ctx.cluster)
    answer = []
    for groupid, group in sorted(control.groups.items()):
        if not _may(ctx, f"/access/groups/{groupid}", ["User.Modify", "Sys.Audit", "Group.Allocate"]):
            continue
        entry: dict[str, Any] = {"groupid": groupid}
        if group.comment:
            entry["comment"] = group.comment
        members = _members(ctx, groupid)
        if members:
            entry["users"] = ",".join(members)
        answer.append(entry)
    return answer


def _group_get(ctx: HandlerContext, failure: str = "") -> Any:
    """The path's group; Group.pm's checks inside ``lock_user_config`` carry the method's ``failure`` prefix."""
    control = access_control(ctx.cluster)
    groupid = str(ctx.params.get("groupid", ""))
    group = control.groups.get(groupid)
    if group is None:
        raise PVEError(f"{failure}: " * bool(failure) + f"group '{groupid}' does not exist")
    return group


@handles("POST", "/access/groups")
def create_group(ctx: HandlerContext) -> None:
    ctx.cluster.require_quorum()  # access.cfg lives in pmxcfs, read-only without quorum
    control = access_control(ctx.cluster)
    groupid = str(ctx.params.get("groupid", ""))
    if groupid in control.groups:
        raise PVEError(f"create group failed: group '{groupid}' already exists")  # Group.pm 107-108
    control.groups[groupid] = Group(groupid, str(ctx.params.get("comment") or ""))


@handles("GET", "/access/groups/{groupid}")
def read_group(ctx: HandlerContext) -> dict[str, Any]:
    group = _group_get(ctx)
    answer: dict[str, Any] = {"members": _members(ctx, group.groupid)}
    if group.comment:
        answer["comment"] = group.comment
    return answer


@handles("PUT", "/access/groups/{groupid}")
def update_group(ctx: HandlerContext) -> None:
    ctx.cluster.require_quorum()  # access.cfg lives in pmxcfs, read-only without quorum
    group = _group_get(ctx, "update group failed")
    if "comment" in ctx.params:
        group.comment = str(ctx.params["comment"] or "")


@handles("DELETE", "/access/groups/{groupid}")
def delete_group(ctx: HandlerContext) -> None:
    ctx.cluster.require_quorum()  # access.cfg lives in pmxcfs, read-only without quorum
    group = _group_get(ctx, "delete group failed")
    control = access_control(ctx.cluster)
    del control.groups[group.groupid]
    control.acl = [entry for entry in control.acl if not (entry.kind == "group" and entry.ugid == group.groupid)]
    for user in _users(ctx).values():
        groups = getattr(user, "groups", None)
        if isinstance(groups, list) and group.groupid in groups:
            groups.remove(group.groupid)


@handles("GET", "/access/roles")
def list_roles(ctx: HandlerContext) -> list[dict[str, Any]]:
    control = access_control(ctx.cluster)
    return [
        {"roleid": roleid, "privs": ",".join(sorted(privs)), "special": 1 if control.is_builtin_role(roleid) else 0}
        for roleid, privs in sorted(control.roles.items())
    ]


def _role_get(ctx: HandlerContext, failure: str = "") -> tuple[str, frozenset[str]]:
    """The path's role; Role.pm's checks inside ``lock_user_config`` carry the method's ``failure`` prefix."""
    control = access_control(ctx.cluster)
    roleid = str(ctx.params.get("roleid", ""))
    if roleid not in control.roles:
        raise PVEError(f"{failure}: " * bool(failure) + f"role '{roleid}' does not exist")
    return roleid, control.roles[roleid]


@handles("POST", "/access/roles")
def create_role(ctx: HandlerContext) -> None:
    ctx.cluster.require_quorum()  # access.cfg lives in pmxcfs, read-only without quorum
    roleid = str(ctx.params.get("roleid", ""))
    if roleid.lower().startswith("pve"):  # Role.pm create_role 96-101
        raise ParameterError({"roleid": "cannot use role ID starting with the (case-insensitive) 'PVE' namespace"})
    try:
        access_control(ctx.cluster).add_role(roleid, _split(ctx.params.get("privs")))
    except PVEError as error:
        raise PVEError(f"create role failed: {error.message}") from None


@handles("GET", "/access/roles/{roleid}")
def read_role(ctx: HandlerContext) -> dict[str, int]:
    _roleid, privs = _role_get(ctx)
    return dict.fromkeys(sorted(privs), 1)


@handles("PUT", "/access/roles/{roleid}")
def update_role(ctx: HandlerContext) -> None:
    ctx.cluster.require_quorum()  # access.cfg lives in pmxcfs, read-only without quorum
    roleid = str(ctx.params.get("roleid", ""))
    if access_control(ctx.cluster).is_builtin_role(roleid):  # Role.pm update_role 145-146, before the lock
        raise PVEError(f"auto-generated role '{roleid}' cannot be modified")
    roleid, privs = _role_get(ctx, "update role failed")
    wanted = set(check_privileges(_split(ctx.params.get("privs")), access_control(ctx.cluster).version))
    access_control(ctx.cluster).roles[roleid] = frozenset(wanted | privs if ctx.params.get("append") else wanted)


@handles("DELETE", "/access/roles/{roleid}")
def delete_role(ctx: HandlerContext) -> None:
    ctx.cluster.require_quorum()  # access.cfg lives in pmxcfs, read-only without quorum
    roleid = str(ctx.params.get("roleid", ""))
    if access_control(ctx.cluster).is_builtin_role(roleid):  # Role.pm delete_role 222-223, before the lock
        raise PVEError(f"auto-generated role '{roleid}' cannot be deleted")
    roleid, _privs = _role_get(ctx, "delete role failed")
    control = access_control(ctx.cluster)
    del control.roles[roleid]
    control.acl = [entry for entry in control.acl if entry.roleid != roleid]


@handles("GET", "/access/acl")
def list_acl(ctx: HandlerContext) -> list[dict[str, Any]]:
    checker = PermissionChecker(ctx.cluster)
    return [
        {
            "path": entry.path,
            "type": entry.kind,
            "ugid": entry.ugid,
            "roleid": entry.roleid,
            "propagate": 1 if entry.propagate else 0,
        }
        for entry in access_control(ctx.cluster).acl
        if checker.may_modify_permissions(ctx.principal.authid, entry.path)
    ]


_TOP_PATHS = ("/", "/access", "/access/groups", "/mapping", "/nodes", "/pool", "/sdn", "/storage", "/vms")


@handles("GET", "/access/permissions")
def effective_permissions(ctx: HandlerContext) -> dict[str, dict[str, int]]:
    """``GET /access/permissions``: privileges by path, for the caller or (with Sys.Audit on /access) anyone."""
    caller = ctx.principal.authid
    wanted = str(ctx.params.get("userid") or caller)
    own = wanted == caller or wanted.partition("!")[0] == caller
    if not own and not _may(ctx, "/access", ["Sys.Audit"]):
        raise PermissionDenied("Permission check failed (/access, Sys.Audit)")
    checker = PermissionChecker(ctx.cluster)
    if ctx.params.get("path"):
        paths = [str(ctx.params["path"])]
    else:
        paths = sorted(set(_TOP_PATHS) | {entry.path for entry in access_control(ctx.cluster).acl})
    answer = {}
    for path in paths:
        privileges = checker.privileges(wanted, path)
        if privileges:
            answer[path] = dict.fromkeys(sorted(privileges), 1)
    return answer


_ACL_PATH = re.compile(
    r"^(?:/|/access|/access/groups|/access/groups/[\w.\-]+|/access/realm|/access/realm/[\w.\-]+"
    r"|/nodes|/nodes/[\w.\-]+|/pool|/pool/[A-Za-z0-9.\-_]+(?:/[A-Za-z0-9.\-_]+){0,2}"
    r"|/sdn|/sdn/controllers|/sdn/controllers/[\w\-]+|/sdn/dns|/sdn/dns/[A-Za-z0-9]+"
    r"|/sdn/fabrics|/sdn/fabrics/[A-Za-z0-9]+|/sdn/ipams|/sdn/ipams/[A-Za-z0-9]+"
    r"|/sdn/prefix-lists|/sdn/prefix-lists/[A-Za-z0-9]+|/sdn/route-maps|/sdn/route-maps/[A-Za-z0-9]+"
    r"|/sdn/zones|/sdn/zones/[\w.\-]+|/sdn/zones/[\w.\-]+/[\w.\-]+|/sdn/zones/[\w.\-]+/[\w.\-]+/[1-9][0-9]{0,3}"
    r"|/storage|/storage/[\w.\-]+|/vms|/vms/[1-9][0-9]{2,}|/mapping|/mapping/[\w.\-]+|/mapping/[\w.\-]+/[\w.\-]+)$",
    re.ASCII,
)
_ACL_PATH_TEXT = re.compile(r"^[A-Za-z0-9.\-_/]+$")


@handles("PUT", "/access/acl")
def update_acl(ctx: HandlerContext) -> None:
    """``PUT /access/acl`` as PVE's ``update_acl``: checks first, then every entry written at once."""
    ctx.cluster.require_quorum()  # access.cfg lives in pmxcfs, read-only without quorum
    control = access_control(ctx.cluster)
    raw_path = str(ctx.params.get("path", ""))
    delete = bool(ctx.params.get("delete"))
    propagate = bool(ctx.params.get("propagate", 1))
    targets = [
        (kind, ugid)
        for kind, name in (("user", "users"), ("group", "groups"), ("token", "tokens"))
        for ugid in _split(ctx.params.get(name))
    ]
    if not targets:
        required = "either 'users', 'groups' or 'tokens' is required."
        raise ParameterError({"users": required, "groups": required, "tokens": required})
    path = normalize_path(raw_path)
    if not raw_path or not _ACL_PATH_TEXT.match(path) or (not delete and not _ACL_PATH.match(path)):
        raise ParameterError({"path": f"invalid ACL path '{raw_path}'"})
    try:
        roles = [_checked_role(ctx, roleid, path, delete) for roleid in _split(ctx.params.get("roles"))]
        for kind, ugid in targets:
            _check_acl_target(ctx, kind, ugid)
    except PVEError as error:
        detail = f"{error.code} {error.message}" if error.code == 400 else error.message
        extra = "".join(f"\n{key}: {text}" for key, text in (error.errors or {}).items())
        raise PVEError(f"ACL update failed: {detail}{extra}") from None
    for roleid in roles:
        for kind, ugid in targets:
            if delete:
                control.revoke(path, roleid, **{kind: ugid})
            else:
                control.grant(path, roleid, propagate=propagate, **{kind: ugid})


def _checked_role(ctx: HandlerContext, roleid: str, path: str, delete: bool) -> str:
    """A role the caller may hand out on ``path``: with Permissions.Modify any, else a subset of their own."""
    control = access_control(ctx.cluster)
    if roleid not in control.roles:
        raise PVEError(f"role '{roleid}' does not exist")
    have = PermissionChecker(ctx.cluster).privileges(ctx.principal.authid, path)
    if "Permissions.Modify" in have:
        return roleid
    verb = "remove" if delete else "add"
    if not control.roles[roleid] <= have:
        message = f"Cannot {verb} role '{roleid}' - requires 'Permissions.Modify' or superset of privileges."
        raise ParameterError({"role": message})
    if roleid == "NoAccess":
        raise ParameterError({"role": f"Cannot {verb} role '{roleid}' - requires 'Permissions.Modify'"})
    return roleid


def _check_acl_target(ctx: HandlerContext, kind: str, ugid: str) -> None:
    users = _users(ctx)
    if kind == "group" and ugid not in access_control(ctx.cluster).groups:
        raise PVEError(f"group '{ugid}' does not exist")
    if kind == "user" and ugid not in users:
        raise PVEError(f"user '{ugid}' does not exist")
    if kind == "token":
        userid, _, name = ugid.partition("!")
        if name not in (getattr(users.get(userid), "tokens", {}) or {}):
            raise PVEError(f"no such token '{name}' for user '{userid}'")


def _may(ctx: HandlerContext, path: str, privs: list[str]) -> bool:
    """Whether the caller has any of ``privs`` on ``path`` (for lists PVE filters in the method's code)."""
    return PermissionChecker(ctx.cluster).check(ctx.principal.authid, path, privs, any_of=True, noerr=True)
