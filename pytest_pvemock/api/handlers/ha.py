"""``/cluster/ha``: resources, groups (PVE 8), rules (PVE 9) and status, answered from the cluster's HA manager.

Checks and messages follow pve-ha-manager's ``API2/HA/*.pm``; the status texts are ``Status.pm``'s (see
:mod:`pytest_pvemock.model.ha.status`). Requests (migrate, relocate, state changes) reach the CRM in its next
round, as on PVE; in task mode ``instant`` those rounds run at once.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.index import pve_index_listing
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.cluster_ha import ClusterHA
from pytest_pvemock.model.ha.service_requests import check_service_state, require_ha_managed
from pytest_pvemock.model.ha.status import ha_manager_status, ha_status_current

DIGEST_MISMATCH = "detected modified configuration - file changed by other user? Try again."
RESOURCE_KEYS = ("state", "group", "max_restart", "max_relocate", "failback", "comment")
RULE_KEYS = ("resources", "nodes", "strict", "affinity", "disable", "comment")
GROUP_KEYS = ("nodes", "restricted", "nofailback", "comment")


def _ha(ctx: HandlerContext) -> ClusterHA:
    return ctx.cluster.ha


def _parse_sid(ctx: HandlerContext, text: str) -> tuple[str, str, str]:
    """``PVE::HA::Config::parse_sid``: ``vm:100``, ``ct:200`` or a plain VMID."""
    if text.isdigit():
        guest = ctx.cluster.find_guest(int(text))
        if guest is None:
            raise PVEError(f"unable to detect SID from VMID - VM/CT {text} does not exist")
        kind = "vm" if guest.kind == "qemu" else "ct"
        return f"{kind}:{text}", kind, text
    match = re.match(r"^(\S+):(\S+)$", text)
    if match is None:
        raise PVEError(f"unable to parse service id '{text}'")
    return text, match.group(1), match.group(2)


def _entry(ha: ClusterHA, sid: str, digest: str, strip_group: bool) -> dict[str, Any]:
    options = ha.resource(sid) or {}
    entry: dict[str, Any] = {"sid": sid, "type": sid.split(":")[0], "digest": digest}
    entry.update({k: v for k, v in options.items() if not (k == "group" and strip_group)})
    return entry


def _require_unchanged_digest(ctx: HandlerContext, config: str, failure: str) -> None:
    """A ``digest`` the client sent must still be the config's (PVE's ``assert_if_modified``)."""
    digest = ctx.params.get("digest")
    if digest and digest != _ha(ctx).config_digest(config):
        raise PVEError(f"{failure}: {DIGEST_MISMATCH}")


def _deleted_keys(ctx: HandlerContext) -> list[str]:
    """The option names of the ``delete`` parameter (a list split at commas, semicolons or spaces)."""
    return list(filter(None, re.split(r"[,;\s]+", ctx.params.get("delete") or "")))


def _section_entry(ctx: HandlerContext, kind: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The HA group or rule (``kind``) that the path names, or PVE's error when there is none."""
    name = ctx.params[kind]
    for entry in entries:
        if entry[kind] == name:
            return entry
    raise PVEError(f"no such ha {kind} '{name}'")


def _edited(entry: dict[str, Any], ctx: HandlerContext, keys: tuple[str, ...]) -> dict[str, Any]:
    """``entry`` with the options among ``keys`` that the request sets, less the ones it deletes."""
    entry.update({k: ctx.params[k] for k in keys if k in ctx.params})
    for key in _deleted_keys(ctx):
        entry.pop(key, None)
    return entry


# ---- index ---------------------------------------------------------------------------------------------------


@handles("GET", "/cluster/ha")
def ha_index(ctx: HandlerContext) -> list[dict[str, str]]:
    return pve_index_listing(ctx.template, ctx.cluster.version) or []


# ---- resources -----------------------------------------------------------------------------------------------


@handles("GET", "/cluster/ha/resources")
def list_resources(ctx: HandlerContext) -> list[dict[str, Any]]:
    ha = _ha(ctx)
    digest = ha.config_digest()
    migrated = ha.groups_migrated()
    groups = {entry["group"] for entry in ha.group_entries()}
    wanted = ctx.params.get("type")
    rows = []
    for sid in ha.service_config:
        if wanted and sid.split(":")[0] != wanted:
            continue
        entry = _entry(ha, sid, digest, migrated)
        if entry.get("group") and entry["group"] not in groups:
            entry["errors"] = {"group": f"group '{entry['group']}' does not exist"}
        rows.append(entry)
    return rows


