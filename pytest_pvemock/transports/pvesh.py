"""``pvesh`` without a process: proxmoxer's ``local``, ``openssh`` and ``ssh_paramiko`` backends answered by the fake.

proxmoxer's command backends turn each call into a command line (``pvesh get /nodes --output-format json``,
``pvesh create /nodes/pve1/qemu -vmid 100 -name web ...``) and hand it to ``_exec`` of their session, which
runs it locally (``subprocess.Popen``) or on the node over SSH, and parses stdout, stderr and the exit
status. The patch hooks each command session as it is made, so that its ``_exec`` (and, for the SSH
backends, ``_connect``) has the command answered by :func:`run_pvesh` from the same API app as every other
transport, as ``root@pam`` (pvesh runs as root on the node), with pvesh's output for ``--output-format
json`` (what proxmoxer asks for; other formats are answered as JSON too):

- success: the result as canonical JSON (sorted keys, compact) and a newline on stdout, exit status 0;
  nothing when the result is null. A worker's task log comes first, followed by the UPID, as pvesh prints it
  when it waits for the worker.
- failure: PVE's exception text on stderr (``400 Parameter verification failed.`` and one
  ``param: message`` line per bad parameter; a plain ``die`` message without a code), exit status 255.

The ``local`` backend is answered by the most recently mocked cluster; the SSH backends by the cluster that
answers their host name (a node name, the cluster host or a node IP). An SSH backend aimed at any other host
really connects, unless other hosts are refused. Sessions made before the patch was installed are left alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from pytest_pvemock.api.messages import ApiRequest, ApiResponse
from pytest_pvemock.transports.patching import MethodPatch
from pytest_pvemock.transports.routing import HOSTS, Dispatcher, dispatcher_for

PVESH_USER = "root@pam"
#: Perl's ``die`` exits with 255 when neither ``$!`` nor ``$?`` is set, as for pvesh's errors.
ERROR_EXIT_STATUS = 255
COMMANDS = {"get": "GET", "create": "POST", "set": "PUT", "delete": "DELETE"}
# pvesh's own options, consumed by its formatter and never sent to the API (value-taking ones first).
_OUTPUT_OPTIONS_WITH_VALUE = {"output-format"}
_OUTPUT_FLAGS = {"noborder", "noheader", "human-readable", "quiet"}


@dataclass(frozen=True)
class CommandResult:
    """What a command printed and how it ended, as proxmoxer's ``_exec`` returns it."""

    stdout: str
    stderr: str
    exit_status: int

    def as_tuple(self) -> tuple[str, str, int]:
        return self.stdout, self.stderr, self.exit_status


class FakeNodeConnection:
    """Stands in for the SSH client of a backend whose host is a fake node; it never opens a socket."""

    def __init__(self, host: str) -> None:
        self.host = host

    def __repr__(self) -> str:
        return f"<pytest-pvemock fake SSH connection to {self.host}>"


# -- the command ---------------------------------------------------------------------------------------------


def run_pvesh(argv: Sequence[str], dispatcher: Dispatcher, host: str = "localhost") -> CommandResult:
    """Run ``pvesh get|create|set|delete PATH [-key value ...] [--output-format json]`` against ``dispatcher``."""
    args = list(argv)
    if args and args[0] == "sudo":
        args = args[1:]
    if not args or args[0].rsplit("/", 1)[-1] != "pvesh":
        program = args[0] if args else ""
        return CommandResult("", f"bash: line 1: {program}: command not found\n", 127)
    args = [arg for arg in args[1:] if arg not in ("--noproxy", "--nooutput")]
    if not args:
        return CommandResult("", "ERROR: no command specified\n", ERROR_EXIT_STATUS)
    command, rest = args[0], args[1:]
    method = COMMANDS.get(command)
    if method is None:
        return CommandResult("", f"ERROR: unknown command 'pvesh {command}'\n", ERROR_EXIT_STATUS)
    if not rest or rest[0].startswith("-"):
        return CommandResult("", "400 not enough arguments\napi_path: property is missing\n", ERROR_EXIT_STATUS)
    path = "/" + "/".join(part for part in rest[0].split("/") if part)
    try:
        options, quiet = _parse_options(rest[1:])
    except ValueError as error:
        return CommandResult("", f"{error}\n", ERROR_EXIT_STATUS)
    response = dispatcher(_api_request(method, path, options, dispatcher, host))
    return _command_result(command, path, response, dispatcher, quiet)


