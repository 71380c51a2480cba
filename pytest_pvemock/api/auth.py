"""Authentication as pveproxy does it: tickets, CSRF prevention tokens and API tokens.

Tickets look like PVE's (``PVE:root@pam:6553F00D::<signature>``) and CSRF tokens too
(``6553F00D:<signature>``); both are signed with an HMAC keyed by the cluster's ``access.ticket_secret`` (PVE
signs tickets with RSA, which no client checks) and dated by the cluster's virtual clock, so that advancing
the clock past two hours expires them as on PVE. The wording of every failure is pveproxy's:

- no credentials: 401 ``No ticket``; a bad, expired or foreign ticket or token: 401 ``Authentication failed!``;
- a write (anything but GET) with a ticket and without a valid ``CSRFPreventionToken`` header: 401
  ``Permission denied - invalid csrf token``; API tokens need no CSRF token;
- a failed login at ``POST /access/ticket``: 401 ``authentication failure`` (raised by the handler).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pytest_pvemock.api.handler import Principal

if TYPE_CHECKING:
    from pytest_pvemock.api.messages import ApiRequest
    from pytest_pvemock.model.cluster import FakeCluster

TICKET_LIFETIME = 2 * 3600
GRACE_PERIOD = 5 * 60
COOKIE_NAME = "PVEAuthCookie"
API_TOKEN_NAME = "PVEAPIToken"
ANONYMOUS = Principal(userid="")

# The only calls pveproxy answers without authentication (PVE::HTTPServer::auth_handler).
PUBLIC_CALLS = frozenset(
    {
        ("GET", "/access/domains"),
        ("GET", "/access/ticket"),
        ("POST", "/access/ticket"),
        ("POST", "/access/vncticket"),
        ("POST", "/access/openid/login"),
        ("POST", "/access/openid/auth-url"),
    }
)

_TICKET = re.compile(r"^(PVE:\S+)::([^:\s]+)$")
_TICKET_PLAIN = re.compile(r"^PVE:(?:(\S+):)?([A-Z0-9]{8})$")
_CSRF = re.compile(r"^([A-Z0-9]{8}):(\S+)$")
_TOKEN_ID = re.compile(r"^([^\s!@:]+@[A-Za-z][A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)$")


class AuthFailure(Exception):
    """Authentication failed; ``message`` is the reason phrase pveproxy sends with HTTP 401."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_AUTH_VALUES = {key: re.compile(rf"(?:^|\s){key}(?:=| )([^;]*)") for key in (COOKIE_NAME, API_TOKEN_NAME)}


@functools.lru_cache(maxsize=1024)  # a client sends the same Cookie header with every request
def extract_auth_value(header: str | None, key: str) -> str | None:
    """The value of ``key`` in a Cookie or Authorization header (``key=value`` or ``key value``), unescaped."""
    if not header:
        return None
    pattern = _AUTH_VALUES.get(key) or re.compile(rf"(?:^|\s){re.escape(key)}(?:=| )([^;]*)")
    match = pattern.search(header)
    if not match or not match.group(1):
        return None
    value = match.group(1)
    return unquote(value) if "%" in value else value