@handles("GET", "/cluster/ha/resources/{sid}")
def read_resource(ctx: HandlerContext) -> dict[str, Any]:
    ha = _ha(ctx)
    sid, _kind, _name = _parse_sid(ctx, str(ctx.params["sid"]))
    if sid not in ha.service_config:
        raise PVEError(f"no such resource '{sid}'")
    return _entry(ha, sid, ha.config_digest(), ha.groups_migrated())


def _check_type(ctx: HandlerContext, kind: str) -> None:
    given = ctx.params.get("type")
    if given and given != kind:
        raise PVEError("types does not match")


def _check_guest(ctx: HandlerContext, kind: str, name: str) -> None:
    """The resource plugin's ``verify_name`` and ``exists``."""
    if kind not in ("vm", "ct"):
        raise PVEError(f"no such resource type '{kind}'")
    if not re.match(r"^[1-9][0-9]+$", name):
        raise PVEError("invalid VMID")
    guest = ctx.cluster.find_guest(int(name))
    if guest is None:
        raise PVEError(f"resource '{kind}:{name}' does not exist in cluster")
    if guest.kind != ("qemu" if kind == "vm" else "lxc"):
        raise PVEError(f"resource '{kind}:{name}' - guest with ID {name} is not a {'VM' if kind == 'vm' else 'CT'}")


def _check_group(ctx: HandlerContext, group: str | None, must_exist: bool) -> None:
    ha = _ha(ctx)
    if group is None:
        return
    if ha.groups_migrated():
        raise PVEError("invalid parameter 'group': ha groups have been migrated to rules")
    if must_exist and group not in {entry["group"] for entry in ha.group_entries()}:
        raise PVEError(f"HA group '{group}' does not exist")


@handles("POST", "/cluster/ha/resources")
def create_resource(ctx: HandlerContext) -> None:
    ctx.cluster.require_quorum()
    sid, kind, name = _parse_sid(ctx, str(ctx.params["sid"]))
    _check_type(ctx, kind)
    _check_group(ctx, ctx.params.get("group"), must_exist=False)
    _check_guest(ctx, kind, name)
    ha = _ha(ctx)
    if sid in ha.service_config:
        raise PVEError(f"create resource failed: resource ID '{sid}' already defined")
    options = {key: ctx.params[key] for key in RESOURCE_KEYS if key in ctx.params}
    ha.add_resource(sid, state=options.pop("state", None), **options)
    return None


@handles("PUT", "/cluster/ha/resources/{sid}")
def update_resource(ctx: HandlerContext) -> None:
    ha = _ha(ctx)
    sid, kind, _name = _parse_sid(ctx, str(ctx.params["sid"]))
    _check_type(ctx, kind)
    _check_group(ctx, ctx.params.get("group"), must_exist=True)
    check_service_state(ha, sid, ctx.params.get("state"))
    if sid not in ha.service_config:
        raise PVEError(f"update resources config failed: no such resource '{sid}'")
    _require_unchanged_digest(ctx, "resources", "update resources config failed")
    changes: dict[str, Any] = {key: ctx.params[key] for key in RESOURCE_KEYS if key in ctx.params}
    for key in _deleted_keys(ctx):
        if key not in RESOURCE_KEYS:
            raise PVEError(f"update resources config failed: no such option '{key}'")
        changes[key] = None
    ha.update_resource(sid, **changes)
    return None


@handles("DELETE", "/cluster/ha/resources/{sid}")
def delete_resource(ctx: HandlerContext) -> None:
    ha = _ha(ctx)
    sid, _kind, _name = _parse_sid(ctx, str(ctx.params["sid"]))
    if sid not in ha.service_config:
        raise PVEError(f"cannot delete service '{sid}', not HA managed!")
    purge = ctx.params.get("purge", 1) if ctx.cluster.has("ha-delete-purge") else 0
    ha.remove_resource(sid)
    if purge:
        # a rule loses the resource; a rule left without resources goes
        entries, kept = ha.rule_entries(), []
        for rule in entries:
            members = [r for r in str(rule.get("resources", "")).split(",") if r and r != sid]
            if members:
                kept.append({**rule, "resources": ",".join(members)})
        if kept != entries:
            ha.set_rules(kept)
    return None


def _move(ctx: HandlerContext, task: str) -> dict[str, Any] | None:
    ha = _ha(ctx)
    sid, _kind, _name = _parse_sid(ctx, str(ctx.params["sid"]))
    require_ha_managed(ha, sid)
    check_service_state(ha, sid)
    result = ha.migrate(sid, ctx.params["node"]) if task == "migrate" else ha.relocate(sid, ctx.params["node"])
    return result if ctx.cluster.has("ha-move-answer") else None


@handles("POST", "/cluster/ha/resources/{sid}/migrate")
def migrate_resource(ctx: HandlerContext) -> dict[str, Any] | None:
    return _move(ctx, "migrate")


