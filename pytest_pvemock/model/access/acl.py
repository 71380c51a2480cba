"""Roles, groups and ACLs (the rest of PVE's ``user.cfg``), and the privileges they give a user or token on a path.

The built-in roles are derived from the release's privilege groups exactly as ``PVE::AccessControl::create_roles``
derives them (``PVEVMAdmin``, ``PVEVMUser``, ``PVEAuditor``, ...); ``Administrator`` holds every privilege and
``NoAccess`` none. :meth:`AccessControl.privileges` follows ``PVE::AccessControl::roles`` and
``PVE::RPCEnvironment::permissions``: the ACL tree is walked from ``/`` to the path, an entry applies on its own path
and, when it propagates, below it; user entries override group entries on the same level; a deeper level replaces
what a higher one gave; ``NoAccess`` wins over everything; pool ACLs reach the pool's guests and storages; a
privilege-separated token gets the intersection of its own and its user's privileges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from pytest_pvemock.errors import PVEError
from pytest_pvemock.pve_data import pve_data
from pytest_pvemock.schema.registry import get_registry, resolve_release

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

ROOT = "root@pam"
LEVELS = ("root", "admin", "user", "audit")

#: What an AccessControl made without a release holds: the newest release's roles.
LATEST = "latest"


@cache
def _roles_and_privileges(version: str) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """``create_roles`` over the release's ``$privgroups``: the groups of its release line
    (``third_party/pve-access-control``) holding the privileges that release knows, which its schema lists as the
    properties of ``GET /access/roles/{roleid}`` (``create_priv_properties``: SDN.Use came with 8.0.1,
    Sys.AccessNetwork with 8.1.5, VM.Replicate with 9.0.5)."""
    release = resolve_release(version)
    endpoint = get_registry(release.version).endpoint("GET", "/access/roles/{roleid}")
    known = frozenset(endpoint.returns_schema["properties"]) if endpoint is not None else frozenset()
    data = pve_data("pve-access-control", "privileges.json")["majors"][str(release.major)]
    valid = set(data["ungrouped"]) & known
    roles: dict[str, set[str]] = {"NoAccess": set(), "PVEAdmin": set(), "PVEAuditor": set()}
    for category, levels in data["groups"].items():
        root, admin, user, audit = ([priv for priv in levels[level] if priv in known] for level in LEVELS)
        if not (root or admin or user or audit):
            continue  # a category the release does not have yet (Mapping before 8.0)
        valid.update(root, admin, user, audit)
        roles.setdefault(f"PVE{category}Admin", set()).update(admin, user, audit)
        roles["PVEAdmin"].update(admin, user, audit)
        if user:
            roles.setdefault(f"PVE{category}User", set()).update(user, audit)
        roles["PVEAuditor"].update(audit)
    roles["PVEAdmin"].discard("Mapping.Modify")  # 8.0 on: only Administrator and PVEMappingAdmin hold it
    roles["PVETemplateUser"] = {"VM.Clone", "VM.Audit"}
    roles["Administrator"] = set(valid)
    return {name: frozenset(privs) for name, privs in roles.items()}, frozenset(valid)


def builtin_roles(version: str = LATEST) -> dict[str, frozenset[str]]:
    """The built-in roles of PVE ``version`` (``PVEVMAdmin``, ``PVEAuditor``, ``Administrator`` ...)."""
    return _roles_and_privileges(version)[0]


def privileges(version: str = LATEST) -> frozenset[str]:
    """Every privilege PVE ``version`` knows (9.x dropped ``VM.Monitor`` for the ``VM.GuestAgent.*`` ones)."""
    return _roles_and_privileges(version)[1]


@dataclass(frozen=True)
class AclEntry:
    """One line of ``user.cfg``'s ACL: ``kind`` is ``user``, ``group`` or ``token``; ``ugid`` the id of that."""

    path: str
    kind: str
    ugid: str
    roleid: str
    propagate: bool = True


@dataclass
class Group:
    groupid: str
    comment: str = ""


