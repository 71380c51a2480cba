"""The schema's ``permissions`` of a method, checked for the caller as PVE's RPC environment checks them.

Follows ``PVE::RPCEnvironment::check_api2_permissions`` and ``exec_api2_perm_check``: ``root@pam`` may do
everything; ``user => 'world'`` and ``user => 'all'`` let anyone (logged in) through; a method without
``permissions`` is for ``root@pam`` only; otherwise the ``check`` is evaluated (``perm`` with ``any`` and
``require_param``, ``and``, ``or``, ``userid-param``, ``userid-group``, ``perm-modify``). A failure raises
:class:`~pytest_pvemock.errors.PermissionDenied` with PVE's wording, e.g.
``Permission check failed (/vms/100, VM.PowerMgmt)`` (HTTP 403).

Methods whose check is done inside their code in PVE (``user => 'all'`` plus a ``description``) are let through
here; their handlers filter what they return.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PermissionDenied, PVEError
from pytest_pvemock.model.access.acl import ROOT, AccessControl, access_control_of, normalize_path

if TYPE_CHECKING:
    from pytest_pvemock.api.handler import Principal
    from pytest_pvemock.model.cluster import FakeCluster

__all__ = ["PermissionChecker", "access_control", "check_permissions", "privileges_of"]

_TEMPLATE_PARAM = re.compile(r"\{([^}]+)\}")


def access_control(cluster: FakeCluster) -> AccessControl:
    """The cluster's roles, groups and ACL (created empty, with the built-in roles, on first use)."""
    return access_control_of(cluster)


