"""The HTTP/1.1 server behind :class:`~pytest_pvemock.transports.server.PveServer`: one thread, every connection.

Answers are made one at a time under the cluster's lock whatever the transport, so a thread per connection
bought no parallelism: at 16 keep-alive connections its wake-ups and GIL hand-offs cost more than the answers
(issue 14's figures in bench/README.md). Here one thread waits on every socket at once (``selectors``, non-blocking
sockets, TLS included), reads what has arrived, answers each complete request in order (pipelined ones too) and
writes without blocking: a slow or silent client only holds its own buffers, never the loop.

The limits are pveproxy's where it has one (pve-http-server src/PVE/APIServer/AnyEvent.pm, commit 5c9e4ea7):
at most :data:`MAX_CONNECTIONS` connections (max_conn, line 2111; beyond it nothing more is accepted until one
ends, line 2193, new clients wait in the kernel's listen queue), keep-alive turned off near the cap
(max_conn_soft_limit, line 1947), a request that must arrive within :data:`REQUEST_TIMEOUT` of its first byte
(else 408), an idle connection or an unfinished TLS handshake closed after :data:`IDLE_TIMEOUT`. A refused
request is answered, then the connection reads and drops what the client still sends for a while before it
closes (a lingering close), so the client reads the answer rather than a reset.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import selectors
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from pytest_pvemock.api.app import MAX_POST
from pytest_pvemock.api.messages import ApiRequest, ApiResponse

#: Seconds an idle keep-alive connection (or an unfinished TLS handshake, or an answer the client does not read)
#: is kept.
IDLE_TIMEOUT = 60.0
#: Seconds a request may take to arrive, from its first byte to the end of its body (else 408 and close).
REQUEST_TIMEOUT = 10.0
#: Connections served at once (pveproxy: max_conn 800). Beyond it the server accepts nothing until one ends.
MAX_CONNECTIONS = 256
_KEEP_ALIVE_LIMIT = MAX_CONNECTIONS - 20
#: Listen queue: connections the kernel accepts while the server is at its cap (socketserver's default is 5).
LISTEN_BACKLOG = max(socket.SOMAXCONN, 1024)
#: Largest multipart upload body; any other body is limited to pveproxy's 512 KiB (``api.app.MAX_POST``).
MAX_BODY = 64 * 1024 * 1024
#: Longest request line or header line, and most header fields, a request may have (as http.server).
MAX_LINE = 65536
MAX_HEADERS = 100
#: How often deadlines are looked at, and the longest a stop request waits for the loop.
TICK = 0.05
_LINGER = 1.0  # seconds a refused request's connection reads and drops what the client still sends
_RECV_SIZE = 256 * 1024
_OUT_HIGH = 1024 * 1024  # answers waiting to be written beyond which the connection's next requests wait
_MAX_EMPTY_LINES = 4
_MAX_CHUNK_LINE = 1024
_QUICK_HEAD = 16384  # a head this short, with CRLF line ends only, is split in one go
_ANSWERED_METHODS = frozenset(("GET", "POST", "PUT", "DELETE", "HEAD"))
_SERVER_HEADER = "Server: pve-api-daemon/3.0"
_STANDARD_REASONS = {status.value: status.phrase for status in HTTPStatus}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

Answer = Callable[[ApiRequest], ApiResponse]
AccessLog = Callable[[str, str, int], None]  # client address, request line, status


class HttpLoop:
    """Listens on ``(host, port)`` and answers every connection's requests with ``answer`` in one thread.

    ``tls_context`` (server side) makes it HTTPS. ``access_log(client, request_line, status)`` is told of every
    answer before its connection may close. :meth:`start` runs the loop in a daemon thread; :meth:`stop` ends it
    and closes every connection.
    """

    def __init__(
        self,
        host: str,
        port: int,
        answer: Answer,
        tls_context: ssl.SSLContext | None = None,
        access_log: AccessLog | None = None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                with contextlib.suppress(OSError):
                    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            listener.bind((host, port))
            listener.listen(LISTEN_BACKLOG)
            listener.setblocking(False)
        except BaseException:
            listener.close()
            raise
        self.answer = answer
        self.tls_context = tls_context
        self.access_log = access_log
        self._listener = listener
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
        self._selector.register(listener, selectors.EVENT_READ, self)
        self._accepting = True
        self._connections: set[_Connection] = set()
        self._ready: set[_Connection] = set()  # TLS connections holding decrypted bytes select() cannot see
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._next_tick = 0.0

    @property
    def address(self) -> tuple[str, int]:
        name = self._listener.getsockname()
        return name[0], name[1]

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def start(self, name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the loop (after the answer it is making, if any) and close the listener and every connection."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        if self._thread is None or not self._thread.is_alive():
            self._close_everything()

    # -- the loop ----------------------------------------------------------------------------------------

    def _run(self) -> None:
        select = self._selector.select
        try:
            while not self._stopping:
                events = select(0 if self._ready else TICK)
                for key, mask in events:
                    owner = key.data
                    if owner is self:
                        self._accept()
                    elif owner is None:
                        with contextlib.suppress(OSError):
                            self._wake_reader.recv(64)
                    else:
                        self._guarded(owner, mask)
                if self._ready:
                    ready, self._ready = self._ready, set()
                    for connection in ready:
                        if not connection.closed:
                            self._guarded(connection, selectors.EVENT_READ)
                now = time.monotonic()
                if now >= self._next_tick:
                    self._next_tick = now + TICK
                    for connection in list(self._connections):
                        connection.check_time(now)
        finally:
            self._close_everything()

    def _guarded(self, connection: _Connection, mask: int) -> None:
        try:
            connection.on_event(mask)
        except Exception as error:  # a bug here must cost one connection, not the server
            print(f"pvemock server: error on {connection.client[0]}: {error!r}", file=sys.stderr)
            connection.close()

    def _accept(self) -> None:
        while len(self._connections) < MAX_CONNECTIONS:
            try:
                sock, client = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. out of file descriptors: try again on the next readiness
                return
            try:
                sock.setblocking(False)
                if sock.family in (socket.AF_INET, socket.AF_INET6):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small answers must not wait
                connection = _Connection(self, sock, client)
            except (OSError, ssl.SSLError):
                sock.close()
                continue
            self._connections.add(connection)
        if self._accepting:  # at the cap: new clients wait in the listen queue until a connection ends
            self._selector.unregister(self._listener)
            self._accepting = False

    def crowded(self) -> bool:
        """Near the connection cap: answers close their connection instead of keeping it."""
        return len(self._connections) >= _KEEP_ALIVE_LIMIT

    def forget(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        self._ready.discard(connection)
        if not self._accepting and not self._stopping and len(self._connections) < MAX_CONNECTIONS:
            self._selector.register(self._listener, selectors.EVENT_READ, self)
            self._accepting = True

    def mark_ready(self, connection: _Connection) -> None:
        self._ready.add(connection)

    def register(self, sock: socket.socket, events: int, connection: _Connection) -> None:
        self._selector.register(sock, events, connection)

    def modify(self, sock: socket.socket, events: int, connection: _Connection) -> None:
        self._selector.modify(sock, events, connection)

    def unregister(self, sock: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(sock)

    def _close_everything(self) -> None:
        self._stopping = True
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)
            connection.close()
        for sock in (self._listener, self._wake_reader, self._wake_writer):
            with contextlib.suppress(OSError):
                sock.close()
        with contextlib.suppress(OSError, RuntimeError):
            self._selector.close()


class _BadRequest(Exception):
    """A request that cannot be read: answered with ``status`` and ``reason``, then the connection closes."""

    def __init__(self, status: int, reason: str, unread: int = 0) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.unread = unread  # body bytes the client is still sending: drained after the answer


_HANDSHAKE, _OPEN, _LINGERING = 0, 1, 2


class _Connection:
    """One client connection: its TLS handshake, the bytes read and not yet used, the answers not yet written,
    and the request being read (its head, then its body by ``Content-Length`` or chunked)."""

    def __init__(self, loop: HttpLoop, sock: socket.socket, client: Any) -> None:
        self.loop = loop
        self.client = client
        self.closed = False
        self.inbuf = bytearray()
        self.out = bytearray()
        self.close_after_write = False
        self.linger_budget = 0
        self.now = time.monotonic()
        self.last_activity = self.now  # last read or write progress
        self.request_started: float | None = None  # when the first byte of the request being read arrived
        self._reset_request()
        if loop.tls_context is not None:
            sock = loop.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            self.state = _HANDSHAKE
        else:
            self.state = _OPEN
        self.sock = sock
        self.events = selectors.EVENT_READ
        loop.register(sock, self.events, self)

    def _reset_request(self) -> None:
        self.scan = 0  # where the next line of the head starts in inbuf
        self.empty_lines = 0
        self.request_line: str | None = None
        self.header_lines: list[str] = []
        self.head: _Head | None = None
        self.body_start = 0
        self.chunks: _Chunked | None = None

    # -- events ------------------------------------------------------------------------------------------

    def on_event(self, mask: int) -> None:
        self.now = time.monotonic()
        if self.state == _HANDSHAKE:
            self._handshake()
            return
        if mask & selectors.EVENT_WRITE and self.out:
            self._flush()
            if self.closed or self.out:
                return
            if self.close_after_write:
                self._after_last_answer()
                return
        if self.state == _LINGERING:
            self._drop_input()
            return
        if (mask & selectors.EVENT_READ or not self.out) and not self._receive():
            return
        self._answer_requests()

    def _handshake(self) -> None:
        sock: ssl.SSLSocket = self.sock  # type: ignore[assignment]
        try:
            sock.do_handshake()
        except ssl.SSLWantReadError:
            self._want(selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self._want(selectors.EVENT_WRITE)
            return
        except (OSError, ValueError):  # the client went away or rejected our certificate: nothing to answer
            self.close()
            return
        self.state = _OPEN
        self.last_activity = self.now
        self._want(selectors.EVENT_READ)
        if sock.pending():
            self.loop.mark_ready(self)

    def _receive(self) -> bool:
        """Read what has arrived; ``False`` when the connection is closed (the client is done or failed)."""
        sock = self.sock
        received = 0
        while received < _RECV_SIZE:
            try:
                data = sock.recv(_RECV_SIZE)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                break
            except ssl.SSLWantWriteError:
                self._want(selectors.EVENT_WRITE | selectors.EVENT_READ)
                break
            except (OSError, ValueError):
                self.close()
                return False
            if not data:  # the client closed its side: an unfinished request gets no answer
                self.close()
                return False
            if not self.inbuf and self.request_started is None:
                self.request_started = self.now
            self.inbuf += data
            received += len(data)
            self.last_activity = self.now
            if len(data) < _RECV_SIZE:  # most likely all there was (select() says again if not)
                break
        else:
            self.loop.mark_ready(self)  # more may be waiting: after the other connections had their turn
        if self.loop.tls_context is not None and self.sock.pending():  # type: ignore[attr-defined]
            self.loop.mark_ready(self)
        return True

    def check_time(self, now: float) -> None:
        if self.closed:
            return
        self.now = now
        if self.state == _HANDSHAKE or (self.state == _OPEN and not self.out and self.request_started is None):
            if now - self.last_activity > IDLE_TIMEOUT:
                self.close()
        elif self.out:
            if now - self.last_activity > IDLE_TIMEOUT:  # the client does not read its answers
                self.close()
        elif self.state == _LINGERING:
            if now > self.linger_until:
                self.close()
        elif self.request_started is not None and now - self.request_started > REQUEST_TIMEOUT:
            self._refuse(_BadRequest(408, "Request Timeout"))

    # -- requests ------------------------------------------------------------------------------------------

    def _answer_requests(self) -> None:
        """Answer every complete request read so far, in order; then write."""
        while self.state == _OPEN and not self.close_after_write and len(self.out) < _OUT_HIGH:
            if self.head is None and not self.inbuf:
                break
            try:
                request = self._next_request()
            except _Hangup:
                self.close()
                return
            except _BadRequest as refused:
                self._refuse(refused)
                return
            if request is None:
                break
            self._answer(*request)
        self._flush()
        if not self.closed and not self.out and self.close_after_write:
            self._after_last_answer()

    def _next_request(self) -> tuple[ApiRequest, str, bool] | None:
        """The next complete request in ``inbuf`` (taken out of it), with its request line and whether the
        connection stays open after it; ``None`` until one has arrived."""
        if self.head is None and not self._read_head():
            return None
        head = self.head
        assert head is not None
        if self.chunks is not None:
            body = self.chunks.take(self.inbuf)
            if body is None:
                return None
            end = self.chunks.end
        else:
            end = self.body_start + head.length
            if len(self.inbuf) < end:
                return None
            body = bytes(self.inbuf[self.body_start : end])
        del self.inbuf[:end]
        self._reset_request()
        self.request_started = self.now if self.inbuf else None
        path, _, query = head.target.partition("?")
        request = ApiRequest(
            method=head.method,
            path=path,
            query=query,
            headers=head.headers,
            body=body,
            host=_host_name(head.host),
        )
        return request, head.request_line, head.keep_alive

    def _read_head(self) -> bool:
        """Take the request line and header lines as they arrive; ``True`` once the head is complete."""
        buf = self.inbuf
        if self.scan == 0 and len(buf) > 4 and buf[0] not in (10, 13):  # the usual head: CRLF lines, in one go
            end = buf.find(b"\r\n\r\n", 0, _QUICK_HEAD)
            if end > 0:
                text = buf[:end].decode("latin-1")
                if text.count("\n") == text.count("\r\n"):
                    lines = text.split("\r\n")
                    if len(lines) > MAX_HEADERS + 1:
                        raise _BadRequest(431, "Too many headers")
                    self.request_line = lines[0]
                    self.scan = end + 4
                    self._begin_body(_Head(lines[0], lines[1:], self.loop.crowded()))
                    return True
        while True:
            end = buf.find(b"\n", self.scan)
            if end < 0:
                if len(buf) - self.scan > MAX_LINE:
                    if self.request_line is None:
                        raise _BadRequest(414, "Request-URI Too Long")
                    raise _BadRequest(431, "Request Header Fields Too Large")
                return False
            start, self.scan = self.scan, end + 1
            if end + 1 - start > MAX_LINE:
                if self.request_line is None:
                    raise _BadRequest(414, "Request-URI Too Long")
                raise _BadRequest(431, "Request Header Fields Too Large")
            empty = end == start or (end == start + 1 and buf[start] == 13)
            if self.request_line is None:
                if empty:  # RFC 9112 2.2: empty lines before a request line are ignored, a few of them
                    self.empty_lines += 1
                    if self.empty_lines >= _MAX_EMPTY_LINES:
                        raise _Hangup
                    continue
                self.request_line = buf[start:end].decode("latin-1").rstrip("\r")
                continue
            if empty:
                self._begin_body(_Head(self.request_line, self.header_lines, self.loop.crowded()))
                return True
            if len(self.header_lines) >= MAX_HEADERS:
                raise _BadRequest(431, "Too many headers")
            self.header_lines.append(buf[start:end].decode("latin-1").rstrip("\r"))

    def _begin_body(self, head: _Head) -> None:
        self.request_line = head.request_line
        self.body_start = self.scan
        if head.chunked:
            self.chunks = _Chunked(self.scan, head.multipart)
        self.head = head
        if head.expect_continue and (self.chunks is not None or len(self.inbuf) < self.scan + head.length):
            self._write(_CONTINUE)

    def _answer(self, request: ApiRequest, request_line: str, keep_alive: bool) -> None:
        response = self.loop.answer(request)
        self._write(_encode(response, request.method, keep_alive))
        self._log(request_line, response.status)
        if not keep_alive:
            self.close_after_write = True

    def _refuse(self, refused: _BadRequest) -> None:
        """Answer a request that cannot be read, then close lingering: the answer is complete (the client may
        read to the end), and what the client is still sending is read and dropped for a while."""
        if self.state != _OPEN:
            return
        self._write(_encode(ApiResponse(refused.status, b"", headers={}, reason=refused.reason), "", False))
        self._log(self.request_line or "", refused.status)
        self.inbuf.clear()
        self.state = _LINGERING
        self.linger_budget = max(refused.unread, MAX_LINE)
        self.linger_until = self.now + (REQUEST_TIMEOUT if refused.unread else _LINGER)
        self.close_after_write = True
        self._flush()
        if not self.closed and not self.out:
            self._after_last_answer()

    def _log(self, request_line: str, status: int) -> None:
        if self.loop.access_log is not None:
            self.loop.access_log(str(self.client[0]) if self.client else "", request_line, status)

    # -- writing and closing -------------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        self.out += data

    def _flush(self) -> None:
        out = self.out
        while out:
            try:
                sent = self.sock.send(out[:_RECV_SIZE] if len(out) > _RECV_SIZE else out)
            except (BlockingIOError, InterruptedError, ssl.SSLWantWriteError):
                break
            except ssl.SSLWantReadError:
                break
            except (OSError, ValueError):
                self.close()
                return
            del out[:sent]
            self.last_activity = self.now
        self._want(selectors.EVENT_WRITE if out else selectors.EVENT_READ)

    def _after_last_answer(self) -> None:
        """The last answer is written: close, or (after a refused request) shut our side and linger."""
        if self.state == _LINGERING:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self.sock, socket.SHUT_WR)  # the plain socket's: keep TLS for reading
            self.close_after_write = False
            self._want(selectors.EVENT_READ)
            self._drop_input()
            return
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_WR)
        self.close()

    def _drop_input(self) -> None:
        while self.linger_budget > 0 and not self.closed:
            try:
                data = self.sock.recv(min(self.linger_budget, _RECV_SIZE))
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return
            except (OSError, ValueError):
                break
            if not data:
                break
            self.linger_budget -= len(data)
        self.close()

    def _want(self, events: int) -> None:
        if self.closed:
            return
        if events != self.events:
            self.events = events
            self.loop.modify(self.sock, events, self)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.loop.unregister(self.sock)
        with contextlib.suppress(OSError):
            self.sock.close()
        self.loop.forget(self)


class _Hangup(_BadRequest):
    """Nothing but empty lines: the connection closes without an answer."""

    def __init__(self) -> None:
        super().__init__(0, "")


class _Head:
    """A request's line and header fields, checked; how its body comes (length or chunked)."""

    def __init__(self, request_line: str, lines: list[str], crowded: bool) -> None:
        self.request_line = request_line
        method, self.target, http11 = _parse_request_line(request_line)
        lowered: dict[str, str] = {}
        headers: dict[str, str] = {}
        for line in lines:
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip() or line[0] in " \t":
                raise _BadRequest(400, "Bad header line")
            key = name.lower()
            value = value.strip()
            if key in lowered:  # the last one wins, under the name it was last sent with
                del headers[next(sent for sent in headers if sent.lower() == key)]
            lowered[key] = value
            headers[name] = value
        self.method = method
        self.headers = headers
        self.host = lowered.get("host", "")
        self.keep_alive = _keeps_alive(lowered.get("connection", ""), http11) and not crowded
        if method not in _ANSWERED_METHODS:
            raise _BadRequest(501, f"Unsupported method ({method!r})")
        content_type = lowered.get("content-type")
        self.multipart = content_type is not None and content_type.lower().startswith("multipart/form-data")
        coding = lowered.get("transfer-encoding")
        self.chunked = coding is not None and "chunked" in coding.lower()
        length = lowered.get("content-length")
        self.length = 0 if self.chunked or length is None else _content_length(length, self.multipart)
        expect = lowered.get("expect")
        self.expect_continue = http11 and expect is not None and expect.lower() == "100-continue"


