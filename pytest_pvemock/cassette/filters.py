"""What is scrubbed from a recording before it reaches the disk.

A filter is a plain function ``(interaction) -> interaction | None`` on one recorded interaction in vcrpy's
serialised form::

    {"request": {"method": "POST", "uri": "https://pve:8006/api2/json/access/ticket", "body": "...",
                 "headers": {"Cookie": ["..."]}},
     "response": {"status": {"code": 200, "message": "OK"}, "headers": {"Set-Cookie": ["..."]},
                  "body": {"string": "{\\"data\\": ...}"}}}

It may change the dict in place and return it, or return ``None`` to leave the interaction out. Users add their
own in ``pvemock_vcr_config`` (``"filters": [...]``); :data:`DEFAULT_FILTERS` always run first.

The placeholders keep the shape of what they replace, so that a replayed login still satisfies proxmoxer (it
reads ``ticket`` and ``CSRFPreventionToken`` from the ``/access/ticket`` answer and sends them back).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

Interaction = dict[str, Any]
InteractionFilter = Callable[[Interaction], "Interaction | None"]

SCRUBBED = "PVEMOCK-SCRUBBED"
TOKEN_SECRET_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

# Parameters whose value is a secret wherever they are sent: login, password change, user creation, the
# cloud-init password of a VM, the root password of a new container, the TFA challenge (a ticket).
SECRET_PARAMETERS = frozenset({"password", "confirmation-password", "cipassword", "tfa-challenge", "otp"})

_TICKET = re.compile(r"^(?P<prefix>[A-Z]+:[^:]+:[0-9A-Fa-f]{8}::).+$", re.DOTALL)
_CSRF = re.compile(r"^(?P<time>[0-9A-Fa-f]{8}):.+$")
_AUTH_COOKIE = re.compile(r"(?P<name>\b[A-Z]+AuthCookie=)(?P<value>[^;,\s]+)")
_TOKEN_HEADER = re.compile(r"^(?P<prefix>[A-Z]+APIToken=[^!=\s]+![^=\s]+[=:])(?P<secret>\S+)$")


def scrubbed_ticket(ticket: str) -> str:
    """``PVE:root@pam:64E10CBA::<signature>`` -> ``PVE:root@pam:64E10CBA::PVEMOCK-SCRUBBED`` (user and time kept)."""
    if ticket.startswith(SCRUBBED) or ticket.endswith("::" + SCRUBBED):
        return ticket
    match = _TICKET.match(unquote(ticket))  # a cookie may carry it URL-encoded
    return f"{match['prefix']}{SCRUBBED}" if match else f"PVE:scrubbed@pve:00000000::{SCRUBBED}"


def scrubbed_csrf_token(token: str) -> str:
    """``64E10CBA:<signature>`` -> ``64E10CBA:PVEMOCK-SCRUBBED``."""
    match = _CSRF.match(token)
    return f"{match['time']}:{SCRUBBED}" if match else f"00000000:{SCRUBBED}"


def _header_items(headers: dict[str, Any], name: str) -> Iterator[tuple[str, int, str]]:
    """(key, index, value) for every value of the header ``name`` (case-insensitive); values are lists."""
    wanted = name.lower()
    for key, values in headers.items():
        if key.lower() != wanted:
            continue
        if isinstance(values, list):
            for index, value in enumerate(values):
                yield key, index, value
        else:
            yield key, -1, values


def _replace_header(headers: dict[str, Any], key: str, index: int, value: str) -> None:
    if index < 0:
        headers[key] = value
    else:
        headers[key][index] = value


def _as_text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return body if isinstance(body, str) else None


def _like(original: Any, text: str) -> Any:
    """``text`` in the type the body had (bytes stay bytes)."""
    return text.encode("utf-8") if isinstance(original, bytes) else text


def scrub_auth_headers(interaction: Interaction) -> Interaction:
    """The API token secret in ``Authorization``, the ticket in ``Cookie`` and the ``CSRFPreventionToken`` header."""
    headers = interaction["request"].get("headers") or {}
    for key, index, value in list(_header_items(headers, "Authorization")):
        match = _TOKEN_HEADER.match(value)
        if match:
            _replace_header(headers, key, index, match["prefix"] + TOKEN_SECRET_PLACEHOLDER)
    for key, index, value in list(_header_items(headers, "Cookie")):
        scrubbed = _AUTH_COOKIE.sub(lambda m: m["name"] + scrubbed_ticket(m["value"]), value)
        _replace_header(headers, key, index, scrubbed)
    for key, index, value in list(_header_items(headers, "CSRFPreventionToken")):
        _replace_header(headers, key, index, scrubbed_csrf_token(value))
    return interaction


def scrub_set_cookie(interaction: Interaction) -> Interaction:
    """``Set-Cookie: PVEAuthCookie=<ticket>`` in the answer."""
    headers = interaction["response"].get("headers") or {}
    for key, index, value in list(_header_items(headers, "Set-Cookie")):
        scrubbed = _AUTH_COOKIE.sub(lambda m: m["name"] + scrubbed_ticket(m["value"]), value)
        _replace_header(headers, key, index, scrubbed)
    return interaction


def _scrub_form(text: str) -> str:
    pairs = parse_qsl(text, keep_blank_values=True)
    if not any(name in SECRET_PARAMETERS for name, _ in pairs):
        return text
    return urlencode([(name, SCRUBBED if name in SECRET_PARAMETERS else value) for name, value in pairs])


def _scrub_json_parameters(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: SCRUBBED if k in SECRET_PARAMETERS else _scrub_json_parameters(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json_parameters(item) for item in value]
    return value


def scrub_secret_parameters(interaction: Interaction) -> Interaction:
    """Passwords (and the other :data:`SECRET_PARAMETERS`) in the request's form or JSON body and query string."""
    request = interaction["request"]
    text = _as_text(request.get("body"))
    if text:
        stripped = text.lstrip()
        if stripped.startswith(("{", "[")):
            try:
                scrubbed = json.dumps(_scrub_json_parameters(json.loads(text)))
            except ValueError:
                scrubbed = text
        else:
            scrubbed = _scrub_form(text)
        if scrubbed != text:
            request["body"] = _like(request["body"], scrubbed)
    parts = urlsplit(request["uri"])
    if parts.query:
        query = _scrub_form(parts.query)
        if query != parts.query:
            request["uri"] = urlunsplit(parts._replace(query=query))
    return interaction