@handles("POST", "/cluster/ha/resources/{sid}/relocate")
def relocate_resource(ctx: HandlerContext) -> dict[str, Any] | None:
    return _move(ctx, "relocate")


# ---- groups (PVE 8; on PVE 9 until the CRM migrated them to rules) ---------------------------------------------


def _groups_usable(ctx: HandlerContext, what: str) -> None:
    if _ha(ctx).groups_migrated():
        raise PVEError(f"cannot {what}: ha groups have been migrated to rules")


@handles("GET", "/cluster/ha/groups")
def list_groups(ctx: HandlerContext) -> list[dict[str, Any]]:
    _groups_usable(ctx, "index groups")
    ha = _ha(ctx)
    digest = ha.config_digest("groups")
    return [{**entry, "digest": digest} for entry in ha.group_entries()]


def _group(ctx: HandlerContext) -> dict[str, Any]:
    return _section_entry(ctx, "group", _ha(ctx).group_entries())


@handles("GET", "/cluster/ha/groups/{group}")
def read_group(ctx: HandlerContext) -> dict[str, Any]:
    _groups_usable(ctx, "read group")
    return {**_group(ctx), "digest": _ha(ctx).config_digest("groups")}


@handles("POST", "/cluster/ha/groups")
def create_group(ctx: HandlerContext) -> None:
    _groups_usable(ctx, "create group")
    ha = _ha(ctx)
    name = ctx.params["group"]
    entries = ha.group_entries()
    if any(entry["group"] == name for entry in entries):
        raise PVEError(f"create ha group failed: ha group ID '{name}' already defined")
    entry = {"group": name, **{k: ctx.params[k] for k in GROUP_KEYS if k in ctx.params}}
    ha.set_groups([*(_without_type(e) for e in entries), entry])
    return None


@handles("PUT", "/cluster/ha/groups/{group}")
def update_group(ctx: HandlerContext) -> None:
    _groups_usable(ctx, "update group")
    ha = _ha(ctx)
    current = _group(ctx)
    _require_unchanged_digest(ctx, "groups", "update ha group failed")
    changed = _edited(_without_type(current), ctx, GROUP_KEYS)
    ha.set_groups([changed if e["group"] == current["group"] else _without_type(e) for e in ha.group_entries()])
    return None


@handles("DELETE", "/cluster/ha/groups/{group}")
def delete_group(ctx: HandlerContext) -> None:
    ha = _ha(ctx)
    current = _group(ctx)
    users = sorted(sid for sid, cfg in ha.service_config.items() if cfg.get("group") == current["group"])
    if users:
        raise PVEError(f"delete ha group failed: ha group '{current['group']}' is used by {', '.join(users)}")
    ha.set_groups([_without_type(e) for e in ha.group_entries() if e["group"] != current["group"]])
    return None


def _without_type(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "type"}


# ---- rules (PVE 9) ---------------------------------------------------------------------------------------------


def _rules_usable(ctx: HandlerContext, what: str) -> None:
    if _ha(ctx).group_entries():
        raise PVEError(f"cannot {what} ha rule: ha groups have not been migrated yet")


@handles("GET", "/cluster/ha/rules")
def list_rules(ctx: HandlerContext) -> list[dict[str, Any]]:
    ha = _ha(ctx)
    digest = ha.config_digest("rules")
    wanted_type, resource = ctx.params.get("type"), ctx.params.get("resource")
    rows = []
    for order, entry in enumerate(ha.rule_entries(), start=1):
        if wanted_type and entry["type"] != wanted_type:
            continue
        if resource and resource not in str(entry.get("resources", "")).split(","):
            continue
        rows.append({**entry, "digest": digest, "order": order})
    return rows


def _rule(ctx: HandlerContext) -> dict[str, Any]:
    return _section_entry(ctx, "rule", _ha(ctx).rule_entries())


@handles("GET", "/cluster/ha/rules/{rule}")
def read_rule(ctx: HandlerContext) -> dict[str, Any]:
    return {**_rule(ctx), "digest": _ha(ctx).config_digest("rules")}


def _check_rule(ctx: HandlerContext, entry: dict[str, Any]) -> None:
    ha = _ha(ctx)
    resources = [r for r in re.split(r"[,;\s]+", str(entry.get("resources") or "")) if r]
    if not resources:
        raise PVEError("no resources were specified")
    unmanaged = [sid for sid in resources if sid not in ha.service_config]
    if unmanaged:
        raise PVEError(f"cannot use unmanaged resource(s) {', '.join(unmanaged)}.")
    if entry.get("type") == "node-affinity":
        nodes = [n.split(":")[0] for n in re.split(r"[,;\s]+", str(entry.get("nodes") or "")) if n]
        if not nodes:
            raise PVEError("no nodes were specified")
        missing = [n for n in nodes if ctx.cluster.find_node(n) is None]
        if missing:
            raise PVEError(f"cannot use non-existent node(s) {', '.join(missing)}.")
    elif "affinity" not in entry:
        raise ParameterError({"affinity": "property is missing and it is not optional"})


