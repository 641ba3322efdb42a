"""The Russian production calendar (производственный календарь) in a district's timezone.

Holidays, transferred days off and working Saturdays come from the `holidays` package (≥ 0.109
models them correctly through 2027; `workalendar` is wrong from 2024 on). Shortened pre-holiday
days are not modelled by the package and are treated as full days.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@lru_cache(maxsize=64)
def _ru(year: int) -> holidays.HolidayBase:
    return holidays.RU(years=[year])


def is_working_day(day: date) -> bool:
    return _ru(day.year).is_working_day(day)


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def add_working_days(day: date, n: int) -> date:
    """The n-th working day after `day` (the day itself is not counted)."""
    for _ in range(n):
        day = next_working_day(day)
    return day


def add_working_hours(
    start: datetime, hours: float, tz: ZoneInfo, day_start: time, day_end: time
) -> datetime:
    """`hours` of working time after `start`, counted only inside working hours of working days."""
    local = start.astimezone(tz)
    remaining = timedelta(hours=hours)
    cursor = local
    while True:
        day = cursor.date()
        opens = datetime.combine(day, day_start, tz)
        closes = datetime.combine(day, day_end, tz)
        if not is_working_day(day) or cursor >= closes:
            cursor = datetime.combine(next_working_day(day), day_start, tz)
            continue
        if cursor < opens:
            cursor = opens
        available = closes - cursor
        if remaining <= available:
            return cursor + remaining
        remaining -= available
        cursor = datetime.combine(next_working_day(day), day_start, tz)
