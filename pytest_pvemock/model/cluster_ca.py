"""The cluster's root CA, ``/etc/pve/pve-root-ca.pem``, as ``pvecm`` makes it when the first node is set up.

pve-cluster src/PVE/Cluster/Setup.pm (commit 7091d92e) ``gen_pveca_key`` (line 410: ``openssl genrsa 4096``) and
``gen_pveca_cert`` (423-452: ``faketime yesterday openssl req -batch -days 3650 -new -x509 -nodes -addext
keyUsage=critical,keyCertSign,cRLSign`` with the subject ``/CN=Proxmox Virtual Environment/OU=<uuid>/O=PVE Cluster
Manager CA/``; openssl's ``v3_ca`` section adds the key identifiers and ``basicConstraints=critical,CA:true``).

A real certificate, not a look-alike: an RSA-4096 key and a SHA-256 signature any X.509 parser verifies, drawn
from the cluster's seed (the same seed gives the same CA, computed once per process). Key generation is plain
Python (Miller-Rabin on sieved candidates), so no cryptography library is needed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

DAY = 86400
KEY_BITS = 4096
_SMALL_PRIMES = [p for p in range(3, 20000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))]


class _Stream:
    """Deterministic bytes from a text (SHA-512 in counter mode): the cluster's seed stands for openssl's entropy."""

    def __init__(self, text: str) -> None:
        self._key = text.encode()
        self._counter = 0

    def take(self, count: int) -> bytes:
        out = b""
        while len(out) < count:
            out += hashlib.sha512(self._key + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        return out[:count]

    def integer(self, bits: int) -> int:
        return int.from_bytes(self.take((bits + 7) // 8), "big") >> (-bits % 8)


def _probably_prime(n: int, stream: _Stream, rounds: int = 8) -> bool:
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(rounds):
        a = 2 + stream.integer(n.bit_length()) % (n - 3)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, stream: _Stream, e: int) -> int:
    """A prime of exactly ``bits`` bits (top two bits set, so that p*q has 2*bits bits) with gcd(p-1, e) = 1:
    the first in a window above a random odd start that survives a sieve of the small primes and Miller-Rabin."""
    window = 16 * bits
    while True:
        start = stream.integer(bits) | (3 << (bits - 2)) | 1
        composite = bytearray(window)
        for p in _SMALL_PRIMES:
            first = -start % p
            composite[first::p] = b"\x01" * len(range(first, window, p))
        for offset in range(0, window, 2):
            if composite[offset]:
                continue
            candidate = start + offset
            if (candidate - 1) % e and pow(2, candidate - 1, candidate) == 1 and _probably_prime(candidate, stream):
                return candidate


# ---- DER ---------------------------------------------------------------------------------------------------------
def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _seq(*items: bytes) -> bytes:
    return _der(0x30, b"".join(items))


def _int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=False))


def _oid(dotted: str) -> bytes:
    parts = [int(part) for part in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.insert(0, 0x80 | (part & 0x7F))
            part >>= 7
        body += bytes(chunk)
    return _der(0x06, body)


def _name(*pairs: tuple[str, str]) -> bytes:
    return _seq(*(_der(0x31, _seq(_oid(oid), _der(0x0C, value.encode()))) for oid, value in pairs))


def _time(moment: int) -> bytes:
    stamp = datetime.fromtimestamp(moment, timezone.utc)
    if stamp.year < 2050:
        return _der(0x17, stamp.strftime("%y%m%d%H%M%SZ").encode())
    return _der(0x18, stamp.strftime("%Y%m%d%H%M%SZ").encode())


SHA256_RSA = _seq(_oid("1.2.840.113549.1.1.11"), b"\x05\x00")
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


@dataclass(frozen=True)
class ClusterCA:
    """The root CA: its PEM text, subject (as openssl prints it) and validity."""

    pem: str
    subject: str
    not_before: int
    not_after: int
    #: The subject as DER (a certificate it issues names it as issuer) and the key (n, d) it signs with: the
    #: ``/etc/pve/priv/pve-root-ca.key`` of the fake, kept in memory and never answered.
    subject_der: bytes = field(default=b"", repr=False)
    key: tuple[int, int] = field(default=(0, 0), repr=False)


@dataclass(frozen=True)
class NodeCertificate:
    """A node's ``pve-ssl.pem`` as the CA issued it."""

    pem: str
    subject: str
    not_before: int
    not_after: int
    san: tuple[str, ...]
    #: ``pve-ssl.key`` (PKCS#1 PEM), for the fake's HTTPS server only: never answered.
    key_pem: str = field(default="", repr=False)


