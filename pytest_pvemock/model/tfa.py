"""Users' second factors, as ``/etc/pve/priv/tfa.cfg`` keeps them (proxmox-tfa ``src/api/mod.rs`` and
``src/api/methods.rs``, called from pve-access-control src/PVE/API2/TFA.pm at 5ccd07d9).

Each user with a factor has TOTP, WebAuthn, U2F and Yubico entries (``id``, ``description``, ``created``,
``enable``) and at most one set of recovery keys. The fake keeps the entries' descriptions only, never a secret: a
TOTP secret is used once to check the code the client sends (RFC 6238 on the cluster's clock, one step either
way, as ``Totp::verify(value, now, -1..=1)``) and dropped; recovery keys are answered once, when made, and only
their count is kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.config_store import config_store_of

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

TFA_CONFIG = "/etc/pve/priv/tfa.cfg"
KINDS = ("totp", "webauthn", "u2f", "yubico")
RECOVERY_KEYS = 10


def _users(cluster: FakeCluster) -> dict[str, dict[str, Any]]:
    return config_store_of(cluster).section(TFA_CONFIG).records


def _info(entry: dict[str, Any], kind: str) -> dict[str, Any]:
    """``TypedTfaInfo``: type, id, description (left out when empty), created, enable (left out when true)."""
    info: dict[str, Any] = {"type": kind, "id": entry["id"]}
    if entry.get("description"):
        info["description"] = entry["description"]
    info["created"] = entry["created"]
    if not entry.get("enable", True):
        info["enable"] = 0
    return info


def user_entries(cluster: FakeCluster, userid: str) -> list[dict[str, Any]]:
    """``to_data``: the recovery entry first, then TOTP, WebAuthn, U2F and Yubico entries in creation order."""
    data = _users(cluster).get(userid)
    if data is None:
        return []
    out = []
    if data.get("recovery"):
        out.append(_info({"id": "recovery", "created": data["recovery"]["created"]}, "recovery"))
    for kind in KINDS:
        out.extend(_info(entry, kind) for entry in data.get(kind, []))
    return out


def users_with_tfa(cluster: FakeCluster) -> list[str]:
    """The users ``tfa.cfg`` holds (a user whose last factor is deleted drops out)."""
    return list(_users(cluster))


def entry(cluster: FakeCluster, userid: str, entry_id: str) -> dict[str, Any] | None:
    """``get_tfa_entry``: the entry by id, ``None`` when the user has none of that id."""
    return next((item for item in user_entries(cluster, userid) if item["id"] == entry_id), None)


def _new_entry(cluster: FakeCluster, userid: str, kind: str, description: str) -> str:
    data = _users(cluster).setdefault(userid, {})
    rng = figures.seeded(cluster.seed, "tfa", userid, kind, len(data.get(kind, [])), cluster.clock.now())
    entry_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    new = {"id": entry_id, "description": description, "created": cluster.clock.now(), "enable": True}
    data.setdefault(kind, []).append(new)
    return entry_id


def add_totp(cluster: FakeCluster, userid: str, description: str | None, uri: str | None, value: str | None) -> str:
    """``add_totp``: the code must match the URI's secret now (the secret is not kept)."""
    if not description:
        raise PVEError("'description' is required for new entries\n")
    if not uri or not value:
        raise PVEError("'totp' type requires both 'totp' and 'value' parameters\n")
    if not totp_matches(uri, value, cluster.clock.now()):
        raise PVEError("failed to verify TOTP challenge\n")
    return _new_entry(cluster, userid, "totp", description)


def add_recovery(cluster: FakeCluster, userid: str) -> list[str]:
    """``add_recovery``: ten one-time keys ``xxxx-xxxx-xxxx-xxxx`` (8 random bytes each), answered once."""
    data = _users(cluster).get(userid) or {}
    if data.get("recovery"):
        raise PVEError("user already has recovery keys\n")
    data["recovery"] = {"created": cluster.clock.now(), "available": RECOVERY_KEYS}
    _users(cluster)[userid] = data
    keys = []
    for _ in range(RECOVERY_KEYS):
        raw = secrets.token_bytes(8)  # never seeded: a recovery key is a secret
        keys.append("-".join(raw[i : i + 2].hex() for i in range(0, 8, 2)))
    return keys


def add_yubico(cluster: FakeCluster, userid: str, description: str | None, public_key: str) -> str:
    """``add_yubico``: the key's public id (the first 12 characters of an OTP) is what PVE stores."""
    if not description:
        raise PVEError("'description' is required for new entries\n")
    return _new_entry(cluster, userid, "yubico", description)


