"""When a scheduled report is generated and which period it covers (pure: no database), and how
exported cells are written."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from mcu.reports import render
from mcu.reports.schedule import latest_due

TZ = ZoneInfo("Asia/Yekaterinburg")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize(
    ("schedule", "now", "period", "due_on"),
    [
        # daily: yesterday, from 01:00
        ({"every": "day"}, "2026-03-20 00:59", "2026-03-18", "2026-03-19"),
        ({"every": "day"}, "2026-03-20 01:00", "2026-03-19", "2026-03-20"),
        # Ростовская сводка, due by 10:00: still generated at 01:00
        ({"every": "day", "due_time": "10:00"}, "2026-03-20 09:00", "2026-03-19", "2026-03-20"),
        # weekly without a weekday: the previous ISO week, on Monday
        ({"every": "week"}, "2026-03-23 02:00", "2026-W12", "2026-03-23"),
        ({"every": "week"}, "2026-03-22 23:00", "2026-W11", "2026-03-16"),
        # ХМ Регламент п.4.1.8: every Friday by 13:00, the seven days Friday to Thursday
        (
            {"every": "week", "weekday": "friday", "due_time": "13:00"},
            "2026-03-20 12:00",
            "2026-03-13..2026-03-19",
            "2026-03-20",
        ),
        (
            {"every": "week", "weekday": "friday", "due_time": "13:00"},
            "2026-03-19 12:00",
            "2026-03-06..2026-03-12",
            "2026-03-13",
        ),
        # monthly: the previous month, on the 1st or on `day`
        ({"every": "month"}, "2026-04-01 01:30", "2026-03", "2026-04-01"),
        ({"every": "month", "day": 5}, "2026-04-03 12:00", "2026-02", "2026-03-05"),
        ({"every": "month", "day": 31}, "2026-03-01 12:00", "2026-01", "2026-02-28"),
        # quarter and year
        ({"every": "quarter"}, "2026-04-01 02:00", "2026-Q1", "2026-04-01"),
        ({"every": "quarter", "day": 10}, "2026-04-05 02:00", "2025-Q4", "2026-01-10"),
        ({"every": "year"}, "2026-01-01 00:30", "2024", "2025-01-01"),
        ({"every": "year"}, "2026-01-01 01:00", "2025", "2026-01-01"),
    ],
)
def test_latest_due_period(schedule, now, period, due_on):
    due = latest_due({"id": "r", "schedule": schedule}, TZ, _at(now))
    assert due is not None
    assert (due.period.key, due.due_on.isoformat()) == (period, due_on)
    assert due.ready_at <= _at(now)


def test_a_report_on_request_is_never_scheduled():
    assert latest_due({"id": "r", "schedule": {"every": "on_request"}}, TZ, _at("2026-03-20 12:00")) is None


def test_cells_are_written_the_russian_way():
    assert render.text(85.3, "percent") == "85,3"
    assert render.text(4.25, "number") == "4,25"
    assert render.text(1297, "int") == "1297"
    assert render.text("2026-03-20T13:00+05:00", "datetime") == "20.03.2026 13:00"
    assert render.text(None, "int", empty="—") == "—"


def test_file_names_are_russian_and_safe():
    doc = {
        "title": "Сводный отчёт в ЦУР по решённым/нерешённым сообщениям/обращениям",
        "district": {"slug": "sovetsky", "name": "Советский район"},
        "report": {"id": "weekly-cur-friday"},
        "period": {"key": "2026-03-13..2026-03-19"},
    }
    name = render.filename(doc, "xlsx")
    assert "/" not in name and name.endswith("— Советский район — 2026-03-13..2026-03-19.xlsx")
    header = render.content_disposition(doc, "pdf")
    assert header.startswith('attachment; filename="sovetsky-weekly-cur-friday-2026-03-13..2026-03-19.pdf"')
    assert "filename*=UTF-8''%D0%A1%D0%B2%D0%BE%D0%B4" in header