@dataclass
class AccessControl:
    """Roles, groups and ACL entries. Group membership is read from the users (``User.groups``)."""

    #: The release whose privileges and built-in roles apply.
    version: str = LATEST
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    acl: list[AclEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.roles:
            self.roles = dict(builtin_roles(self.version))

    # -- writing ------------------------------------------------------------------------------------------------
    def grant(
        self,
        path: str,
        roleid: str,
        *,
        user: str | None = None,
        group: str | None = None,
        token: str | None = None,
        propagate: bool = True,
    ) -> AclEntry:
        """Give ``roleid`` on ``path`` to one user, group or token (``user@realm!name``); replaces an equal entry."""
        if roleid not in self.roles:
            raise PVEError(f"role '{roleid}' does not exist", 400)
        kinds = [(kind, ugid) for kind, ugid in (("user", user), ("group", group), ("token", token)) if ugid]
        if len(kinds) != 1:
            raise ValueError("grant() needs exactly one of user=, group=, token=")
        kind, ugid = kinds[0]
        entry = AclEntry(normalize_path(path), kind, ugid, roleid, propagate)
        self.revoke(entry.path, roleid, **{kind: ugid})
        self.acl.append(entry)
        return entry

    def revoke(
        self, path: str, roleid: str, *, user: str | None = None, group: str | None = None, token: str | None = None
    ) -> None:
        wanted = normalize_path(path)
        self.acl = [
            entry
            for entry in self.acl
            if not (
                entry.path == wanted and entry.roleid == roleid and entry.ugid in {u for u in (user, group, token) if u}
            )
        ]

    def add_role(self, roleid: str, privs: Iterable[str] = ()) -> None:
        if roleid in self.roles:
            raise PVEError(f"role '{roleid}' already exists")
        self.roles[roleid] = frozenset(check_privileges(privs, self.version))

    def is_builtin_role(self, roleid: str) -> bool:
        return roleid in builtin_roles(self.version)

    # -- reading ------------------------------------------------------------------------------------------------
    def roles_on(self, authid: str, path: str, groups_of: Callable[[str], Iterable[str]]) -> dict[str, bool]:
        """Roles of ``authid`` (a userid or a tokenid) on ``path``, each with its propagate flag."""
        is_token = "!" in authid
        member_of = set() if is_token else set(groups_of(authid))
        roles: dict[str, bool] = {}
        parts = [""] if path == "/" else normalize_path(path).split("/")
        current = ""
        for index, part in enumerate(parts):
            current = "/" if index == 0 else (current.rstrip("/") + "/" + part)
            final = index == len(parts) - 1
            on_level = [entry for entry in self.acl if entry.path == current and (final or entry.propagate)]
            for kinds in (("token",), ("user",), ("group",)):
                found = {
                    entry.roleid: entry.propagate
                    for entry in on_level
                    if entry.kind in kinds
                    and (entry.ugid == authid if entry.kind != "group" else entry.ugid in member_of)
                }
                if found:
                    roles = found
                    break
        if "NoAccess" in roles:
            return {"NoAccess": roles["NoAccess"]}
        return roles

    def privileges(
        self,
        authid: str,
        path: str,
        groups_of: Callable[[str], Iterable[str]],
        pools: Iterable[tuple[str, Iterable[int], Iterable[str]]] = (),
        token_privsep: Callable[[str], bool | None] = lambda _authid: True,
    ) -> set[str]:
        """Every privilege ``authid`` has on ``path`` (``root@pam``: all of them).

        ``pools`` gives ``(poolid, vmids, storages)`` so that a role on ``/pool/<id>`` reaches the members;
        ``token_privsep(tokenid)`` says whether a token is privilege-separated (``None``: no such token).
        """
        path = normalize_path(path)
        if authid == ROOT:
            return set(self.roles["Administrator"])
        user, _, token = authid.partition("!")
        pools = list(pools)
        if token:
            privsep = token_privsep(authid)
            if privsep is None:
                return set()
            user_privs = self.privileges(user, path, groups_of, pools)
            if not privsep:
                return user_privs
            return user_privs & self._own_privileges(authid, path, groups_of, pools)
        return self._own_privileges(authid, path, groups_of, pools)

    def _own_privileges(
        self,
        authid: str,
        path: str,
        groups_of: Callable[[str], Iterable[str]],
        pools: list[tuple[str, Iterable[int], Iterable[str]]],
    ) -> set[str]:
        roles = dict(self.roles_on(authid, path, groups_of))
        pool_roles = self._pool_roles(authid, path, groups_of, pools)
        if pool_roles and "NoAccess" not in roles:
            if "NoAccess" in pool_roles:
                roles = {"NoAccess": False}
            else:
                for role in pool_roles:
                    roles.setdefault(role, False)
        privileges: set[str] = set()
        for role in roles:
            privileges |= self.roles.get(role, frozenset())
        return privileges

    def _pool_roles(
        self,
        authid: str,
        path: str,
        groups_of: Callable[[str], Iterable[str]],
        pools: list[tuple[str, Iterable[int], Iterable[str]]],
    ) -> set[str]:
        found: set[str] = set()
        for poolid, vmids, storages in pools:
            members = {f"/vms/{vmid}" for vmid in vmids} | {f"/storage/{sid}" for sid in storages}
            if path in members:
                found |= set(self.roles_on(authid, f"/pool/{poolid}", groups_of))
        return found


def access_control_of(cluster: FakeCluster) -> AccessControl:
    """The roles, groups and ACL of ``cluster`` (its ``acl``)."""
    return cluster.acl


def normalize_path(path: str) -> str:
    """PVE's ``normalize_path``: one slash between parts, none at the end, ``/`` for the root."""
    parts = [part for part in path.split("/") if part]
    return "/" + "/".join(parts)


def check_privileges(privs: Iterable[str], version: str = LATEST) -> list[str]:
    """The privileges, each checked to be one PVE ``version`` knows (``invalid privilege 'X'`` otherwise)."""
    known = privileges(version)
    checked = []
    for priv in privs:
        if priv not in known:
            raise PVEError(f"invalid privilege '{priv}'")
        checked.append(priv)
    return checked