def _hmac_base64(secret: bytes, text: str) -> str:
    digest = hmac.new(secret, text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode().rstrip("=")  # Perl's *_base64 functions omit the padding


class TicketSigner:
    """Makes and checks tickets and CSRF tokens for one cluster, on its clock."""

    def __init__(self, secret: bytes, now: Any) -> None:
        self._secret = secret
        self._now = now
        self._verified: dict[str, tuple[str, int]] = {}

    def ticket(self, userid: str) -> str:
        plain = f"PVE:{userid.replace(':', '%3A')}:{self._now():08X}"
        return f"{plain}::{base64.b64encode(hmac.new(self._secret, plain.encode(), hashlib.sha512).digest()).decode()}"

    def csrf_token(self, userid: str) -> str:
        stamp = f"{self._now():08X}"
        return f"{stamp}:{_hmac_base64(self._secret, f'{stamp}:{userid}')}"

    def verify_ticket(self, ticket: str) -> str | None:
        """The userid of a valid, unexpired ticket, else ``None``."""
        known = self._verified.get(ticket)
        if known is None:
            known = self._check_signature(ticket)
            if known is None:
                return None
            if len(self._verified) > 4096:
                self._verified.clear()
            self._verified[ticket] = known
        userid, issued = known
        age = self._now() - issued
        return userid if -GRACE_PERIOD < age < TICKET_LIFETIME else None

    def _check_signature(self, ticket: str) -> tuple[str, int] | None:
        match = _TICKET.match(ticket)
        if not match:
            return None
        plain, signature = match.groups()
        expected = base64.b64encode(hmac.new(self._secret, plain.encode(), hashlib.sha512).digest()).decode()
        if not hmac.compare_digest(expected, signature):
            return None
        parts = _TICKET_PLAIN.match(plain)
        if not parts or not parts.group(1):
            return None
        return unquote(parts.group(1)), int(parts.group(2), 16)

    def short_lived_ticket(self, prefix: str, username: str, path: str, extra: object = None) -> str:
        """PVE::AccessControl's short-lived tickets (``PVEVNC``, ``PVETUNNEL``): ``PREFIX:TIMESTAMP::SIGNATURE``, the
        signature over the plain part, the user, the normalized path and the port (pve-access-control
        src/PVE/AccessControl.pm ``$assemble_short_lived_ticket`` lines 517-530 at 5ccd07d9): neither the user
        nor the path is in the ticket."""
        plain = f"{prefix}:{self._now():08X}"
        return f"{plain}::{self._short_lived_signature(plain, username, path, extra)}"

    def verify_short_lived_ticket(
        self, ticket: str, prefix: str, username: str, path: str, extra: object = None
    ) -> bool:
        """``$verify_short_lived_ticket`` (532-555): signed for this user, path and port, aged -20 to 40 seconds."""
        match = re.match(rf"^({re.escape(prefix)}:\S+)::([^:\s]+)$", ticket)
        if not match:
            return False
        plain, signature = match.groups()
        expected = self._short_lived_signature(plain, username, path, extra)
        stamp = re.match(rf"^{re.escape(prefix)}:(?:\S+:)?([A-Z0-9]{{8}})$", plain)
        if not hmac.compare_digest(expected, signature) or stamp is None:
            return False
        age: int = self._now() - int(stamp.group(1), 16)
        return -20 < age < 40

    def _short_lived_signature(self, plain: str, username: str, path: str, extra: object) -> str:
        path = "/" + "/".join(part for part in path.split("/") if part)  # AccessControl.pm normalize_path
        full = f"{plain}:{username}:{path}" + (f":{extra}" if extra is not None else "")
        return base64.b64encode(hmac.new(self._secret, full.encode(), hashlib.sha512).digest()).decode()

    def verify_csrf(self, userid: str, token: str | None) -> bool:
        match = _CSRF.match(token or "")
        if not match:
            return False
        stamp, signature = match.groups()
        age = self._now() - int(stamp, 16)
        expected = _hmac_base64(self._secret, f"{stamp}:{userid}")
        return hmac.compare_digest(expected, signature) and -GRACE_PERIOD < age < TICKET_LIFETIME


def split_token_header(value: str) -> tuple[str, str, str] | None:
    """``root@pam!ci=SECRET`` -> ``("root@pam", "ci", "SECRET")``; the secret follows the last ``=``."""
    token_id, sep, secret = value.rpartition("=")
    if not sep:
        return None
    match = _TOKEN_ID.match(token_id)
    if not match:
        return None
    return match.group(1), match.group(2), secret


class Authenticator:
    """Who is calling, from a request's cookie or headers, checked against the cluster's users and tokens."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self._signer = TicketSigner(cluster.access.ticket_secret, cluster.clock.now)
        self._signer_of = (cluster.access, cluster.clock)

    @property
    def signer(self) -> TicketSigner:
        """Signs with the cluster's key on its clock (made anew when a reset gave the cluster new ones)."""
        cluster = self.cluster
        if self._signer_of[0] is not cluster.access or self._signer_of[1] is not cluster.clock:
            self._signer = TicketSigner(cluster.access.ticket_secret, cluster.clock.now)
            self._signer_of = (cluster.access, cluster.clock)
        return self._signer

    def authenticate(self, request: ApiRequest, method: str, rel_path: str) -> Principal:
        """The principal of an API call, or :class:`AuthFailure` with pveproxy's reason phrase."""
        authorization = request.header("Authorization")
        if (method, rel_path) in PUBLIC_CALLS:
            return self._public_caller(request, authorization)
        ticket = extract_auth_value(request.header("Cookie"), COOKIE_NAME) or extract_auth_value(
            authorization, COOKIE_NAME
        )
        if ticket:
            return self._by_ticket(ticket, method, request.header("CSRFPreventionToken"))
        api_token = extract_auth_value(authorization, API_TOKEN_NAME)
        if api_token:
            return self._by_api_token(api_token)
        raise AuthFailure("No ticket")

    def _public_caller(self, request: ApiRequest, authorization: str | None) -> Principal:
        """Nobody, on calls open to the world; PVE still notes an API token (unchecked) to refuse it where
        the method does not allow tokens (``POST /access/ticket``)."""
        has_ticket = extract_auth_value(request.header("Cookie"), COOKIE_NAME) or extract_auth_value(
            authorization, COOKIE_NAME
        )
        api_token = None if has_ticket else extract_auth_value(authorization, API_TOKEN_NAME)
        parts = split_token_header(api_token) if api_token else None
        return Principal(userid=parts[0], tokenid=parts[1]) if parts else ANONYMOUS

    def _by_ticket(self, ticket: str, method: str, csrf_token: str | None) -> Principal:
        userid = self.signer.verify_ticket(ticket)
        if userid is None or not user_is_active(self.cluster, userid):
            raise AuthFailure("Authentication failed!")
        if method != "GET" and not self.signer.verify_csrf(userid, csrf_token):
            raise AuthFailure("Permission denied - invalid csrf token")
        return Principal(userid=userid)

    def _by_api_token(self, value: str) -> Principal:
        parts = split_token_header(value)
        if parts is None:
            raise AuthFailure("Authentication failed!")
        userid, tokenid, secret = parts
        if not user_is_active(self.cluster, userid) or not self.cluster.access.check_token(userid, tokenid, secret):
            raise AuthFailure("Authentication failed!")
        return Principal(userid=userid, tokenid=tokenid)

    def ticket_user(self, ticket: str) -> str | None:
        """The user of a valid ticket sent as a password (ticket renewal), else ``None``."""
        return self.signer.verify_ticket(ticket)


def user_is_active(cluster: FakeCluster, userid: str) -> bool:
    """PVE's ``check_user_enabled``: the user exists, is enabled and has not expired."""
    user = cluster.access.users.get(userid)
    if user is None or not user.enable:
        return False
    return not (user.expire and user.expire < cluster.clock.now())
