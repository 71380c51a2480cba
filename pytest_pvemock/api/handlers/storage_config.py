"""``/storage``: the storage definitions of ``storage.cfg``, read, created, changed and removed as pve-storage does.

pve-storage ``src/PVE/API2/Storage/Config.pm`` (commit 0c56bad8) with ``PVE::SectionConfig::check_config``
(pve-common f665029e, ``src/PVE/SectionConfig.pm`` 1608-1641) and each plugin's ``options`` and ``plugindata``
(``model/storage_types.py``). A check that dies before ``lock_storage_config`` answers its bare message; one inside
the lock answers it after ``create storage failed: `` (``update``, ``delete``), as ``lock_storage_config`` wraps it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.api.handlers.shaping import ordered, ordered_rows
from pytest_pvemock.api.visibility import Visibility
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.storage import Storage
from pytest_pvemock.model.storage_types import StorageType, storage_types
from pytest_pvemock.schema.formats.checks import split_list

#: Parameters of the create and update calls that are not properties of the definition.
_CONTROL = {"storage", "type", "digest", "delete"}
#: What ``Plugin.pm``'s ``parse_config`` puts back whenever ``local`` is missing or is not this (560-586).
_LOCAL_CONTENT = ["backup", "images", "iso", "rootdir", "snippets", "vztmpl"]
_DIGEST_MISMATCH = "detected modified configuration - file changed by other user? Try again."


def _definition(ctx: HandlerContext) -> Storage:
    storage = ctx.cluster.storage(ctx.params["storage"])
    if storage is None:
        raise PVEError(f"storage '{ctx.params['storage']}' does not exist")  # Storage.pm storage_config 259
    return storage


def _type_of(ctx: HandlerContext, name: str) -> StorageType:
    return storage_types(ctx.cluster.release.major)[name]


@handles("GET", "/storage")
def list_storage(ctx: HandlerContext) -> list[dict[str, Any]]:
    kind, digest = ctx.params.get("type"), ctx.cluster.storage_cfg_digest()
    rows = [storage.config_entry(digest) for storage in ctx.cluster.storages if kind in (None, storage.plugintype)]
    return ordered_rows(ctx, Visibility(ctx).storages(rows), key="storage")  # Config.pm index 121-172


@handles("GET", "/storage/{storage}")
def get_storage(ctx: HandlerContext) -> dict[str, Any]:
    storage = _definition(ctx)
    return ordered(ctx, storage.config_entry(ctx.cluster.storage_cfg_digest()), storage.storage)


@handles("POST", "/storage")
def create_storage(ctx: HandlerContext) -> dict[str, Any]:
    """Config.pm ``create`` (198-296): check the definition against its plugin (249), then add it under the lock."""
    return define_storage(ctx, ctx.params)


def define_storage(ctx: HandlerContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """``PVE::API2::Storage::Config->create(params)``: what ``POST /storage`` does, also called by other methods
    (``disks/lvm`` and the like with ``add_storage``)."""
    storeid, kind = params["storage"], params["type"]
    plugin = _type_of(ctx, kind)
    given = {key: value for key, value in params.items() if key not in _CONTROL}
    if not given.get("nodes"):
        given.pop("nodes", None)  # 'revent an empty nodelist'
    sensitive = {key: given.pop(key) for key in list(given) if key in plugin.sensitive}
    if kind in ("nfs", "cifs", "cephfs", "glusterfs") and not given.get("path"):
        given["path"] = f"/mnt/pve/{storeid}"  # NFSPlugin.pm check_config 113 (and CIFS, CephFS, GlusterFS)
    settings = _checked(plugin, given | dict.fromkeys(sensitive, 1), create=True)
    for key in sensitive:
        settings.pop(key)
    if kind in ("dir", "btrfs"):
        settings["path"] = _directory_path(str(settings["path"]))  # DirPlugin.pm check_config 255-266
    try:
        if ctx.cluster.storage(storeid) is not None:
            raise PVEError(f"storage ID '{storeid}' already defined")  # Config.pm 256-258
        returned = _on_add_hook(ctx, plugin, settings, sensitive)
    except PVEError as error:
        raise PVEError(f"create storage failed: {error.message}") from None
    content = settings.pop("content") if "content" in settings else list(plugin.default_content)  # parse_config 601
    path = settings.pop("path", None)
    nodes = str(settings.pop("nodes")).split(",") if settings.get("nodes") else None
    shared = plugin.shared or bool(settings.pop("shared", 0))
    enabled = not settings.pop("disable", 0)
    ctx.cluster.add_storage(
        storeid, kind, content, shared=shared, nodes=nodes, path=str(path) if path else None, enabled=enabled,
        options=dict(settings),
    )  # fmt: skip
    answer: dict[str, Any] = {"storage": storeid, "type": kind}
    if returned:
        answer["config"] = returned
    return answer


@handles("PUT", "/storage/{storage}")
def update_storage(ctx: HandlerContext) -> dict[str, Any]:
    """Config.pm ``update`` (298-413): fixed options stay, ``delete`` removes optional ones, all under the lock."""
    try:
        digest = ctx.params.get("digest")
        if digest and digest != ctx.cluster.storage_cfg_digest():
            raise PVEError(_DIGEST_MISMATCH)  # Config.pm 352 (SectionConfig assert_if_modified)
        storage = _definition(ctx)
        plugin = _type_of(ctx, storage.plugintype)
        delete = split_list(str(ctx.params.get("delete") or ""))
        given = {key: value for key, value in ctx.params.items() if key not in _CONTROL}
        sensitive = {key: given.pop(key) for key in list(given) if key in plugin.sensitive}
        settings = _checked(plugin, given | dict.fromkeys(sensitive, 1), create=False)
        for key in delete:  # Config.pm 365-375
            if key not in plugin.options:
                raise PVEError(f"no such option '{key}'")
            optional, fixed = plugin.options[key]
            if not optional:
                raise PVEError(f"unable to delete required option '{key}'")
            if fixed:
                raise PVEError(f"unable to delete fixed option '{key}'")
            if key in settings:
                raise PVEError(f"cannot set and delete property '{key}' at the same time!")
    except PVEError as error:
        raise PVEError(f"update storage failed: {error.message}") from None
    for key in sensitive:
        settings.pop(key)
    try:
        returned = _on_add_hook(ctx, plugin, settings, sensitive)  # PBSPlugin.pm on_update_hook 549-600: the same
    except PVEError as error:
        raise PVEError(f"update storage failed: {error.message}") from None
    _apply(storage, plugin, settings, [key for key in delete if key not in plugin.sensitive])
    answer: dict[str, Any] = {"storage": storage.storage, "type": storage.plugintype}
    if returned:
        answer["config"] = returned
    return answer


@handles("DELETE", "/storage/{storage}")
def delete_storage(ctx: HandlerContext) -> None:
    """Config.pm ``delete`` (415-466): refused while another storage is based on it; its ACLs and pool
    memberships go with it (``remove_storage_access``, pve-access-control 5ccd07d ``AccessControl.pm`` 1921)."""
    storeid = ctx.params["storage"]
    try:
        _definition(ctx)
        based = [other.storage for other in ctx.cluster.storages if _base_storage(other) == storeid]
        if based:
            raise PVEError("can't remove storage - storage is used as base of another storage")
    except PVEError as error:
        raise PVEError(f"delete storage failed: {error.message}") from None
    ctx.cluster.remove_storage(storeid)
    if storeid == "local":  # parse_config puts a 'local' directory storage back whenever it is missing
        ctx.cluster.add_storage("local", "dir", _LOCAL_CONTENT, path="/var/lib/vz",
                                options={"prune-backups": "keep-all=1"})  # fmt: skip
    return None


def _checked(plugin: StorageType, config: dict[str, Any], *, create: bool) -> dict[str, Any]:
    """``SectionConfig::check_config`` with pve-storage's ``decode_value`` of ``content``: the settings to store."""
    settings: dict[str, Any] = {}
    for key in sorted(config):
        if not create and plugin.fixed(key):
            raise PVEError(f"can't change value of fixed parameter '{key}'")
        if key not in plugin.options:
            raise PVEError(f"unexpected property '{key}'")  # SectionConfig check_value 1178
        settings[key] = config[key]
    if "content" in settings:
        settings["content"] = _content(plugin, str(settings["content"]))
    if create:
        for key in plugin.required():
            if key not in config:
                raise PVEError(f"missing value for required option '{key}'")
    return settings


