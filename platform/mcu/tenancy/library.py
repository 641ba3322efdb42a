"""The shared library in rules/: federal acts, topics, deadline profiles, escalation rule sets
and the KPI catalogue. Districts refer to these by id; the cross-checks need to know them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcu.tenancy.yamlsrc import Loc, LocDict, Problem, load, locate


@dataclass
class Library:
    root: Path
    acts: dict[str, dict[str, Any]] = field(default_factory=dict)
    topics: dict[str, dict[str, Any]] = field(default_factory=dict)
    threat_to_life: dict[str, Any] = field(default_factory=dict)
    deadline_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    rule_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    indicators: dict[str, dict[str, Any]] = field(default_factory=dict)

    def rule_set_role_kinds(self, rule_set_id: str) -> set[str]:
        kinds: set[str] = set()
        for rule in self.rule_sets.get(rule_set_id, {}).get("rules", []):
            for action in rule.get("then", []):
                if "role_kind" in action:
                    kinds.add(action["role_kind"])
        return kinds


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _items(data: Any, key: str, file: str, problems: list[Problem]) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        problems.append(Problem(Loc(file, 1, 1), f"ожидается список «{key}»"))
        return []
    out = []
    seen: set[str] = set()
    for i, item in enumerate(data[key]):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            problems.append(Problem(locate(data, [key, i]), "у элемента нет идентификатора «id»"))
            continue
        if item["id"] in seen:
            problems.append(
                Problem(locate(data, [key, i, "id"]), f"идентификатор «{item['id']}» повторяется")
            )
        seen.add(item["id"])
        out.append(item)
    return out


def _param_references(rule_set: LocDict) -> list[Problem]:
    """`{param: x}` must name a parameter the set declares."""
    declared = set(rule_set.get("params") or {})
    problems = []

    def walk(node: Any, path: list[Any]) -> None:
        if isinstance(node, dict):
            if set(node) == {"param"} and isinstance(node["param"], str) and node["param"] not in declared:
                problems.append(
                    Problem(
                        locate(rule_set, path),
                        f"параметр «{node['param']}» не объявлен в разделе params набора «{rule_set.get('id')}»",
                    )
                )
            for key, value in node.items():
                walk(value, [*path, key])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, [*path, i])

    walk(rule_set.get("rules"), ["rules"])
    return problems


def load_library(root: Path) -> tuple[Library, list[Problem]]:
    lib = Library(root=root)
    problems: list[Problem] = []

    def read(path: Path) -> Any:
        data, errs = load(path, _rel(path, root))
        problems.extend(errs)
        return data

    acts_file = root / "acts.yaml"
    for item in _items(read(acts_file), "acts", _rel(acts_file, root), problems):
        lib.acts[item["id"]] = item
    topics_file = root / "topics.yaml"
    topics = read(topics_file)
    for item in _items(topics, "topics", _rel(topics_file, root), problems):
        lib.topics[item["id"]] = item
    if isinstance(topics, dict) and isinstance(topics.get("threat_to_life"), dict):
        lib.threat_to_life = topics["threat_to_life"]
    kpi_file = root / "kpi" / "indicators.yaml"
    kpi = read(kpi_file)
    if isinstance(kpi, LocDict):
        from mcu.tenancy.schema import validate

        problems.extend(validate(kpi, "kpi-catalogue"))
    for item in _items(kpi, "indicators", _rel(kpi_file, root), problems):
        lib.indicators[item["id"]] = item
    for folder, target in (("deadlines", lib.deadline_profiles), ("escalation", lib.rule_sets)):
        for path in sorted((root / folder).glob("*.yaml")):
            data = read(path)
            if not isinstance(data, LocDict) or not isinstance(data.get("id"), str):
                problems.append(Problem(Loc(_rel(path, root), 1, 1), "нет идентификатора «id»"))
                continue
            if folder == "escalation":
                from mcu.tenancy.schema import validate

                errors = validate(data, "rule-set")
                problems.extend(errors)
                problems.extend(_param_references(data))
                if errors:
                    continue
            if data["id"] in target:
                problems.append(Problem(locate(data, ["id"]), f"идентификатор «{data['id']}» повторяется"))
            target[data["id"]] = data
    return lib, problems