def _response_json(interaction: Interaction) -> tuple[Any, bool]:
    body = interaction["response"].get("body") or {}
    if "json" in body:
        return body["json"], True
    text = _as_text(body.get("string"))
    if not text or not text.lstrip().startswith("{"):
        return None, False
    try:
        return json.loads(text), True
    except ValueError:
        return None, False


def _store_response_json(interaction: Interaction, value: Any) -> None:
    body = interaction["response"]["body"]
    if "json" in body:
        body["json"] = value
    else:
        body["string"] = _like(body.get("string"), json.dumps(value))


def scrub_ticket_answers(interaction: Interaction) -> Interaction:
    """Tickets and CSRF tokens in answers (``/access/ticket``, console proxies) and new API token secrets."""
    document, is_json = _response_json(interaction)
    data = document.get("data") if is_json and isinstance(document, dict) else None
    if not isinstance(data, dict):
        return interaction
    changed = False
    if isinstance(data.get("ticket"), str):
        data["ticket"] = scrubbed_ticket(data["ticket"])
        changed = True
    if isinstance(data.get("CSRFPreventionToken"), str):
        data["CSRFPreventionToken"] = scrubbed_csrf_token(data["CSRFPreventionToken"])
        changed = True
    if "full-tokenid" in data and isinstance(data.get("value"), str):  # POST /access/users/{userid}/token/{tokenid}
        data["value"] = TOKEN_SECRET_PLACEHOLDER
        changed = True
    if changed:
        _store_response_json(interaction, document)
    return interaction


