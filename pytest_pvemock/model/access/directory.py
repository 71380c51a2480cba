"""The LDAP and Active Directory servers the cluster's ``ldap``/``ad`` realms sync from, and the sync itself.

A test fills a realm's directory with entries as the server holds them (LDAP attribute names: ``mail``,
``givenName``, ``sn``, ``description`` ...) and groups with their members; ``POST /access/domains/{realm}/sync``
and the realm-sync jobs then read it as ``PVE::Auth::LDAP`` reads a server (pve-access-control src/PVE/Auth/LDAP.pm
``get_users`` 277-350 and ``get_groups`` 352-389, src/PVE/Auth/AD.pm 102-108 at 5ccd07d9) and write ``user.cfg``
as ``PVE::API2::Domains`` does (``$update_users`` 374-427, ``$update_groups`` 429-475, the worker 565-607).

An unreachable directory fails the sync where ``PVE::LDAP::ldap_connect`` fails (pve-common src/PVE/LDAP.pm).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.access.acl import Group
from pytest_pvemock.model.config_store import config_store_of
from pytest_pvemock.schema.formats import FormatError, check_format
from pytest_pvemock.schema.formats.checks import split_list

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.tasks import Task

#: ``get_users``' map of LDAP attributes to user.cfg's (the user-name attribute is added per realm).
DEFAULT_ATTRIBUTES = {name: name for name in ("enable", "expire", "firstname", "lastname", "email", "comment", "keys")}


@dataclass
class DirectoryEntry:
    """A user object of the directory: its login name, its LDAP attributes and (for logins) its password."""

    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    password: str | None = None


@dataclass
class Directory:
    """What an LDAP/AD server answers for one realm: user entries, groups (name -> member names) and whether
    the server can be reached at all."""

    entries: dict[str, DirectoryEntry] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    reachable: bool = True

    def add_user(self, name: str, password: str | None = None, **attributes: str) -> DirectoryEntry:
        """A user entry, ``attributes`` under their LDAP names (``mail="alice@corp.lan"``, ``givenName="Alice"``)."""
        entry = DirectoryEntry(name, dict(attributes), password)
        self.entries[name] = entry
        return entry

    def remove_user(self, name: str) -> None:
        self.entries.pop(name, None)
        for members in self.groups.values():
            if name in members:
                members.remove(name)

    def add_group(self, name: str, members: list[str] | tuple[str, ...] = ()) -> None:
        """A group and the user names it lists as members."""
        self.groups[name] = list(members)


class Directories(dict[str, Directory]):
    """The directory of each realm, made empty and reachable the first time a realm's is asked for."""

    def of(self, realm: str) -> Directory:
        return self.setdefault(realm, Directory())


@dataclass(frozen=True)
class SyncOptions:
    """``$parse_sync_opts``: what the call gives, else the realm's ``sync-defaults-options``, else the default."""

    scope: str
    remove_vanished: str | None
    enable_new: bool


def sync_options(params: Mapping[str, Any], realm_config: Mapping[str, Any]) -> SyncOptions:
    """Domains.pm ``$parse_sync_opts`` 477-503 with ``$map_remove_vanished`` 19-37 (the deprecated ``full`` and
    ``purge``); a missing scope is the parameter error PVE raises before the worker."""
    defaults: dict[str, str] = {}
    for part in str(realm_config.get("sync-defaults-options") or "").split(","):
        key, _, value = part.partition("=")
        if key.strip():
            defaults[key.strip()] = value.strip()
    merged = {key: params.get(key, defaults.get(key)) for key in ("scope", "remove-vanished", "enable-new", "full",
                                                                   "purge")}  # fmt: skip
    vanished = merged["remove-vanished"]
    if vanished is None and (_true(merged["full"]) or _true(merged["purge"])):
        vanished = ";".join((["entry", "properties"] if _true(merged["full"]) else []) + (
            ["acl"] if _true(merged["purge"]) else []))  # fmt: skip
    if merged["scope"] is None:
        raise ParameterError({"scope": "Not passed as parameter and not defined in realm default sync options."})
    enable_new = merged["enable-new"]
    return SyncOptions(str(merged["scope"]), None if vanished is None else str(vanished),
                       True if enable_new is None else _true(enable_new))  # fmt: skip


def _true(value: Any) -> bool:
    return value is not None and str(value) not in ("", "0")


