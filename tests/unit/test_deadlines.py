"""Due dates on the Russian working calendar, in the district's timezone, explained."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from mcu.deadlines import calendar
from mcu.deadlines.compute import answer_timer, compute_due

YEKT = ZoneInfo("Asia/Yekaterinburg")
FZ59_ANSWER = {
    "id": "answer",
    "amount": 30,
    "unit": "calendar_days",
    "from": "registered",
    "source": {"act": "fz59", "label": "59-ФЗ", "clause": "ст. 12 ч. 1"},
}


def _due(timer, start, rule="following_working_day", **settings):
    return compute_due(
        timer=timer, start=start, tz=YEKT, profile_id="p", settings={"deadline_on_day_off": rule, **settings}
    )


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2025-11-01", True),  # Saturday made a working day (transfer)
        ("2025-11-03", False),  # Monday made a day off (transfer)
        ("2025-11-04", False),  # День народного единства
        ("2025-05-08", False),  # transferred day off
        ("2026-01-09", False),  # New Year holidays
        ("2026-01-12", True),
    ],
)
def test_production_calendar(day, working):
    from datetime import date

    assert calendar.is_working_day(date.fromisoformat(day)) is working


def test_calendar_days_ending_on_a_day_off_follow_the_tenant_setting():
    start = datetime(2025, 10, 5, 6, 0, tzinfo=UTC)  # 05.10.2025 11:00 local; +30 days = 04.11 (holiday)
    following = _due(FZ59_ANSWER, start)
    preceding = _due(FZ59_ANSWER, start, rule="preceding_working_day")
    keep = _due(FZ59_ANSWER, start, rule="keep")
    assert following.at == datetime(2025, 11, 5, 23, 59, 59, tzinfo=YEKT)
    assert preceding.at == datetime(2025, 11, 1, 23, 59, 59, tzinfo=YEKT)  # the working Saturday
    assert keep.at == datetime(2025, 11, 4, 23, 59, 59, tzinfo=YEKT)
    assert "04.11.2025 — выходной" in following.text() and "(59-ФЗ, ст. 12 ч. 1)" in following.text()
    assert "30 календарных дней с момента регистрации 05.10.2025 11:00" in following.text()


def test_preceding_working_day_never_ends_before_the_start():
    timer = {"id": "answer", "amount": 7, "unit": "calendar_days"}
    start = datetime(2024, 12, 29, 9, 55, tzinfo=UTC)  # +7 = 05.01.2025, inside the New Year holidays
    due = _due(timer, start, rule="preceding_working_day")
    assert due.at > start
    assert due.at.date().isoformat() == "2025-01-09"
    assert "не позже начала срока" in due.text()


def test_working_days_and_working_hours():
    start = datetime(2025, 12, 31, 10, 0, tzinfo=UTC)  # 31.12.2025 is a day off
    days = _due({"id": "answer", "amount": 3, "unit": "working_days"}, start)
    assert days.at.date().isoformat() == "2026-01-14"  # 12, 13, 14 January
    hours = _due(
        {"id": "first", "amount": 9, "unit": "working_hours"},
        start,
        working_hours={"start": "09:00", "end": "18:00"},
    )
    assert hours.at == datetime(2026, 1, 12, 18, 0, tzinfo=YEKT)


def test_pos_answer_depends_on_the_topic():
    profile = {
        "timers": [{"id": "answer", "amount": 8, "unit": "working_days"}],
        "by_topic": {"waste": {"answer": {"amount": 3, "unit": "working_days"}}},
    }
    assert answer_timer(profile, "waste")["amount"] == 3
    assert answer_timer(profile, "roads")["amount"] == 8


@pytest.mark.parametrize(
    ("amount", "unit", "words"),
    [
        (1, "calendar_days", "1 календарный день"),
        (3, "calendar_days", "3 календарных дня"),
        (30, "calendar_days", "30 календарных дней"),
        (21, "working_days", "21 рабочий день"),
        (12, "working_hours", "12 рабочих часов"),
        (24, "hours", "24 часа"),
        (2, "hours", "2 часа"),
    ],
)
def test_russian_plural_forms(amount, unit, words):
    from mcu.deadlines.compute import plural

    assert plural(amount, unit) == words
