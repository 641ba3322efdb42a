"""Reporting periods: a day, an ISO week, a month, a quarter, a year or any span of days, read
in the district's own time zone (a district's «сутки» and «месяц» are local, not UTC)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip
MONTHS_SHORT = ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")


class PeriodError(ValueError):
    """A period the user wrote that cannot be read."""


@dataclass(frozen=True)
class Period:
    start: date  # first day, inclusive
    end: date  # last day, inclusive
    kind: str  # day, week, month, quarter, year, span

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def key(self) -> str:
        """The period as it is written in URLs and reports: 2026, 2026-11, 2026-W47, 2026-Q4 …"""
        s = self.start
        if self.kind == "year":
            return f"{s.year}"
        if self.kind == "quarter":
            return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{s.year}-{s.month:02d}"
        if self.kind == "week":
            iso = s.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        if self.kind == "day":
            return s.isoformat()
        return f"{s.isoformat()}..{self.end.isoformat()}"

    @property
    def label(self) -> str:
        s = self.start
        if self.kind == "year":
            return f"{s.year} год"
        if self.kind == "quarter":
            return f"{(s.month - 1) // 3 + 1} квартал {s.year} г."
        if self.kind == "month":
            return f"{MONTHS[s.month - 1]} {s.year} г."
        if self.kind == "day":
            return s.strftime("%d.%m.%Y")
        return f"{s.strftime('%d.%m.%Y')} — {self.end.strftime('%d.%m.%Y')}"

    def about(self) -> dict[str, str]:
        """The period as the API and reports show it."""
        return {
            "key": self.key,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: from local midnight of the first day to local midnight after the last."""
        return (
            datetime.combine(self.start, time(0), tz).astimezone(UTC),
            datetime.combine(self.end + timedelta(days=1), time(0), tz).astimezone(UTC),
        )

    def clipped(self, today: date) -> Period:
        """The part of the period up to today (a running year's facts are facts to date)."""
        if self.end <= today or today < self.start:
            return self
        return Period(self.start, today, self.kind)

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        if self.kind == "year":
            return year(self.start.year - 1)
        if self.kind in ("month", "quarter"):
            step = 1 if self.kind == "month" else 3
            m = self.start.month - 1 - step
            return _months(self.start.year + m // 12, m % 12 + 1, step, self.kind)
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.kind)

    def next(self) -> Period:
        """The period of the same kind just after this one."""
        if self.kind == "year":
            return year(self.start.year + 1)
        if self.kind in ("month", "quarter"):
            step = 1 if self.kind == "month" else 3
            m = self.start.month - 1 + step
            return _months(self.start.year + m // 12, m % 12 + 1, step, self.kind)
        return Period(self.end + timedelta(days=1), self.end + timedelta(days=self.days), self.kind)

    def year_before(self) -> Period:
        """The same period a year earlier (ХМ Регламент п.4.1.3: analysis of the past year)."""
        if self.kind == "week":
            iso = self.start.isocalendar()
            try:
                return week(iso.year - 1, iso.week)
            except PeriodError:
                return week(iso.year - 1, iso.week - 1)
        return Period(_shift_year(self.start), _shift_year(self.end), self.kind)

    def buckets(self) -> list[Period]:
        """The sub-periods a heat map spreads the period over: months of a year or a quarter,
        days of a month or a week, weeks of a longer span."""
        if self.kind in ("year", "quarter"):
            out, d = [], self.start
            while d <= self.end:
                out.append(month(d.year, d.month))
                d = out[-1].end + timedelta(days=1)
            return out
        if self.days <= 31:
            return [day(self.start + timedelta(days=i)) for i in range(self.days)]
        out, d = [], self.start
        while d <= self.end:
            out.append(Period(d, min(d + timedelta(days=6), self.end), "span"))
            d += timedelta(days=7)
        return out

    @property
    def short(self) -> str:
        """A bucket's column heading."""
        if self.kind == "month":
            return MONTHS_SHORT[self.start.month - 1]
        if self.kind == "day":
            return self.start.strftime("%d.%m")
        return f"{self.start.strftime('%d.%m')}–{self.end.strftime('%d.%m')}"


def _shift_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _months(y: int, m: int, count: int, kind: str) -> Period:
    start = date(y, m, 1)
    last_m = m + count
    end = date(y + (last_m - 1) // 12, (last_m - 1) % 12 + 1, 1) - timedelta(days=1)
    return Period(start, end, kind)


def year(y: int) -> Period:
    return Period(date(y, 1, 1), date(y, 12, 31), "year")


def month(y: int, m: int) -> Period:
    return _months(y, m, 1, "month")


def quarter(y: int, q: int) -> Period:
    return _months(y, 3 * (q - 1) + 1, 3, "quarter")


def week(y: int, w: int) -> Period:
    try:
        start = date.fromisocalendar(y, w, 1)
    except ValueError as exc:
        raise PeriodError(f"в {y} году нет недели {w}") from exc
    return Period(start, start + timedelta(days=6), "week")


def day(d: date) -> Period:
    return Period(d, d, "day")


_FORMS = (
    (re.compile(r"^(\d{4})$"), lambda m: year(int(m[1]))),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), lambda m: month(int(m[1]), int(m[2]))),
    (re.compile(r"^(\d{4})-[QqКк]([1-4])$"), lambda m: quarter(int(m[1]), int(m[2]))),
    (re.compile(r"^(\d{4})-[Ww](\d{1,2})$"), lambda m: week(int(m[1]), int(m[2]))),
    (re.compile(r"^(\d{4}-\d{2}-\d{2})$"), lambda m: day(date.fromisoformat(m[1]))),
    (
        re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$"),
        lambda m: Period(date.fromisoformat(m[1]), date.fromisoformat(m[2]), "span"),
    ),
)


def parse(text: str | None, *, today: date, default: str = "year") -> Period:
    """`2026`, `2026-11`, `2026-Q4`, `2026-W47`, `2026-11-23`, `2026-11-01..2026-11-30`;
    nothing means the current year (or month / week / day)."""
    if not text:
        return {
            "year": year(today.year),
            "month": month(today.year, today.month),
            "week": week(*today.isocalendar()[:2]),
            "day": day(today),
        }[default]
    text = text.strip()
    for pattern, build in _FORMS:
        m = pattern.match(text)
        if m is None:
            continue
        try:
            period = build(m)
        except ValueError as exc:
            raise PeriodError(f"период «{text}» не распознан: {exc}") from exc
        if period.end < period.start:
            raise PeriodError(f"период «{text}»: конец раньше начала")
        if period.days > 3 * 366:
            raise PeriodError(f"период «{text}» длиннее трёх лет")
        return period
    raise PeriodError(
        f"период «{text}» не распознан: ожидается 2026, 2026-11, 2026-Q4, 2026-W47, 2026-11-23 "
        "или 2026-11-01..2026-11-30"
    )


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(tz).date()