def _content(plugin: StorageType, text: str) -> list[str]:
    """Plugin.pm ``decode_value`` 475-496: types the plugin cannot hold are dropped (PVE only warns)."""
    kept = [kind for kind in dict.fromkeys(split_list(text)) if kind in plugin.content]
    if "none" in kept and len(kept) > 1:
        raise PVEError("unable to combine 'none' with other content types")
    if not kept and "none" not in plugin.content:
        raise PVEError("storage does not support content type 'none'")
    return kept


def _directory_path(path: str) -> str:
    if not re.fullmatch(r"/[-/a-zA-Z0-9_.@]+", path):
        raise PVEError(f"illegal path for directory storage: {path}")
    return posixpath.normpath(path) if path != "/" else path


def _apply(storage: Storage, plugin: StorageType, settings: dict[str, Any], delete: list[str]) -> None:
    options = {key: value for key, value in storage.options.items() if key not in delete}
    for key, value in settings.items():
        if key == "content":
            storage.content = list(value)
        elif key == "nodes":
            storage.nodes = str(value).split(",") if value else None
        elif key == "disable":
            storage.enabled = not value
        elif key == "shared":
            storage.shared = plugin.shared or bool(value)
        else:
            options[key] = value
    if "content" in delete:
        storage.content = list(plugin.default_content)
    if "nodes" in delete:
        storage.nodes = None
    if "disable" in delete:
        storage.enabled = True
    if "shared" in delete:
        storage.shared = plugin.shared
    storage.options = options


