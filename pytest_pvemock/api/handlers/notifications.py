"""``POST /cluster/notifications/targets/{name}/test``: pve-manager PVE/API2/Cluster/Notifications.pm ``test_target``
(lines 324-360, commit 14a22df3) over proxmox-notify's ``api::test_target`` and ``Bus::test_target``: the target is
notified at once (no task), the fake logs what it sent (``cluster.notifications``, :mod:`~.model.notifications`).

A target that does not exist answers 404 ``endpoint 'NAME' does not exist``; an endpoint that fails answers 500
``Could not test target: ...`` (``raise_api_error`` keeps the status of proxmox-notify's ``HttpError``)."""

from __future__ import annotations

from pytest_pvemock.api.collections import endpoint_records
from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.notifications import ENDPOINT_TYPES, NotifyError, TargetDoesNotExist, send_test

__all__ = ["send_test_notification"]


@handles("POST", "/cluster/notifications/targets/{name}/test")
def send_test_notification(ctx: HandlerContext) -> None:
    name = str(ctx.params["name"])
    endpoints = {kind: endpoint_records(ctx, kind) for kind in ENDPOINT_TYPES}
    try:
        send_test(ctx.cluster, name, endpoints)
    except TargetDoesNotExist:
        raise PVEError(f"endpoint '{name}' does not exist", 404) from None
    except NotifyError as error:
        raise PVEError(f"Could not test target: {error}") from None
