"""PEM certificates and private keys read as OpenSSL reads them for PVE: what ``PVE::Certificate`` shows of a
certificate, and whether a private key belongs to it.

pve-common ``src/PVE/Certificate.pm`` (f665029e): ``strip_leading_text`` (129-135), ``get_certificate_info``
(263-329: SHA-256 fingerprint, subject and issuer as ``X509_NAME_oneline`` prints them, validity in epoch seconds,
DNS and IP alternative names, the first certificate re-encoded, the key's algorithm and size). The DER is read here
(no cryptography library needed): enough of X.509 and of PKCS#1, PKCS#8 and SEC1 keys for that, nothing more.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

_BLOCK = re.compile(r"-----BEGIN ([^-\n]*)-----(.*?)-----END \1-----", re.S)

# OpenSSL's short names of the attributes X509_NAME_oneline prints (obj_dat.h); others print as the dotted OID
_NAME_ATTRIBUTES = {
    "2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST",
    "2.5.4.9": "street", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.12": "title", "2.5.4.42": "GN",
    "2.5.4.46": "dnQualifier", "2.5.4.65": "pseudonym", "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
}  # fmt: skip
RSA = "1.2.840.113549.1.1.1"
EC = "1.2.840.10045.2.1"
# OBJ_nid2sn of each key algorithm, and the size EVP_PKEY_bits answers for each named curve
_KEY_TYPES = {RSA: "rsaEncryption", EC: "id-ecPublicKey", "1.3.101.112": "ED25519", "1.3.101.113": "ED448"}
_CURVE_BITS = {"1.2.840.10045.3.1.7": 256, "1.3.132.0.34": 384, "1.3.132.0.35": 521, "1.3.132.0.10": 256}
_FIXED_BITS = {"1.3.101.112": 256, "1.3.101.113": 456}


class PemError(ValueError):
    """The text is not what OpenSSL would read as a certificate or a key."""


@dataclass(frozen=True)
class _Node:
    tag: int
    body: bytes
    raw: bytes


def _read(data: bytes, pos: int = 0) -> tuple[_Node, int]:
    if pos + 2 > len(data):
        raise PemError("truncated DER")
    tag, size = data[pos], data[pos + 1]
    head = 2
    if size & 0x80:
        count = size & 0x7F
        if count == 0 or count > 4 or pos + 2 + count > len(data):
            raise PemError("bad DER length")
        size = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
        head += count
    end = pos + head + size
    if end > len(data):
        raise PemError("truncated DER")
    return _Node(tag, data[pos + head : end], data[pos:end]), end


def _children(node: _Node) -> list[_Node]:
    items, pos = [], 0
    while pos < len(node.body):
        item, pos = _read(node.body, pos)
        items.append(item)
    return items


def _oid(body: bytes) -> str:
    if not body:
        raise PemError("empty OID")
    parts = [min(body[0] // 40, 2), body[0] - 40 * min(body[0] // 40, 2)]
    value = 0
    for byte in body[1:]:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(part) for part in parts)


def _integer(node: _Node) -> int:
    return int.from_bytes(node.body, "big", signed=True)


def pem_blocks(text: str) -> Iterator[tuple[str, bytes]]:
    """Every ``-----BEGIN <label>-----`` block of ``text`` with its decoded content, in order (a block that is not
    base64 raises :class:`PemError` when it is reached)."""
    for match in _BLOCK.finditer(text):
        try:
            der = base64.b64decode("".join(match.group(2).split()), validate=True)
        except (binascii.Error, ValueError):
            raise PemError(f"bad base64 in {match.group(1)}") from None
        yield match.group(1), der


def strip_leading_text(text: str) -> str:
    """``PVE::Certificate::strip_leading_text``: everything before the first PEM header dropped."""
    found = re.search(r"-----BEGIN .*?-----", text, re.S)
    return text[found.start() :] if found else text


def der_to_pem(der: bytes, label: str = "CERTIFICATE") -> str:
    """``PEM_write``: 64 base64 characters a line."""
    text = base64.b64encode(der).decode()
    lines = "".join(text[i : i + 64] + "\n" for i in range(0, len(text), 64))
    return f"-----BEGIN {label}-----\n{lines}-----END {label}-----\n"


@dataclass(frozen=True)
class CertificateFacts:
    """One certificate as ``get_certificate_info`` reports it (its ``filename`` aside)."""

    der: bytes
    subject: str
    issuer: str
    not_before: int
    not_after: int
    san: tuple[str, ...]
    key_type: str
    key_bits: int
    #: The SubjectPublicKeyInfo's algorithm and key bits, to match a private key against.
    public_key: tuple[str, bytes]

    @property
    def fingerprint(self) -> str:
        return ":".join(f"{byte:02X}" for byte in hashlib.sha256(self.der).digest())

    @property
    def pem(self) -> str:
        return der_to_pem(self.der)

    def info(self, filename: str) -> dict[str, object]:
        """The ``pve-certificate-info`` object."""
        return {
            "filename": filename,
            "fingerprint": self.fingerprint,
            "subject": self.subject,
            "issuer": self.issuer,
            "notbefore": self.not_before,
            "notafter": self.not_after,
            "san": list(self.san),
            "pem": self.pem,
            "public-key-type": self.key_type,
            "public-key-bits": self.key_bits,
        }


def _oneline(name: _Node) -> str:
    """``X509_NAME_oneline``: ``/<short name>=<value>`` per attribute; bytes outside printable ASCII as ``\\xHH``."""
    text = ""
    for rdn in _children(name):
        for attribute in _children(rdn):
            oid_node, value = _children(attribute)[:2]
            oid = _oid(oid_node.body)
            shown = "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02X}" for b in value.body)
            text += f"/{_NAME_ATTRIBUTES.get(oid, oid)}={shown}"
    return text


def _time(node: _Node) -> int:
    text = node.body.decode("ascii", "replace")
    if node.tag == 0x17:  # UTCTime: two-digit years from 1950 to 2049
        year = int(text[:2])
        text = f"{2000 + year if year < 50 else 1900 + year}{text[2:]}"
    match = re.fullmatch(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z", text)
    if not match:
        raise PemError(f"bad time {text!r}")
    return calendar.timegm((*(int(part) for part in match.groups()), 0, 0, 0))


def _alternative_names(extensions: _Node) -> tuple[str, ...]:
    """``X509_get_subjectAltNames`` as ``get_certificate_info`` parses it: DNS names, and IPv4 or IPv6 addresses
    (the latter as eight 4-digit hex groups); other kinds are skipped with a warning."""
    names: list[str] = []
    for extension in _children(_children(extensions)[0]):
        parts = _children(extension)
        if _oid(parts[0].body) != "2.5.29.17":
            continue
        general_names, _ = _read(parts[-1].body)
        for entry in _children(general_names):
            if entry.tag == 0x82:
                names.append(entry.body.decode("ascii", "replace"))
            elif entry.tag == 0x87 and len(entry.body) == 4:
                names.append(".".join(str(byte) for byte in entry.body))
            elif entry.tag == 0x87 and len(entry.body) == 16:
                names.append(":".join(entry.body[i : i + 2].hex() for i in range(0, 16, 2)))
    return tuple(names)


def _public_key(spki: _Node) -> tuple[str, int, tuple[str, bytes]]:
    algorithm, bits_node = _children(spki)[:2]
    parts = _children(algorithm)
    oid = _oid(parts[0].body)
    key_bits = bits_node.body[1:]
    if oid == RSA:
        modulus = _integer(_children(_read(key_bits)[0])[0])
        size = modulus.bit_length()
    elif oid == EC:
        size = _CURVE_BITS.get(_oid(parts[1].body), 8 * (len(key_bits) - 1) // 2) if len(parts) > 1 else 0
    else:
        size = _FIXED_BITS.get(oid, 8 * len(key_bits))
    return _KEY_TYPES.get(oid, oid), size, (oid, key_bits)


def read_certificate(der: bytes) -> CertificateFacts:
    """The facts of one DER certificate; :class:`PemError` when it is no X.509 certificate."""
    try:
        outer, end = _read(der)
        if outer.tag != 0x30 or end != len(der):
            raise PemError("not a certificate")
        tbs = _children(_children(outer)[0])
        if tbs and tbs[0].tag == 0xA0:
            tbs = tbs[1:]
        _serial, _algorithm, issuer, validity, subject, spki, *rest = tbs
        not_before, not_after = (_time(node) for node in _children(validity))
        extensions = next((node for node in rest if node.tag == 0xA3), None)
        key_type, key_bits, public_key = _public_key(spki)
        return CertificateFacts(
            der=der,
            subject=_oneline(subject),
            issuer=_oneline(issuer),
            not_before=not_before,
            not_after=not_after,
            san=_alternative_names(extensions) if extensions is not None else (),
            key_type=key_type,
            key_bits=key_bits,
            public_key=public_key,
        )
    except (ValueError, IndexError, UnicodeError) as error:
        raise PemError(str(error)) from None


def read_certificates(text: str) -> list[CertificateFacts]:
    """Every certificate of a PEM chain (``CTX_use_certificate_chain_file``); :class:`PemError` when one is not."""
    return [read_certificate(der) for label, der in pem_blocks(text) if label in ("CERTIFICATE", "TRUSTED CERTIFICATE")]


def _ec_public_point(sec1: bytes) -> bytes | None:
    """The public key a SEC1 ``ECPrivateKey`` carries (``[1]``), as OpenSSL writes it by default."""
    for part in _children(_read(sec1)[0])[2:]:
        if part.tag == 0xA1:
            return _read(part.body)[0].body[1:]
    return None


def private_key_public_part(text: str) -> tuple[str, bytes | int | None] | None:
    """The algorithm and public part of the first private key in ``text`` (RSA: the modulus; EC: the point it
    carries); ``None`` when ``text`` holds no key OpenSSL loads without a passphrase."""
    for label, der in pem_blocks(text):
        try:
            if label == "RSA PRIVATE KEY":
                return RSA, _integer(_children(_read(der)[0])[1])
            if label == "EC PRIVATE KEY":
                return EC, _ec_public_point(der)
            if label == "PRIVATE KEY":
                _version, algorithm, key = _children(_read(der)[0])[:3]
                oid = _oid(_children(algorithm)[0].body)
                if oid == RSA:
                    return RSA, _integer(_children(_read(key.body)[0])[1])
                if oid == EC:
                    return EC, _ec_public_point(key.body)
                return oid, None
        except (ValueError, IndexError):
            return None
    return None


def key_matches(certificate: CertificateFacts, key_text: str) -> bool:
    """Whether ``key_text`` is the private key of ``certificate`` (``CTX_use_PrivateKey_file`` after the chain:
    OpenSSL's ``X509_check_private_key``). An EC key written without its public point, or a key type read here
    only by name, counts as matching when the algorithm does."""
    key = private_key_public_part(key_text)
    if key is None:
        return False
    algorithm, public = key
    cert_algorithm, cert_bits = certificate.public_key
    if algorithm != cert_algorithm:
        return False
    if algorithm == RSA:
        return public == _integer(_children(_read(cert_bits)[0])[0])
    return public is None or public == cert_bits