def _attribute_map(config: Mapping[str, Any], name_attribute: str, warn: Callable[[str], None]) -> dict[str, str]:
    mapping = {name_attribute: "username", **DEFAULT_ATTRIBUTES}
    for item in split_list(str(config.get("sync_attributes") or "")):
        ours, _, theirs = item.strip().partition("=")
        if ours not in DEFAULT_ATTRIBUTES:
            warn(f"skipping bad 'sync_attributes' entry – '{ours}' is not a valid target attribute")  # noqa: RUF001
            continue
        mapping[theirs.strip()] = ours
    return mapping


def read_directory(
    directory: Directory, config: Mapping[str, Any], realm: str, with_groups: bool, warn: Callable[[str], None]
) -> tuple[dict[str, dict[str, str]], dict[str, set[str]]]:
    """``get_users`` and ``get_groups``: ``user@realm`` -> user.cfg attributes, ``group-realm`` -> members."""
    if not directory.reachable:
        # ldap_connect: Net::LDAP->new(...) || die "$@\n", $@ being IO::Socket::IP's errno text for the last server
        raise PVEError("Connection refused\n")
    name_attribute = str(config.get("user_attr") or ("sAMAccountName" if config.get("type") == "ad" else "uid"))
    mapping = _attribute_map(config, name_attribute, warn)
    users: dict[str, dict[str, str]] = {}
    by_name: dict[str, str] = {}
    for entry in directory.entries.values():
        userid = f"{entry.name}@{realm}"
        try:
            check_format("pve-userid", userid)
        except FormatError as error:
            warn(str(error))
            continue
        users[userid] = {ours: value for theirs, value in entry.attributes.items() if (ours := mapping.get(theirs))}
        by_name[entry.name] = userid
    groups: dict[str, set[str]] = {}
    if with_groups:
        for name, members in directory.groups.items():
            groupid = f"{name}-{realm}"
            try:
                check_format("pve-groupid", groupid)
            except FormatError as error:
                warn(str(error))
                continue
            groups[groupid] = {by_name[member] for member in members if member in by_name}
    return users, groups


def start_sync(cluster: FakeCluster, node: str, realm: str, params: Mapping[str, Any], authid: str) -> Task:
    """Domains.pm sync 505-609: the realm must exist (400) and be LDAP or AD (500), the options resolve (a missing
    scope is a 400), then an ``auth-realm-sync`` worker (``auth-realm-sync-test`` for a dry run) on ``node`` reads
    the directory and writes users and groups."""
    config = config_store_of(cluster).section("/access/domains").get(realm)
    if config is None:
        raise ParameterError({"realm": "Realm does not exist."})
    kind = config.get("type")
    if kind not in ("ldap", "ad"):
        raise PVEError(f"Cannot sync realm type '{kind}'! Only LDAP/AD realms can be synced.\n")
    options = sync_options(params, config)
    dry_run = _true(params.get("dry-run"))

    def work(task: Task) -> None:
        sync_realm(cluster, realm, options, dry_run, task)

    return cluster.tasks.start(node, "auth-realm-sync-test" if dry_run else "auth-realm-sync", realm, authid, work=work)


def sync_realm(cluster: FakeCluster, realm: str, options: SyncOptions, dry_run: bool, task: Task) -> None:
    """The sync worker: read the directory, then update users and/or groups as ``user.cfg`` lock holder. What
    PVE ``warn``s (entries it cannot sync) is a task warning."""
    say = task.log.append

    def warn(message: str) -> None:
        task.log.append(f"WARN: {message}")
        task.warnings += 1

    config = _realm_config(cluster, realm)
    say(("(dry test run) " if dry_run else "") + f"starting sync for realm {realm}")
    scope = options.scope
    what = "users and groups" if scope == "both" else scope
    synced_users, synced_groups = read_directory(
        cluster.directories.of(realm), config, realm, scope in ("groups", "both"), warn
    )
    say(f"got data from server, updating {what}")
    users = dict(cluster.access.users)
    memberships = {userid: list(user.groups) for userid, user in users.items()}
    groups = dict(cluster.acl.groups)
    acl = list(cluster.acl.acl)
    removal = set((options.remove_vanished or "").split(";")) - {""}
    changed_users: dict[str, dict[str, str]] = {}
    if scope in ("users", "both"):
        mine = [userid for userid in users if userid.endswith(f"@{realm}")]
        removed, purged = _update_entries("user", users.keys(), mine, synced_users, options, removal, say)
        for userid in removed:
            del users[userid]
        acl = [entry for entry in acl if not (entry.kind == "user" and entry.ugid in purged)]
        changed_users = dict(synced_users)
    if scope in ("groups", "both"):
        mine = [groupid for groupid in groups if groupid.endswith(f"-{realm}")]
        removed, purged = _update_entries("group", groups.keys(), mine, synced_groups, options, removal, say)
        for groupid in removed:
            del groups[groupid]
        acl = [entry for entry in acl if not (entry.kind == "group" and entry.ugid in purged)]
        for groupid in synced_groups:
            if "properties" in removal or groupid not in groups:
                groups[groupid] = Group(groupid)
        for userid, held in memberships.items():
            held[:] = [group for group in held if group not in removed and group not in synced_groups]
            held.extend(sorted(group for group, members in synced_groups.items() if userid in members))
    if dry_run:
        say("")
        say("NOTE: Dry test run, changes were NOT written to the configuration.")
        return
    _write(cluster, users, memberships, groups, acl, changed_users, synced_groups, options, removal)
    say(f"successfully updated {what} configuration")


