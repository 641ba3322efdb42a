"""The specs catch a broken rule: with the 59-ФЗ answer term changed from 30 to 25 days in a copy
of the rules, the same steps that check «Письменное обращение рассматривается в течение 30 дней
со дня регистрации» (specs/deadlines/сроки_59_фз.feature) no longer pass."""

from __future__ import annotations

import shutil

import pytest
import yaml

from tests.bdd.conftest import Api, answer_due, text_arrives, the_district
from tests.conftest import REPO


@pytest.fixture
def app_with_25_day_term(make_app, tmp_path):
    """The founding districts loaded from a copy of tenants/ and rules/ whose fz59 answer timer says 25."""
    shutil.copytree(REPO / "tenants", tmp_path / "tenants")
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    path = tmp_path / "rules" / "deadlines" / "fz59.yaml"
    profile = yaml.safe_load(path.read_text(encoding="utf-8"))
    answer = next(t for t in profile["timers"] if t["id"] == "answer")
    assert answer["amount"] == 30, "the copy must start from the law's 30 days"
    answer["amount"] = 25
    path.write_text(yaml.safe_dump(profile, allow_unicode=True, sort_keys=False), encoding="utf-8")
    app = make_app(TENANTS_DIR=str(tmp_path / "tenants"), RULES_DIR=str(tmp_path / "rules"))
    result = app.test_cli_runner().invoke(args=["tenants", "load"])
    assert result.exit_code == 0, result.output
    return app


def test_a_25_day_answer_term_fails_the_30_day_scenario(app_with_25_day_term):
    api = Api(app_with_25_day_term)
    district = the_district(api, "Кондинский район")
    message = text_arrives(
        api, district, "03.03.2025", "10:00", "Письменные обращения", "Прошу отремонтировать дорогу"
    )
    with pytest.raises(AssertionError):
        answer_due(api, district, message, "02.04.2025")
    # The mutation did take effect: 03.03.2025 + 25 days = 28.03.2025, a Friday.
    answer_due(api, district, message, "28.03.2025")
