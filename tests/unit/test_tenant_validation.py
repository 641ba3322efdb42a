"""`mcu tenants validate`: every broken tenant file yields the right `file:line` message, exit 1.

Each case makes one change to the valid fixture tree (region `testreg`, district `alpha`); the
expected line is where an anchor string stands in the changed file, so a message reported at the
wrong line fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mcu.tenancy.loader import read_tenants
from tests.conftest import REPO


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    old: str
    new: str
    message: str
    anchor: str | None = None  # where the problem is reported; defaults to `new`
    line_offset: int = 0  # lines below the anchor


CASES = [
    Case(
        "yaml-syntax",
        "alpha.yaml",
        "  short: Альфинский район",
        "  short: [Альфинский район",
        "ошибка синтаксиса YAML",
        anchor="population",
    ),
    Case(
        "wrong-type",
        "alpha.yaml",
        "{value: 12000, year: 2024}",
        "{value: много, year: 2024}",
        "поле «value»: ожидается целое число, указано «много»",
        anchor="population",
    ),
    Case(
        "unknown-key",
        "alpha.yaml",
        "    topic: roads\n    head: pos-roads",
        "    topic: roads\n    heda: pos-roads",
        "неизвестное поле «heda» — возможно, имелось в виду «head»",
        anchor="    heda",
    ),
    Case(
        "duplicate-key",
        "alpha.yaml",
        "    topic: roads\n",
        "    topic: roads\n    topic: zhkh\n",
        "ключ «topic» повторяется",
        anchor="    topic: zhkh",
    ),
    Case(
        "dangling-head",
        "alpha.yaml",
        "    head: pos-roads",
        "    head: pos-nowhere",
        "блок «roads»: руководитель «pos-nowhere» — нет такой должности в разделе roster",
    ),
    Case(
        "head-without-block-role",
        "alpha.yaml",
        "    head: pos-zhkh",
        "    head: pos-head",
        "должность «pos-head» не имеет роли руководителя блока",
    ),
    Case(
        "unknown-roster-role",
        "alpha.yaml",
        "    roles: [block-head]\n    blocks: [zhkh]",
        "    roles: [block-boss]\n    blocks: [zhkh]",
        "роль «block-boss» не определена в разделе roles",
        anchor="block-boss",
    ),
    Case(
        "rule-unknown-role",
        "alpha.yaml",
        "{do: notify, role: head,",
        "{do: notify, role: chief,",
        "правило «roads-notify-head»: роль «chief» не определена",
    ),
    Case(
        "rule-unknown-block",
        "alpha.yaml",
        "when: {block: roads}",
        "when: {block: rivers}",
        "правило «roads-notify-head»: отраслевой блок «rivers» не определён",
    ),
    Case(
        "kpi-out-of-range",
        "alpha.yaml",
        '"2025": 85',
        '"2025": 185',
        "2025 год: 185% — значение в процентах должно быть от 0 до 100",
        anchor="targets",
    ),
    Case(
        "kpi-years-out-of-order",
        "alpha.yaml",
        '{"2024": 80, "2025": 85}',
        '{"2025": 85, "2024": 80}',
        "годы указаны не по порядку (2025, 2024)",
        anchor="targets",
    ),
    Case(
        "unknown-act",
        "alpha.yaml",
        "{act: alpha-mcu, clause: Состав п.1}",
        "{act: alpha-mcu-2, clause: Состав п.1}",
        "источник ссылается на акт «alpha-mcu-2»",
    ),
    Case(
        "bad-date",
        "alpha.yaml",
        'date: "2024-03-01"',
        'date: "2024-02-30"',
        "«2024-02-30» — нужна существующая дата ГГГГ-ММ-ДД",
    ),
    Case("bad-enum", "alpha.yaml", "kind: urban", "kind: town", "значение «town» не из допустимых"),
    Case(
        "missing-required",
        "alpha.yaml",
        "  - id: roads\n    name: Дороги\n",
        "  - id: roads\n",
        "нет обязательного поля «name»",
        anchor="id: roads",
    ),
    Case(
        "unknown-rule-set",
        "alpha.yaml",
        "    - use: overdue",
        "    - use: overdo",
        "набор правил «overdo» не найден в rules/escalation/",
    ),
    Case(
        "unknown-param",
        "alpha.yaml",
        "        escalate_to_mcu_head_after_hours: {value: 12",
        "        escalate_after: {value: 12",
        "набор правил «overdue» не знает параметра «escalate_after»",
        anchor="escalate_after",
    ),
    Case(
        "rule-set-role-kind-missing",
        "alpha.yaml",
        "    - use: overdue\n",
        "    - use: emergency\n    - use: overdue\n",
        "набор правил «emergency» адресует роль вида «mcu_curator»",
        anchor="use: emergency",
    ),
    Case("missing-region", "alpha.yaml", "region: testreg", "region: nowhere", "регион «nowhere» не найден"),
    Case(
        "slug-not-file-name",
        "alpha.yaml",
        "slug: alpha",
        "slug: alfa",
        "файл называется «alpha.yaml», а slug района — «alfa»",
    ),
    Case(
        "region-bad-timezone",
        "_region.yaml",
        "timezone: Europe/Moscow",
        "timezone: Europe/Moskva",
        "неизвестный часовой пояс «Europe/Moskva»",
    ),
    Case(
        "region-unknown-profile",
        "_region.yaml",
        "    deadline_profile: pos\n",
        "    deadline_profile: pos2\n",
        "профиль сроков «pos2» не найден",
        anchor="pos2",
    ),
    Case(
        "region-regime-mismatch",
        "_region.yaml",
        "    deadline_profile: fz59",
        "    deadline_profile: pos",
        "канал «written» принимает обращений по 59-ФЗ, а профиль «pos» — для сообщений",
        anchor="regime: appeal",
        line_offset=1,
    ),
]


def _line_of(text: str, anchor: str) -> int:
    index = text.find(anchor)
    assert index >= 0, f"anchor {anchor!r} not in file"
    # the anchor may start with a newline-free indent; report the line its first non-space char is on
    return text.count("\n", 0, index + len(anchor) - len(anchor.lstrip())) + 1


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_file_reports_file_line_and_exit_1(case, tenant_tree, runner):
    path = tenant_tree / "testreg" / case.file
    text = path.read_text(encoding="utf-8")
    assert text.count(case.old) == 1, f"{case.id}: the fixture changed; `old` must occur once"
    changed = text.replace(case.old, case.new)
    path.write_text(changed, encoding="utf-8")
    line = _line_of(changed, case.anchor or case.new) + case.line_offset

    result = runner.invoke(args=["tenants", "validate", str(tenant_tree)])

    assert result.exit_code == 1, result.output
    expected_prefix = f"{path}:{line}:"
    matching = [ln for ln in result.output.splitlines() if case.message in ln]
    assert matching, f"no message {case.message!r} in:\n{result.output}"
    assert any(ln.startswith(expected_prefix) for ln in matching), (
        f"expected at {expected_prefix}, got:\n" + "\n".join(matching)
    )


def test_valid_fixture_passes(tenant_tree, runner):
    result = runner.invoke(args=["tenants", "validate", str(tenant_tree)])
    assert result.exit_code == 0, result.output
    assert "Ошибок нет" in result.output


def test_non_utf8_file_is_reported(tenant_tree, runner):
    path = tenant_tree / "testreg" / "alpha.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1251"))
    result = runner.invoke(args=["tenants", "validate", str(tenant_tree)])
    assert result.exit_code == 1
    assert f"{path}:1:1: файл не в кодировке UTF-8" in result.output


def test_every_problem_is_reported_not_just_the_first(tenant_tree, runner):
    path = tenant_tree / "testreg" / "alpha.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    head: pos-roads", "    head: pos-nowhere").replace('"2025": 85', '"2025": 185')
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["tenants", "validate", str(tenant_tree)])
    assert "pos-nowhere" in result.output and "185%" in result.output
    assert "Найдено ошибок: 2." in result.output


def test_founding_tenants_are_valid():
    result = read_tenants(None, tenants_dir=REPO / "tenants", rules_dir=REPO / "rules")
    assert result.problems == []
    assert set(result.tenants) == {
        "kondinsky",
        "khanty-mansiysky",
        "sovetsky",
        "nekrasovsky",
        "konstantinovsky",
    }
