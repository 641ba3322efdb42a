"""The located YAML loader."""

from __future__ import annotations

from mcu.tenancy.yamlsrc import Loc, loads, locate


def test_locations_of_keys_and_values():
    data, problems = loads("a: 1\nlist:\n  - x: 2\n    y: [3, 4]\n", "f.yaml")
    assert problems == []
    assert locate(data, ["a"]) == Loc("f.yaml", 1, 4)
    assert locate(data, ["list", 0, "y"]) == Loc("f.yaml", 4, 8)
    assert locate(data, ["list", 0, "y"], key=True) == Loc("f.yaml", 4, 5)
    assert locate(data, ["list", 0, "missing"]) == Loc("f.yaml", 3, 5)  # nearest known place


def test_keys_stay_text_and_dates_stay_iso_strings():
    data, _ = loads("on: deadline_due\n2024: 90\nyes: no\nd: 2024-11-25\n", "f.yaml")
    assert data == {"on": "deadline_due", "2024": 90, "yes": False, "d": "2024-11-25"}


def test_duplicate_keys_are_problems_at_the_second_key():
    _, problems = loads("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert [str(p) for p in problems] == ["f.yaml:3:1: ключ «a» повторяется (первый раз в строке 1)"]


def test_syntax_error_location():
    data, problems = loads("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    assert data is None
    assert problems[0].loc.file == "f.yaml" and problems[0].loc.line == 3
    assert "ошибка синтаксиса YAML" in problems[0].message


def test_empty_and_multi_document_files():
    assert loads("", "f.yaml")[1][0].message == "файл пуст"
    assert "больше одного" in loads("a: 1\n---\nb: 2\n", "f.yaml")[1][0].message


def test_merge_keys_are_refused():
    _, problems = loads("base: &b {x: 1}\nother:\n  <<: *b\n", "f.yaml")
    assert "ключ слияния" in problems[0].message
