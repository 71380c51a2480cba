"""``/cluster/acme/...``: pve-manager PVE/API2/ACMEAccount.pm and PVE/API2/ACMEPlugin.pm (commit 14a22df3).

Accounts, directories, meta and ToS answer from :mod:`pytest_pvemock.model.acme`; the challenge schema lists the
DNS plugins of the cluster's release (the ``api`` enum of its own schema) with the field schemas of proxmox-acme's
``dns-challenge-schema.json`` (``third_party/pve-acme``).
"""

from __future__ import annotations

import re
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model.acme import (
    DEFAULT_DIRECTORY,
    AcmeAccounts,
    AcmePlugins,
    directory_meta,
    known_directories,
)
from pytest_pvemock.model.tasks import Task
from pytest_pvemock.pve_data import pve_data
from pytest_pvemock.schema.registry import get_registry


def _contacts(ctx: HandlerContext) -> list[str]:
    """``$account_contact_from_param``: each address of the ``email-list`` as ``mailto:<address>``."""
    text = str(ctx.params.get("contact") or "")
    return [f"mailto:{address}" for address in re.split(r"[,;\s]+", text) if address]


@handles("GET", "/cluster/acme/account")
def list_accounts(ctx: HandlerContext) -> list[dict[str, Any]]:
    """ACMEAccount.pm 72-97: ``{name}`` per account file (none on a fresh cluster)."""
    return [{"name": name} for name in AcmeAccounts(ctx.cluster).names()]


@handles("POST", "/cluster/acme/account")
def register_account(ctx: HandlerContext) -> str:
    """ACMEAccount.pm 99-194: an existing name is a parameter error before the worker; the CA's refusal fails
    the ``acmeregister`` task with ``Registration failed: ...``."""
    accounts = AcmeAccounts(ctx.cluster)
    name = str(ctx.params.get("name") or "default")
    if accounts.get(name) is not None or name in accounts.names():
        raise ParameterError({"name": f"ACME account config file '{name}' already exists."})
    directory = str(ctx.params.get("directory") or DEFAULT_DIRECTORY)
    contact = _contacts(ctx)
    tos_url = ctx.params.get("tos_url")

    def work(task: Task) -> None:
        accounts.register(name, directory, contact, str(tos_url) if tos_url else None, task.log)

    return _worker(ctx, "acmeregister", work)


def _worker(ctx: HandlerContext, kind: str, work: Any) -> str:
    task = ctx.cluster.tasks.start(ctx.entry_node, kind, "", ctx.principal.authid, work=work)
    return task.upid


def _existing(ctx: HandlerContext) -> str:
    name = str(ctx.params.get("name") or "default")
    if AcmeAccounts(ctx.cluster).get(name) is None:
        raise ParameterError({"name": f"ACME account config file '{name}' does not exist."})
    return name


@handles("GET", "/cluster/acme/account/{name}")
def get_account(ctx: HandlerContext) -> dict[str, Any]:
    """ACMEAccount.pm 277-332: the saved ``account``, ``directory``, ``location`` and ``tos`` (never the key)."""
    record = AcmeAccounts(ctx.cluster).get(_existing(ctx)) or {}
    answer: dict[str, Any] = {key: record[key] for key in ("account", "directory", "location", "tos") if key in record}
    return ordered(ctx, answer, f"acme-account/{ctx.params['name']}")


@handles("PUT", "/cluster/acme/account/{name}")
def update_account(ctx: HandlerContext) -> str:
    """ACMEAccount.pm 246-275: new contacts (``acmeupdate``) or a refresh (``acmerefresh``)."""
    name = _existing(ctx)
    contact = _contacts(ctx)
    accounts = AcmeAccounts(ctx.cluster)

    def work(task: Task) -> None:
        task.log.extend(accounts.update(name, contact=contact or None))

    return _worker(ctx, "acmeupdate" if contact else "acmerefresh", work)


@handles("DELETE", "/cluster/acme/account/{name}")
def deactivate_account(ctx: HandlerContext) -> str:
    """ACMEAccount.pm 334-354: deactivated at the CA, the file renamed so that the list no longer shows it."""
    name = _existing(ctx)
    accounts = AcmeAccounts(ctx.cluster)

    def work(task: Task) -> None:
        task.log.extend(accounts.update(name, deactivate=True))

    return _worker(ctx, "acmedeactivate", work)


@handles("GET", "/cluster/acme/tos")
def get_tos(ctx: HandlerContext) -> str | None:
    """ACMEAccount.pm 357-391: the directory's ``meta.termsOfService``."""
    meta = directory_meta(str(ctx.params.get("directory") or DEFAULT_DIRECTORY))
    return meta.get("termsOfService")


@handles("GET", "/cluster/acme/meta")
def get_meta(ctx: HandlerContext) -> dict[str, Any]:
    """ACMEAccount.pm 393-452: the directory's ``meta`` object as the CA publishes it."""
    return directory_meta(str(ctx.params.get("directory") or DEFAULT_DIRECTORY))


@handles("GET", "/cluster/acme/directories")
def get_directories(ctx: HandlerContext) -> list[dict[str, str]]:
    """ACMEAccount.pm 454-482: the known directories, Let's Encrypt and its staging environment."""
    return known_directories()


