"""A cassette per test: where it lives, and how the command line and ``pvemock_vcr_config`` set its options.

The default path follows pytest-recording: ``<test folder>/cassettes/<module>/<test name>.yaml``, with parametrised
ids made safe for file names; ``@pytest.mark.pve_cassette("name")`` shares ``<...>/cassettes/<module>/name.yaml``
between tests (a name with a ``/`` or a suffix is taken relative to the cassette folder as given). The config
fixture may set ``cassette_library_dir`` (a folder for this module's cassettes), ``serializer`` (``"yaml"`` or
``"json"``) and the fields of :class:`~.recorder.RecordingOptions`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

from pytest_pvemock.transports.recording.recorder import (
    CassetteMissingError,
    CassetteSession,
    RecordingOptions,
    RecordingSetupError,
    open_cassette,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.=+-]+")
_PATH_KEYS = ("cassette_library_dir", "serializer")


def safe_file_name(name: str) -> str:
    """``test_x[pve1/100-a b]`` -> ``test_x-pve1-100-a-b``: usable as a file name on every system."""
    return _UNSAFE.sub("-", name).strip("-.") or "cassette"


def cassette_path(
    test_file: Path, module_name: str, test_name: str, config: Mapping[str, Any], name: str | None = None
) -> Path:
    """Where the cassette of one test lives (see the module's documentation)."""
    library = config.get("cassette_library_dir")
    folder = Path(library) if library else test_file.parent / "cassettes" / module_name
    if not folder.is_absolute():
        folder = test_file.parent / folder
    suffix = ".json" if config.get("serializer") == "json" else ".yaml"
    if name:
        given = Path(name)
        return folder / given if given.suffix in (".yaml", ".yml", ".json") else folder / f"{name}{suffix}"
    return folder / f"{safe_file_name(test_name)}{suffix}"


def recording_options(config: Mapping[str, Any], record_mode: str, rerecord_command: str) -> RecordingOptions:
    """:class:`RecordingOptions` from the config fixture's dict; unknown keys are an error that lists the known."""
    known = {field.name for field in fields(RecordingOptions)}
    unknown = sorted(set(config) - known - set(_PATH_KEYS))
    if unknown:
        allowed = ", ".join(sorted(known | set(_PATH_KEYS)))
        raise ValueError(f"pvemock_vcr_config: unknown key(s) {', '.join(unknown)}; expected some of {allowed}")
    values = {key: value for key, value in config.items() if key in known}
    values.setdefault("record_mode", record_mode)
    values.setdefault("rerecord_command", rerecord_command)
    return RecordingOptions(**values)


def rerecord_command(nodeid: str) -> str:
    """The command that runs just this test (the recorder adds the record mode that fits)."""
    return f"pytest {shlex.quote(nodeid)}"


@contextmanager
def open_test_cassette(
    path: Path, config: Mapping[str, Any], record_mode: str, nodeid: str
) -> Iterator[tuple[CassetteSession | None, str | None]]:
    """The test's open cassette, or ``(None, message)`` saying what to fix (the plugin fails the test with it)."""
    problem = None
    try:
        options = recording_options(config, record_mode, rerecord_command(nodeid))
        opened = open_cassette(path, options)
        session = opened.__enter__()
    except (RecordingSetupError, CassetteMissingError, ValueError) as error:
        problem = str(error)
    if problem is not None:  # reported outside the except block: no chained traceback in the test report
        yield None, problem
        return
    try:
        yield session, None
    finally:
        opened.__exit__(None, None, None)


def validation_failure(path: Path) -> str | None:
    """The schema report of a cassette the test used, when it has violations."""
    from pytest_pvemock.cassette.validation import format_report, validate_cassette

    if not path.is_file():
        return None
    report = validate_cassette(path)
    if report.ok:
        return None
    return f"pytest-pvemock: the cassette does not match the PVE schema:\n{format_report(report)}"