def _content_length(text: str, multipart: bool) -> int:
    if not text:
        return 0
    if not text.isdigit() or not text.isascii():
        raise _BadRequest(400, "invalid Content-Length")
    length = int(text)
    if length > MAX_BODY:
        raise _BadRequest(413, "Request Entity Too Large")
    if length > MAX_POST and not multipart:
        raise _BadRequest(501, "for data too large", unread=length)
    return length


class _Chunked:
    """A chunked body read as it arrives: chunk sizes, data, the CRLF after each, then trailers (dropped)."""

    def __init__(self, start: int, multipart: bool) -> None:
        self.pos = start  # where the next size line, chunk data or trailer line starts in the buffer
        self.end = start
        self.parts: list[bytes] = []
        self.total = 0
        self.left: int | None = None  # data bytes of the current chunk not yet taken
        self.trailers: int | None = None  # trailer lines read, once the last chunk was seen
        self.multipart = multipart

    def take(self, buf: bytearray) -> bytes | None:
        """The whole body once it has arrived (``self.end``: where it ends in ``buf``), else ``None``."""
        while True:
            if self.trailers is not None:
                end = buf.find(b"\n", self.pos)
                if end < 0:
                    if len(buf) - self.pos > MAX_LINE:
                        raise _BadRequest(431, "Request Header Fields Too Large")
                    return None
                line, self.pos = buf[self.pos : end], end + 1
                if not line.strip():
                    self.end = self.pos
                    return b"".join(self.parts)
                self.trailers += 1
                if self.trailers > MAX_HEADERS or len(line) >= MAX_LINE:
                    raise _BadRequest(431, "Request Header Fields Too Large")
            elif self.left is None:
                end = buf.find(b"\n", self.pos, self.pos + _MAX_CHUNK_LINE)
                if end < 0:
                    if len(buf) - self.pos >= _MAX_CHUNK_LINE:
                        raise _BadRequest(400, "invalid chunk size")
                    return None
                text = bytes(buf[self.pos : end]).split(b";")[0].strip()
                self.pos = end + 1
                if not text or any(c not in b"0123456789abcdefABCDEF" for c in text):
                    raise _BadRequest(400, "invalid chunk size")
                size = int(text, 16)
                if size == 0:
                    self.trailers = 0
                    continue
                self.total += size
                if self.total > MAX_BODY:
                    raise _BadRequest(413, "Request Entity Too Large")
                if self.total > MAX_POST and not self.multipart:
                    raise _BadRequest(501, "for data too large")
                self.left = size
            else:
                # the chunk's data, then its line end
                if len(buf) < self.pos + self.left + 1:
                    return None
                data_end = self.pos + self.left
                if buf[data_end : data_end + 1] == b"\n":
                    after = data_end + 1
                elif buf[data_end : data_end + 2] == b"\r\n":
                    after = data_end + 2
                elif len(buf) < data_end + 2:
                    return None
                else:
                    raise _BadRequest(400, "invalid chunk")
                self.parts.append(bytes(buf[self.pos : data_end]))
                self.pos, self.left = after, None


