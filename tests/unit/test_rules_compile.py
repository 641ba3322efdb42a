"""Compiling tenants' rules, and durable-rules matching exactly as the plain reference does."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest

from mcu.rules import engine
from mcu.rules.compile import Condition, Rule, RuleBook, RuleError, compile_rules
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.loader import read_tenants

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def configs() -> dict[str, TenantConfig]:
    result = read_tenants(None, tenants_dir=REPO / "tenants", rules_dir=REPO / "rules")
    assert result.ok, result.problems
    return {slug: src.as_config(i) for i, (slug, src) in enumerate(sorted(result.tenants.items()), start=1)}


def test_parameters_are_put_into_rules_and_every_rule_carries_its_clause(configs):
    book = compile_rules(configs["khanty-mansiysky"])
    rules = {r.id: r for r in book.rules}
    spike = rules["emergency/emergency-spike"]
    assert Condition("growth_index", "gt", 3.0) in spike.when  # ХМ Регламент п.5.1: «больше 3,00»
    report = rules["emergency/emergency-report-cadence"].then[0]
    assert report["do"] == "repeat_every" and report["hours"] == 2  # п.5.5
    monitoring = rules["emergency/emergency-monitoring-cadence"].then[0]
    assert monitoring["hours"] == 1  # п.5.6, ХМ only
    for rule in book.rules:
        assert rule.source.get("act"), rule.id
    assert rules["district/khm-red-zone-block-responsible"].source["clause"] == "Регламент п.4.2.4"


def test_kondinsky_has_no_hourly_monitoring_and_nekrasovsky_only_overdue(configs):
    kond = compile_rules(configs["kondinsky"])
    cadence = next(r for r in kond.rules if r.id == "emergency/emergency-monitoring-cadence")
    assert cadence.then[0]["hours"] == 0  # п.5.6 sets no period: no separate schedule
    nekr = compile_rules(configs["nekrasovsky"])
    assert {r.rule_set for r in nekr.rules} == {"overdue"}


def test_a_disabled_rule_set_contributes_nothing(configs):
    kond = compile_rules(configs["kondinsky"])
    assert "no-feedback" not in {r.rule_set for r in kond.rules}
    assert not kond.enabled("no-feedback")


def test_an_undeclared_parameter_is_an_error(configs):
    config = configs["khanty-mansiysky"]
    broken = {**config.resolved["rule_sets"]["overdue"]}
    broken["rules"] = [{**broken["rules"][0], "then": [{"do": "set_deadline", "hours": {"param": "nope"}}]}]
    resolved = {**config.resolved, "rule_sets": {**config.resolved["rule_sets"], "overdue": broken}}
    with pytest.raises(RuleError, match="nope"):
        compile_rules(TenantConfig(**{**config.__dict__, "resolved": resolved}))


def _random_fact(rng: random.Random) -> dict:
    fact = {"event": rng.choice(["message_received", "deadline_due", "answer_rated", "heatmap_updated"])}
    if rng.random() < 0.8:
        fact["timer"] = rng.choice(["answer", "no_feedback", "overdue_followup", "x"])
    if rng.random() < 0.8:
        fact["block"] = rng.choice(["a", "b", "c"])
    if rng.random() < 0.7:
        fact["growth_index"] = rng.choice([0, 1.5, 3.0, 3.01, 7])
    if rng.random() < 0.7:
        fact["score"] = rng.randint(1, 5)
    if rng.random() < 0.7:
        fact["threat_to_life"] = rng.random() < 0.5
    return fact


def test_durable_rules_matches_what_the_plain_reference_matches(configs):
    rng = random.Random(7)
    synthetic = RuleBook(
        tenant="synthetic",
        version_hash=uuid.uuid4().hex,
        rules=(
            Rule("s/1", None, "t", "deadline_due", (Condition("timer", "eq", "answer"),), (), {}),
            Rule("s/2", None, "t", "message_received", (Condition("growth_index", "gt", 3.0),), (), {}),
            Rule("s/3", None, "t", "answer_rated", (Condition("score", "lte", 2),), (), {}),
            Rule("s/4", None, "t", "deadline_due", (Condition("block", "in", ["a", "b"]),), (), {}),
            Rule("s/5", None, "t", "message_received", (Condition("block", "ne", "a"),), (), {}),
            Rule("s/6", None, "t", "message_received", (Condition("threat_to_life", "eq", True),), (), {}),
            Rule("s/7", None, "t", "heatmap_updated", (), (), {}),
            Rule(
                "s/8",
                None,
                "t",
                "message_received",
                (Condition("growth_index", "gte", 3.0), Condition("growth_index", "lt", 7)),
                (),
                {},
            ),
        ),
    )
    books = [synthetic, *(compile_rules(c) for c in configs.values())]
    checked = matched = 0
    for _ in range(3000):
        fact = _random_fact(rng)
        for book in books:
            expected = [r.id for r in book.match_python(fact)]
            assert [r.id for r in engine.evaluate(book, fact)] == expected, (book.tenant, fact)
            checked += 1
            matched += bool(expected)
    assert matched > 500  # the facts exercise the rules, not only the misses
