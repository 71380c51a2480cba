"""HA placement rules: PVE 9 ``rules.cfg`` (node-affinity, resource-affinity) and PVE 8 ``groups.cfg``.

Both files are PVE section configs. Groups are converted to ``ha-group-<name>`` node-affinity rules
(restricted -> strict; nofailback -> the resource's ``failback=0``), as the CRM does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class ConfigSyntaxError(ValueError):
    """A section config line that cannot be parsed; ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Section:
    type: str
    id: str
    line: int
    options: dict[str, str] = field(default_factory=dict)


_HEADER = re.compile(r"^(\S+):\s*(\S+)\s*$")
_OPTION = re.compile(r"^\s+(\S+)(?:\s+(.*?))?\s*$")


def parse_section_config(text: str, known_types: frozenset[str]) -> list[Section]:
    sections: list[Section] = []
    current: Section | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            if not raw.strip():
                current = None
            continue
        header = _HEADER.match(raw)
        if header and not raw[0].isspace():
            kind, ident = header.group(1).lower(), header.group(2)
            if kind not in known_types:
                raise ConfigSyntaxError(f"unknown section type '{kind}'", number)
            current = Section(kind, ident, number)
            sections.append(current)
            continue
        option = _OPTION.match(raw)
        if option and current is not None:
            current.options[option.group(1)] = option.group(2) or ""
            continue
        raise ConfigSyntaxError(f"unable to parse line: {raw.strip()!r}", number)
    return sections


def parse_node_priorities(value: str) -> dict[str, int]:
    nodes: dict[str, int] = {}
    for entry in filter(None, re.split(r"[,;\s]+", value)):
        name, _, priority = entry.partition(":")
        nodes[name] = int(priority) if priority else 0
    return nodes


def _flag(options: dict[str, str], key: str) -> bool:
    return options.get(key, "0") not in ("0", "")


@dataclass
class Rule:
    id: str
    type: str
    resources: set[str]
    nodes: dict[str, int] = field(default_factory=dict)
    strict: bool = False
    affinity: str = ""
    disable: bool = False
    comment: str = ""


@dataclass
class Group:
    id: str
    nodes: dict[str, int]
    restricted: bool = False
    nofailback: bool = False
    comment: str = ""


def parse_rules(text: str) -> list[Rule]:
    rules = []
    for section in parse_section_config(text, frozenset({"node-affinity", "resource-affinity"})):
        opts = section.options
        resources = set(filter(None, re.split(r"[,;\s]+", opts.get("resources", ""))))
        if not resources:
            raise ConfigSyntaxError(f"rule '{section.id}' has no resources", section.line)
        rule = Rule(
            id=section.id,
            type=section.type,
            resources=resources,
            disable=_flag(opts, "disable"),
            comment=opts.get("comment", ""),
        )
        if section.type == "node-affinity":
            rule.nodes = parse_node_priorities(opts.get("nodes", ""))
            rule.strict = _flag(opts, "strict")
        else:
            rule.affinity = opts.get("affinity", "")
            if rule.affinity not in ("positive", "negative"):
                raise ConfigSyntaxError(f"rule '{section.id}': affinity must be positive or negative", section.line)
        rules.append(rule)
    return rules


def parse_groups(text: str) -> dict[str, Group]:
    groups = {}
    for section in parse_section_config(text, frozenset({"group"})):
        opts = section.options
        groups[section.id] = Group(
            id=section.id,
            nodes=parse_node_priorities(opts.get("nodes", "")),
            restricted=_flag(opts, "restricted"),
            nofailback=_flag(opts, "nofailback"),
            comment=opts.get("comment", ""),
        )
    return groups


def group_rules(groups: dict[str, Group], service_config: dict[str, dict[str, Any]]) -> list[Rule]:
    """The node-affinity rules that stand for the groups used by resources."""
    members: dict[str, set[str]] = {}
    for sid, cfg in service_config.items():
        if cfg.get("group"):
            members.setdefault(cfg["group"], set()).add(sid)
    rules = []
    for name in sorted(members):
        group = groups.get(name)
        if group is None:
            continue
        rules.append(
            Rule(
                id=f"ha-group-{name}",
                type="node-affinity",
                resources=members[name],
                nodes=dict(group.nodes),
                strict=group.restricted,
                comment=group.comment or f"Generated from HA group '{name}'.",
            )
        )
    return rules


def apply_group_failback(groups: dict[str, Group], service_config: dict[str, dict[str, Any]]) -> None:
    """A resource in a group fails back unless the group says ``nofailback``."""
    for cfg in service_config.values():
        name = cfg.get("group")
        if name:
            group = groups.get(name)
            cfg["failback"] = int(not (group and group.nofailback))


@dataclass
class CompiledRules:
    node_affinity: dict[str, dict[str, int]] = field(default_factory=dict)
    positive: dict[str, set[str]] = field(default_factory=dict)
    negative: dict[str, set[str]] = field(default_factory=dict)


def compile_rules(rules: list[Rule], nodes: list[str]) -> CompiledRules:
    compiled = CompiledRules()
    for rule in rules:
        if rule.disable:
            continue
        if rule.type == "node-affinity":
            effective = dict(rule.nodes)
            if not rule.strict:
                for node in nodes:
                    effective.setdefault(node, -1)
            for sid in rule.resources:
                compiled.node_affinity[sid] = effective
        else:
            target = compiled.positive if rule.affinity == "positive" else compiled.negative
            for sid in rule.resources:
                target.setdefault(sid, set()).update(rule.resources - {sid})
    return compiled


def node_affinity(compiled: CompiledRules, sid: str, online: set[str]) -> tuple[set[str], set[str]]:
    """``(allowed_nodes, preferred_nodes)``: online nodes the rules allow, and those of the top priority."""
    nodes = compiled.node_affinity.get(sid)
    if nodes is None:
        return set(online), set(online)
    allowed = {node for node in nodes if node in online}
    if not allowed:
        return set(), set()
    top = max(nodes[node] for node in allowed)
    return allowed, {node for node in allowed if nodes[node] == top}
