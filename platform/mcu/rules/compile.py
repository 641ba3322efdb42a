"""A tenant's effective rules: the shared rule sets it switches on, with its parameters put in,
and its own rules — each carrying the decree clause it implements. Pure: config in, rules out.

Rules are single-pattern (one event, conditions on that event's fact fields), so a rule book is
both a durable-rules ruleset (`durable_definition`) and a plain list a Python loop can match
(`Rule.matches`, the reference the engine is checked and benchmarked against).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mcu.tenancy.config import TenantConfig

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in")
_PY = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_DURABLE = {"ne": "$neq", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
# Fields of an action that a shared rule set may fill from a parameter.
PARAM_FIELDS = ("hours", "days")


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any

    def holds(self, fact: dict[str, Any]) -> bool:
        # A missing field satisfies no condition, `ne` included: durable-rules behaves so.
        if self.field not in fact:
            return False
        actual = fact[self.field]
        if self.op == "in":
            return any(_same(actual, v) for v in self.value)
        if self.op == "eq":
            return _same(actual, self.value)
        if self.op == "ne":
            return not _same(actual, self.value)
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        return _PY[self.op](actual, self.value)

    def durable(self) -> dict[str, Any]:
        if self.op == "eq":
            return {self.field: self.value}
        if self.op == "in":
            return {"$or": [{self.field: v} for v in self.value]}
        return {_DURABLE[self.op]: {self.field: self.value}}

    def describe(self) -> str:
        sign = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "in": "∈"}[self.op]
        return f"{self.field} {sign} {self.value}"


def _same(a: Any, b: Any) -> bool:
    # true is not 1 here, as in JSON.
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


@dataclass(frozen=True)
class Rule:
    id: str  # «<set>/<rule>» for shared rules, «district/<rule>» for the district's own
    rule_set: str | None
    title: str
    on: str
    when: tuple[Condition, ...]
    then: tuple[dict[str, Any], ...]
    source: dict[str, Any]

    def matches(self, fact: dict[str, Any]) -> bool:
        return fact.get("event") == self.on and all(c.holds(fact) for c in self.when)

    def durable(self) -> dict[str, Any]:
        return {"$and": [{"event": self.on}, *(c.durable() for c in self.when)]}


@dataclass(frozen=True)
class RuleBook:
    tenant: str
    version_hash: str
    rules: tuple[Rule, ...]
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        # durable-rules cannot re-register a name: a new config version is a new ruleset.
        return f"{self.tenant}__{self.version_hash[:16]}"

    def param(self, rule_set: str, name: str, default: Any = None) -> Any:
        return self.params.get(rule_set, {}).get(name, default)

    def enabled(self, rule_set: str) -> bool:
        return rule_set in self.params

    @cached_property
    def fields(self) -> frozenset[str]:
        """Fact fields some rule looks at: facts that cost a query are computed only if used."""
        return frozenset(c.field for r in self.rules for c in r.when)

    @cached_property
    def events(self) -> frozenset[str]:
        return frozenset(r.on for r in self.rules)

    def durable_definition(self) -> dict[str, Any]:
        return {
            self.name: {
                f"r{i}": {"all": [{"m": rule.durable()}], "run": f"r{i}"}
                for i, rule in enumerate(self.rules)
                if not any(c.op == "in" and not c.value for c in rule.when)
            }
        }

    def match_python(self, fact: dict[str, Any]) -> list[Rule]:
        return [r for r in self.rules if r.matches(fact)]


def _conditions(when: dict[str, Any] | None, params: dict[str, Any], where: str) -> tuple[Condition, ...]:
    out = []
    for name, cond in (when or {}).items():
        if isinstance(cond, dict) and "param" not in cond:
            for op, value in cond.items():
                if op not in OPERATORS:
                    raise RuleError(f"{where}: неизвестный оператор «{op}»")
                out.append(Condition(name, op, _value(value, params, where)))
        else:
            out.append(Condition(name, "eq", _value(cond, params, where)))
    return tuple(out)


def _value(value: Any, params: dict[str, Any], where: str) -> Any:
    if isinstance(value, dict) and "param" in value:
        if value["param"] not in params:
            raise RuleError(f"{where}: параметр «{value['param']}» не объявлен в наборе")
        return params[value["param"]]
    return value


def _action(action: dict[str, Any], params: dict[str, Any], where: str) -> dict[str, Any]:
    return {k: (_value(v, params, where) if k in PARAM_FIELDS else v) for k, v in action.items()}


def set_params(rule_set: dict[str, Any], used: dict[str, Any]) -> dict[str, Any]:
    """The set's parameters: its defaults, overridden by the district's values."""
    values = {name: spec.get("default") for name, spec in (rule_set.get("params") or {}).items()}
    for name, value in (used.get("params") or {}).items():
        values[name] = value["value"] if isinstance(value, dict) else value
    return values


def compile_rules(config: TenantConfig) -> RuleBook:
    escalation = config.data.get("escalation") or {}
    library = config.resolved.get("rule_sets") or {}
    rules: list[Rule] = []
    params: dict[str, dict[str, Any]] = {}
    for used in escalation.get("rule_sets") or []:
        if not used.get("enabled", True):
            continue
        rule_set = library.get(used["use"])
        if rule_set is None:
            raise RuleError(f"набор правил «{used['use']}» отсутствует в данных версии конфигурации")
        values = set_params(rule_set, used)
        params[rule_set["id"]] = values
        district_source = used.get("source") or {}
        for rule in rule_set["rules"]:
            where = f"{rule_set['id']}/{rule['id']}"
            rules.append(
                Rule(
                    id=where,
                    rule_set=rule_set["id"],
                    title=rule["title"],
                    on=rule["on"],
                    when=_conditions(rule.get("when"), values, where),
                    then=tuple(_action(a, values, where) for a in rule["then"]),
                    source={
                        **district_source,
                        **({"rule_clause": rule["clause"]} if rule.get("clause") else {}),
                        "basis": rule_set.get("basis"),
                    },
                )
            )
    for rule in escalation.get("rules") or []:
        where = f"district/{rule['id']}"
        rules.append(
            Rule(
                id=where,
                rule_set=None,
                title=rule.get("title", rule["id"]),
                on=rule["on"],
                when=_conditions(rule.get("when"), {}, where),
                then=tuple(dict(a) for a in rule["then"]),
                source=dict(rule.get("source") or {}),
            )
        )
    return RuleBook(tenant=config.slug, version_hash=config.version_hash, rules=tuple(rules), params=params)
