"""Which parameters and answer properties of the PVE API carry a secret, from Proxmox's own schema.

``python -m pytest_pvemock.schema.secrets [--source apidoc.json.gz --pve-version V] [--out DIR]`` reads an apidoc
dump (``apidata.js`` of pve-docs as gzipped JSON, any release) and writes ``DIR/pve-<V>.json`` (default
``schemas/secrets/``); without ``--source`` it writes one file per schema stored in ``third_party/pve-api`` (every
release's, named after the first release that carries it; see :func:`default_sources`). The output is sorted
compact JSON with one trailing newline: the same input gives the same bytes (a test checks it).

A file holds, per ``"METHOD /template"`` with a secret, where the secrets are and why::

    "POST /access/ticket": {"parameters": {"password": "name"}, "returns": {"ticket": "name", ...}}

Locations: a parameter or property name; ``a/b`` descends into an object, ``[]`` into an array's items, ``*``
into any key of a map, and ``name{key}`` is the ``key`` inside a property string (``tfa{key}``). ``names`` lists
the names that are secret wherever they occur in that release (the scrubber also applies them to paths it cannot
place). The recorder (:mod:`pytest_pvemock.cassette.filters`) reads every file and takes their union.

Why something is secret (the value in the file says which rule):

- ``name``: the name says so (``password``, ``cipassword``, ``ticket``, ``vncticket``, ``token``, ``secret``,
  ``keyring``, ``client-key``, ``eab-hmac-key``, ``encryption-key``, ``corosync_authkey``, ``otp``, ``totp``,
  ``recovery``, ``CSRFPreventionToken``, ...): string or array values only, booleans and numbers never;
- ``description``: a string described as a private key (``POST /nodes/{node}/certificates/custom`` ``key``);
- the plugins' own lists (cited where they are listed below: :data:`PLACED`).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pytest_pvemock.schema.named_property_formats import named_property_formats

__all__ = ["SecretIndex", "classify", "load_secret_index", "main", "write_classification"]

# Names whose value is a secret wherever PVE uses them (exact, or as the last word of a dashed/underscored name).
_SECRET_WORDS = re.compile(
    r"(?:password|passwd|passphrase|secret|ticket|token|keyring|authkey)$|(?:^|[-_])t?otp$"
    r"|^(?:client|encryption|private|eab-hmac|hmac|api)[-_]key$"
    r"|^(?:recovery|keys|tfa-challenge|CSRFPreventionToken)$",
    re.IGNORECASE,
)
# Names the pattern above would take that are not secrets.
_NOT_SECRET = {
    # pve-network: the SDN configuration lock's id, handed to every caller that takes the lock; it guards against
    # concurrent edits and grants nothing (PVE/API2/Network/SDN.pm, lock_sdn_config)
    "lock-token": "a lock id, grants nothing",
}
_PRIVATE_KEY = re.compile(r"\bprivate key\b", re.IGNORECASE)

# Secrets that only their place identifies: (template regex, method regex, part, location) -> source.
PLACED: list[tuple[str, str, str, str, str]] = [
    # pve-manager PVE/API2/ACMEPlugin.pm: 'data' holds the DNS API credentials of the plugin (base64 of KEY=VALUE)
    (
        r"^/cluster/acme/plugins(?:/\{id\})?$",
        r"POST|PUT",
        "parameters",
        "data",
        "ACME plugin data (DNS API credentials)",
    ),
    (r"^/cluster/acme/plugins$", r"GET", "returns", "[]/data", "ACME plugin data (DNS API credentials)"),
    (r"^/cluster/acme/plugins/\{id\}$", r"GET", "returns", "data", "ACME plugin data (DNS API credentials)"),
    # pve-network PVE/Network/SDN/Dns/PowerdnsPlugin.pm: 'key' is the PowerDNS API key
    (r"^/cluster/sdn/dns(?:/\{dns\})?$", r"POST|PUT", "parameters", "key", "PowerDNS API key"),
    (r"^/cluster/sdn/dns(?:/\{dns\})?$", r"GET", "returns", "key", "PowerDNS API key"),
    (r"^/cluster/sdn/dns$", r"GET", "returns", "[]/key", "PowerDNS API key"),
    # pve-manager PVE/API2/Subscription.pm: the key is shown only to those permitted ("if set and permitted")
    (r"^/nodes/\{node\}/subscription$", r"PUT|POST", "parameters", "key", "subscription key"),
    (r"^/nodes/\{node\}/subscription$", r"GET", "returns", "key", "subscription key"),
    # pve-access-control src/PVE/API2/User.pm: the new token's secret, shown once
    (r"^/access/users/\{userid\}/token/\{tokenid\}$", r"POST|PUT", "returns", "value", "API token secret"),
    # pve-access-control src/PVE/API2/TFA.pm:346: 'value' is the current TOTP code or a WebAuthn response
    (r"^/access/tfa/\{userid\}$", r"POST", "parameters", "value", "TOTP code for the new factor"),
    # pve-access-control src/PVE/API2/OpenId.pm: the authorization code is exchanged for the user's tokens
    (r"^/access/openid/login$", r"POST", "parameters", "code", "OpenID authorization code"),
    # pve-access-control src/PVE/AccessControl.pm:633 remote_viewer_config: host => $proxyticket,
    # password => $ticket (SPICE proxy and VM tickets)
    (r"/spice(?:proxy|shell)$", r"POST", "returns", "host", "SPICE proxy ticket"),
    (r"/spice(?:proxy|shell)$", r"POST", "returns", "password", "SPICE ticket"),
    # pve-storage src/PVE/Storage/Plugin.pm:280 sensitive_properties and the plugins' 'sensitive-properties'
    # (PBSPlugin.pm:34 encryption-key, master-pubkey, password; CIFS/ESXi password; RBD/CephFS keyring)
    (r"^/storage(?:/\{storage\})?$", r"POST|PUT", "parameters", "master-pubkey", "pve-storage sensitive-properties"),
    (r"^/storage(?:/\{storage\})?$", r"GET", "returns", "master-pubkey", "pve-storage sensitive-properties"),
    (r"^/storage$", r"GET", "returns", "[]/master-pubkey", "pve-storage sensitive-properties"),
]
# Keys of named property-string formats that carry a secret.
FORMAT_KEYS = {
    # pve-access-control src/PVE/Auth/Plugin.pm pve-tfa-config: 'key' is the Yubico API key (or OATH secret)
    "pve-tfa-config": {"key": "Yubico API key"},
}


def _is_text(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind in (None, "string", "array", "object") or (isinstance(kind, list) and "string" in kind)


def _name_reason(name: str, schema: dict[str, Any]) -> str | None:
    base = re.sub(r"\[n\]$", "", name)
    if base in _NOT_SECRET or not _is_text(schema):
        return None
    if _SECRET_WORDS.search(base):
        return "name"
    description = schema.get("description") or ""
    if schema.get("type") in (None, "string") and _PRIVATE_KEY.search(description):
        return "description: private key"
    return None


def _property_string_keys(schema: dict[str, Any], named: dict[str, Any]) -> dict[str, Any]:
    fmt = schema.get("format")
    if isinstance(fmt, dict):
        return fmt
    if isinstance(fmt, str) and fmt in named and isinstance(named[fmt], dict):
        return dict(named[fmt])
    return {}


def _walk(schema: Any, where: str, named: dict[str, Any], found: dict[str, str], names: dict[str, set[bool]]) -> None:
    """Secrets inside ``schema`` (at ``where``) into ``found``; every name seen, secret or not, into ``names``."""
    if not isinstance(schema, dict):
        return
    fmt = schema.get("format")
    for key, sub in _property_string_keys(schema, named).items():
        if not isinstance(sub, dict):
            continue
        reason = _name_reason(key, sub)
        if isinstance(fmt, str) and key in FORMAT_KEYS.get(fmt, {}):
            reason = f"{fmt}: {FORMAT_KEYS[fmt][key]}"
        if reason and where:
            found[f"{where}{{{key}}}"] = reason
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, sub in sorted(properties.items()):
            if not isinstance(sub, dict):
                continue
            location = f"{where}/{name}" if where else name
            reason = _name_reason(name, sub)
            names.setdefault(re.sub(r"\[n\]$", "", name), set()).add(reason is not None)
            if reason:
                found[location] = reason
            else:
                _walk(sub, location, named, found, names)
    items = schema.get("items")
    if isinstance(items, dict):
        _walk(items, f"{where}/[]" if where else "[]", named, found, names)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        _walk(extra, f"{where}/*" if where else "*", named, found, names)


def _iter_methods(tree: list[dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    stack = list(reversed(tree))
    while stack:
        node = stack.pop()
        for method, info in sorted((node.get("info") or {}).items()):
            yield node["path"], method, info
        stack.extend(reversed(node.get("children") or []))


def classify(tree: list[dict[str, Any]]) -> dict[str, Any]:
    """The classification of one apidoc tree: ``{"methods": {...}, "names": [...]}`` (see the module's text)."""
    named = named_property_formats(tree)
    methods: dict[str, dict[str, dict[str, str]]] = {}
    names: dict[str, set[bool]] = {}
    for template, method, info in _iter_methods(tree):
        entry: dict[str, dict[str, str]] = {}
        for part in ("parameters", "returns"):
            found: dict[str, str] = {}
            _walk(info.get(part) or {}, "", named, found, names)
            for pattern, verbs, placed_part, location, reason in PLACED:
                if placed_part == part and re.search(pattern, template) and re.fullmatch(verbs, method):
                    found[location] = reason
            if found:
                entry[part] = dict(sorted(found.items()))
        if entry:
            methods[f"{method} {template}"] = entry
    always = sorted(name for name, verdicts in names.items() if verdicts == {True})
    return {"methods": dict(sorted(methods.items())), "names": always}


def dump(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def classification_document(source: Path | str, pve_version: str) -> dict[str, Any]:
    """The classification of ``source``: an apidoc ``.json.gz`` path, or the name of a schema file in the pack."""
    if isinstance(source, Path):
        raw = gzip.decompress(source.read_bytes())
        name = source.name
    else:
        from pytest_pvemock.schema.files import apidoc_json

        raw = apidoc_json(source).encode("utf-8")
        name = source
    document = classify(json.loads(raw))
    document["pve_version"] = pve_version
    document["source"] = {"file": name, "sha256": hashlib.sha256(raw).hexdigest()}
    document["generator"] = "python -m pytest_pvemock.schema.secrets (pytest_pvemock/schema/secrets.py)"
    return document


def write_classification(source: Path | str, out_dir: Path, pve_version: str) -> Path:
    """Classify ``source`` and write ``out_dir/pve-<version>.json``; returns the file written."""
    target = out_dir / f"pve-{pve_version}.json"
    out_dir.mkdir(parents=True, exist_ok=True)
    target.write_text(dump(classification_document(source, pve_version)), encoding="utf-8")
    return target


_REPO = Path(__file__).resolve().parent.parent.parent


def default_sources() -> dict[str, str]:
    """``{release: schema file}`` for every schema stored in ``third_party/pve-api`` (INDEX.json), each named after
    the first release that carries it (releases sharing a schema share its classification)."""
    from pytest_pvemock.schema.files import release_index

    sources: dict[str, str] = {}
    for entry in release_index()["releases"]:
        if entry["file"] not in sources.values():
            sources[entry["version"]] = entry["file"]
    return sources


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module's documentation."""
    parser = argparse.ArgumentParser(prog="python -m pytest_pvemock.schema.secrets", description=__doc__)
    parser.add_argument("--source", type=Path, help="an apidoc .json.gz (default: every one in third_party/pve-api)")
    parser.add_argument("--pve-version", help="the release the source documents (with --source)")
    parser.add_argument("--out", type=Path, default=_REPO / "schemas" / "secrets", help="output folder")
    args = parser.parse_args(argv)
    if args.source is not None:
        if not args.pve_version:
            parser.error("--source needs --pve-version")
        jobs: dict[str, Path | str] = {args.pve_version: args.source}
    else:
        jobs = dict(default_sources())
    for pve_version, source in jobs.items():
        target = write_classification(source, args.out, pve_version)
        methods = len(json.loads(target.read_text(encoding="utf-8"))["methods"])
        print(f"{target}: {methods} methods with secrets")
    return 0


# ---------------------------------------------------------------------------------------------------- run time


def _candidate_dirs() -> list[Path]:
    package = Path(__file__).resolve().parent.parent
    return [package / "_schemas" / "secrets", package.parent / "schemas" / "secrets"]


class SecretIndex:
    """The union of every shipped classification, for the scrubber: what is secret in a request and its answer."""

    def __init__(self, documents: list[dict[str, Any]]) -> None:
        merged: dict[tuple[str, str], dict[str, set[str]]] = {}
        names: set[str] = set()
        for document in documents:
            names.update(document.get("names") or ())
            for key, entry in (document.get("methods") or {}).items():
                method, _, template = key.partition(" ")
                target = merged.setdefault((method, template), {"parameters": set(), "returns": set()})
                for part in ("parameters", "returns"):
                    target[part].update(entry.get(part) or ())
        self.names = frozenset(names)
        self._routes: dict[str, list[tuple[re.Pattern[str], frozenset[str], frozenset[str]]]] = {}
        for (method, template), entry in sorted(merged.items()):
            pattern = re.compile(
                "^" + "/".join("[^/]+" if re.fullmatch(r"\{[^}]+\}", part) else re.escape(part)
                               for part in template.split("/")) + "$"
            )  # fmt: skip
            self._routes.setdefault(method, []).append(
                (pattern, frozenset(entry["parameters"]), frozenset(entry["returns"]))
            )
        self.methods = len(merged)

    @lru_cache(maxsize=4096)  # noqa: B019 - one index per process, lives as long as it
    def locations(self, method: str, path: str) -> tuple[frozenset[str], frozenset[str]]:
        """(parameter locations, answer locations) of every template ``method path`` matches (their union)."""
        parameters: set[str] = set()
        returns: set[str] = set()
        for pattern, params, answers in self._routes.get(method.upper(), ()):
            if pattern.match(path):
                parameters |= params
                returns |= answers
        return frozenset(parameters), frozenset(returns)

    def secret_parameters(self, method: str, path: str) -> frozenset[str]:
        """Top-level parameter names that are secret for this request (plus those secret everywhere)."""
        parameters, _ = self.locations(method, path)
        return frozenset(location.partition("{")[0] for location in parameters if "{" not in location) | self.names

    def property_string_keys(self, method: str, path: str) -> dict[str, frozenset[str]]:
        """``{parameter: secret keys inside its property string}`` for this request."""
        parameters, _ = self.locations(method, path)
        keys: dict[str, set[str]] = {}
        for location in parameters:
            if "{" in location:
                name, _, key = location.partition("{")
                keys.setdefault(name, set()).add(key.rstrip("}"))
        return {name: frozenset(value) for name, value in keys.items()}


@cache
def load_secret_index() -> SecretIndex:
    """Every ``pve-*.json`` classification shipped (wheel and checkout), merged."""
    documents = []
    seen: set[str] = set()
    for folder in _candidate_dirs():
        for path in sorted(folder.glob("pve-*.json")) if folder.is_dir() else ():
            if path.name not in seen:
                seen.add(path.name)
                documents.append(json.loads(path.read_text(encoding="utf-8")))
    if not documents:
        raise LookupError(f"no secret classification found in {', '.join(map(str, _candidate_dirs()))}")
    return SecretIndex(documents)


if __name__ == "__main__":
    raise SystemExit(main())