def _base_storage(storage: Storage) -> str | None:
    base = storage.options.get("base")
    return str(base).split(":", 1)[0] if base else None


def _on_add_hook(
    ctx: HandlerContext, plugin: StorageType, settings: dict[str, Any], sensitive: dict[str, Any]
) -> dict[str, Any]:
    """What a plugin's ``on_add_hook`` answers and writes into the definition; the secrets go to
    ``/etc/pve/priv``, which the fake never reads back. Only PBS answers something (PBSPlugin.pm 506-547)."""
    if plugin.name != "pbs":
        return {}
    returned: dict[str, Any] = {}
    key = sensitive.get("encryption-key")
    if key is not None:
        if key == "autogen":
            returned["encryption-key"] = _new_encryption_key(ctx)
            decoded = json.loads(returned["encryption-key"])
        else:
            try:
                decoded = json.loads(str(key))
            except ValueError:
                decoded = None
            if not isinstance(decoded, dict) or "data" not in decoded:
                raise PVEError("Value does not seems like a valid, JSON formatted encryption key!")
            returned["encryption-key"] = key
        settings["encryption-key"] = decoded.get("fingerprint") or 1
    if sensitive.get("master-pubkey") is not None:
        if "encryption-key" not in settings:
            raise PVEError("'master-pubkey' can only be used together with 'encryption-key'")
        settings["master-pubkey"] = 1
    return returned


def _new_encryption_key(ctx: HandlerContext) -> str:
    """``proxmox-backup-client key create --kdf none``'s key file: a fresh 32-byte key and its fingerprint."""
    key = secrets.token_bytes(32)
    stamp = datetime.fromtimestamp(ctx.cluster.clock.now(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    fingerprint = ":".join(f"{byte:02x}" for byte in hashlib.sha256(key).digest())
    document = {"kdf": None, "created": stamp, "modified": stamp, "data": base64.b64encode(key).decode(),
                "fingerprint": fingerprint}  # fmt: skip
    return json.dumps(document)