def _replace_everywhere(value: Any, replace: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, bytes):
        text = _as_text(value)
        return value if text is None else replace(text).encode("utf-8")
    if isinstance(value, dict):
        return {key: _replace_everywhere(item, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_everywhere(item, replace) for item in value]
    return value


def replace_known_secrets(secrets: Iterable[str]) -> InteractionFilter:
    """A filter that replaces these literal values (and their URL-encoded forms) anywhere in an interaction.

    The recorder adds one with the password and token secret it took from the environment, as a last line of
    defence behind the filters that know where PVE puts secrets.
    """
    forms: dict[str, str] = {}
    for secret in secrets:
        if secret and len(secret) >= 4:
            for form in {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}:
                forms[form] = SCRUBBED
    ordered = sorted(forms, key=len, reverse=True)
    if not ordered:
        return lambda interaction: interaction
    pattern = re.compile("|".join(re.escape(form) for form in ordered))

    def replace(text: str) -> str:
        return pattern.sub(SCRUBBED, text)

    def filter_known_secrets(interaction: Interaction) -> Interaction:
        return _replace_everywhere(interaction, replace)

    return filter_known_secrets


_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])")
_FINGERPRINT = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{2}:){19,63}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:])")


class HostPlaceholders:
    """Replaces host names, IPv4 addresses and SSL fingerprints by placeholders, the same one for the same value.

    One instance serves one cassette, so a node's address reads the same in every answer. Loopback addresses
    stay as they are. Host names are those given, plus the host of every recorded URI.
    """

    def __init__(self, host_names: Iterable[str] = ()) -> None:
        self._names: dict[str, str] = {}
        self._addresses: dict[str, str] = {}
        self._fingerprints: dict[str, str] = {}
        for name in host_names:
            self._name_placeholder(name)

    def _name_placeholder(self, name: str) -> str:
        name = name.lower()
        if name not in self._names:
            self._names[name] = f"pve-host-{len(self._names) + 1}.invalid"
        return self._names[name]

    def _address(self, match: re.Match[str]) -> str:
        address = match.group(0)
        if address.startswith("127.") or address == "0.0.0.0":
            return address
        if address not in self._addresses:
            number = len(self._addresses) + 1
            self._addresses[address] = f"192.0.2.{number}" if number < 255 else f"198.51.100.{number - 254}"
        return self._addresses[address]

    def _fingerprint(self, match: re.Match[str]) -> str:
        fingerprint = match.group(0).upper()
        if fingerprint not in self._fingerprints:
            pairs = fingerprint.count(":") + 1
            number = len(self._fingerprints) + 1
            digits = f"{number:0{pairs * 2}X}"
            self._fingerprints[fingerprint] = ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))
        return self._fingerprints[fingerprint]

    def replace_text(self, text: str) -> str:
        text = _FINGERPRINT.sub(self._fingerprint, text)
        for name in sorted(self._names, key=len, reverse=True):
            if not _IPV4.fullmatch(name) and name in text.lower():
                text = re.sub(re.escape(name), self._names[name], text, flags=re.IGNORECASE)
        return _IPV4.sub(self._address, text)

    def __call__(self, interaction: Interaction) -> Interaction:
        host = urlsplit(interaction["request"]["uri"]).hostname
        if host and not _IPV4.fullmatch(host) and host != "localhost":
            self._name_placeholder(host)
        return _replace_everywhere(interaction, self.replace_text)


DEFAULT_FILTERS: tuple[InteractionFilter, ...] = (
    scrub_auth_headers,
    scrub_set_cookie,
    scrub_secret_parameters,
    scrub_ticket_answers,
)


def apply_filters(interaction: Interaction, filters: Iterable[InteractionFilter]) -> Interaction | None:
    for interaction_filter in filters:
        interaction = interaction_filter(interaction)  # type: ignore[assignment]
        if interaction is None:
            return None
    return interaction
