"""The cluster's ACME accounts and challenge plugins, as pve-manager keeps them in ``/etc/pve/priv/acme``.

Accounts are the files ``priv/acme/<name>`` (``PVE::ACME::save``: ``location``, ``account``, ``tos``,
``directory`` and the account key); the fake keeps no key, so nothing secret can ever be answered. Registration,
update and deactivation happen at the CA: the fake never goes online, so it answers for the CAs PVE knows
(Let's Encrypt and its staging directory, ``third_party/pve-acme/directories.json``) as they answer, and for any
other directory as a node without a route to it would (``Can't connect``).

Plugins are the sections of ``priv/acme/plugins.cfg``; parsing it always yields a ``standalone`` plugin
(proxmox-acme ``src/PVE/ACME/Challenge.pm`` ``parse_config``), so PVE lists one on a fresh cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.config_store import KeyedSection, config_store_of
from pytest_pvemock.pve_data import pve_data

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

ACCOUNTS = "/etc/pve/priv/acme"
PLUGINS = "/etc/pve/priv/acme/plugins.cfg"
DEFAULT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory"
# PVE::ACME::Challenge's plugin types and the options each takes (DNSChallenge.pm / StandAlone.pm ``options``)
PLUGIN_OPTIONS = {
    "dns": {"api": False, "data": True, "nodes": True, "disable": True, "validation-delay": True},
    "standalone": {"nodes": True, "disable": True},
}


def known_directories() -> list[dict[str, str]]:
    """``$acme_directories`` of pve-manager ``PVE/API2/ACMEAccount.pm`` (lines 23-32 at 14a22df3)."""
    return [dict(entry) for entry in pve_data("pve-acme", "directories.json")["directories"]]


def _ca(directory: str) -> dict[str, Any]:
    """What the CA behind ``directory`` answers; PVE's LWP error for a CA the fake does not know."""
    known = pve_data("pve-acme", "directories.json")["ca"].get(directory)
    if known is None:
        host = urlsplit(directory).hostname or directory
        port = urlsplit(directory).port or (80 if directory.startswith("http:") else 443)
        # PVE::ACME::do: fatal("Error: $method to $url\n" . $res->decoded_content), LWP's text for no route
        raise PVEError(f"Error: GET to {directory}\nCan't connect to {host}:{port} (Name or service not known)\n")
    return dict(known)


def directory_meta(directory: str) -> dict[str, Any]:
    """The ``meta`` object of the CA's directory (``PVE::ACME::get_meta``)."""
    return dict(_ca(directory).get("meta") or {})


@dataclass(frozen=True)
class AcmeAccounts:
    """The account files of one cluster."""

    cluster: FakeCluster

    @property
    def _files(self) -> KeyedSection:
        return config_store_of(self.cluster).section(ACCOUNTS)

    def names(self) -> list[str]:
        """``PVE::CertHelpers::list_acme_accounts``: the files whose names are config ids (deactivated accounts
        are renamed to ``_deactivated_<name>_<n>`` and drop out)."""
        return [name for name in self._files.records if not name.startswith("_")]

    def get(self, name: str) -> dict[str, Any] | None:
        """The saved values of account ``name`` (``location``, ``account``, ``tos``, ``directory``)."""
        record = self._files.get(name)
        return None if record is None or name.startswith("_") else dict(record)

    def register(self, name: str, directory: str, contact: list[str], tos_url: str | None, log: list[str]) -> None:
        """``PVE::ACME::new_account`` at the CA, inside the ``acmeregister`` worker (``log`` gets its lines)."""
        if name in self._files.records:
            raise PVEError(f"ACME account config file '{name}' already exists.\n")
        log.append("Generating ACME account key..")
        log.append("Registering ACME account..")
        try:
            ca = _ca(directory)
            if not tos_url:  # Boulder (wfe2 NewAccount) refuses an account that does not agree to the terms
                raise PVEError(
                    f"Error: POST to {ca['newAccount']}\n"
                    '{\n  "type": "urn:ietf:params:acme:error:malformed",\n'
                    '  "detail": "must agree to terms of service",\n  "status": 400\n}\n'
                )
        except PVEError as error:
            raise PVEError(f"Registration failed: {error.message}\n") from None
        number = 10**8 + figures.seeded(self.cluster.seed, "acme-account", name, len(self._files.records)).randrange(
            9 * 10**8
        )
        account = {"status": "valid", "contact": list(contact), "createdAt": self._now_iso()}
        record: dict[str, Any] = {"location": f"{ca['account']}{number}", "account": account, "directory": directory}
        if tos_url:
            record["tos"] = tos_url
        self._files.records[name] = record
        log.append(f"Registration successful, account URL: '{record['location']}'")

    def update(self, name: str, contact: list[str] | None = None, deactivate: bool = False) -> list[str]:
        """``PVE::ACME::update_account``: new contacts, a refresh (nothing given) or the deactivation (the file is
        renamed to the first free ``_deactivated_<name>_<n>``); answers the worker's log lines."""
        record = self.get(name)
        if record is None:
            raise PVEError(f"ACME account config file '{name}' does not exist.\n")
        _ca(str(record.get("directory", DEFAULT_DIRECTORY)))
        account = dict(record.get("account") or {})
        if contact:
            account["contact"] = list(contact)
        log: list[str] = []
        if deactivate:
            account["status"] = "deactivated"
            files = self._files.records
            free = (f"_deactivated_{name}_{i}" for i in range(101) if f"_deactivated_{name}_{i}" not in files)
            new_name = next(free, None)
            if new_name is None:
                files[name] = {**record, "account": account}
                log.append(f"No free slot to rename deactivated account file '{ACCOUNTS}/{name}', leaving in place")
            else:
                files[new_name] = {**record, "account": account}
                del files[name]
                log.append(f"Renaming account file from '{ACCOUNTS}/{name}' to '{ACCOUNTS}/{new_name}'")
        else:
            self._files.records[name] = {**record, "account": account}
        return log

    def _now_iso(self) -> str:
        moment = datetime.fromtimestamp(self.cluster.clock.now(), tz=timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class AcmePlugins:
    """The sections of ``priv/acme/plugins.cfg``, always with a ``standalone`` plugin."""

    cluster: FakeCluster

    @property
    def section(self) -> KeyedSection:
        """The parsed file: ``parse_config`` puts ``standalone`` back whenever it is missing or not standalone."""
        section = config_store_of(self.cluster).section(PLUGINS)
        if (section.get("standalone") or {}).get("type") != "standalone":
            section.records["standalone"] = {"type": "standalone"}
        return section

    def check_options(self, plugin_type: str, values: dict[str, Any], create: bool) -> dict[str, Any]:
        """``PVE::SectionConfig::check_config`` (pve-common src/PVE/SectionConfig.pm 1608-1641 at f665029e) for
        the plugin's type: unknown options refused, required ones asked for on create."""
        options = PLUGIN_OPTIONS.get(plugin_type)
        if options is None:
            raise PVEError(f"unknown section type '{plugin_type}'\n")
        for key in values:
            if key not in options:
                raise PVEError(f"unexpected property '{key}'\n")
        if create:
            for key, optional in options.items():
                if not optional and values.get(key) is None:
                    raise PVEError(f"missing value for required option '{key}'\n")
        return dict(values)
