"""The real cluster a recording talks to, read from the environment and never written anywhere.

``PVEMOCK_HOST``        host, host:port, [v6]:port or https://host:port (port 8006 when left out)
``PVEMOCK_USER``        user@realm, with ``PVEMOCK_PASSWORD``; or
``PVEMOCK_TOKEN``       ``USER@REALM!TOKENID=SECRET`` (an API token; takes precedence over a password)
``PVEMOCK_VERIFY_SSL``  ``1`` (default: verify against the system's CAs), ``0`` (do not verify), or a CA file path
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PORT = 8006

VARIABLES_HELP = (
    "set PVEMOCK_HOST (host or host:port) and either PVEMOCK_USER and PVEMOCK_PASSWORD, or "
    "PVEMOCK_TOKEN=USER@REALM!TOKENID=SECRET; optionally PVEMOCK_VERIFY_SSL=0, 1 or a CA file path"
)


class RecordingSetupError(RuntimeError):
    """Recording was asked for but the real cluster cannot be reached as configured."""


@dataclass(frozen=True)
class RealCluster:
    """Where and as whom to record. Secrets are kept out of ``repr`` so they never land in a log."""

    host: str
    port: int = DEFAULT_PORT
    user: str = ""
    password: str = field(default="", repr=False)
    token_name: str = ""
    token_value: str = field(default="", repr=False)
    verify_ssl: bool | str = True

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, *, why: str = "recording") -> RealCluster:
        env = os.environ if environ is None else environ
        address = env.get("PVEMOCK_HOST", "").strip()
        if not address:
            raise RecordingSetupError(f"pytest-pvemock: {why} talks to a real Proxmox VE cluster: {VARIABLES_HELP}.")
        host, port = parse_address(address)
        verify = parse_verify(env.get("PVEMOCK_VERIFY_SSL", "1"))
        token = env.get("PVEMOCK_TOKEN", "").strip()
        if token:
            user, token_name, token_value = parse_token(token)
            return cls(host, port, user, token_name=token_name, token_value=token_value, verify_ssl=verify)
        user, password = env.get("PVEMOCK_USER", "").strip(), env.get("PVEMOCK_PASSWORD", "")
        if not user or not password:
            raise RecordingSetupError(
                f"pytest-pvemock: {why} needs credentials for {host}:{port}: set PVEMOCK_USER (user@realm) and "
                "PVEMOCK_PASSWORD, or PVEMOCK_TOKEN=USER@REALM!TOKENID=SECRET."
            )
        if "@" not in user:
            raise RecordingSetupError(
                f"pytest-pvemock: PVEMOCK_USER must name the realm, e.g. 'root@pam' (got {user!r})."
            )
        return cls(host, port, user, password=password, verify_ssl=verify)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(secret for secret in (self.password, self.token_value) if secret)

    def proxmoxer_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``proxmoxer.ProxmoxAPI`` (with ``backend="https"``)."""
        arguments: dict[str, Any] = {"host": self.host, "port": self.port, "user": self.user}
        arguments["verify_ssl"] = self.verify_ssl
        if self.token_name:
            arguments.update(token_name=self.token_name, token_value=self.token_value)
        else:
            arguments["password"] = self.password
        return arguments


def parse_address(address: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a URL -> (host, port)."""
    parts = urlsplit(address if "://" in address else f"https://{address}")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise RecordingSetupError(f"pytest-pvemock: PVEMOCK_HOST has an invalid port: {address!r}.") from None
    if not parts.hostname:
        raise RecordingSetupError(f"pytest-pvemock: PVEMOCK_HOST names no host: {address!r}.")
    return parts.hostname, port


def parse_token(token: str) -> tuple[str, str, str]:
    """``USER@REALM!TOKENID=SECRET`` -> (user, token id, secret)."""
    user, bang, rest = token.partition("!")
    token_name, equals, secret = rest.partition("=")
    if not bang or not equals or "@" not in user or not token_name or not secret:
        raise RecordingSetupError(
            "pytest-pvemock: PVEMOCK_TOKEN must look like USER@REALM!TOKENID=SECRET, e.g. root@pam!ci=<uuid>."
        )
    return user, token_name, secret


def parse_verify(value: str) -> bool | str:
    text = value.strip()
    if text.lower() in ("0", "false", "no", "off"):
        return False
    if text.lower() in ("", "1", "true", "yes", "on"):
        return True
    if not Path(text).is_file():
        raise RecordingSetupError(
            f"pytest-pvemock: PVEMOCK_VERIFY_SSL is neither 0, 1 nor an existing CA file: {text!r}."
        )
    return text
