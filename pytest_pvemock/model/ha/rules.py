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


def _disjoint_resource_sets(rules: list[Rule]) -> list[tuple[list[str], set[str]]]:
    """Group rules whose resources overlap (one pass, rules ordered by their lowest resource id)."""
    ordered = sorted(sorted(rules, key=lambda r: r.id), key=lambda r: min(r.resources))
    groups: list[tuple[list[str], set[str]]] = []
    for rule in ordered:
        for ids, resources in groups:
            if resources & rule.resources:
                ids.append(rule.id)
                resources.update(rule.resources)
                break
        else:
            groups.append(([rule.id], set(rule.resources)))
    return groups


_IN_AFFINITY_WITH_PRIORITIES = (
    "resources are in a resource affinity rule and cannot be in a node affinity rule with multiple priorities"
)
_POSITIVE_WITH_OTHER_NODE_RULES = (
    "at least one resource is in a positive resource affinity rule and there are other resources in at least"
    " one other node affinity rule already"
)
_NEGATIVE_TOO_FEW_NODES = (
    "at least one resource is in a negative resource affinity rule and this rule would restrict these to less"
    " nodes than available to the resources"
)


def _feasibility_errors(rules: list[Rule], nodes: list[str]) -> dict[str, list[str]]:
    """Rules that cannot be satisfied together, with PVE's reasons (``Rules::check_feasibility``)."""
    errors: dict[str, list[str]] = {}
    active = [rule for rule in rules if not rule.disable]
    node_rules = [r for r in active if r.type == "node-affinity"]
    affinity_rules = [r for r in active if r.type == "resource-affinity"]
    positive = [r for r in affinity_rules if r.affinity == "positive"]
    negative = [r for r in affinity_rules if r.affinity == "negative"]

    def add(rule_id: str, message: str) -> None:
        errors.setdefault(rule_id, []).append(message)

    users: dict[str, list[str]] = {}
    for rule in node_rules:
        for sid in rule.resources:
            users.setdefault(sid, []).append(rule.id)
    for sid in sorted(users):
        if len(users[sid]) > 1:
            for rule_id in users[sid]:
                add(rule_id, f"resource '{sid}' is already used in another node affinity rule")
    for rule in affinity_rules:
        if len(rule.resources) < 2:
            add(rule.id, "rule is ineffective as there are less than two resources")
    for rule in negative:
        if len(rule.resources) > len(nodes):
            add(rule.id, "rule defines more resources than available nodes")
    positive_sets = _disjoint_resource_sets(positive)
    for ids, resources in positive_sets:
        for rule in negative:
            if len(resources & rule.resources) >= 2:
                add(rule.id, "rule shares two or more resources with a positive resource affinity rule")
                for rule_id in ids:
                    add(rule_id, "rule shares two or more resources with a negative resource affinity rule")
    for rule in affinity_rules:
        paired = [n for n in node_rules if n.resources & rule.resources]
        if any(len(set(n.nodes.values())) > 1 for n in paired):
            add(rule.id, "resources are in node affinity rules with multiple priorities")
            for n in paired:
                add(n.id, _IN_AFFINITY_WITH_PRIORITIES)
    for ids, resources in positive_sets:
        paired = [n for n in node_rules if n.resources & resources]
        if len(paired) > 1:
            for rule_id in ids:
                add(rule_id, "resources are in multiple node affinity rules")
            for n in paired:
                add(n.id, _POSITIVE_WITH_OTHER_NODE_RULES)
    for rule in negative:
        paired = [n for n in node_rules if n.resources & rule.resources]
        located = set().union(*(n.resources & rule.resources for n in paired)) if paired else set()
        allowed = set().union(*(set(n.nodes) for n in paired)) if paired else set()
        if len(allowed) < len(located):
            add(rule.id, "two or more resources are restricted to less nodes than available to the resources")
            for n in paired:
                add(n.id, _NEGATIVE_TOO_FEW_NODES)
    return errors


def canonicalize_rules(rules: list[Rule], nodes: list[str]) -> tuple[list[Rule], list[str]]:
    """Drop infeasible rules and add the implied ones (``PVE::HA::Rules::transform``): merged positive
    rules, implicit negative affinities of positive groups, node affinity shared by a positive group.
    """
    errors = _feasibility_errors(rules, nodes)
    messages = [
        f"Drop rule '{rule_id}', because {message}." for rule_id in sorted(errors) for message in errors[rule_id]
    ]
    kept = [Rule(**{**vars(rule), "resources": set(rule.resources)}) for rule in rules if rule.id not in errors]

    positive = [r for r in kept if r.type == "resource-affinity" and r.affinity == "positive" and not r.disable]
    for ids, resources in _disjoint_resource_sets(positive):
        if len(ids) < 2:
            continue
        merged = Rule(id="_merged-" + "-".join(ids), type="resource-affinity", resources=resources, affinity="positive")
        kept = [r for r in kept if r.id not in ids] + [merged]

    positive = [r for r in kept if r.type == "resource-affinity" and r.affinity == "positive" and not r.disable]
    negative = [r for r in kept if r.type == "resource-affinity" and r.affinity == "negative" and not r.disable]
    for rule in positive:
        separated: dict[str, set[str]] = {}
        for neg in negative:
            for sid in rule.resources & neg.resources:
                for other in neg.resources - {sid}:
                    separated.setdefault(other, set()).add(sid)
        for other in sorted(separated):
            for sid in sorted(rule.resources - separated[other]):
                kept.append(
                    Rule(
                        id=f"_implicit-negative-{rule.id}-{sid}-{other}",
                        type="resource-affinity",
                        resources={sid, other},
                        affinity="negative",
                    )
                )

    node_rules = [r for r in kept if r.type == "node-affinity" and not r.disable]
    for rule in positive:
        for node_rule in node_rules:
            if node_rule.resources & rule.resources:
                node_rule.resources |= rule.resources
                break
    return kept, messages


def section_config_text(entries: list[dict[str, Any]], id_key: str) -> str:
    """API-shaped entries (``{"rule": "r1", "type": "node-affinity", "resources": "vm:100", ...}``) as the
    section config text a host returns from ``read_rules_config`` / ``read_groups_config``.

    ``id_key`` is ``rule`` for rules and ``group`` for groups (whose type is always ``group``).
    """
    blocks = []
    for entry in entries:
        kind = entry.get("type") or "group"
        lines = [f"{kind}: {entry[id_key]}"]
        for key, value in entry.items():
            if key in (id_key, "type", "digest", "order") or value is None:
                continue
            if isinstance(value, (list, tuple, set)):
                value = ",".join(str(v) for v in value)
            lines.append(f"\t{key} {value}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
