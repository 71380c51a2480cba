"""Which vcrpy this package works with, and a check that a cassette really saves through the scrubbing persister.

Secrets are scrubbed by :class:`~pytest_pvemock.cassette.file_format.CassetteFile`, the persister vcrpy calls to
write a cassette. vcrpy 8.x and older drop a ``persister`` given to ``VCR.get_merged_config`` (only vcrpy 9 reads
it), and then write the cassette with their own persister, secrets and all. So the recorder sets the persister on
the merged config itself, and before the first request is recorded :func:`scrubbing_problem` proves, on a throw-away
cassette, that this vcrpy writes through the persister the cassette was given. When it does not, recording refuses
to start with a message that names the fix.
"""

from __future__ import annotations

import tempfile
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from vcr.cassette import Cassette
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.record_mode import RecordMode
from vcr.request import Request

# The vcrpy releases the test suite runs against (pyproject.toml declares the same range).
SUPPORTED_VCRPY = ">=8.2,<10"
FIX = f"install a supported vcrpy: pip install 'vcrpy{SUPPORTED_VCRPY}'"


def vcrpy_version() -> str:
    try:
        return version("vcrpy")
    except PackageNotFoundError:  # pragma: no cover - vcrpy imported from a source tree
        return "unknown"


def supports_metadata() -> bool:
    """vcrpy 9 keeps per-cassette metadata and accepts it from ``load_cassette``; older ones take two values."""
    return hasattr(Cassette, "get_metadata")


class _ProbePersister:
    """A persister that remembers being asked to save, and saves nothing."""

    def __init__(self) -> None:
        self.saved = 0

    def load_cassette(self, cassette_path: Any, serializer: Any = None) -> tuple[Any, ...]:
        raise CassetteNotFoundError()

    def save_cassette(self, cassette_path: Any, cassette_dict: Any, serializer: Any = None) -> None:
        self.saved += len(cassette_dict.get("requests") or ())


@cache
def scrubbing_problem() -> str | None:
    """``None`` when this vcrpy writes cassettes through the persister they were given; else what is wrong."""
    probe = _ProbePersister()
    try:
        with tempfile.TemporaryDirectory() as folder:  # where a vcrpy that ignores the probe would write
            path = str(Path(folder) / "probe.yaml")
            cassette = Cassette.load(path=path, persister=probe, record_mode=RecordMode.ALL)
            response = {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": b"{}"}}
            cassette.append(Request("GET", "https://probe.invalid/api2/json/version", None, {}), response)
            cassette._save(force=True)
    except Exception as error:  # an API we do not know: scrubbing cannot be proven
        return f"vcrpy {vcrpy_version()} failed the persister check ({type(error).__name__}: {error})"
    if probe.saved != 1:
        return f"vcrpy {vcrpy_version()} does not write cassettes through the persister they are given"
    return None


def refusal(problem: str, fix: str = FIX) -> str:
    """The message recording stops with when scrubbing cannot be guaranteed, naming the fix."""
    return (
        f"pytest-pvemock: recording refused, secrets could reach the cassette unscrubbed: {problem}. To fix it, {fix}."
    )


def check_persister(cassette: Any, persister: Any) -> str | None:
    """Why ``cassette`` would not save through ``persister`` (the scrubbing one), as :func:`refusal`; or ``None``."""
    problem = scrubbing_problem()
    if problem is None and getattr(cassette, "_persister", None) is not persister:
        problem = f"vcrpy {vcrpy_version()} ignored the scrubbing persister pytest-pvemock gave the cassette"
    return None if problem is None else refusal(problem)