def _parse_request_line(line: str) -> tuple[str, str, bool]:
    """``GET /x HTTP/1.1`` -> method, target and whether it is HTTP/1.1 (``False``: HTTP/1.0)."""
    words = line.split()
    if len(words) != 3:
        raise _BadRequest(400, f"Bad request syntax ({line[:100]!r})")
    method, target, version = words
    if version == "HTTP/1.1":
        return method, target, True
    if version == "HTTP/1.0":
        return method, target, False
    major = version[5:].split(".", 1)[0]
    if version.startswith("HTTP/") and major.isdigit() and int(major) >= 2:
        raise _BadRequest(505, f"Invalid HTTP version ({version[:20]})")
    raise _BadRequest(400, f"Bad request version ({version[:20]!r})")


def _keeps_alive(connection: str, http11: bool) -> bool:
    """HTTP/1.1 keeps the connection unless ``Connection: close``; HTTP/1.0 only with ``keep-alive``."""
    if not connection:
        return http11
    connection = connection.lower()
    if "close" in connection:
        return False
    return http11 or "keep-alive" in connection


def _encode(response: ApiResponse, method: str, keep_alive: bool) -> bytes:
    """Status line, headers and body as one piece (one write: one TLS record train, no waiting on delayed ACKs)."""
    body = response.body
    key = (response.status, response.reason, keep_alive, *response.headers.items())
    parts = _HEADS.get(key)
    if parts is None:
        if len(_HEADS) >= 256:
            _HEADS.clear()
        parts = _HEADS[key] = _head_parts(response, keep_alive)
    head = parts[0] + _date_header() + parts[1] % len(body)
    return head if method == "HEAD" else head + body


#: (status, reason, keep-alive, header items) -> the head before the Date line, and after it (Content-Length: %d)
_HEADS: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}


def _head_parts(response: ApiResponse, keep_alive: bool) -> tuple[bytes, bytes]:
    status = response.status
    reason = " ".join((response.reason or "").split()) or _STANDARD_REASONS.get(status, "")
    start = [f"HTTP/1.1 {status} {reason}"]
    if "Server" not in response.headers:
        start.append(_SERVER_HEADER)
    rest = [
        f"{name}: {value}".replace("%", "%%")
        for name, value in response.headers.items()
        if name.lower() not in ("content-length", "connection")
    ]
    rest.append("Content-Length: %d")
    if not keep_alive:
        rest.append("Connection: close")
    return (
        ("\r\n".join(start) + "\r\n").encode("latin-1", "replace"),
        ("\r\n".join(rest) + "\r\n\r\n").encode("latin-1", "replace"),
    )


@functools.lru_cache(maxsize=4)
def _date_header_at(second: int) -> bytes:
    return b"Date: " + email.utils.formatdate(second, usegmt=True).encode() + b"\r\n"


def _date_header() -> bytes:
    return _date_header_at(int(time.time()))


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header