@handles("GET", "/cluster/acme/challenge-schema")
def get_challenge_schema(ctx: HandlerContext) -> list[dict[str, Any]]:
    """ACMEAccount.pm 484-543: per DNS plugin of the release (sorted), its id, name (the id without one), type
    ``dns`` and schema; the standalone type has no sub-plugins."""
    fields = pve_data("pve-acme", "dns-challenge-schema.json")
    rows = []
    for plugin_id in sorted(_dns_plugin_ids(ctx)):
        schema = dict(fields.get(plugin_id) or {})
        rows.append({"id": plugin_id, "name": schema.get("name", plugin_id), "type": "dns", "schema": schema})
    return ordered_rows(ctx, rows)


def _dns_plugin_ids(ctx: HandlerContext) -> list[str]:
    """The DNS plugins of the cluster's release: ``api``'s enum, ``[sort keys %$plugins]`` of the same file."""
    endpoint = get_registry(ctx.cluster.version).endpoint("POST", "/cluster/acme/plugins")
    return [str(name) for name in endpoint.parameters_schema["properties"]["api"].get("enum", ())]


# -- plugins (ACMEPlugin.pm) -----------------------------------------------------------------------------------------
def _plugin_answer(ctx: HandlerContext, plugin_id: str, record: dict[str, Any], digest: str) -> dict[str, Any]:
    """``$modify_cfg_for_api`` (ACMEPlugin.pm 41-51): the section with ``plugin`` and the file's ``digest``."""
    return ordered(ctx, {**record, "plugin": plugin_id, "digest": digest}, f"acme-plugin/{plugin_id}")


@handles("GET", "/cluster/acme/plugins")
def list_plugins(ctx: HandlerContext) -> list[dict[str, Any]]:
    """ACMEPlugin.pm 65-104: every plugin (``type`` filters), ``standalone`` always among them."""
    section = AcmePlugins(ctx.cluster).section
    wanted = ctx.params.get("type")
    return [
        _plugin_answer(ctx, plugin_id, record, section.digest)
        for plugin_id, record in section.records.items()
        if not wanted or record.get("type") == wanted
    ]


@handles("GET", "/cluster/acme/plugins/{id}")
def get_plugin(ctx: HandlerContext) -> dict[str, Any]:
    """ACMEPlugin.pm 106-128: ``ACME plugin '<id>' not defined`` for an unknown id."""
    section = AcmePlugins(ctx.cluster).section
    plugin_id = str(ctx.params["id"])
    record = section.get(plugin_id)
    if record is None:
        raise PVEError(f"ACME plugin '{plugin_id}' not defined\n")
    return _plugin_answer(ctx, plugin_id, record, section.digest)


_WRITE_CONTROLS = ("id", "type", "delete", "digest")


@handles("POST", "/cluster/acme/plugins")
def add_plugin(ctx: HandlerContext) -> None:
    """ACMEPlugin.pm 130-169: an existing id refused, then ``check_config`` of the type's options."""
    plugins = AcmePlugins(ctx.cluster)
    section = plugins.section
    plugin_id, plugin_type = str(ctx.params["id"]), str(ctx.params["type"])
    if section.get(plugin_id) is not None:
        raise PVEError(f"ACME plugin ID '{plugin_id}' already exists\n")
    values = {key: value for key, value in ctx.params.items() if key not in _WRITE_CONTROLS}
    section.records[plugin_id] = {"type": plugin_type, **plugins.check_options(plugin_type, values, create=True)}


@handles("PUT", "/cluster/acme/plugins/{id}")
def update_plugin(ctx: HandlerContext) -> None:
    """ACMEPlugin.pm 171-226: the digest checked, ``delete`` of optional options only, then the new values."""
    plugins = AcmePlugins(ctx.cluster)
    section = plugins.section
    plugin_id = str(ctx.params["id"])
    digest = ctx.params.get("digest")
    if digest and digest != section.digest:
        raise PVEError("detected modified configuration - file changed by other user? Try again.\n")
    record = section.get(plugin_id)
    if record is None:
        raise PVEError(f"ACME plugin ID '{plugin_id}' does not exist\n")
    plugin_type = str(record.get("type"))
    options = {"dns": ("api", "data", "nodes", "disable", "validation-delay"), "standalone": ("nodes", "disable")}
    for key in re.split(r"[,;\s]+", str(ctx.params.get("delete") or "")):
        if not key:
            continue
        if key not in options.get(plugin_type, ()):
            raise PVEError(f"no such option '{key}'\n")
        if key == "api":
            raise PVEError(f"unable to delete required option '{key}'\n")
        record.pop(key, None)
    values = {key: value for key, value in ctx.params.items() if key not in _WRITE_CONTROLS}
    record.update(plugins.check_options(plugin_type, values, create=False))


@handles("DELETE", "/cluster/acme/plugins/{id}")
def delete_plugin(ctx: HandlerContext) -> None:
    """ACMEPlugin.pm 228-266: removed without a check (``standalone`` comes back on the next read)."""
    AcmePlugins(ctx.cluster).section.records.pop(str(ctx.params["id"]), None)
