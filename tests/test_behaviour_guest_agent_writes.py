"""The guest agent's writes and their effects, relayed as PVE relays them.

qemu-server src/PVE/API2/Qemu/Agent.pm at e6352be6: fsfreeze-freeze/-thaw, fstrim, shutdown and suspend-* are
registered generically (lines 170-252): ``assert_agent_available``, then ``mon_cmd`` whose answer, an agent's error
included, is the ``result`` (HTTP 200). set-user-password (255-310) goes through ``agent_cmd``: an agent's error is
HTTP 500 ``Agent error: <desc>`` (src/PVE/QemuServer/Agent.pm ``check_agent_error`` 91-101). PVE reads no answer to
shutdown and the suspends (src/PVE/QMPClient.pm ``$qga_allow_close_cmds`` 47-52): ``result`` is null whatever the
agent did. qemu-ga: qga/commands-posix.c, commands-linux.c, commands-win32.c, main.c (frozen allow-list).
"""

from __future__ import annotations

import pytest

from tests.support.clients import proxmoxer_client, refused


@pytest.fixture
def cluster(pve_cluster_factory):
    """The default scenario (PVE 9.1) with its Debian VM 100 running an agent; the clock moves when told."""
    cluster = pve_cluster_factory(validate=True, task_mode="manual")
    cluster.guest(100).config["agent"] = "1"
    return cluster


def agent_of(cluster, node="pve1", vmid=100):
    return proxmoxer_client(cluster).nodes(node).qemu(vmid).agent


def test_a_freeze_blocks_the_agent_until_the_thaw(cluster):
    agent = agent_of(cluster)
    assert agent("fsfreeze-freeze").post() == {"result": 2}  # '/' and '/boot/efi'
    assert agent("fsfreeze-status").post() == {"result": "frozen"}
    # qga/main.c: only ping, info, sync, fsfreeze-status and -thaw stay enabled; PVE relays the error as the result
    disabled = "Command guest-get-osinfo has been disabled: the agent is in frozen state"
    assert agent("get-osinfo").get() == {"result": {"error": {"class": "CommandNotFound", "desc": disabled}}}
    assert agent("fsfreeze-freeze").post()["result"]["error"]["class"] == "CommandNotFound"
    assert agent.ping.post() == {"result": {}}
    error = refused(agent.exec.post, command=["true"])  # agent_cmd checks the answer: a 500
    assert (error.status_code, error.content) == (
        500,
        "Agent error: Command guest-exec has been disabled: the agent is in frozen state",
    )
    assert agent("fsfreeze-thaw").post() == {"result": 2}
    assert agent("fsfreeze-status").post() == {"result": "thawed"}
    assert agent("fsfreeze-thaw").post() == {"result": 0}  # nothing frozen: nothing thawed
    assert agent("get-osinfo").get()["result"]["id"] == "debian"


def test_fstrim_answers_per_file_system_and_ext4_remembers_what_it_trimmed(cluster):
    agent = agent_of(cluster)
    filesystems = {fs["mountpoint"]: fs for fs in agent("get-fsinfo").get()["result"]}
    free = {path: fs["total-bytes"] - fs["used-bytes"] for path, fs in filesystems.items()}
    first = agent.fstrim.post()["result"]["paths"]
    # qmp_guest_fstrim: QAPI_LIST_PREPEND, so the last mount comes first
    assert first == [
        {"path": "/boot/efi", "trimmed": free["/boot/efi"], "minimum": 0},
        {"path": "/", "trimmed": free["/"], "minimum": 0},
    ]
    # ext4 skips the block groups it trimmed since the mount; vfat trims all its free clusters again
    again = {entry["path"]: entry["trimmed"] for entry in agent.fstrim.post()["result"]["paths"]}
    assert again == {"/boot/efi": free["/boot/efi"], "/": 0}
    proxmoxer_client(cluster).nodes("pve1").qemu(100).status.reboot.post()
    cluster.clock.settle()
    assert {entry["path"]: entry["trimmed"] for entry in agent.fstrim.post()["result"]["paths"]}["/"] == free["/"]
    # Windows: defrag.exe /L per fixed volume, its mount path only
    assert agent_of(cluster, "pve3", 103).fstrim.post() == {"result": {"paths": [{"path": "C:\\"}]}}


def test_a_new_password_is_kept_hashed_and_never_echoed(cluster):
    agent = agent_of(cluster)
    answer = agent("set-user-password").post(username="root", password="s3cret-pass")
    assert answer == {"result": {}}
    vm = cluster.guest(100)
    assert cluster.guest_agents.password_is(vm, "root", "s3cret-pass")
    assert not cluster.guest_agents.password_is(vm, "root", "other-pass")
    record = cluster.guest_agents.password_record(vm, "root")
    assert b"s3cret-pass" not in record.digest and record.scheme == "pbkdf2-sha256"
    (logged,) = cluster.requests.calls("POST", "/nodes/{node}/qemu/{vmid}/agent/set-user-password")
    assert "s3cret-pass" not in str(logged.as_json())  # the password is secret in PVE's schema: masked
    crypted = "$6$rounds=5000$saltsalt$" + "x" * 86
    agent("set-user-password").post(username="root", password=crypted, crypted=1)  # chpasswd -e: as given
    assert cluster.guest_agents.password_record(vm, "root").scheme == "crypt"