def _parse_options(args: Sequence[str]) -> tuple[list[tuple[str, str]], bool]:
    """``-key value``, ``--key value`` and ``--key=value`` pairs, as pvesh's option parser reads them."""
    options: list[tuple[str, str]] = []
    quiet = False
    position = 0
    while position < len(args):
        arg = args[position]
        if not arg.startswith("-") or arg in ("-", "--"):
            raise ValueError(f"400 too many arguments\nunexpected argument: {arg}")
        key, has_value, value = arg.lstrip("-").partition("=")
        position += 1
        if key in _OUTPUT_FLAGS and not has_value:
            quiet = quiet or key == "quiet"
            continue
        if not has_value:
            if position >= len(args):
                raise ValueError(f"400 Parameter verification failed.\n{key}: missing value")
            value = args[position]
            position += 1
        if key not in _OUTPUT_OPTIONS_WITH_VALUE:
            options.append((key, value))
    return options, quiet


def _api_request(
    method: str, path: str, options: list[tuple[str, str]], dispatcher: Dispatcher, host: str
) -> ApiRequest:
    headers = {"Host": host, "User-Agent": "pvesh (pytest-pvemock)"}
    headers.update(_root_credentials(dispatcher))
    encoded = urlencode(options)
    if method in ("POST", "PUT"):
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        query, body = "", encoded.encode()
    else:
        query, body = encoded, b""
    return ApiRequest(method, "/api2/json" + quote(path, safe="/@:!$&'()*+,;=-._~"), query, headers, body, host)


def _root_credentials(dispatcher: Dispatcher) -> dict[str, str]:
    """A ticket and CSRF token for root@pam from the API app's own signer: pvesh needs no login."""
    api = getattr(dispatcher, "__self__", dispatcher)
    signer = getattr(getattr(api, "auth", None), "signer", None)
    if signer is None:
        return {}
    ticket = signer.ticket(PVESH_USER)
    return {"Cookie": f"PVEAuthCookie={quote(ticket, safe='')}", "CSRFPreventionToken": signer.csrf_token(PVESH_USER)}


def _command_result(
    command: str, path: str, response: ApiResponse, dispatcher: Dispatcher, quiet: bool
) -> CommandResult:
    body = _json_body(response)
    if 200 <= response.status < 300:
        data = body.get("data") if isinstance(body, dict) else None
        if quiet or data is None:
            return CommandResult("", "", 0)
        output = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
        return CommandResult(_task_log(data, dispatcher) + output, "", 0)
    return CommandResult("", _error_text(command, path, response, body), ERROR_EXIT_STATUS)


def _json_body(response: ApiResponse) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_text(command: str, path: str, response: ApiResponse, body: Any) -> str:
    """The error as PVE's exception prints it: ``CODE message`` and ``param: error`` lines; a plain die as is."""
    if response.status == 501 and "not implemented" in (response.reason or ""):
        return f"no '{command}' handler for '{path}'\n"
    message = body.get("message") if isinstance(body, dict) else None
    message = (message or response.reason or "").rstrip("\n")
    errors = body.get("errors") if isinstance(body, dict) else None
    text = message + "\n" if response.status == 500 else f"{response.status} {message}\n"
    for name, error in (errors or {}).items():
        text += f"{name}: {str(error).rstrip(chr(10))}\n"
    return text


def _task_log(data: Any, dispatcher: Dispatcher) -> str:
    """The log of the worker a UPID names: pvesh waits for its workers and prints their output first."""
    if not (isinstance(data, str) and data.startswith("UPID:")):
        return ""
    api = getattr(dispatcher, "__self__", dispatcher)
    tasks = getattr(getattr(api, "cluster", None), "tasks", None)
    task = tasks.get(data) if tasks is not None else None
    lines = list(getattr(task, "log", None) or [])
    return "".join(f"{line}\n" for line in lines)


