"""The pytest plugin: wires options, markers and fixtures to the library. No logic of its own lives here."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pvemock", "fake Proxmox VE cluster (pytest-pvemock)")
    del group  # options are added by the issues that need them


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "pve_cluster(scenario=None, **options): choose the scenario and options of the pve_cluster fixture",
    )
