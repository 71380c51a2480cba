"""What the cluster's notification targets sent: proxmox-notify's ``Bus`` over the targets of
``/etc/pve/notifications.cfg``, with the fake's log of each message in place of the network.

``send_test(cluster, target)`` is ``Bus::test_target`` (proxmox-notify src/lib.rs): a notification of severity
``info`` from the ``test`` template (pve-manager templates/default/test-subject.txt.hbs: "Test notification",
test-body.txt.hbs: "This is a test of the notification target '{{ target }}'.") sent to that one target, disabled
or not; a target that does not exist fails with ``TargetDoesNotExist``. What each endpoint would put on the wire
is logged (:class:`SentNotification`): the mail recipients (sendmail: ``mailto`` and the e-mail addresses of
``mailto-user``, an error without any, as proxmox-sendmail's "no recipients provided for the mail, cannot send it."),
the Gotify server's ``/message`` URL and priority, the webhook's method, URL and rendered body. Never a secret: a
Gotify token, an SMTP password or a webhook secret is not part of the log (a webhook's ``{{ secrets.NAME }}`` stays
unrendered there).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

ENDPOINT_TYPES = ("sendmail", "gotify", "smtp", "webhook")
# proxmox-notify src/endpoints/gotify.rs severity_to_priority
GOTIFY_PRIORITY = {"info": 1, "notice": 3, "warning": 5, "error": 9, "unknown": 5}


class NotifyError(Exception):
    """A target that could not be notified: proxmox-notify's ``Error`` as it displays."""


class TargetDoesNotExist(NotifyError):
    """``Error::TargetDoesNotExist``."""


@dataclass(frozen=True)
class SentNotification:
    """One notification a target sent: when, through which target, and what went where."""

    time: int
    target: str
    type: str
    severity: str
    title: str
    message: str
    #: Where it went: mail recipients, ``POST https://gotify.example/message``, a webhook's ``METHOD url``.
    destination: str
    #: What else the endpoint sends: a Gotify priority, a webhook's rendered headers and body.
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class NotificationLog:
    """Every notification the targets sent, oldest first (``cluster.notifications.sent``)."""

    sent: list[SentNotification] = field(default_factory=list)

    def to(self, target: str) -> list[SentNotification]:
        """What ``target`` sent."""
        return [entry for entry in self.sent if entry.target == target]


def send_test(cluster: FakeCluster, target: str, endpoints: dict[str, dict[str, dict[str, Any]]]) -> SentNotification:
    """``Bus::test_target``: the test notification sent to ``target`` (``endpoints``: the records of each endpoint
    type by name). Raises :class:`TargetDoesNotExist` or :class:`NotifyError` as the endpoint fails."""
    for kind in ENDPOINT_TYPES:
        record = endpoints.get(kind, {}).get(target)
        if record is not None:
            break
    else:
        raise TargetDoesNotExist(f"notification target '{target}' does not exist")
    title = "Test notification"
    message = f"This is a test of the notification target '{target}'."
    try:
        destination, details = _wire(cluster, kind, record, "info", title, message)
    except NotifyError as error:
        raise NotifyError(f"could not notify via endpoint(s): {target}: {error}") from None
    entry = SentNotification(cluster.clock.now(), target, kind, "info", title, message, destination, details)
    cluster.notifications.sent.append(entry)
    return entry


def _wire(
    cluster: FakeCluster, kind: str, record: dict[str, Any], severity: str, title: str, message: str
) -> tuple[str, dict[str, Any]]:
    if kind in ("sendmail", "smtp"):
        recipients = [str(address) for address in _as_list(record.get("mailto"))]
        for userid in _as_list(record.get("mailto-user")):
            user = cluster.access.users.get(str(userid))
            if user is not None and user.email:
                recipients.append(user.email)
        if not recipients:
            raise NotifyError("no recipients provided for the mail, cannot send it.")
        details: dict[str, Any] = {"from": record.get("from-address", "")}
        if kind == "smtp":
            details["server"] = f"{record.get('server')}:{record.get('port', _smtp_port(record))}"
        return ", ".join(recipients), details
    if kind == "gotify":
        server = str(record.get("server", "")).rstrip("/")
        return f"POST {server}/message", {"priority": GOTIFY_PRIORITY[severity]}
    values = {"title": title, "message": message, "severity": severity}
    method = str(record.get("method", "post")).upper()
    url = _render(str(record.get("url", "")), values)
    headers = {}
    for header in _as_list(record.get("header")):
        parts = dict(part.split("=", 1) for part in str(header).split(",") if "=" in part)
        headers[parts.get("name", "")] = _render(_decoded(parts.get("value", "")), values)
    body = _render(_decoded(str(record["body"])), values) if record.get("body") else ""
    return f"{method} {url}", {"headers": headers, "body": body}


def _smtp_port(record: dict[str, Any]) -> int:
    """proxmox-notify src/endpoints/smtp.rs: 465 for TLS, 587 for STARTTLS, 25 without encryption."""
    return {"tls": 465, "starttls": 587, "insecure": 25}.get(str(record.get("mode", "tls")), 465)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _decoded(value: str) -> str:
    """A webhook's header values and body are stored base64-encoded (proxmox-notify src/endpoints/webhook.rs)."""
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return value


_PLACEHOLDER = re.compile(r"\{\{\s*([a-z-]+)\s*\}\}")


def _render(template: str, values: dict[str, str]) -> str:
    """Handlebars' ``{{ title }}``, ``{{ message }}`` and ``{{ severity }}``; ``{{ secrets.NAME }}`` and helpers
    are left as written (a secret's value never reaches the log)."""
    return _PLACEHOLDER.sub(lambda found: values.get(found[1], found[0]), template)