# -- where proxmoxer runs it ---------------------------------------------------------------------------------


def local_dispatcher() -> Dispatcher | None:
    """The dispatcher of the most recently routed cluster: ``pvesh`` on "this node"."""
    for known in reversed(HOSTS.known_hosts()):
        host, _, port = known.rpartition(":")
        dispatcher = HOSTS.lookup(host, int(port)) if port.isdigit() and host else HOSTS.lookup(known, None)
        if dispatcher is not None:
            return dispatcher
    return None


def _hook_session(session: Any) -> None:
    """Give one new command session our ``_connect``/``_exec``/``upload_file_obj`` (instance attributes)."""
    session._connect = lambda: _connect(session)
    session._exec = lambda cmd: _exec(session, cmd)
    session.upload_file_obj = lambda file_obj, remote_path: _upload(session, file_obj, remote_path)


def _connect(session: Any) -> Any:
    """SSH backends connect when the session is made: a fake node needs no connection."""
    if dispatcher_for(session.host, None) is None:  # raises when other hosts are refused
        return type(session)._connect(session)
    return FakeNodeConnection(session.host)


def _original_exec(session: Any, cmd: Sequence[str]) -> tuple[str, str, int]:
    """What proxmoxer's own session (untyped) does with ``cmd``."""
    stdout, stderr, status = type(session)._exec(session, cmd)
    return stdout, stderr, status


def _exec(session: Any, cmd: Sequence[str]) -> tuple[str, str, int]:
    host = getattr(session, "host", None)
    if host is None:  # the local backend: pvesh on this node
        dispatcher = local_dispatcher() if _is_pvesh(cmd) else None
        if dispatcher is None:
            return _original_exec(session, cmd)
        return run_pvesh(cmd, dispatcher, "localhost").as_tuple()
    if not isinstance(getattr(session, "ssh_client", None), FakeNodeConnection):
        return _original_exec(session, cmd)
    if not _is_pvesh(cmd):
        return _other_command(cmd).as_tuple()
    dispatcher = dispatcher_for(host, None)
    if dispatcher is None:
        return "", f"ssh: connect to host {host} port {session.port}: Connection refused\n", 255
    return run_pvesh(cmd, dispatcher, host).as_tuple()


def _upload(session: Any, file_obj: Any, remote_path: str) -> None:
    if isinstance(getattr(session, "ssh_client", None), FakeNodeConnection):
        return  # the fake node keeps no files; the API call that follows names the upload
    type(session).upload_file_obj(session, file_obj, remote_path)


def _other_command(cmd: Sequence[str]) -> CommandResult:
    """proxmoxer's upload asks the node for a temporary file name with python3 first; anything else is unknown."""
    if list(cmd[:2]) == ["python3", "-c"] and "NamedTemporaryFile" in " ".join(cmd[2:]):
        return CommandResult("/tmp/tmp-pvemock-upload", "", 0)
    return CommandResult("", f"bash: line 1: {cmd[0] if cmd else ''}: command not found\n", 127)


def _is_pvesh(cmd: Sequence[str]) -> bool:
    args = list(cmd[1:]) if cmd and cmd[0] == "sudo" else list(cmd)
    return bool(args) and args[0].rsplit("/", 1)[-1] == "pvesh"


# -- installing --------------------------------------------------------------------------------------------


def _init_and_hook(self: Any, *args: Any, **kwargs: Any) -> None:
    _INIT.original(self, *args, **kwargs)
    _hook_session(self)


_INIT = MethodPatch("proxmoxer.backends.command_base.CommandBaseSession.__init__", _init_and_hook)


def install() -> None:
    """Hook every proxmoxer command session made from now on (once; match each call with :func:`uninstall`).

    The hook sits in ``CommandBaseSession.__init__``, the one base of the local, openssh and ssh_paramiko
    sessions, so no backend module (nor paramiko) has to be imported to patch it. Sessions made while the hook
    is in place keep answering fake hosts; for any other host they run the real command.
    """
    _INIT.install()


def uninstall() -> None:
    """Undo one :func:`install`; the last one puts proxmoxer's own ``__init__`` back."""
    _INIT.uninstall()


def is_installed() -> bool:
    return _INIT.installed
