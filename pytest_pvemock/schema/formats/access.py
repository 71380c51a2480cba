"""Formats of pve-access-control (``AccessControl.pm``, ``Auth/Plugin.pm``)."""

from __future__ import annotations

from pytest_pvemock.schema.formats.checks import (
    Checker,
    FormatError,
    fail_unless,
    fullmatch,
    registrar,
    words,
)

FORMATS: dict[str, Checker] = {}
register = registrar(FORMATS)


# --- pve-access-control (AccessControl.pm, Auth/Plugin.pm) ---

REALM_RE = r"[A-Za-z][A-Za-z0-9\.\-_]+"
USER_RE = r"[^\s:/]+"
GROUPNAME_RE = r"[A-Za-z0-9\.\-_]+"
# AccessControl.pm's $privgroups plus 'Permissions.Modify' (PVE 9.x); 'VM.Monitor' existed up to 8.x.
PRIVILEGES = words(
    """Datastore.Allocate Datastore.AllocateSpace Datastore.AllocateTemplate Datastore.Audit Group.Allocate
    Mapping.Audit Mapping.Modify Mapping.Use Permissions.Modify Pool.Allocate Pool.Audit Realm.Allocate
    Realm.AllocateUser SDN.Allocate SDN.Audit SDN.Use Sys.AccessNetwork Sys.Audit Sys.Console Sys.Incoming
    Sys.Modify Sys.PowerMgmt Sys.Syslog User.Modify VM.Allocate VM.Audit VM.Backup VM.Clone VM.Config.CDROM
    VM.Config.CPU VM.Config.Cloudinit VM.Config.Disk VM.Config.HWType VM.Config.Memory VM.Config.Network
    VM.Config.Options VM.Console VM.GuestAgent.Audit VM.GuestAgent.FileRead VM.GuestAgent.FileSystemMgmt
    VM.GuestAgent.FileWrite VM.GuestAgent.Unrestricted VM.Migrate VM.Monitor VM.PowerMgmt VM.Replicate VM.Snapshot
    VM.Snapshot.Rollback"""
)


@register("pve-realm")
def _realm(value: str) -> None:
    fail_unless(fullmatch(REALM_RE, value), "value does not look like a valid realm")


@register("pve-userid")
def _userid(value: str) -> None:
    if len(value) < 3:
        raise FormatError(f"user name '{value}' is too short")
    if len(value) > 64:
        raise FormatError(f"user name '{value}' is too long ({len(value)} > 64)")
    fail_unless(fullmatch(rf"{USER_RE}@{REALM_RE}", value), f"value '{value}' does not look like a valid user name")


@register("pve-tokenid")
def _tokenid(value: str) -> None:
    ok = fullmatch(rf"{USER_RE}@{REALM_RE}!{REALM_RE}", value)
    fail_unless(ok, f"value '{value}' does not look like a valid token ID")


@register("pve-groupid")
def _groupid(value: str) -> None:
    fail_unless(fullmatch(GROUPNAME_RE, value), f"group name '{value}' contains invalid characters")


@register("pve-roleid")
def _roleid(value: str) -> None:
    fail_unless(fullmatch(r"[A-Za-z0-9\.\-_]+", value), f"role name '{value}' contains invalid characters")


@register("pve-poolid")
def _poolid(value: str) -> None:
    if len([part for part in value.split("/")]) > 3:
        raise FormatError(f"pool name '{value}' nested too deeply (max levels = 3)")
    ok = fullmatch(r"[A-Za-z0-9\.\-_]+(?:/[A-Za-z0-9\.\-_]+){0,2}", value)
    fail_unless(ok, f"pool name '{value}' contains invalid characters")


@register("pve-priv")
def _priv(value: str) -> None:
    fail_unless(value in PRIVILEGES, f"invalid privilege '{value}'")
