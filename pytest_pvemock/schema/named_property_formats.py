"""Property-string formats that the PVE schema names instead of inlining (``format => 'pve-qm-boot'``).

The apidoc dump keeps only the name and a ``typetext``; PVE registers the key schema elsewhere with
``register_format(NAME, { key => {...}, ... })``. The build needs the keys to check such values:

- ``INLINE_TWINS``: the same hash is inlined elsewhere in the dump (``ide[n]`` inlines what ``cdrom`` names as
  ``pve-qm-ide``), so the key schemas are taken from there, for the version being built;
- ``TRANSCRIBED``: the others, transcribed (PVE schema syntax, display texts left out) from the package that
  registers them, at its newest commit. ``{"$parameter": [path, method, name]}`` reuses a parameter of the same
  dump (PVE's ``get_standard_option``). The build keeps only the keys the version's ``typetext`` lists, so an
  older schema does not gain newer keys.
- ``VALIDATORS``: the check PVE attaches to some named formats (third argument of ``register_format``), run on
  the parsed keys after they passed.

Sources: qemu-server (QemuServer.pm, QemuServer/{CPUConfig,Network,PCI,RNG}.pm), pve-guest-common
(VZDump/Common.pm), pve-storage (Storage/Plugin.pm), pve-access-control (Auth/Plugin.pm), pve-common
(JSONSchema.pm), pve-network (SDN/SubnetPlugin.pm).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

__all__ = ["INLINE_TWINS", "TRANSCRIBED", "VALIDATORS", "named_property_formats"]

INLINE_TWINS: dict[str, tuple[str, str, str]] = {
    "pve-qm-ide": ("/nodes/{node}/qemu", "POST", "ide[n]"),
}

_OPTIONAL_BOOLEAN = {"type": "boolean", "optional": 1}
_BASE64 = {"type": "string", "pattern": "[A-Za-z0-9+\\/]+={0,2}", "format_description": "Base64 encoded string",
           "optional": 1}  # fmt: skip
_HEX_ID = {"type": "string", "pattern": "^0x[0-9a-fA-F]{4}$", "format_description": "hex id", "optional": 1}
_PCI_ID = r"(?:[a-f0-9]{4,}:)?[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?"
_PRUNE_OPTION = {"type": "integer", "minimum": 0, "optional": 1}
_VOLUME = {"type": "string", "format": "pve-volume-id", "format_description": "volume", "optional": 1}

TRANSCRIBED: dict[str, dict[str, Any]] = {
    "pve-qm-watchdog": {
        "model": {"default_key": 1, "type": "string", "enum": ["i6300esb", "ib700"], "default": "i6300esb",
                  "optional": 1},
        "action": {"type": "string", "enum": ["reset", "shutdown", "poweroff", "pause", "debug", "none"],
                   "optional": 1},
    },
    "pve-qm-cicustom": {"meta": _VOLUME, "network": _VOLUME, "user": _VOLUME, "vendor": _VOLUME},
    "pve-qm-boot": {
        "legacy": {"optional": 1, "default_key": 1, "type": "string", "pattern": "[acdn]{1,4}",
                   "format_description": "[acdn]{1,4}", "default": "cdn"},
        "order": {"optional": 1, "type": "string", "format": "pve-qm-bootdev-list",
                  "format_description": "device[;device...]"},
    },
    "pve-qm-smbios1": {
        "uuid": {"type": "string", "pattern": "[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}",
                 "format_description": "UUID", "optional": 1},
        "version": _BASE64, "serial": _BASE64, "manufacturer": _BASE64, "product": _BASE64, "sku": _BASE64,
        "family": _BASE64, "base64": _OPTIONAL_BOOLEAN,
    },
    "pve-qm-rng": {
        "source": {"type": "string", "enum": ["/dev/urandom", "/dev/random", "/dev/hwrng"], "default_key": 1},
        "max_bytes": {"type": "integer", "optional": 1, "default": 1024},
        "period": {"type": "integer", "optional": 1, "default": 1000},
    },
    "pve-qm-ipconfig": {
        "ip": {"type": "string", "format": "pve-ipv4-config", "format_description": "IPv4Format/CIDR",
               "optional": 1, "default": "dhcp"},
        "gw": {"type": "string", "format": "ipv4", "format_description": "GatewayIPv4", "optional": 1,
               "requires": "ip"},
        "ip6": {"type": "string", "format": "pve-ipv6-config", "format_description": "IPv6Format/CIDR",
                "optional": 1, "default": "dhcp"},
        "gw6": {"type": "string", "format": "ipv6", "format_description": "GatewayIPv6", "optional": 1,
                "requires": "ip6"},
    },
    "pve-qm-hostpci": {
        "host": {"default_key": 1, "optional": 1, "type": "string", "pattern": f"{_PCI_ID}(;{_PCI_ID})*",
                 "format_description": "HOSTPCIID[;HOSTPCIID2...]"},
        "mapping": {"optional": 1, "type": "string", "format_description": "mapping-id", "format": "pve-configid"},
        "rombar": {"type": "boolean", "optional": 1, "default": 1},
        "romfile": {"type": "string", "pattern": "[^,;]+", "format_description": "string", "optional": 1},
        "pcie": {"type": "boolean", "optional": 1, "default": 0},
        "x-vga": {"type": "boolean", "optional": 1, "default": 0},
        "legacy-igd": {"type": "boolean", "optional": 1, "default": 0},
        "mdev": {"type": "string", "format_description": "string", "pattern": "[^/\\.:]+", "optional": 1},
        "vendor-id": _HEX_ID, "device-id": _HEX_ID, "sub-vendor-id": _HEX_ID, "sub-device-id": _HEX_ID,
        "driver": {"type": "string", "optional": 1, "default": "vfio", "enum": ["vfio", "keep"]},
    },
    "pve-vm-cpu-conf": {
        "cputype": {"type": "string", "format_description": "string", "default": "kvm64", "default_key": 1,
                    "optional": 1},
        # PVE enumerates the host's QEMU CPU models at run time; the model list is not part of the schema.
        "reported-model": {"type": "string", "default": "kvm64", "optional": 1},
        "hidden": {"type": "boolean", "optional": 1, "default": 0},
        "hv-vendor-id": {"type": "string", "pattern": "[a-zA-Z0-9]{1,12}", "format_description": "vendor-id",
                         "optional": 1},
        "flags": {"format_description": "+FLAG[;-FLAG...]", "type": "string",
                  "pattern": "([+-])([a-zA-Z0-9\\-_\\.]+)(;([+-])([a-zA-Z0-9\\-_\\.]+))*", "optional": 1},
        "guest-phys-bits": {"type": "integer", "minimum": 32, "maximum": 64, "optional": 1},
        "phys-bits": {"type": "string", "format": "pve-phys-bits", "format_description": "8-64|host",
                      "optional": 1},
        "level": {"type": "integer", "minimum": 0, "maximum": 4294967295, "optional": 1},
    },
    "pve-qemu-sev-fmt": {
        "type": {"type": "string", "default_key": 1, "format_description": "sev-type", "enum": ["std", "es", "snp"],
                 "maxLength": 3},
        "no-debug": {"type": "boolean", "default": 0, "optional": 1},
        "no-key-sharing": {"type": "boolean", "default": 0, "optional": 1},
        "allow-smt": {"type": "boolean", "default": 1, "optional": 1},
        "kernel-hashes": {"type": "boolean", "default": 0, "optional": 1},
    },
    "pve-qemu-tdx-fmt": {
        "type": {"type": "string", "default_key": 1, "format_description": "tdx-type", "enum": ["tdx"]},
        "attestation": {"type": "boolean", "default": 1},
        "vsock-cid": {"type": "integer", "minimum": 2, "default": 2, "optional": 1},
        "vsock-port": {"type": "integer", "minimum": 0, "default": 4050, "optional": 1},
    },
    "backup-fleecing": {
        "enabled": {"type": "boolean", "default": 0, "optional": 1, "default_key": 1},
        "storage": {"type": "string", "format": "pve-storage-id", "format_description": "storage ID", "optional": 1},
    },
    "backup-performance": {
        "max-workers": {"type": "integer", "minimum": 1, "maximum": 256, "default": 16, "optional": 1},
        "pbs-entries-max": {"type": "integer", "minimum": 1, "default": 1048576, "optional": 1},
    },
    "prune-backups": {
        "keep-all": _OPTIONAL_BOOLEAN, "keep-last": _PRUNE_OPTION, "keep-hourly": _PRUNE_OPTION,
        "keep-daily": _PRUNE_OPTION, "keep-weekly": _PRUNE_OPTION, "keep-monthly": _PRUNE_OPTION,
        "keep-yearly": _PRUNE_OPTION,
    },
    "realm-sync-options": {
        "scope": {"$parameter": ["/access/domains/{realm}/sync", "POST", "scope"]},
        "remove-vanished": {"$parameter": ["/access/domains/{realm}/sync", "POST", "remove-vanished"]},
        "full": {"type": "boolean", "optional": "1"},
        "enable-new": {"type": "boolean", "default": "1", "optional": "1"},
        "purge": {"type": "boolean", "optional": "1"},
    },
    "pve-tfa-config": {
        "type": {"format_description": "TFATYPE", "type": "string", "enum": ["yubico", "oath"]},
        "id": {"format_description": "ID", "type": "string", "optional": 1},
        "key": {"format_description": "KEY", "type": "string", "optional": 1},
        "url": {"format_description": "URL", "type": "string", "optional": 1},
        "digits": {"format_description": "COUNT", "type": "integer", "minimum": 6, "maximum": 8, "default": 6,
                   "optional": 1},
        "step": {"format_description": "SECONDS", "type": "integer", "minimum": 10, "default": 30, "optional": 1},
    },
    "proxmox-remote": {
        "host": {"type": "string", "format_description": "ADDRESS"},
        "port": {"type": "integer", "optional": 1, "format_description": "PORT"},
        "apitoken": {"type": "string", "format_description": "PVEAPIToken=user@realm!token=SECRET"},
        "fingerprint": {"type": "string", "pattern": "([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}", "optional": 1,
                        "format_description": "FINGERPRINT"},
    },
    # 'type => "ip"' is not a type PVE's check_type knows, so it accepts any value; kept as PVE has it.
    "pve-sdn-dhcp-range": {"start-address": {"type": "ip"}, "end-address": {"type": "ip"}},
}  # fmt: skip


def _fleecing_needs_storage(keys: dict[str, Any]) -> str | None:
    if not keys.get("storage") and keys.get("enabled") in (1, "1"):
        return "'storage' parameter is required when 'enabled' is set"
    return None


def _prune_keep_all_alone(keys: dict[str, Any]) -> str | None:
    others = {k: v for k, v in keys.items() if k != "keep-all"}
    others_set = any(float(v) > 0 for v in others.values() if re.match(r"^[+-]?\d+(?:\.\d+)?$", str(v)))
    if others_set and keys.get("keep-all") in (1, "1"):
        return "keep-all cannot be set together with other options."
    return None


VALIDATORS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "backup-fleecing": _fleecing_needs_storage,
    "prune-backups": _prune_keep_all_alone,
}


def _find_parameter(tree: list[dict[str, Any]], path: str, method: str, name: str) -> dict[str, Any] | None:
    stack = list(tree)
    while stack:
        node = stack.pop()
        if node.get("path") == path:
            info = (node.get("info") or {}).get(method) or {}
            return ((info.get("parameters") or {}).get("properties") or {}).get(name)
        stack.extend(node.get("children") or [])
    return None


def _typetext_keys(tree: list[dict[str, Any]]) -> dict[str, set[str]]:
    """name -> keys listed in the typetext of properties using that named format, in this dump."""
    found: dict[str, set[str]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("format"), str) and isinstance(value.get("typetext"), str):
                keys = set(re.findall(r"([A-Za-z0-9_\-]+)=", value["typetext"]))
                found.setdefault(value["format"], set()).update(keys)
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(tree)
    return found


def named_property_formats(tree: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """name -> key schemas (PVE syntax) for every named property-string format, as this dump's version has them."""
    typetext_keys = _typetext_keys(tree)
    found: dict[str, dict[str, Any]] = {}
    for name, keys in TRANSCRIBED.items():
        resolved = {}
        for key, schema in keys.items():
            if "$parameter" in schema:
                schema = copy.deepcopy(_find_parameter(tree, *schema["$parameter"]) or {"type": "string"})
                schema["optional"] = 1
            resolved[key] = schema
        listed = typetext_keys.get(name)
        if listed:
            resolved = {k: v for k, v in resolved.items() if k in listed}
        found[name] = resolved
    for name, (path, method, parameter) in INLINE_TWINS.items():
        schema = _find_parameter(tree, path, method, parameter)
        if schema is not None and isinstance(schema.get("format"), dict):
            found[name] = schema["format"]
    return found
