"""proxmoxer clients of a fake cluster (a password or an API token) and waiting for a task as proxmoxer does."""

from __future__ import annotations

from typing import Any

import proxmoxer
import pytest
from proxmoxer.core import ResourceException
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


def task_log(api: proxmoxer.ProxmoxAPI, upid: str) -> list[str]:
    """Every line of a task's log (``limit=0`` reads to the end), from the node the UPID names."""
    return [line["t"] for line in api.nodes(upid.split(":")[1]).tasks(upid).log.get(limit=0)]


def storage_content(api: proxmoxer.ProxmoxAPI, node: str, storage: str, **filters: Any) -> dict[str, dict[str, Any]]:
    """A storage's content listing on ``node``, by volid."""
    return {row["volid"]: row for row in api.nodes(node).storage(storage).content.get(**filters)}


def refused(call: Any, *args: Any, **params: Any) -> ResourceException:
    """The error a proxmoxer call answers (the test fails if it answers none)."""
    with pytest.raises(ResourceException) as error:
        call(*args, **params)
    return error.value
