"""Clusters built from scenarios, for callers that want the cluster rather than its spec.

``FakeCluster.from_scenario`` is the public door; :func:`build_from_text` builds from a scenario's text in hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_pvemock.model.builders.scenario import scenario_spec, spec_from_text
from pytest_pvemock.model.cluster import FakeCluster


def load_scenario(name_or_path: str | Path = "default", **overrides: Any) -> FakeCluster:
    """A :class:`FakeCluster` from a scenario; ``overrides`` replace the file's ``cluster:`` settings."""
    return scenario_spec(name_or_path, **overrides).build(FakeCluster)


def build_from_text(text: str, source: str = "<scenario>", **overrides: Any) -> FakeCluster:
    """A :class:`FakeCluster` from a scenario's YAML ``text`` (``source`` names it in errors)."""
    return spec_from_text(text, source, **overrides).build(FakeCluster)
