"""proxmoxer clients of a fake cluster (a password or an API token) and waiting for a task as proxmoxer does."""

from __future__ import annotations

from typing import Any

import proxmoxer
from proxmoxer.tools import Tasks


def proxmoxer_client(cluster: Any, user: str | None = None, password: str | None = None) -> proxmoxer.ProxmoxAPI:
    """proxmoxer logged in to ``cluster`` (as root@pam unless ``user``), its port named, TLS not verified."""
    return proxmoxer.ProxmoxAPI(
        cluster.host,
        port=cluster.port,
        user=user or cluster.user,
        password=password or cluster.password,
        verify_ssl=False,
    )


def token_client(cluster: Any, user: str, name: str, value: str) -> proxmoxer.ProxmoxAPI:
    """proxmoxer with the API token ``user!name`` whose secret is ``value``."""
    return proxmoxer.ProxmoxAPI(
        cluster.host, port=cluster.port, user=user, token_name=name, token_value=value, verify_ssl=False
    )


def wait(api: proxmoxer.ProxmoxAPI, upid: str) -> dict[str, Any]:
    """proxmoxer's blocking_status, without its one-second sleep after the (already final) answer."""
    return Tasks.blocking_status(api, upid, polling_interval=0)