@functools.lru_cache(maxsize=8)
def root_ca(seed: str, created: int) -> ClusterCA:
    """The CA a cluster with this seed made when its first node was set up at ``created`` (epoch seconds)."""
    stream = _Stream(f"pve-root-ca {seed}")
    e = 65537
    p = _prime(KEY_BITS // 2, stream, e)
    q = _prime(KEY_BITS // 2, stream, e)
    n, d = p * q, pow(e, -1, (p - 1) * (q - 1))
    raw = stream.take(16)
    uuid = raw[:6] + bytes([0x40 | raw[6] & 0x0F]) + raw[7:8] + bytes([0x80 | raw[8] & 0x3F]) + raw[9:16]
    uuid_text = "-".join(uuid.hex()[a:b] for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)))
    subject = _name(
        ("2.5.4.3", "Proxmox Virtual Environment"), ("2.5.4.11", uuid_text), ("2.5.4.10", "PVE Cluster Manager CA")
    )
    public_key = _seq(_int(n), _int(e))
    key_id = hashlib.sha1(public_key).digest()
    not_before = created - DAY  # faketime yesterday
    not_after = not_before + 3650 * DAY
    extensions = _seq(
        _seq(_oid("2.5.29.15"), _der(0x01, b"\xff"), _der(0x04, _der(0x03, b"\x01\x06"))),  # keyCertSign, cRLSign
        _seq(_oid("2.5.29.14"), _der(0x04, _der(0x04, key_id))),
        _seq(_oid("2.5.29.35"), _der(0x04, _seq(_der(0x80, key_id)))),
        _seq(_oid("2.5.29.19"), _der(0x01, b"\xff"), _der(0x04, _seq(_der(0x01, b"\xff")))),
    )
    tbs = _seq(
        _der(0xA0, _int(2)),
        _int(int.from_bytes(stream.take(20), "big") >> 1),
        SHA256_RSA,
        subject,
        _seq(_time(not_before), _time(not_after)),
        subject,
        _seq(_seq(_oid("1.2.840.113549.1.1.1"), b"\x05\x00"), _der(0x03, b"\x00" + public_key)),
        _der(0xA3, extensions),
    )
    digest = _SHA256_DIGEST_INFO + hashlib.sha256(tbs).digest()
    size = (n.bit_length() + 7) // 8
    padded = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
    signature = pow(int.from_bytes(padded, "big"), d, n).to_bytes(size, "big")
    der = _seq(tbs, SHA256_RSA, _der(0x03, b"\x00" + signature))
    text = base64.b64encode(der).decode()
    pem = "-----BEGIN CERTIFICATE-----\n"
    pem += "".join(text[i : i + 64] + "\n" for i in range(0, len(text), 64))
    pem += "-----END CERTIFICATE-----\n"
    return ClusterCA(
        pem=pem,
        subject=f"CN=Proxmox Virtual Environment, OU={uuid_text}, O=PVE Cluster Manager CA",
        not_before=not_before,
        not_after=not_after,
        subject_der=subject,
        key=(n, d),
    )


def _signed_pem(tbs: bytes, key: tuple[int, int]) -> str:
    n, d = key
    digest = _SHA256_DIGEST_INFO + hashlib.sha256(tbs).digest()
    size = (n.bit_length() + 7) // 8
    padded = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
    signature = pow(int.from_bytes(padded, "big"), d, n).to_bytes(size, "big")
    text = base64.b64encode(_seq(tbs, SHA256_RSA, _der(0x03, b"\x00" + signature))).decode()
    return (
        "-----BEGIN CERTIFICATE-----\n"
        + "".join(text[i : i + 64] + "\n" for i in range(0, len(text), 64))
        + "-----END CERTIFICATE-----\n"
    )


