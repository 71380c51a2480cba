"""What is scrubbed from a recording before it reaches the disk.

A filter is a plain function ``(interaction) -> interaction | None`` on one recorded interaction in vcrpy's
serialised form::

    {"request": {"method": "POST", "uri": "https://pve:8006/api2/json/access/ticket", "body": "...",
                 "headers": {"Cookie": ["..."]}},
     "response": {"status": {"code": 200, "message": "OK"}, "headers": {"Set-Cookie": ["..."]},
                  "body": {"string": "{\\"data\\": ...}"}}}

It may change the dict in place and return it, or return ``None`` to leave the interaction out. Users add their
own in ``pvemock_vcr_config`` (``"filters": [...]``); :data:`DEFAULT_FILTERS` always run first.

What is secret comes from the classification of PVE's schema (:mod:`pytest_pvemock.schema.secrets`, the union
over every shipped release): per method and path, the parameters (query string, form or JSON body, keys inside
property strings) and the answer properties that carry one, and the names that are secret wherever they occur.
:func:`remember_secrets` adds a last pass: a value scrubbed in one place is replaced wherever else it appears.

The placeholders keep the shape of what they replace, so that a replayed login still satisfies proxmoxer (it
reads ``ticket`` and ``CSRFPreventionToken`` from the ``/access/ticket`` answer and sends them back): a ticket
keeps its prefix, user and time, a CSRF token its time, a UUID (token secret) becomes the zero UUID.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

from pytest_pvemock.schema.secrets import SecretIndex, load_secret_index

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


_UUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_API_PREFIX = re.compile(r"^/api2/(?:json|extjs|html|spiceconfig|png)(?=/|$)")


def placeholder(value: str) -> str:
    """What replaces a secret: the same shape where a client parses it (ticket, CSRF token, UUID), else SCRUBBED."""
    if SCRUBBED in value:
        return value
    if _TICKET.match(unquote(value)):
        return scrubbed_ticket(value)
    if _CSRF.match(value):
        return scrubbed_csrf_token(value)
    if _UUID.match(value):
        return TOKEN_SECRET_PLACEHOLDER
    return SCRUBBED


def api_request_path(uri: str) -> str:
    """``https://h:8006/api2/json/nodes/pve1%2Fx/`` -> ``/nodes/pve1/x``: segments decoded after the split."""
    path = _API_PREFIX.sub("", urlsplit(uri).path)
    return "/" + "/".join(unquote(part) for part in path.split("/") if part)


def _secret_index() -> SecretIndex | None:
    try:
        return load_secret_index()
    except LookupError:  # pragma: no cover - a broken install: the names below still apply
        return None


def secret_parameters(method: str, uri: str) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """(names of secret parameters, ``{parameter: secret keys of its property string}``) of one request."""
    index = _secret_index()
    if index is None:
        return SECRET_PARAMETERS, {}
    path = api_request_path(uri)
    return index.secret_parameters(method, path) | SECRET_PARAMETERS, index.property_string_keys(method, path)