@handles("POST", "/cluster/ha/rules")
def create_rule(ctx: HandlerContext) -> None:
    _rules_usable(ctx, "create")
    ha = _ha(ctx)
    name = ctx.params["rule"]
    entry = {"rule": name, "type": ctx.params["type"], **{k: ctx.params[k] for k in RULE_KEYS if k in ctx.params}}
    _check_rule(ctx, entry)
    entries = ha.rule_entries()
    if any(e["rule"] == name for e in entries):
        raise PVEError(f"create ha rule failed: HA rule '{name}' already defined")
    ha.set_rules([*entries, entry])
    return None


@handles("PUT", "/cluster/ha/rules/{rule}")
def update_rule(ctx: HandlerContext) -> None:
    _rules_usable(ctx, "update")
    ha = _ha(ctx)
    name = ctx.params["rule"]
    entries = ha.rule_entries()
    current = next((e for e in entries if e["rule"] == name), None)
    if current is None:
        raise PVEError(f"update ha rule failed: HA rule '{name}' does not exist")
    if ctx.params.get("type") and ctx.params["type"] != current["type"]:
        raise PVEError("update ha rule failed: types does not match")
    _require_unchanged_digest(ctx, "rules", "update ha rule failed")
    changed = _edited(dict(current), ctx, RULE_KEYS)
    _check_rule(ctx, changed)
    ha.set_rules([changed if e["rule"] == name else e for e in entries])
    return None


@handles("DELETE", "/cluster/ha/rules/{rule}")
def delete_rule(ctx: HandlerContext) -> None:
    ha = _ha(ctx)
    current = _rule(ctx)
    ha.set_rules([e for e in ha.rule_entries() if e["rule"] != current["rule"]])
    return None


# ---- status ----------------------------------------------------------------------------------------------------


@handles("GET", "/cluster/ha/status")
def status_index(ctx: HandlerContext) -> list[dict[str, str]]:
    return pve_index_listing(ctx.template, ctx.cluster.version) or []


def _answering_node(ctx: HandlerContext) -> str:
    online = [node.name for node in ctx.cluster.nodes if node.online]
    return online[0] if online else (ctx.cluster.nodes[0].name if ctx.cluster.nodes else "localhost")


def _resources_for_status(ha: ClusterHA) -> dict[str, dict[str, Any]]:
    ha.read_service_config()  # brings each resource's node up to date
    return {sid: {k: v for k, v in cfg.items() if v is not None} for sid, cfg in ha.service_config.items()}


@handles("GET", "/cluster/ha/status/current")
def status_current(ctx: HandlerContext) -> list[dict[str, Any]]:
    ha = _ha(ctx)
    crs = (ha.datacenter.get("crs") or {}).get("ha", "basic")
    rows = ha_status_current(
        node=_answering_node(ctx),
        quorate=ctx.cluster.quorate,
        manager_status=ha.manager_status,
        lrm_status=ha.lrm_status,
        resources=_resources_for_status(ha),
        now=ctx.cluster.clock.now(),
        crs_mode=crs,
        tz=ctx.cluster.tzinfo,
        fencing_row=ctx.cluster.has("ha-status-fencing-row"),
        failback_field=ctx.cluster.has("ha-failback"),
    )
    for row in rows:
        if row.get("node") is None:  # a resource whose guest is gone
            row["node"] = ""
    return rows


@handles("GET", "/cluster/ha/status/manager_status")
def status_manager(ctx: HandlerContext) -> dict[str, Any]:
    ha = _ha(ctx)
    return ha_manager_status(
        node=_answering_node(ctx),
        quorate=ctx.cluster.quorate,
        manager_status=ha.manager_status,
        lrm_status=ha.lrm_status,
    )


@handles("POST", "/cluster/ha/status/disarm-ha")
def disarm_ha(ctx: HandlerContext) -> None:
    ha = _ha(ctx)
    ha.queue_crm_command(f"disarm-ha {ctx.params['resource-mode']}")
    ha.after_request()
    return None


@handles("POST", "/cluster/ha/status/arm-ha")
def arm_ha(ctx: HandlerContext) -> None:
    ha = _ha(ctx)
    ha.queue_crm_command("arm-ha")
    ha.after_request()
    return None
