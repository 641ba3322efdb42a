"""Due dates from deadline profiles (rules/deadlines/*.yaml), each able to explain itself.

Calendar-day deadlines under 59-ФЗ are counted from registration; when the last day is a day
off, the district's `settings.deadline_on_day_off` decides (regional practice differs). A due
date is the end of its last day in the district's timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mcu.deadlines import calendar

# Russian plural forms: (one, few, many) — 1 день, 3 дня, 5 дней.
UNIT_FORMS = {
    "calendar_days": ("календарный день", "календарных дня", "календарных дней"),
    "working_days": ("рабочий день", "рабочих дня", "рабочих дней"),
    "working_hours": ("рабочий час", "рабочих часа", "рабочих часов"),
    "hours": ("час", "часа", "часов"),
    "days": ("день", "дня", "дней"),
}
FROM_WORDS = {"received": "поступления", "registered": "регистрации", "reopened": "возобновления"}


def plural(amount: float, unit: str) -> str:
    one, few, many = UNIT_FORMS[unit]
    if amount != int(amount):
        return f"{amount:g} {few}"
    n = int(amount)
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} {one}"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return f"{n} {few}"
    return f"{n} {many}"


def move_off_day(day: date, rule: str, start: date) -> tuple[date, str]:
    """Where a calendar-day term ending on `day` really ends, and the explanation of a move."""
    if calendar.is_working_day(day) or rule not in DAY_OFF_WORDS:
        return day, ""
    moved = (
        calendar.previous_working_day(day)
        if rule == "preceding_working_day"
        else calendar.next_working_day(day)
    )
    note = f"; {day:%d.%m.%Y} — выходной, срок {DAY_OFF_WORDS[rule]} {moved:%d.%m.%Y}"
    if moved <= start:
        # Long holidays (the New Year ones) can push "the preceding working day" back to or
        # before the start itself; a deadline cannot end before it begins.
        moved = calendar.next_working_day(day)
        note = (
            f"; {day:%d.%m.%Y} — выходной, а предшествующий рабочий день не позже начала срока:"
            f" срок {DAY_OFF_WORDS['following_working_day']} {moved:%d.%m.%Y}"
        )
    return moved, note


DAY_OFF_WORDS = {
    "preceding_working_day": "перенесён на предшествующий рабочий день",
    "following_working_day": "перенесён на следующий рабочий день",
}


@dataclass(frozen=True)
class Due:
    timer: str
    at: datetime
    explanation: dict[str, Any]

    def text(self) -> str:
        return self.explanation["text"]


def _end_of_day(day, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tz)


def compute_due(
    *,
    timer: dict[str, Any],
    start: datetime,
    tz: ZoneInfo,
    settings: dict[str, Any],
    profile_id: str,
) -> Due:
    amount, unit = timer["amount"], timer["unit"]
    local = start.astimezone(tz)
    note = ""
    if unit == "calendar_days":
        rule = settings.get("deadline_on_day_off", "following_working_day")
        day, note = move_off_day(local.date() + timedelta(days=amount), rule, local.date())
        at = _end_of_day(day, tz)
    elif unit == "working_days":
        at = _end_of_day(calendar.add_working_days(local.date(), int(amount)), tz)
    elif unit == "working_hours":
        hours = settings.get("working_hours") or {"start": "09:00", "end": "18:00"}
        at = calendar.add_working_hours(
            start, amount, tz, time.fromisoformat(hours["start"]), time.fromisoformat(hours["end"])
        )
    elif unit == "hours":
        at = local + timedelta(hours=amount)
    else:
        raise ValueError(f"unknown deadline unit {unit!r}")
    source = timer.get("source") or {}
    act = source.get("label") or (
        "по умолчанию платформы" if source.get("act") == "platform" else source.get("act")
    )
    clause = ", ".join(x for x in (act, source.get("clause")) if x)
    text = (
        f"{plural(amount, unit)} с момента {FROM_WORDS.get(timer.get('from', 'received'), 'поступления')} "
        f"{local:%d.%m.%Y %H:%M}{note}: до {at.astimezone(tz):%d.%m.%Y %H:%M}"
    )
    if clause:
        text += f" ({clause})"
    return Due(
        timer=timer["id"],
        at=at,
        explanation={
            "text": text,
            "profile": profile_id,
            "timer": timer["id"],
            "amount": amount,
            "unit": unit,
            "start": start.isoformat(),
            "source": source,
        },
    )


def answer_timer(profile: dict[str, Any], topic: str | None = None) -> dict[str, Any]:
    """The profile's answer timer, with a per-topic override where the channel sets one (ПОС)."""
    base = next(t for t in profile["timers"] if t["id"] == "answer")
    override = ((profile.get("by_topic") or {}).get(topic) or {}).get("answer")
    return {**base, **override} if override else dict(base)
