"""Record a real cluster into a cassette, or replay one, behind the same proxmoxer client.

    with open_cassette("cassettes/test_vms.yaml", RecordingOptions(record_mode="none")) as session:
        api = session.client()            # proxmoxer.ProxmoxAPI
        api.nodes.get()                   # answered from the cassette (or, when recording, by the real cluster)

Record modes, in the style of pytest-recording: ``none`` (replay only; the default, so CI never reaches a network),
``once`` (record when the cassette does not exist yet, else replay), ``new_episodes`` (replay what is recorded,
record what is not), ``all`` (send everything to the cluster and record it), ``rewrite`` (delete the cassette and
record it anew). Recording needs the real cluster's address and credentials in the environment
(:mod:`.environment`); replay needs nothing, and the client logs in the same way the recording did.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import vcr
from vcr.record_mode import RecordMode

from pytest_pvemock.cassette.file_format import CassetteFile
from pytest_pvemock.cassette.filters import (
    DEFAULT_FILTERS,
    SCRUBBED,
    TOKEN_SECRET_PLACEHOLDER,
    HostPlaceholders,
    InteractionFilter,
    remember_secrets,
    replace_known_secrets,
)
from pytest_pvemock.schema.secrets import load_secret_index
from pytest_pvemock.transports.recording import matchers as pve_matchers
from pytest_pvemock.transports.recording.cassette import PveCassette, is_login
from pytest_pvemock.transports.recording.environment import RealCluster, RecordingSetupError
from pytest_pvemock.transports.recording.vcrpy_support import check_persister, refusal, scrubbing_problem

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
_VCR_MODES = {
    "none": RecordMode.NONE,
    "once": RecordMode.ONCE,
    "new_episodes": RecordMode.NEW_EPISODES,
    "all": RecordMode.ALL,
    "rewrite": RecordMode.ALL,
}


@dataclass
class RecordingOptions:
    """How a cassette is recorded and replayed; ``pvemock_vcr_config`` returns these as a dict.

    ``filters`` run after the built-in scrubbing (:data:`~.filters.DEFAULT_FILTERS`); ``anonymize_hosts`` also
    replaces host names, IPv4 addresses and SSL fingerprints by placeholders; ``match_on`` names vcrpy matchers
    or PVE's (:data:`~.matchers.PVE_MATCHERS`) or gives functions; ``vcr_options`` go to vcrpy's ``use_cassette``
    unchanged; ``rerecord_command`` runs the test (``pytest tests/test_x.py::test_y``): messages that say how to
    record add the ``--pvemock-record-mode`` that fits.
    """

    record_mode: str = "none"
    filters: Sequence[InteractionFilter] = ()
    anonymize_hosts: bool = False
    match_on: Sequence[str | Callable[[Any, Any], None]] = pve_matchers.DEFAULT_MATCH_ON
    vcr_options: Mapping[str, Any] = field(default_factory=dict)
    rerecord_command: str = ""

    def __post_init__(self) -> None:
        if self.record_mode not in RECORD_MODES:
            raise ValueError(
                f"pytest-pvemock: unknown record mode {self.record_mode!r}; use one of {', '.join(RECORD_MODES)}"
            )


class CassetteMissingError(FileNotFoundError):
    """Replay was asked for but the cassette was never recorded."""


@dataclass(frozen=True)
class ReplayLogin:
    """How the replaying client logs in: the way the recording did, with placeholder secrets."""

    host: str
    port: int
    user: str
    token_name: str = ""

    @classmethod
    def from_cassette(cls, cassette: PveCassette) -> ReplayLogin:
        host, port, user, token_name = "pve.recorded.invalid", 8006, "root@pam", ""
        for index, (request, _) in enumerate(cassette.data):
            parts = urlsplit(request.uri)
            if index == 0:
                host, port = parts.hostname or host, parts.port or port
            if is_login(request.method, request.uri):
                form = dict(parse_qsl(pve_matchers.body_text(request.body)))
                user = form.get("username", user)
                if form.get("realm") and "@" not in user:
                    user = f"{user}@{form['realm']}"
                return cls(host, port, user)
            authorization = request.headers.get("Authorization", "")
            if "APIToken=" in authorization:
                user, _, rest = authorization.partition("=")[2].partition("!")
                token_name = rest.partition("=")[0].partition(":")[0]
                return cls(host, port, user, token_name)
        return cls(host, port, user, token_name="replay")  # no login recorded: a token sends no extra request

    def proxmoxer_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {"host": self.host, "port": self.port, "user": self.user, "verify_ssl": False}
        if self.token_name:
            arguments.update(token_name=self.token_name, token_value=TOKEN_SECRET_PLACEHOLDER)
        else:
            arguments["password"] = SCRUBBED
        return arguments


@dataclass
class CassetteSession:
    """An open cassette: ``client()`` gives a proxmoxer client that records or replays through it."""

    cassette: PveCassette
    recording: bool
    target: RealCluster | None

    @property
    def path(self) -> Path:
        return Path(self.cassette.path)

    def client_arguments(self) -> dict[str, Any]:
        if self.target is not None:
            return self.target.proxmoxer_arguments()
        return ReplayLogin.from_cassette(self.cassette).proxmoxer_arguments()

    def client(self, **overrides: Any) -> Any:
        """A ``proxmoxer.ProxmoxAPI`` logged in to the real cluster (recording) or to the recording (replay)."""
        import proxmoxer  # an optional dependency: only needed when a client is asked for

        arguments = {**self.client_arguments(), **overrides}
        return proxmoxer.ProxmoxAPI(backend="https", **arguments)


def is_recording(record_mode: str, path: Path) -> bool:
    if record_mode == "none":
        return False
    if record_mode == "once":
        return not (path.is_file() and path.stat().st_size > 0)
    return True


def _matcher_names(vcr_instance: vcr.VCR, match_on: Sequence[str | Callable[[Any, Any], None]]) -> tuple[str, ...]:
    for name, matcher in pve_matchers.PVE_MATCHERS.items():
        vcr_instance.register_matcher(name, matcher)
    names = []
    for wanted in match_on:
        if callable(wanted):
            vcr_instance.register_matcher(wanted.__name__, wanted)
            names.append(wanted.__name__)
        else:
            names.append(wanted)
    return tuple(names)


def cassette_filters(options: RecordingOptions, target: RealCluster | None) -> list[InteractionFilter]:
    filters: list[InteractionFilter] = [*DEFAULT_FILTERS, remember_secrets()]
    if target is not None:
        filters.append(replace_known_secrets(target.secrets))
    if options.anonymize_hosts:
        filters.append(HostPlaceholders([target.host] if target is not None else []))
    filters.extend(options.filters)
    return filters


def _command(options: RecordingOptions, record_mode: str) -> str:
    return f"{options.rerecord_command or 'pytest ...'} --pvemock-record-mode={record_mode}"


def _missing_cassette_message(path: Path, options: RecordingOptions) -> str:
    command = _command(options, "once")
    return (
        f"pytest-pvemock: the cassette {path} does not exist, and record mode 'none' only replays. "
        f"Record it against a real cluster: PVEMOCK_HOST=<host> PVEMOCK_USER=<user@realm> PVEMOCK_PASSWORD=<...> "
        f"{command}"
    )


@contextmanager
def open_cassette(
    path: str | os.PathLike[str], options: RecordingOptions | None = None, environ: Mapping[str, str] | None = None
) -> Iterator[CassetteSession]:
    """Open the cassette at ``path`` for recording or replay (see the module's documentation)."""
    options = options or RecordingOptions()
    cassette_path = Path(path)
    recording = is_recording(options.record_mode, cassette_path)
    target: RealCluster | None = None
    if recording:
        why = f"record mode {options.record_mode!r} (cassette {cassette_path})"
        target = RealCluster.from_environ(environ, why=why)
    elif not cassette_path.is_file():
        raise CassetteMissingError(_missing_cassette_message(cassette_path, options))
    if options.record_mode == "rewrite":
        cassette_path.unlink(missing_ok=True)

    problem = scrubbing_problem()
    if problem is not None:
        raise RecordingSetupError(refusal(problem))
    if recording:
        try:
            load_secret_index()
        except LookupError as error:  # a broken install: only the built-in names would be scrubbed
            fix = "reinstall pytest-pvemock (its wheel ships schemas/secrets/ as pytest_pvemock/_schemas/secrets/)"
            raise RecordingSetupError(refusal(f"PVE's secret classification is missing: {error}", fix)) from None
    vcr_instance = vcr.VCR()
    config = vcr_instance.get_merged_config(
        path=str(cassette_path),
        record_mode=_VCR_MODES[options.record_mode],
        match_on=_matcher_names(vcr_instance, options.match_on),
        decode_compressed_response=True,
        **dict(options.vcr_options),
    )
    # Set on the merged config, not passed to get_merged_config: vcrpy < 9 drops it there and writes the cassette
    # with its own persister, unscrubbed.
    persister = CassetteFile(cassette_filters(options, target))
    config["persister"] = persister
    config["rerecord_hint"] = (
        f"To record it, run against a real cluster (PVEMOCK_HOST and PVEMOCK_USER/PVEMOCK_PASSWORD or "
        f"PVEMOCK_TOKEN set): {_command(options, 'new_episodes')}\n"
        f"(or --pvemock-record-mode=rewrite to record the whole cassette anew)"
    )
    config["recording"] = recording
    with PveCassette.use(**config) as cassette:
        problem = check_persister(cassette, persister)
        if problem is not None:
            raise RecordingSetupError(problem)
        yield CassetteSession(cassette, recording, target)


__all__ = [
    "RECORD_MODES",
    "CassetteMissingError",
    "CassetteSession",
    "RecordingOptions",
    "RecordingSetupError",
    "ReplayLogin",
    "open_cassette",
]
