"""The spec book and the specs lint: on the real specs, and on broken ones made for the test."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from mcu.specbook.book import build
from mcu.specbook.lint import lint

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "specs"
FOUNDING = {"kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky"}


def test_the_real_specs_pass_the_lint():
    problems = lint(SPECS, REPO / "tests" / "bdd")
    assert [str(p) for p in problems] == []


def test_the_book_has_every_founding_decree_and_every_clause_is_checked_or_explained(tmp_path):
    book = build(SPECS, tmp_path)
    assert {s.act.tenant for s in book.sections} >= FOUNDING
    for section in book.sections:
        assert section.rows, section.act.act
        for row in section.rows:
            if row.clause.automated:
                assert row.cases, (section.act.act, row.clause.tag)
            else:
                assert row.clause.reason and len(row.clause.reason) > 15, (section.act.act, row.clause.tag)
    # Scenarios of the federal law are listed under it, not under a district's decree.
    fz59 = next(s for s in book.sections if s.act.act == "fz59")
    assert any(r.cases for r in fz59.rows if r.clause.tag == "st_12_ch_1")


# ---------------------------------------------------------------- made-up specs
CATALOGUE = """
act: test-1
tenant: alpha
tenant_tag: alpha
title: Постановление района Альфа
file: null
clauses:
  - tag: reglament_1
    title: Регламент, п.1
    text: Сообщение направляется руководителю блока.
    automated: true
  - tag: reglament_2
    title: Регламент, п.2
    text: Куратор утверждает план.
    not_automated: организационная обязанность куратора, не поведение программы
"""

FEATURE = """# language: ru
Функция: Маршрутизация

  @alpha @reglament_1
  Сценарий: Сообщение уходит руководителю блока
    Дано район «Альфа»
"""


def _specs(tmp_path: Path, feature: str = FEATURE, catalogue: str = CATALOGUE) -> Path:
    specs = tmp_path / "specs"
    (specs / "clauses").mkdir(parents=True)
    (specs / "clauses" / "alpha.yaml").write_text(catalogue, encoding="utf-8")
    (specs / "routing").mkdir()
    (specs / "routing" / "маршрутизация.feature").write_text(feature, encoding="utf-8")
    return specs


def test_a_clean_made_up_spec_passes(tmp_path):
    assert lint(_specs(tmp_path)) == []


@pytest.mark.parametrize(
    ("feature", "expected"),
    [
        (FEATURE.replace("@alpha @reglament_1", "@reglament_1"), "нет тега района"),
        (FEATURE.replace("@alpha @reglament_1", "@alpha"), "нет тега пункта"),
        (FEATURE.replace("@reglament_1", "@reglament_1 @reglament_9"), "тег @reglament_9: такого пункта нет"),
        (FEATURE.replace("# language: ru\n", ""), "# language: ru"),
        (
            FEATURE.replace("  Сценарий: Сообщение уходит руководителю блока\n", ""),
            "не разбирается парсером Gherkin",
        ),
        (FEATURE.replace("@reglament_1", "@reglament_1 @reglament_2"), "отмечен not_automated, а сценарий"),
    ],
)
def test_the_lint_names_each_kind_of_problem(tmp_path, feature, expected):
    problems = [str(p) for p in lint(_specs(tmp_path, feature))]
    assert any(expected in p for p in problems), problems


def test_an_automated_clause_without_a_scenario_is_reported(tmp_path):
    feature = FEATURE.replace("@alpha @reglament_1", "@alpha @not_in_decree")
    problems = [str(p) for p in lint(_specs(tmp_path, feature))]
    assert problems == [
        "clauses/alpha.yaml reglament_1: отмечен automated, но ни один сценарий его не проверяет"
    ]


def test_two_step_definitions_with_the_same_text_are_reported(tmp_path):
    steps = tmp_path / "steps"
    steps.mkdir()
    (steps / "a.py").write_text('@given(parsers.parse("район «{name}»"))\ndef a(): ...\n', encoding="utf-8")
    (steps / "b.py").write_text(
        textwrap.dedent("""
            @given(parsers.parse("район «{name}»"))
            def b(): ...
            @then("другое")
            def c(): ...
        """),
        encoding="utf-8",
    )
    problems = [str(p) for p in lint(_specs(tmp_path), steps)]
    assert problems == ["b.py:2: шаг «given: район «{name}»» уже определён в a.py:1"]


def test_the_book_shows_each_runs_result(tmp_path):
    specs = _specs(tmp_path)
    results = tmp_path / "results"
    results.mkdir()
    case = {"scenario": "Сообщение уходит руководителю блока", "tags": ["alpha", "reglament_1"]}
    (results / "spec-results-sqlite.json").write_text(
        json.dumps(
            {
                "database": "sqlite",
                "finished_at": "2026-12-04T10:00:00+00:00",
                "cases": [{**case, "outcome": "passed"}],
            }
        ),
        encoding="utf-8",
    )
    (section,) = build(specs, results).sections
    assert [r.status for r in section.rows] == ["passed", "not_automated"]
    (results / "spec-results-postgres.json").write_text(
        json.dumps({"database": "postgres", "cases": [{**case, "outcome": "failed"}]}), encoding="utf-8"
    )
    (section,) = build(specs, results).sections
    assert section.rows[0].status == "failed"
    assert section.rows[0].cases[0].outcomes == {"postgres": "failed", "sqlite": "passed"}