def _split_property_string(text: str) -> list[str]:
    """PVE's property string split on commas outside double quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def scrub_property_string(text: str, keys: Iterable[str]) -> str:
    """``type=yubico,id=1,key=SECRET`` -> ``type=yubico,id=1,key=PVEMOCK-SCRUBBED`` for the keys given."""
    wanted = set(keys)
    parts = []
    for part in _split_property_string(text):
        key, equals, _ = part.partition("=")
        parts.append(f"{key}={SCRUBBED}" if equals and key.strip() in wanted else part)
    return ",".join(parts)


# Where PVE's schema restricts a secret's characters, a placeholder it accepts (so that a scrubbed answer still
# validates): the user.cfg TFA 'keys' of GET /access/users match [0-9a-zA-Z!=]{0,4096} (pve-access-control User.pm).
_PLACEHOLDER_BY_NAME = {"keys": "PVEMOCKSCRUBBED"}


def _scrub_value(value: Any, found: list[str] | None = None, name: str = "") -> Any:
    """Every string in ``value`` replaced by its placeholder; the originals are added to ``found``."""
    if isinstance(value, str):
        if found is not None and value and SCRUBBED not in value:
            found.append(value)
        if name in _PLACEHOLDER_BY_NAME and value:
            return _PLACEHOLDER_BY_NAME[name]
        return placeholder(value)
    if isinstance(value, list):
        return [_scrub_value(item, found, name) for item in value]
    if isinstance(value, dict):
        return {key: _scrub_value(item, found) for key, item in value.items()}
    if value is None or isinstance(value, bool):
        return value
    return _scrub_value(str(value), found, name)


def _scrub_pairs(
    pairs: list[tuple[str, str]], names: frozenset[str], keys: dict[str, frozenset[str]], found: list[str] | None
) -> list[tuple[str, str]]:
    scrubbed = []
    for name, value in pairs:
        if name in names:
            value = _scrub_value(value, found)
        elif name in keys:
            new = scrub_property_string(value, keys[name])
            if found is not None and new != value:
                found.append(value)
            value = new
        scrubbed.append((name, value))
    return scrubbed


def _scrub_form(text: str, names: frozenset[str], keys: dict[str, frozenset[str]], found: list[str] | None) -> str:
    pairs = parse_qsl(text, keep_blank_values=True)
    scrubbed = _scrub_pairs(pairs, names, keys, found)
    return text if scrubbed == pairs else urlencode(scrubbed)


def _scrub_json_parameters(
    value: Any, names: frozenset[str], keys: dict[str, frozenset[str]], found: list[str] | None, top: bool = True
) -> Any:
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key in names:
                result[key] = _scrub_value(item, found)
            elif top and key in keys and isinstance(item, str):
                result[key] = scrub_property_string(item, keys[key])
                if found is not None and result[key] != item:
                    found.append(item)
            else:
                result[key] = _scrub_json_parameters(item, names, {}, found, top=False)
        return result
    if isinstance(value, list):
        return [_scrub_json_parameters(item, names, {}, found, top=False) for item in value]
    return value


def masked_parameters(method: str, uri: str, pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """``pairs`` with every secret value as ``SCRUBBED``: what matching compares and what messages may print."""
    names, keys = secret_parameters(method, uri)
    masked = []
    for name, value in pairs:
        if name in names:
            value = SCRUBBED
        elif name in keys:
            value = scrub_property_string(value, keys[name])
        masked.append((name, value))
    return tuple(masked)


def _scrub_request(interaction: Interaction, found: list[str] | None = None) -> Interaction:
    request = interaction["request"]
    names, keys = secret_parameters(str(request.get("method", "GET")), str(request["uri"]))
    text = _as_text(request.get("body"))
    if text:
        stripped = text.lstrip()
        if stripped.startswith(("{", "[")):
            try:
                scrubbed = json.dumps(_scrub_json_parameters(json.loads(text), names, keys, found))
            except ValueError:
                scrubbed = text
        else:
            scrubbed = _scrub_form(text, names, keys, found)
        if scrubbed != text:
            request["body"] = _like(request["body"], scrubbed)
    parts = urlsplit(request["uri"])
    if parts.query:
        query = _scrub_form(parts.query, names, keys, found)
        if query != parts.query:
            request["uri"] = urlunsplit(parts._replace(query=query))
    return interaction


def scrub_secret_parameters(interaction: Interaction) -> Interaction:
    """Secret parameters (per the schema's classification) in the request's query string, form or JSON body."""
    return _scrub_request(interaction)


def _response_json(interaction: Interaction) -> tuple[Any, bool]:
    body = interaction["response"].get("body") or {}
    if "json" in body:
        return body["json"], True
    text = _as_text(body.get("string"))
    if not text or not text.lstrip().startswith(("{", "[")):
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


def _scrub_location(value: Any, steps: list[str], found: list[str] | None, name: str = "") -> Any:
    """The value with the secret at ``steps`` (``a``, ``[]``, ``*``, ``name{key}``) replaced."""
    if not steps:
        return _scrub_value(value, found, name)
    step, rest = steps[0], steps[1:]
    if step == "[]":
        return [_scrub_location(item, rest, found) for item in value] if isinstance(value, list) else value
    if not isinstance(value, dict):
        return value
    if step == "*":
        return {key: _scrub_location(item, rest, found) for key, item in value.items()}
    name, brace, key = step.partition("{")
    if name not in value:
        return value
    result = dict(value)
    if brace and not rest:
        item = value[name]
        if isinstance(item, str):
            result[name] = scrub_property_string(item, [key.rstrip("}")])
            if found is not None and result[name] != item:
                found.append(item)
        return result
    result[name] = _scrub_location(value[name], rest, found, name)
    return result


def _scrub_names(value: Any, names: frozenset[str], found: list[str] | None) -> Any:
    if isinstance(value, dict):
        return {
            key: _scrub_value(item, found, key) if key in names else _scrub_names(item, names, found)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub_names(item, names, found) for item in value]
    return value


_INI_LINE = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)(?P<sep>\s*=\s*)(?P<value>.*?)(?P<end>\r?)$", re.MULTILINE)


def _scrub_text_answer(interaction: Interaction, found: list[str] | None) -> Interaction:
    """A text answer (``/api2/spiceconfig/...``: remote-viewer's ``key=value`` file) with secret keys scrubbed."""
    body = interaction["response"].get("body") or {}
    text = _as_text(body.get("string"))
    index = _secret_index()
    if not text or index is None:
        return interaction
    request = interaction["request"]
    _, locations = index.locations(str(request.get("method", "GET")), api_request_path(str(request["uri"])))
    names = {location.rsplit("/", 1)[-1].partition("{")[0] for location in locations} | index.names

    def replace(match: re.Match[str]) -> str:
        if match["key"] not in names or not match["value"]:
            return match[0]
        if found is not None:
            found.append(match["value"])
        return f"{match['key']}{match['sep']}{placeholder(match['value'])}{match['end']}"

    scrubbed = _INI_LINE.sub(replace, text)
    if scrubbed != text:
        body["string"] = _like(body["string"], scrubbed)
    return interaction


def _scrub_answer(interaction: Interaction, found: list[str] | None = None) -> Interaction:
    document, is_json = _response_json(interaction)
    if not is_json:
        return _scrub_text_answer(interaction, found)
    if not isinstance(document, dict) or "data" not in document:
        return interaction
    request = interaction["request"]
    index = _secret_index()
    data = document["data"]
    if index is not None:
        _, locations = index.locations(str(request.get("method", "GET")), api_request_path(str(request["uri"])))
        for location in sorted(locations):
            data = _scrub_location(data, location.split("/"), found)
        data = _scrub_names(data, index.names, found)
    if isinstance(data, dict) and isinstance(data.get("ticket"), str):  # any answer with a ticket: its shape kept
        data = {**data, "ticket": scrubbed_ticket(data["ticket"])}
    if isinstance(data, dict) and "full-tokenid" in data and isinstance(data.get("value"), str):
        data = {**data, "value": TOKEN_SECRET_PLACEHOLDER}
    if data != document["data"]:
        _store_response_json(interaction, {**document, "data": data})
    return interaction


def scrub_ticket_answers(interaction: Interaction) -> Interaction:
    """Secrets in answers: tickets, CSRF tokens, new API token secrets and every property the schema classifies."""
    return _scrub_answer(interaction)


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
        replaced: Interaction = _replace_everywhere(interaction, replace)
        return replaced

    return filter_known_secrets


class SecretMemory:
    """A filter that learns every value the classified filters scrub, and replaces it wherever else it appears.

    PVE, or a fake, may echo a secret outside its classified place (an error message quoting a parameter, a
    config answer repeating a password set earlier). The cassette file calls :meth:`learn` on every interaction
    before writing, so a value is known before the first interaction is written. Values shorter than
    :attr:`MIN_LENGTH` are left to the classified places: replacing ``1234`` everywhere would corrupt answers.
    """

    MIN_LENGTH = 6

    def __init__(self) -> None:
        self.values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def learn(self, interaction: Interaction) -> None:
        found: list[str] = []
        copy = json.loads(json.dumps(interaction, default=_json_default))
        _scrub_request(copy, found)
        _scrub_answer(copy, found)
        for headers in (interaction["request"].get("headers") or {}, interaction["response"].get("headers") or {}):
            for name in ("Authorization", "Cookie", "Set-Cookie", "CSRFPreventionToken"):
                for _, _, value in _header_items(headers, name):
                    found.extend(_credential_parts(str(value)))
        new = {value for value in found if len(value) >= self.MIN_LENGTH and value not in self.values}
        if new:
            self.values |= new
            self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.values:
            forms = set()
            for value in self.values:
                forms |= {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
            ordered = sorted((form for form in forms if len(form) >= self.MIN_LENGTH), key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(form) for form in ordered))
        return self._pattern

    def __call__(self, interaction: Interaction) -> Interaction:
        pattern = self._compiled()
        if pattern is None:
            return interaction

        def replace(text: str) -> str:
            return pattern.sub(SCRUBBED, text)

        document, is_json = _response_json(interaction)
        if not is_json:
            return dict(_replace_everywhere(interaction, replace))
        scrubbed = _replace_everywhere(document, replace)  # in the answer's strings, never its numbers or syntax
        if scrubbed != document:
            _store_response_json(interaction, scrubbed)
        body = interaction["response"]["body"]
        result: Interaction = _replace_everywhere(
            {**interaction, "response": {**interaction["response"], "body": {}}}, replace
        )
        result["response"]["body"] = body
        return result


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _credential_parts(header: str) -> list[str]:
    """The secret parts of an auth header: a token secret, a ticket's signature, a CSRF token's signature."""
    parts = []
    match = _TOKEN_HEADER.match(header)
    if match:
        parts.append(match["secret"])
    for cookie in _AUTH_COOKIE.finditer(header):
        ticket = unquote(cookie["value"])
        parts.append(ticket.rpartition("::")[2])
    csrf = _CSRF.match(header)
    if csrf:
        parts.append(header.partition(":")[2])
    return [part for part in parts if part and SCRUBBED not in part]


def remember_secrets() -> SecretMemory:
    """A fresh :class:`SecretMemory` (one per cassette)."""
    return SecretMemory()


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
        replaced: Interaction = _replace_everywhere(interaction, self.replace_text)
        return replaced


DEFAULT_FILTERS: tuple[InteractionFilter, ...] = (
    scrub_auth_headers,
    scrub_set_cookie,
    scrub_secret_parameters,
    scrub_ticket_answers,
)


def apply_filters(interaction: Interaction, filters: Iterable[InteractionFilter]) -> Interaction | None:
    for interaction_filter in filters:
        filtered = interaction_filter(interaction)
        if filtered is None:
            return None
        interaction = filtered
    return interaction
