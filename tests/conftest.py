"""Fixtures several test modules share. The plugin's own (``pve_cluster``, ``pve_api``, ...) come from
pytest_pvemock itself; what they are built from lives in ``tests/support/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from support.capture_server import RunningCaptureServer, capture_server


@pytest.fixture
def ticket_session(pve_cluster, pve_api) -> requests.Session:
    """A requests session with the ticket and CSRF token of ``pve_api``'s login to ``pve_cluster``."""
    ticket, csrf = pve_api.get_tokens()
    session = requests.Session()
    session.cookies.set("PVEAuthCookie", ticket)
    session.headers["CSRFPreventionToken"] = csrf
    return session


@pytest.fixture(scope="module")
def pve_capture(tmp_path_factory) -> Iterator[RunningCaptureServer]:
    """The capture server (a stand-in of a real PVE over HTTPS on 127.0.0.1), one per test module."""
    with capture_server(tmp_path_factory.mktemp("tls")) as running:
        yield running
