"""The server's HTTP/1.1 reader over a real socket: keep-alive, bodies, and proper answers to malformed requests."""

from __future__ import annotations

import json
import socket

import pytest

from pytest_pvemock.api.app import MAX_POST
from pytest_pvemock.transports.server import MAX_BODY, MAX_HEADERS, MAX_LINE, PveServer


@pytest.fixture
def server(pve_cluster):
    with PveServer(pve_cluster, tls=False) as running:
        yield running


class Connection:
    """A raw client connection, read through one buffer (several answers may arrive in one packet)."""

    def __init__(self, server: PveServer) -> None:
        self.sock = socket.create_connection((server.address, server.port), timeout=10)
        self.reader = self.sock.makefile("rb")

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.reader.close()
        self.sock.close()

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
        """One answer: status, headers by lower-case name, and the body (by Content-Length)."""
        status_line = self.reader.readline()
        assert status_line.startswith(b"HTTP/1.1 "), status_line
        headers: dict[str, str] = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head_only else int(headers.get("content-length", "0"))
        return int(status_line.split()[1]), headers, self.reader.read(length)

    def is_closed(self) -> bool:
        return self.reader.read(1) == b""


def login_body(server: PveServer) -> bytes:
    return f"username={server.user}&password={server.password}".encode()


def test_several_requests_on_one_connection_then_connection_close(server):
    with Connection(server) as sock:
        sock.sendall(b"GET /api2/json/version HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
        assert sock.answer()[0] == 401
        assert sock.answer()[0] == 401
        sock.sendall(b"GET /api2/json/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, _ = sock.answer()
        assert (status, headers["connection"]) == (401, "close")
        assert sock.is_closed()


def test_http_1_0_closes_after_the_answer(server):
    with Connection(server) as sock:
        sock.sendall(b"GET /api2/json/version HTTP/1.0\r\n\r\n")
        assert sock.answer()[0] == 401
        assert sock.is_closed()


def test_login_with_a_content_length_body_and_with_a_chunked_body(server):
    body = login_body(server)
    form = b"Content-Type: application/x-www-form-urlencoded\r\n"
    with Connection(server) as sock:
        sock.sendall(
            b"POST /api2/json/access/ticket HTTP/1.1\r\n" + form + b"Content-Length: %d\r\n\r\n" % len(body) + body
        )
        status, headers, answer = sock.answer()
        assert (status, headers["content-type"]) == (200, "application/json;charset=UTF-8")
        assert json.loads(answer)["data"]["username"] == server.user
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        sock.sendall(
            b"POST /api2/json/access/ticket HTTP/1.1\r\n" + form + b"Transfer-Encoding: chunked\r\n\r\n" + chunked
        )
        assert json.loads(sock.answer()[2])["data"]["username"] == server.user


def test_expect_100_continue_is_answered_before_the_body(server):
    body = login_body(server)
    with Connection(server) as sock:
        sock.sendall(
            b"POST /api2/json/access/ticket HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        assert (sock.reader.readline(), sock.reader.readline()) == (b"HTTP/1.1 100 Continue\r\n", b"\r\n")
        sock.sendall(body)
        assert sock.answer()[0] == 200


def test_head_sends_the_length_without_the_body(server):
    with Connection(server) as sock:
        sock.sendall(b"HEAD /nowhere HTTP/1.1\r\n\r\nGET /api2/json/version HTTP/1.1\r\n\r\n")
        status, headers, body = sock.answer(head_only=True)
        assert (status, body) == (501, b"")
        assert int(headers["content-length"]) > 0
        assert sock.answer()[0] == 401  # the next answer starts right after the HEAD's headers


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /api2/json/version\r\n\r\n", 400),
        (b"GET /api2/json/version SPDY/3\r\n\r\n", 400),
        (b"GET /api2/json/version HTTP/2.0\r\n\r\n", 505),
        (b"PATCH /api2/json/version HTTP/1.1\r\n\r\n", 501),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n folded: header\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (MAX_POST + 1), 501),  # pveproxy's limit
        (
            b"POST / HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n"
            % (MAX_BODY + 1),
            413,
        ),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", 400),
        (b"GET /" + b"a" * MAX_LINE + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nX-Long: " + b"a" * MAX_LINE + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\n" + b"X-Many: 1\r\n" * (MAX_HEADERS + 1) + b"\r\n", 431),
    ],
    ids=[
        "one-word",
        "no-version",
        "not-http",
        "http2",
        "unsupported-method",
        "header-without-colon",
        "folded-header",
        "content-length-not-a-number",
        "content-length-negative",
        "body-over-pveproxys-limit",
        "upload-too-large",
        "bad-chunk-size",
        "request-line-too-long",
        "header-line-too-long",
        "too-many-headers",
    ],
)
def test_malformed_requests_get_an_http_error_and_the_connection_closes(server, request_bytes, status):
    with Connection(server) as sock:
        sock.sendall(request_bytes)
        assert sock.answer()[0] == status
        assert sock.is_closed()
    with Connection(server) as sock:  # the server still answers others
        sock.sendall(b"GET /api2/json/version HTTP/1.1\r\n\r\n")
        assert sock.answer()[0] == 401
