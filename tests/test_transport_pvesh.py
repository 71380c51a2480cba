"""proxmoxer's pvesh backends (local, openssh, ssh_paramiko) answered by the fake, with pvesh's output."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from proxmoxer import ProxmoxAPI, ResourceException
from proxmoxer.backends.command_base import JsonSimpleSerializer, Response

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports import pvesh
from pytest_pvemock.transports.routing import HOSTS, UnmatchedHostError


@pytest.fixture
def run(pve_cluster):
    dispatcher = pvesh.local_dispatcher()
    assert dispatcher is not None

    def run_command(*argv: str) -> pvesh.CommandResult:
        return pvesh.run_pvesh(list(argv), dispatcher)

    return run_command


def test_get_prints_canonical_json_and_exits_zero(run):
    result = run("pvesh", "get", "/access/users", "--output-format", "json")
    assert result.exit_status == 0
    assert result.stderr == ""
    assert result.stdout == '[{"enable":1,"expire":0,"realm-type":"pam","userid":"root@pam"}]\n'


def test_parameter_errors_go_to_stderr_as_pvesh_prints_them(run):
    result = run("pvesh", "create", "/access/users", "--output-format", "json")
    assert (result.stdout, result.exit_status) == ("", 255)
    assert result.stderr == "400 Parameter verification failed.\nuserid: property is missing and it is not optional\n"


def test_writes_print_nothing_for_a_null_result_and_take_key_value_options(run, pve_cluster):
    result = run("sudo", "pvesh", "create", "access/users/", "-userid", "bob@pve", "--comment=Bob Ü", "--quiet")
    assert (result.stdout, result.stderr, result.exit_status) == ("", "", 0)
    assert pve_cluster.access.users["bob@pve"].comment == "Bob Ü"


def test_unknown_paths_commands_and_programs(run):
    assert run("pvesh", "get", "/no/such/path").stderr == "no 'get' handler for '/no/such/path'\n"
    assert run("pvesh", "ls", "/").exit_status == 255
    assert run("qm", "list").exit_status == 127


@pytest.mark.filterwarnings("ignore:'pipes' is deprecated:DeprecationWarning")  # openssh_wrapper imports it
@pytest.mark.parametrize("backend", ["local", "ssh_paramiko", "openssh"])
def test_proxmoxer_command_backends_read_and_write_the_same_cluster(backend, pve_cluster):
    options = {} if backend == "local" else {"host": pve_cluster.nodes[0].name, "user": "root"}
    if backend == "ssh_paramiko":
        pytest.importorskip("paramiko")
        options["password"] = "not used"
    if backend == "openssh":
        pytest.importorskip("openssh_wrapper", reason="openssh_wrapper does not import on this Python")
    client = ProxmoxAPI(backend=backend, **options)
    client.access.users.post(userid="carol@pve", comment="via pvesh")
    assert "carol@pve" in pve_cluster.access.users
    assert {user["userid"] for user in client.access.users.get()} == {"root@pam", "carol@pve"}
    with pytest.raises(ResourceException) as raised:
        client.access.users.post(userid="carol@pve", bogus=1)
    assert (raised.value.status_code, raised.value.exit_code) == (400, 255)
    assert "bogus: property is not defined in schema" in str(raised.value)


def test_ssh_to_a_host_no_fake_answers_is_refused_when_other_hosts_are(pve_cluster):
    pytest.importorskip("paramiko")
    with HOSTS.refusing_other_hosts(), pytest.raises(UnmatchedHostError):
        ProxmoxAPI("real-node.example", backend="ssh_paramiko", user="root", password="x")


def test_other_commands_of_the_local_backend_still_run(pve_cluster):
    client = ProxmoxAPI(backend="local")
    session = client._store["session"]
    assert session._exec(["echo", "real"]) == ("real\n", "", 0)


def test_install_is_counted_and_removed_cleanly():
    from proxmoxer.backends.command_base import CommandBaseSession

    before = CommandBaseSession.__init__  # patched already while a session-scoped mock is active
    pvesh.install()
    pvesh.install()
    patched = CommandBaseSession.__init__
    pvesh.uninstall()
    assert CommandBaseSession.__init__ is patched
    pvesh.uninstall()
    assert CommandBaseSession.__init__ is before


def test_worker_calls_return_their_upid_and_can_be_waited_for(pve_cluster):
    from proxmoxer.tools import Tasks

    guest = next(g for g in pve_cluster.vms if g.status == "stopped" and not g.config.get("template"))
    client = ProxmoxAPI(backend="local")
    upid = client.nodes(guest.node).qemu(guest.vmid).status.start.post()
    assert upid.startswith(f"UPID:{guest.node}:")
    assert Tasks.blocking_status(client, upid)["exitstatus"] == "OK"
    assert pve_cluster.guest(guest.vmid).status == "running"


def test_a_worker_log_comes_before_the_upid_as_pvesh_waits_for_it():
    upid = "UPID:pve1:0000A1B2:0000C3D4:6553F00D:qmstart:100:root@pam:"

    class StandIn:
        cluster = SimpleNamespace(tasks={upid: SimpleNamespace(log=["starting VM 100", "done"])})

        def __call__(self, request: ApiRequest) -> ApiResponse:
            return ApiResponse(200, json.dumps({"data": upid}).encode())

    result = pvesh.run_pvesh(["pvesh", "create", "/nodes/pve1/qemu/100/status/start"], StandIn())
    assert result.stdout == f'starting VM 100\ndone\n"{upid}"\n'
    # proxmoxer parses such output by dropping leading lines until the rest is JSON
    assert JsonSimpleSerializer().loads(Response(result.stdout, 200, 0)) == upid
