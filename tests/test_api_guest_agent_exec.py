"""Running programs and reading/writing files in a VM through its guest agent, answered as PVE relays qemu-ga.

qemu-server src/PVE/API2/Qemu/Agent.pm (commit e6352be6): ``exec`` (lines 355-365) and ``exec-status`` (430-441)
call PVE/QemuServer/Agent.pm ``qemu_exec``/``qemu_exec_status`` (lines 125-187): the pid, then ``exited`` with the
exit code and the base64-decoded output, booleans as 1/0. ``file-read`` (512-568) and ``file-write`` (617-645)
open, read or write and close the file through the agent. Every call first asserts the agent is available
(``assert_agent_available``, lines 109-114). Errors the agent answers come back as ``agent_cmd`` dies on them
(``check_agent_error``, lines 91-101): ``Agent error: <desc>``.
"""

from __future__ import annotations

import pytest

from tests.support.clients import proxmoxer_client, refused


@pytest.fixture
def vm(pve_cluster_factory):
    """The default scenario with its Debian VM 100 running an agent, and proxmoxer's handle on that agent."""
    cluster = pve_cluster_factory(validate=True, task_mode="manual")
    cluster.guest(100).config["agent"] = "1"
    return cluster, proxmoxer_client(cluster).nodes("pve1").qemu(100).agent


def test_a_command_runs_for_a_while_then_reports_its_exit_once(vm):
    cluster, agent = vm
    pid = agent.exec.post(command=["apt-get", "update"])["pid"]
    assert agent("exec-status").get(pid=pid) == {"exited": 0}  # qga: exited false while it runs
    cluster.clock.advance(1)
    assert agent("exec-status").get(pid=pid) == {"exited": 1, "exitcode": 0}
    # qga/commands.c qmp_guest_exec_status: a reported exit removes the process; the pid is unknown from then on
    error = refused(agent("exec-status").get, pid=pid)
    assert (error.status_code, error.content) == (
        500,
        "Agent error: Invalid parameter 'pid'",
    )


def test_registered_commands_answer_their_output_and_exit_code(vm):
    cluster, agent = vm
    cluster.guest_programs.register(["cat", "/etc/hostname"], stdout="web01\n")
    cluster.guest_programs.register("systemctl", stderr="Unit nginx.service not found.\n", exitcode=4, seconds=3)
    hostname = agent.exec.post(command=["cat", "/etc/hostname"])["pid"]
    unit = agent.exec.post(command=["systemctl", "status", "nginx"])["pid"]
    assert hostname != unit
    cluster.clock.advance(1)
    assert agent("exec-status").get(pid=hostname) == {"exited": 1, "exitcode": 0, "out-data": "web01\n"}
    assert agent("exec-status").get(pid=unit) == {"exited": 0}
    cluster.clock.advance(2)
    assert agent("exec-status").get(pid=unit) == {
        "exited": 1,
        "exitcode": 4,
        "err-data": "Unit nginx.service not found.\n",
    }


def test_exec_needs_a_running_vm_with_its_agent(vm):
    cluster, agent = vm
    cluster.guest(100).stop()
    cluster.clock.settle()
    error = refused(agent.exec.post, command=["true"])
    assert (error.status_code, error.content) == (500, "VM 100 is not running")
    no_agent = proxmoxer_client(cluster).nodes("pve1").qemu(101).agent
    error = refused(no_agent.exec.post, command=["true"])
    assert (error.status_code, error.content) == (500, "No QEMU guest agent configured")


def test_a_written_file_reads_back_and_a_missing_one_is_the_agents_error(vm):
    _, agent = vm
    assert agent("file-read").get(file="/etc/hostname") == {"content": "web01\n", "bytes-read": 6}  # its name
    assert 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"' in agent("file-read").get(file="/etc/os-release")["content"]
    agent("file-write").post(file="/root/note.txt", content="written by a test\n")
    assert agent("file-read").get(file="/root/note.txt")["content"] == "written by a test\n"
    # Agent.pm file-read: reading exactly the file's size stops before qga saw the end: 'truncated'
    assert agent("file-read").get(file="/root/note.txt", count=7, offset=8) == {
        "content": "by a te",
        "bytes-read": 7,
        "truncated": 1,
    }
    error = refused(agent("file-read").get, file="/root/missing")
    assert error.content == ("Agent error: failed to open file '/root/missing' (mode: 'r'): No such file or directory")


def test_a_windows_guest_has_its_own_files(pve_cluster_factory):
    # qga/commands-win32.c qmp_guest_file_open: CreateFileW, error_setg_win32 'failed to open file ...: <message>'
    agent = proxmoxer_client(pve_cluster_factory(validate=True)).nodes("pve3").qemu(103).agent  # win11
    assert agent("file-read").get(file="C:\\Windows\\win.ini") == {
        "content": "; for 16-bit app support\r\n[fonts]\r\n[extensions]\r\n[mci extensions]\r\n[files]\r\n"
        "[Mail]\r\nMAPI=1\r\n",
        "bytes-read": 92,
    }
    error = refused(agent("file-read").get, file="/etc/hostname")
    assert error.content == (
        "Agent error: failed to open file '/etc/hostname': The system cannot find the file specified."
    )