@functools.lru_cache(maxsize=64)
def node_certificate(ca: ClusterCA, seed: str, node: str, serial: int, ip: str, domain: str) -> NodeCertificate:
    """``pve-ssl.pem`` of ``node`` (pve-cluster src/PVE/Cluster/Setup.pm 487-570 at 7091d92e, ``gen_pve_ssl_cert``):
    an RSA-2048 key, ``/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN=<fqdn>``, the names
    ``IP:127.0.0.1,IP:::1,DNS:localhost,IP:<ip>,DNS:<node>,DNS:<fqdn>``, two years from the day before the node
    was set up (``faketime yesterday``), the CA's next serial."""
    stream = _Stream(f"pve-ssl {seed} {node}")
    e = 65537
    p, q = _prime(1024, stream, e), _prime(1024, stream, e)
    fqdn = f"{node}.{domain}"
    subject = _name(("2.5.4.11", "PVE Cluster Node"), ("2.5.4.10", "Proxmox Virtual Environment"), ("2.5.4.3", fqdn))
    addresses = [bytes([127, 0, 0, 1]), bytes(15) + b"\x01", bytes(int(part) for part in ip.split("."))]
    names = _seq(
        _der(0x87, addresses[0]), _der(0x87, addresses[1]), _der(0x82, b"localhost"), _der(0x87, addresses[2]),
        _der(0x82, node.encode()), _der(0x82, fqdn.encode()),
    )  # fmt: skip
    public_key = _seq(_int(p * q), _int(e))
    # OpenSSL 3's `x509 -req -CA` adds the key identifiers by default (PVE 8 and 9); strict verifiers (Python 3.13's
    # default context) refuse a CA-signed certificate without the authority's
    ca_key_id = hashlib.sha1(_seq(_int(ca.key[0]), _int(e))).digest()
    extensions = _seq(
        _seq(_oid("2.5.29.19"), _der(0x04, _seq())),  # basicConstraints=CA:FALSE
        _seq(_oid("2.5.29.37"), _der(0x04, _seq(_oid("1.3.6.1.5.5.7.3.1")))),  # extendedKeyUsage=serverAuth
        _seq(_oid("2.5.29.17"), _der(0x04, names)),
        _seq(_oid("2.5.29.14"), _der(0x04, _der(0x04, hashlib.sha1(public_key).digest()))),
        _seq(_oid("2.5.29.35"), _der(0x04, _seq(_der(0x80, ca_key_id)))),
    )
    not_before = ca.not_before
    not_after = not_before + min(2 * 365, (ca.not_after - not_before) // DAY - 2) * DAY
    tbs = _seq(
        _der(0xA0, _int(2)),
        _int(serial),
        SHA256_RSA,
        ca.subject_der,
        _seq(_time(not_before), _time(not_after)),
        subject,
        _seq(_seq(_oid("1.2.840.113549.1.1.1"), b"\x05\x00"), _der(0x03, b"\x00" + public_key)),
        _der(0xA3, extensions),
    )
    ipv6 = ":".join(["0000"] * 7 + ["0001"])  # PVE::Certificate unpacks an IP SAN as H4 groups
    return NodeCertificate(
        pem=_signed_pem(tbs, ca.key),
        subject=f"/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN={fqdn}",
        not_before=not_before,
        not_after=not_after,
        san=("127.0.0.1", ipv6, "localhost", ip, node, fqdn),
        key_pem=rsa_private_key_pem(p, q, e),
    )


def rsa_private_key_pem(p: int, q: int, e: int) -> str:
    """The PKCS#1 ``RSA PRIVATE KEY`` of the primes ``p`` and ``q`` (what ``openssl genrsa`` writes)."""
    n, d = p * q, pow(e, -1, (p - 1) * (q - 1))
    der = _seq(*(_int(value) for value in (0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p))))
    text = base64.b64encode(der).decode()
    return (
        "-----BEGIN RSA PRIVATE KEY-----\n"
        + "".join(text[i : i + 64] + "\n" for i in range(0, len(text), 64))
        + "-----END RSA PRIVATE KEY-----\n"
    )