def _update_entries(
    kind: str,
    existing: Iterable[str],
    mine: list[str],
    synced: Mapping[str, Any],
    options: SyncOptions,
    removal: set[str],
    say: Callable[[str], None],
) -> tuple[list[str], list[str]]:
    """What ``$update_users`` and ``$update_groups`` share (Domains.pm 374-475): the log of each entry, and which of
    the realm's entries the directory no longer holds are removed (``entry``) and lose their ACL (``acl``)."""
    vanished = options.remove_vanished
    say(f"syncing {kind}s" + (f" (remove-vanished opts: {vanished})" if vanished is not None else ""))
    if "entry" in removal:
        say(f"deleting outdated existing {kind}s first")
    removed: list[str] = []
    purged: list[str] = []
    for ident in sorted(mine):
        if ident in synced:
            continue
        if "entry" in removal:
            say(f"remove {kind} '{ident}'")
            removed.append(ident)
        if "acl" in removal:
            say(f"purge {kind}s '{ident}' ACL entries")
            purged.append(ident)
    known = set(existing)
    for ident in sorted(synced):
        if "properties" in removal or ident not in known:
            say(f"overwriting {kind} '{ident}'" if ident in known else f"adding {kind} '{ident}'")
        else:
            say(f"updating {kind} '{ident}'")
    return removed, purged


def _write(
    cluster: FakeCluster,
    users: dict[str, Any],
    memberships: dict[str, list[str]],
    groups: dict[str, Any],
    acl: list[Any],
    changed: dict[str, dict[str, str]],
    synced_groups: dict[str, set[str]],
    options: SyncOptions,
    removal: set[str],
) -> None:
    store = cluster.access
    for userid in [userid for userid in store.users if userid not in users]:
        store.remove_user(userid)
    for userid, held in memberships.items():
        if userid in store.users:
            store.users[userid].groups = held
    for userid, attributes in changed.items():
        old = store.users.get(userid)
        if old is None or "properties" in removal:
            # the synced entry replaces the user, keeping its enable flag (else enable-new) and its tokens
            enable = old.enable if old is not None else options.enable_new
            user = store.add_user(userid, groups=memberships.get(userid, []), enable=enable)
            if old is not None:
                user.tokens = old.tokens
                user.password = old.password
            for group, members in synced_groups.items():
                if userid in members and group not in user.groups:
                    user.groups.append(group)
        else:
            user = old
        for key, value in attributes.items():
            if key == "enable":
                user.enable = _true(value)
            elif key == "expire":
                user.expire = int(value) if value.isdigit() else 0
            elif key in ("firstname", "lastname", "email", "comment"):
                setattr(user, key, value)
    cluster.acl.groups.clear()
    cluster.acl.groups.update(groups)
    cluster.acl.acl[:] = acl


def _realm_config(cluster: FakeCluster, realm: str) -> dict[str, Any]:
    return dict(config_store_of(cluster).section("/access/domains").get(realm) or {})


def directory_login(cluster: FakeCluster, userid: str, password: str) -> bool:
    """``authenticate_user`` of an LDAP/AD realm: the directory holds the user with that password."""
    name, _, realm = userid.rpartition("@")
    if _realm_config(cluster, realm).get("type") not in ("ldap", "ad"):
        return False
    directory = cluster.directories.get(realm)
    if directory is None or not directory.reachable:
        return False
    entry = directory.entries.get(name)
    return entry is not None and entry.password is not None and hmac.compare_digest(entry.password, password)