def test_the_agent_refuses_a_password_as_chpasswd_and_windows_do(cluster):
    agent = agent_of(cluster)
    for username, password, desc in (
        ("nosuchuser", "s3cret-pass", "child process has failed to set user password"),  # chpasswd exits 1
        ("root:x", "s3cret-pass", "forbidden characters in username"),
        ("root", "two\nlines", "forbidden characters in raw password"),
    ):
        error = refused(agent("set-user-password").post, username=username, password=password)
        assert (error.status_code, error.content) == (500, f"Agent error: {desc}")
    assert refused(agent("set-user-password").post, username="root", password="four").status_code == 400  # minLength 5
    windows = agent_of(cluster, "pve3", 103)
    error = refused(windows("set-user-password").post, username="Administrator", password="$6$x$y", crypted=1)
    assert error.content == "Agent error: this feature or command is not currently supported"
    assert windows("set-user-password").post(username="Administrator", password="Winter-2026!") == {"result": {}}


def test_a_shutdown_through_the_agent_powers_the_guest_off_on_the_clock(cluster):
    agent = agent_of(cluster)
    pve = proxmoxer_client(cluster).nodes("pve1").qemu(100)
    assert agent.shutdown.post() == {"result": None}  # QMPClient reads no answer
    assert pve.status.current.get()["status"] == "running"
    cluster.clock.advance(4)
    assert pve.status.current.get()["status"] == "stopped"
    error = refused(agent.shutdown.post)
    assert (error.status_code, error.content) == (500, "VM 100 is not running")


def test_a_frozen_agent_ignores_a_shutdown_and_pve_cannot_tell(cluster):
    agent = agent_of(cluster)
    agent("fsfreeze-freeze").post()
    assert agent.shutdown.post() == {"result": None}
    cluster.clock.advance(60)
    assert cluster.guest(100).status == "running"


def test_suspend_to_ram_needs_s3_which_pve_hides_from_new_machines(cluster):
    # qemu-server src/PVE/QemuServer/Machine.pm get_power_state_flags 476-510 at e6352be6: S3/S4 off from 9.2+pve1
    pve = proxmoxer_client(cluster).nodes("pve1").qemu(100)
    assert pve.agent("suspend-ram").post() == {"result": None}
    # without S3 Debian suspends to idle: QEMU still runs the VM, the agent sleeps with the guest
    assert pve.status.current.get()["qmpstatus"] == "running"
    assert refused(pve.agent.ping.post).content == "QEMU guest agent is not running"
    pve.status.reset.post()
    cluster.clock.settle()
    pve.config.post(machine="q35,enable-s3=1")  # applied at the next start
    pve.status.stop.post()
    pve.status.start.post()
    cluster.clock.settle()
    pve.agent("suspend-ram").post()
    status = pve.status.current.get()
    assert (status["status"], status["qmpstatus"]) == ("running", "suspended")
    assert refused(pve.agent.ping.post).content == "QEMU guest agent is not running"
    pve.status.resume.post()  # RunState.pm vm_resume: 'system_wakeup' for a suspended guest
    cluster.clock.settle()
    assert pve.status.current.get()["qmpstatus"] == "running"
    assert pve.agent.ping.post() == {"result": {}}


def test_hibernation_powers_a_linux_guest_off_and_windows_without_s4_refuses(cluster):
    pve = proxmoxer_client(cluster).nodes("pve1").qemu(100)
    pve.agent("suspend-disk").post()
    cluster.clock.advance(9)
    assert pve.status.current.get()["status"] == "stopped"
    windows = proxmoxer_client(cluster).nodes("pve3").qemu(103)
    for command in ("suspend-disk", "suspend-ram", "suspend-hybrid"):
        assert windows.agent(command).post() == {"result": None}  # qga-win's refusal is not read
    cluster.clock.advance(60)
    assert windows.status.current.get()["qmpstatus"] == "running"
    assert windows.agent.ping.post() == {"result": {}}


def test_agent_writes_need_an_agent_and_a_running_vm(cluster):
    no_agent = agent_of(cluster, "pve1", 101)
    for call in (no_agent("fsfreeze-freeze").post, no_agent.fstrim.post, no_agent.shutdown.post):
        assert refused(call).content == "No QEMU guest agent configured"
    error = refused(no_agent("set-user-password").post, username="root", password="s3cret-pass")
    assert error.content == "No QEMU guest agent configured"
