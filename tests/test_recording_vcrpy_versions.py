"""Every vcrpy the package accepts writes cassettes through the scrubbing persister; any other refuses to record.

vcrpy 8.x dropped a ``persister`` handed to ``VCR.get_merged_config`` and wrote the password, the ticket and the
CSRF token in clear; cassettes it then read with its own persister failed with ``KeyError: 'string'``. These tests
run on whatever vcrpy is installed (CI runs them on each Python with the newest and with the minimum versions).
"""

from __future__ import annotations

import re
import socket
from importlib.metadata import version

import pytest
from support.capture_server import PASSWORD
from vcr.cassette import Cassette
from vcr.persisters.filesystem import FilesystemPersister

from pytest_pvemock.transports.recording import vcrpy_support
from pytest_pvemock.transports.recording.cassette import PveCassette
from pytest_pvemock.transports.recording.recorder import RecordingOptions, RecordingSetupError, open_cassette

pytest.importorskip("proxmoxer")


def _requirement() -> str:
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    return re.search(r'"vcrpy([^"]*)"', text)[1]  # type: ignore[index]


@pytest.fixture
def fresh_probe():
    vcrpy_support.scrubbing_problem.cache_clear()
    yield
    vcrpy_support.scrubbing_problem.cache_clear()


def test_the_installed_vcrpy_is_one_the_package_declares_and_it_saves_through_our_persister():
    installed = tuple(int(part) for part in version("vcrpy").split(".")[:2])
    assert _requirement() == vcrpy_support.SUPPORTED_VCRPY == ">=8.2,<10"
    assert (8, 2) <= installed < (10, 0)
    assert vcrpy_support.scrubbing_problem() is None


@pytest.mark.parametrize("auth", ["password", "token"])
def test_a_recording_on_this_vcrpy_is_scrubbed_and_replays(pve_capture, tmp_path, auth, monkeypatch):
    path = tmp_path / "cassette.yaml"
    pve_capture.cluster.task_polls = 0
    with open_cassette(path, RecordingOptions(record_mode="once"), environ=pve_capture.environment(auth)) as session:
        recorded = session.client().version.get()

    text = path.read_text()
    assert [secret for secret in pve_capture.cluster.known_secrets if secret in text] == []
    assert PASSWORD not in text
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: pytest.fail(f"connected to {address}"))
    with open_cassette(path, environ={}) as session:
        assert session.client().version.get() == recorded


def test_a_vcrpy_that_bypasses_the_persister_refuses_to_record_and_names_the_fix(
    pve_capture, tmp_path, monkeypatch, fresh_probe
):
    def save_like_vcrpy_8(self, force=False):  # what vcrpy 8 did with a persister given to get_merged_config
        FilesystemPersister.save_cassette(self._path, self._as_dict(), serializer=self._serializer)

    monkeypatch.setattr(Cassette, "_save", save_like_vcrpy_8)
    path = tmp_path / "never.yaml"

    options = RecordingOptions(record_mode="once")
    with pytest.raises(RecordingSetupError) as raised, open_cassette(path, options, environ=pve_capture.environment()):
        pytest.fail("recording started")

    message = str(raised.value)
    assert "recording refused" in message
    assert "pip install 'vcrpy>=8.2,<10'" in message
    assert not path.exists()


def test_a_cassette_that_drops_the_persister_refuses_to_record(pve_capture, tmp_path, monkeypatch, fresh_probe):
    original = PveCassette.__init__

    def init_without_persister(self, *args, **kwargs):
        kwargs.pop("persister", None)
        original(self, *args, **kwargs)

    monkeypatch.setattr(PveCassette, "__init__", init_without_persister)
    path = tmp_path / "never.yaml"

    options = RecordingOptions(record_mode="once")
    refused = pytest.raises(RecordingSetupError, match="ignored the scrubbing persister")
    with refused, open_cassette(path, options, environ=pve_capture.environment()):
        pytest.fail("recording started")
    assert not path.exists()


def test_recording_without_the_secret_classification_refuses_to_start(pve_capture, tmp_path, monkeypatch):
    from pytest_pvemock.schema import secrets

    monkeypatch.setattr(secrets, "_candidate_dirs", lambda: [tmp_path / "nowhere"])
    secrets.load_secret_index.cache_clear()
    path = tmp_path / "never.yaml"
    try:
        options = RecordingOptions(record_mode="once")
        refused = pytest.raises(
            RecordingSetupError, match=r"secret classification is missing.*reinstall pytest-pvemock"
        )
        with refused, open_cassette(path, options, environ=pve_capture.environment()):
            pytest.fail("recording started")
    finally:
        secrets.load_secret_index.cache_clear()
    assert not path.exists()