class PermissionChecker:
    """Answers "may ``authid`` have these privileges on this path?" for one cluster."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.control = access_control(cluster)

    def _users(self) -> Mapping[str, Any]:
        access = getattr(self.cluster, "access", None)
        return getattr(access, "users", {}) or {}

    def groups_of(self, userid: str) -> list[str]:
        user = self._users().get(userid)
        return list(getattr(user, "groups", []) or [])

    def token_privsep(self, tokenid: str) -> bool | None:
        userid, _, name = tokenid.partition("!")
        user = self._users().get(userid)
        token = (getattr(user, "tokens", {}) or {}).get(name) if user is not None else None
        return None if token is None else bool(token.privsep)

    def pools(self) -> list[tuple[str, Iterable[int], Iterable[str]]]:
        found = getattr(self.cluster, "pools", None)
        if isinstance(found, Mapping):
            found = found.values()
        result: list[tuple[str, Iterable[int], Iterable[str]]] = []
        for pool in found or ():
            result.append((pool.poolid, list(getattr(pool, "vmids", [])), list(getattr(pool, "storages", []))))
        return result

    def privileges(self, authid: str, path: str) -> set[str]:
        return self.control.privileges(authid, path, self.groups_of, self.pools(), self.token_privsep)

    def user_exists(self, userid: str) -> bool:
        return userid in self._users()

    # -- PVE's checks --------------------------------------------------------------------------------------------
    def check(self, authid: str, path: str, privs: Iterable[str], any_of: bool = False, noerr: bool = False) -> bool:
        have = self.privileges(authid, path)
        privs = list(privs)
        if any_of:
            if any(priv in have for priv in privs):
                return True
            if noerr:
                return False
            raise PermissionDenied(f"Permission check failed ({path}, {'|'.join(privs)})")
        for priv in privs:
            if priv not in have:
                if noerr:
                    return False
                raise PermissionDenied(f"Permission check failed ({path}, {priv})")
        return True

    def check_api2(self, permissions: Mapping[str, Any] | None, authid: str, params: Mapping[str, Any]) -> None:
        """Raise :class:`PermissionDenied` unless ``authid`` may call a method with ``permissions``."""
        if authid == ROOT:
            return
        if not permissions:
            raise PermissionDenied("Permission check failed (user != root@pam)")
        if permissions.get("user") in ("all", "world"):
            return
        check = permissions.get("check")
        if check:
            self.evaluate(check, authid, params)
            return
        raise PermissionDenied()

    def evaluate(self, check: list[Any], authid: str, params: Mapping[str, Any], noerr: bool = False) -> bool:
        test = check[0] if check else None
        if test == "and":
            for sub in check[1:]:
                self.evaluate(sub, authid, params)
            return True
        if test == "or":
            if any(self.evaluate(sub, authid, params, noerr=True) for sub in check[1:]):
                return True
            if noerr:
                return False
            raise PermissionDenied()
        if test == "perm":
            return self._perm(check, authid, params, noerr)
        if test == "userid-param":
            return self._userid_param(check, authid, params, noerr)
        if test == "userid-group":
            return self._userid_group(check, authid, params, noerr)
        if test == "perm-modify":
            return self._perm_modify(check, authid, params, noerr)
        raise PVEError(f"unknown permission test '{test}'")

    def _perm(self, check: list[Any], authid: str, params: Mapping[str, Any], noerr: bool) -> bool:
        template, privs = check[1], check[2]
        options = _options(check[3:])
        required = options.get("require_param")
        if required and params.get(required) is None:
            if noerr:
                return False
            raise PermissionDenied()
        path = normalize_path(fill_template(template, params))
        return self.check(authid, path, privs, any_of=bool(options.get("any")), noerr=noerr)

    def _userid_param(self, check: list[Any], authid: str, params: Mapping[str, Any], noerr: bool) -> bool:
        userid = str(params.get("userid", ""))
        subtest = check[1]
        if subtest == "self":
            if not self.user_exists(userid):
                if noerr:
                    return False
                raise PVEError(f"no such user ('{userid}')")
            if authid == userid:
                return True
            if noerr:
                return False
            raise PermissionDenied()
        realm = userid.rpartition("@")[2]
        return self.check(authid, f"/access/realm/{realm}", ["Realm.AllocateUser"], noerr=noerr)

    def _userid_group(self, check: list[Any], authid: str, params: Mapping[str, Any], noerr: bool) -> bool:
        privs = list(check[1])
        options = _options(check[2:])
        userid = str(params.get("userid", ""))
        groups_param = options.get("groups_param")
        check_existing = not groups_param or groups_param != "create"
        if check_existing and not self.user_exists(userid):
            if noerr:
                return False
            raise PVEError(f"no such user ('{userid}')")
        if self.check(authid, "/access/groups", privs, any_of=True, noerr=True):
            return True
        allowed_groups = {
            groupid
            for groupid in self.control.groups
            if self.check(authid, f"/access/groups/{groupid}", privs, any_of=True, noerr=True)
        }
        if groups_param:
            wanted = [g for g in re.split(r"[,;\s]+", str(params.get("groups") or "")) if g]
            if not wanted:
                raise PermissionDenied(f"Permission check failed (/access/groups, {'|'.join(privs)})")
            for groupid in wanted:
                if groupid not in allowed_groups:
                    raise PermissionDenied(f"Permission check failed (/access/groups/{groupid}, {'|'.join(privs)})")
        if check_existing and not (set(self.groups_of(userid)) & allowed_groups):
            if noerr:
                return False
            raise PermissionDenied()
        return True

    def _perm_modify(self, check: list[Any], authid: str, params: Mapping[str, Any], noerr: bool) -> bool:
        return self.may_modify_permissions(authid, fill_template(check[1], params), noerr)

    def may_modify_permissions(self, authid: str, path: str, noerr: bool = True) -> bool:
        """PVE's ``check_perm_modify``: Permissions.Modify, or the allocate privilege of the path's kind."""
        path = normalize_path(path)
        wanted = ["Permissions.Modify"]
        if re.match(r"^/storage/.+$", path):
            wanted.append("Datastore.Allocate")
        elif re.match(r"^/vms/.+$", path):
            wanted.append("VM.Allocate")
        elif re.match(r"^/pool/.+$", path):
            wanted.append("Pool.Allocate")
        return self.check(authid, path, wanted, any_of=True, noerr=noerr)


def _options(flat: list[Any]) -> dict[str, Any]:
    return {str(flat[i]): flat[i + 1] for i in range(0, len(flat) - 1, 2)}


def fill_template(template: str, params: Mapping[str, Any]) -> str:
    """PVE's ``template_replace``: ``{name}`` replaced by the parameter's value (empty when it is missing)."""
    return _TEMPLATE_PARAM.sub(lambda match: str(params.get(match.group(1), "")), template)


def check_permissions(
    cluster: FakeCluster, permissions: Mapping[str, Any] | None, principal: Principal | None, params: Mapping[str, Any]
) -> None:
    """The hook the app calls before a handler: raise PermissionDenied (403) where PVE refuses the caller."""
    if principal is None:
        if permissions and permissions.get("user") == "world":
            return
        raise PermissionDenied("Permission check failed (user != null)")
    PermissionChecker(cluster).check_api2(permissions, principal.authid, params)


def privileges_of(cluster: FakeCluster, authid: str, path: str) -> set[str]:
    """Every privilege ``authid`` has on ``path`` (for handlers that filter lists, as PVE's code does)."""
    return PermissionChecker(cluster).privileges(authid, path)
