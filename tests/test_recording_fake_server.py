"""The whole loop against the fake in server mode: record over HTTPS, replay offline, validate, hydrate a new fake."""

from __future__ import annotations

import socket

import pytest

from pytest_pvemock import FakeCluster
from pytest_pvemock.cassette.validation import validate_cassette
from pytest_pvemock.transports.recording.recorder import RecordingOptions, open_cassette

pytest.importorskip("proxmoxer")
pytest.importorskip("trustme")
server_module = pytest.importorskip("pytest_pvemock.transports.server")

PASSWORD = "Rec0rd me & not/this=one%"  # characters that URL-encoding changes


def recording_cluster() -> tuple[FakeCluster, str]:
    cluster = FakeCluster.default()
    cluster.access.users["root@pam"].password = PASSWORD
    token = cluster.access.add_token("root@pam", "ci", privsep=False)
    return cluster, token


def environment(server, auth: str, token: str) -> dict[str, str]:
    env = {"PVEMOCK_HOST": f"127.0.0.1:{server.port}", "PVEMOCK_VERIFY_SSL": str(server.ca_file)}
    if auth == "token":
        env["PVEMOCK_TOKEN"] = f"root@pam!ci={token}"
    else:
        env.update(PVEMOCK_USER="root@pam", PVEMOCK_PASSWORD=PASSWORD)
    return env


def walk(api) -> dict:
    vm = next(row for row in api.cluster.resources.get(type="vm") if row["status"] == "stopped")
    node, vmid = vm["node"], vm["vmid"]
    upid = api.nodes(node).qemu(vmid).status.start.post()
    task = api.nodes(node).tasks(upid).status.get()
    created = api.access.users("root@pam").token("made-by-test").post(privsep=1)
    return {
        "version": api.version.get()["version"],
        "started": (node, vmid, task["status"], task.get("exitstatus")),
        "status": api.nodes(node).qemu(vmid).status.current.get()["status"],
        "token": created["full-tokenid"],
        "secret": created["value"],
        "vms": sorted((row["vmid"], row["status"]) for row in api.cluster.resources.get(type="vm")),
    }


@pytest.mark.parametrize("auth", ["password", "token"])
def test_record_replay_validate_and_hydrate_against_the_fake_server(tmp_path, monkeypatch, auth):
    cluster, token = recording_cluster()
    path = tmp_path / "fake.yaml"
    with server_module.PveServer(cluster) as server:
        options = RecordingOptions(record_mode="once")
        with open_cassette(path, options, environ=environment(server, auth, token)) as session:
            api = session.client()
            recorded = walk(api)
            login = api._backend.auth  # the live ticket and CSRF token of a password login
            live = [getattr(login, "pve_auth_ticket", ""), getattr(login, "csrf_prevention_token", "")]

    text = path.read_text()
    secrets = [PASSWORD, token, recorded["secret"], *filter(None, live)]
    assert [secret for secret in secrets if secret in text] == []
    assert "Rec0rd" not in text

    monkeypatch.setattr(socket.socket, "connect", lambda self, address: pytest.fail(f"replay connected to {address}"))
    with open_cassette(path, environ={}) as session:
        replayed = walk(session.client())
    assert {**replayed, "secret": ""} == {**recorded, "secret": ""}
    assert replayed["secret"] == "00000000-0000-0000-0000-000000000000"
    assert recorded["status"] == "running"

    report = validate_cassette(path)
    assert report.ok, [violation.describe() for violation in report.violations]
    assert report.pve_version == "9.1.5" and sum(report.checked.values()) >= 7

    hydrated = FakeCluster.from_cassette(path)
    assert [node.name for node in hydrated.nodes] == [node.name for node in cluster.nodes]
    assert sorted((guest.vmid, guest.status) for guest in hydrated.guests) == recorded["vms"]
    assert [(g.vmid, g.kind, g.node) for g in hydrated.guests] == [(g.vmid, g.kind, g.node) for g in cluster.guests]