def update(cluster: FakeCluster, userid: str, entry_id: str, description: str | None, enable: bool | None) -> None:
    """``update_tfa_entry``: description and enable of an entry (recovery keys have neither)."""
    data = _users(cluster).get(userid) or {}
    found = next((item for kind in KINDS for item in data.get(kind, []) if item["id"] == entry_id), None)
    if found is None:
        raise PVEError("no such entry\n")
    if description is not None:
        found["description"] = description
    if enable is not None:
        found["enable"] = bool(enable)


def delete(cluster: FakeCluster, userid: str, entry_id: str) -> bool:
    """``delete_tfa``: removes the entry; ``False`` when the user has no factor left (and drops out of tfa.cfg)."""
    users = _users(cluster)
    data = users.get(userid)
    if data is None:
        raise PVEError("no such entry\n")
    if entry_id == "recovery" and data.get("recovery"):
        data.pop("recovery")
    else:
        for kind in KINDS:
            kept = [item for item in data.get(kind, []) if item["id"] != entry_id]
            if len(kept) != len(data.get(kind, [])):
                data[kind] = kept
                break
        else:
            raise PVEError("no such entry\n")
    if not data.get("recovery") and not any(data.get(kind) for kind in KINDS):
        del users[userid]
        return False
    return True


def totp_matches(uri: str, value: str, now: int) -> bool:
    """RFC 6238 over an ``otpauth://totp/...`` URI (``secret``, ``digits``, ``period``, ``algorithm``), one step
    either side of ``now`` (proxmox-tfa ``Totp::verify(value, now, -1..=1)``)."""
    parts = urlsplit(uri)
    if parts.scheme != "otpauth" or parts.netloc != "totp":
        raise PVEError("not a valid otpauth uri\n")
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    secret_text = unquote(query.get("secret", "")).upper().replace(" ", "")
    try:
        secret = base64.b32decode(secret_text + "=" * (-len(secret_text) % 8))
    except ValueError:
        raise PVEError("invalid base32 secret in totp uri\n") from None
    digits = int(query.get("digits", "6"))
    period = int(query.get("period", "30"))
    digest = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}.get(
        query.get("algorithm", "SHA1").upper(), hashlib.sha1
    )
    for step in (-1, 0, 1):
        if hmac.compare_digest(totp_code(secret, now + step * period, digits, period, digest), value.strip()):
            return True
    return False


def totp_code(
    secret: bytes, at: int, digits: int = 6, period: int = 30, digest: Callable[..., Any] = hashlib.sha1
) -> str:
    """RFC 6238: the code of ``secret`` at epoch ``at``."""
    mac = hmac.new(secret, struct.pack(">Q", max(at, 0) // period), digest).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


# pve-docs pveum.adoc "Limits and lockout of Two-Factor Authentication" (commit 96a0d131) and its PBS twin: 8
# failed TOTP attempts lock the user's TOTP factors until a recovery key or an admin unlocks them; more than 100
# failed second-factor attempts block every second factor for an hour
TOTP_FAILURE_LIMIT = 8
TFA_FAILURE_LIMIT = 100
TFA_LOCK_SECONDS = 3600


def record_failure(cluster: FakeCluster, userid: str, kind: str = "totp") -> None:
    """A failed second-factor login of ``userid`` (``kind``: the factor tried), counted as proxmox-tfa counts it:
    the TOTP limit locks TOTP (``totp-locked``), the overall limit blocks all factors (``tfa-locked-until``)."""
    data = _users(cluster).get(userid)
    if data is None:
        return
    data["failures"] = data.get("failures", 0) + 1
    if kind == "totp":
        data["totp-failures"] = data.get("totp-failures", 0) + 1
        if data["totp-failures"] >= TOTP_FAILURE_LIMIT:
            data["totp-locked"] = True
    if data["failures"] > TFA_FAILURE_LIMIT:
        data["tfa-locked-until"] = cluster.clock.now() + TFA_LOCK_SECONDS


def lock_status(cluster: FakeCluster, userid: str) -> dict[str, Any] | None:
    """``tfa_lock_status``: ``totp-locked`` (only when locked) and ``tfa-locked-until`` (only when set) of a user
    tfa.cfg holds; ``None`` for a user without second factors."""
    data = _users(cluster).get(userid)
    if data is None:
        return None
    status: dict[str, Any] = {}
    if data.get("totp-locked"):
        status["totp-locked"] = 1
    if data.get("tfa-locked-until"):
        status["tfa-locked-until"] = int(data["tfa-locked-until"])
    return status


def unlock(cluster: FakeCluster, userid: str) -> bool:
    """``api_unlock_tfa``: whether the user was locked out (TOTP, or all factors until a time still to come);
    the locks and failure counts are reset either way."""
    data = _users(cluster).get(userid)
    if data is None:
        return False
    was_locked = bool(data.get("totp-locked")) or int(data.get("tfa-locked-until") or 0) > cluster.clock.now()
    for key in ("totp-locked", "tfa-locked-until", "failures", "totp-failures"):
        data.pop(key, None)
    return was_locked
