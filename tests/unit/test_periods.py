"""Reporting periods: parsing, local bounds, comparisons, buckets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from mcu.analytics.heatmap import forecast
from mcu.analytics.periods import PeriodError, month, parse, quarter, week, year

TODAY = date(2026, 11, 23)
YEKT = ZoneInfo("Asia/Yekaterinburg")


@pytest.mark.parametrize(
    ("text", "start", "end", "key"),
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "2026"),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
        ("2026-W48", date(2026, 11, 23), date(2026, 11, 29), "2026-W48"),
        ("2026-11-23", date(2026, 11, 23), date(2026, 11, 23), "2026-11-23"),
        ("2026-11-01..2026-11-10", date(2026, 11, 1), date(2026, 11, 10), "2026-11-01..2026-11-10"),
    ],
)
def test_periods_are_read_as_written(text, start, end, key):
    p = parse(text, today=TODAY)
    assert (p.start, p.end, p.key) == (start, end, key)
    assert parse(p.key, today=TODAY) == p


@pytest.mark.parametrize(
    "text", ["20x", "2026-13", "2026-W54", "2026-11-10..2026-11-01", "2020-01-01..2026-01-01"]
)
def test_a_bad_period_is_a_clear_error(text):
    with pytest.raises(PeriodError, match="период"):
        parse(text, today=TODAY)


def test_nothing_means_the_current_period():
    assert parse(None, today=TODAY) == year(2026)
    assert parse("", today=TODAY, default="month") == month(2026, 11)
    assert parse(None, today=TODAY, default="week") == week(2026, 48)


def test_a_period_is_local_midnight_to_local_midnight():
    start, end = month(2026, 11).bounds(YEKT)
    assert start == datetime(2026, 10, 31, 19, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 30, 19, 0, tzinfo=UTC)


def test_previous_and_year_before():
    assert month(2026, 1).previous() == month(2025, 12)
    assert quarter(2026, 1).previous() == quarter(2025, 4)
    assert week(2026, 1).previous() == week(2025, 52)
    assert month(2024, 2).year_before() == month(2023, 2)
    assert parse("2024-02-29", today=TODAY).year_before().start == date(2023, 2, 28)
    assert month(2026, 11).label == "ноябрь 2026 г."


def test_buckets_months_of_a_year_days_of_a_month():
    assert [b.start.month for b in year(2026).buckets()] == list(range(1, 13))
    assert len(month(2026, 11).buckets()) == 30
    assert len(parse("2026-01-01..2026-03-31", today=TODAY).buckets()) == 13


def test_a_running_period_is_clipped_to_today():
    assert year(2026).clipped(TODAY).end == TODAY
    assert year(2025).clipped(TODAY) == year(2025)


def test_forecast_scales_last_years_next_period_by_this_years_trend():
    # This November 30 against 20 last November: ×1.5; last December had 40 → 60 expected.
    assert forecast(30, 20, 40) == 60
    assert forecast(30, 0, 40) == 40  # no comparison: last year's figure as it was
    assert forecast(30, 0, 0) is None  # no history: nothing to forecast from


def test_next_period_of_the_same_kind():
    assert month(2026, 12).next() == month(2027, 1)
    assert quarter(2026, 4).next() == quarter(2027, 1)
    assert year(2026).next() == year(2027)
    assert week(2026, 53 - 1).next() == week(2026, 53)
