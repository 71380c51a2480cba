"""How a test asks for a cluster (scenario, version, task mode, validation, time zone, HA chaos) and the checks of
each value, shared by the ``pve_cluster`` marker, the command-line and ini options, and ``pve_cluster_factory``.

Every value is checked where the user wrote it, so a mistake is blamed on its source (the marker, the option, the
ini key, the factory call) instead of on the scenario file the value would later be applied to. Importing this
module is cheap: the plugin checks its options at startup with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from pytest_pvemock.model.clock import TASK_MODES
from pytest_pvemock.model.ha.chaos import chaos_settings
from pytest_pvemock.model.time_zone import zone_info
from pytest_pvemock.schema.registry import supported_release

__all__ = ["MARKER_KEYS", "ClusterOptions", "checked_option"]

MARKER_KEYS = ("scenario", "version", "versions", "task_mode", "validate", "refuse_other_hosts", "ha_chaos", "timezone")


@dataclass(frozen=True)
class ClusterOptions:
    """How to build and patch in a cluster; ``None`` means the scenario's own choice."""

    scenario: str | Path = "default"
    version: str | None = None
    task_mode: str | None = None
    validate: bool = False
    refuse_other_hosts: bool = False
    #: Seeded HA faults from the start: a seed, or ``{"seed": 7, "rate": 0.3, "max_down": 1}``.
    ha_chaos: Any = None
    #: The servers' time zone (an IANA name), for the texts PVE writes in local time.
    timezone: str | None = None

    def updated(self, **changes: Any) -> ClusterOptions:
        """These options with every change that is not ``None`` applied."""
        return replace(self, **{key: value for key, value in changes.items() if value is not None})

    @classmethod
    def check(cls, args: Sequence[Any], kwargs: Mapping[str, Any], where: str = "pve_cluster marker") -> dict[str, Any]:
        """The changes named by ``args``/``kwargs`` (scenario may be positional), or ``ValueError`` saying why."""
        changes = dict(kwargs)
        if len(args) > 1:
            raise ValueError(f"{where}: takes at most one positional argument (the scenario), got {len(args)}")
        if args:
            if "scenario" in changes:
                raise ValueError(f"{where}: scenario given both positionally and by keyword")
            changes["scenario"] = args[0]
        versions = changes.pop("versions", None)
        if versions is not None:  # run the test once per release: the plugin parametrizes it (release_params)
            try:
                release_params(versions)
            except ValueError as error:
                raise ValueError(f"{where}: versions: {error}") from None
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(
                f"{where}: unknown argument(s) {', '.join(unknown)}; expected one of {', '.join(MARKER_KEYS)}"
            )
        for key, value in changes.items():
            if value is not None:
                try:
                    changes[key] = checked_option(key, value)
                except ValueError as error:
                    raise ValueError(f"{where}: {key}: {error}") from None
        return changes


def release_params(versions: Any) -> list[str]:
    """The releases ``versions=[...]`` of the ``pve_cluster`` marker names (``["7.4", "8.4"]`` -> ``["7.4-2",
    "8.4.2"]``), each resolved by the registry, or ``ValueError``."""
    if isinstance(versions, (str, bytes)) or not isinstance(versions, (list, tuple)) or not versions:
        raise ValueError(f"must be a non-empty list of PVE versions, not {versions!r}")
    return [supported_release(version) for version in versions]


def checked_option(key: str, value: Any) -> Any:
    """``value`` of the cluster option ``key`` as the cluster takes it, or ``ValueError`` saying what is wrong.

    The scenario is only checked to exist here (a file's content is checked, with its lines, when it is built).
    """
    if key == "scenario":
        if not isinstance(value, (str, Path)) or not str(value):
            raise ValueError(f"must be a built-in scenario name or a YAML file path, not {value!r}")
        from pytest_pvemock.model.builders.scenario import scenario_text

        scenario_text(value)  # an unknown name or an unreadable file: ScenarioError (a ValueError) says which
        return value
    if key == "version":
        return supported_release(value)
    if key == "task_mode":
        if value not in TASK_MODES:
            raise ValueError(f"must be one of {', '.join(TASK_MODES)}, not {value!r}")
        return value
    if key in ("validate", "refuse_other_hosts"):
        if not isinstance(value, bool):
            raise ValueError(f"must be True or False, not {value!r}")
        return value
    if key == "timezone":
        zone_info(value)
        return value
    if key == "ha_chaos":
        chaos_settings(value)
        return value
    raise ValueError(f"unknown option {key!r}; expected one of {', '.join(MARKER_KEYS)}")
