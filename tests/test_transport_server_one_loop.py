"""The server answers every connection from one thread (``transports/http_loop.py``), over real TLS on 127.0.0.1:
a client that sends many requests and reads none of its answers must hold nobody else up, and must get every
answer, in order, once it reads. The timeouts only keep a broken server from hanging the suite."""

from __future__ import annotations

import json
import socket
import ssl

import requests

from pytest_pvemock.transports.server import PveServer

PIPELINED = 900  # ~5.7 MB of answers: more than the kernel's socket buffers hold, so the server must wait


def login_cookie(server: PveServer) -> str:
    login = {"username": server.user, "password": server.password}
    answer = requests.post(f"{server.url}/api2/json/access/ticket", data=login, verify=str(server.ca_file), timeout=30)
    return f"PVEAuthCookie={answer.json()['data']['ticket']}"


def tls_connection(server: PveServer) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    raw = socket.create_connection((server.address, server.port), timeout=30)
    return context.wrap_socket(raw, server_hostname=server.address)


def read_answer(reader) -> tuple[int, bytes]:
    status = int(reader.readline().split()[1])
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, reader.read(length)


def test_a_client_not_reading_its_pipelined_answers_holds_nobody_up_and_gets_them_all_in_order(pve_server):
    cookie = login_cookie(pve_server)
    request = f"GET /api2/json/cluster/resources HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n".encode()
    numbered = [
        f"GET /api2/json/cluster/resources?_dc={index} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n"
        for index in range(PIPELINED)
    ]
    with tls_connection(pve_server) as greedy:
        greedy.sendall("".join(numbered).encode())  # and reads nothing for now
        session = requests.Session()
        session.trust_env = False  # a REQUESTS_CA_BUNDLE in the environment would win over session.verify
        session.verify = str(pve_server.ca_file)
        for _ in range(20):  # meanwhile, another client is answered at once, again and again
            answer = session.get(f"{pve_server.url}/api2/json/version", headers={"Cookie": cookie}, timeout=10)
            assert answer.status_code == 200
        reader = greedy.makefile("rb")
        answers = [read_answer(reader) for _ in range(PIPELINED)]
        assert {status for status, _ in answers} == {200}
        assert len({body for _, body in answers}) == 1  # the same guests each time, every answer whole
        assert {row["type"] for row in json.loads(answers[0][1])["data"]} >= {"qemu", "node", "storage"}
        greedy.sendall(request)  # the connection is still open for more
        assert read_answer(reader)[0] == 200
    logged = [entry for entry in pve_server.request_log if entry.path == "/api2/json/cluster/resources"]
    assert [dict(entry.parameters)["_dc"] for entry in logged[:PIPELINED]] == [str(i) for i in range(PIPELINED)]
