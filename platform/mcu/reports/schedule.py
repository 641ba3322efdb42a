"""Which scheduled reports are due, and generating each exactly once (the worker calls `run`).

When a report is generated, for each `schedule.every`:

- day — the previous day, at 01:00 local time of the next day (a daily summary waits for
  the whole day, late imports included; Ростовская сводка is due by 10:00);
- week — on the due weekday (`weekday`, Monday if none): the seven days before it. Without a
  weekday that is the previous ISO week (Monday–Sunday). ХМ «weekly-cur-friday» (Регламент
  п.4.1.8: «каждую пятницу до 13 ч 00 мин») covers Friday to Thursday and is generated at 01:00
  on Friday, well before 13:00;
- month — the previous month, on day `day` (the 1st if none) of the next month, at 01:00;
- quarter, year — the previous quarter or year, on day `day` (the 1st if none) of the first
  month after it, at 01:00.

`due_time`, when earlier than 01:00, moves generation to it. Only the latest due period is
generated: a worker that was down generates it late on start (as deadlines fire late), but
does not replay every period it missed.

Exactly once: the report row is unique per (district, report, period); each report is built and
inserted in its own transaction, so a second worker's insert fails on the key (or finds the
row) and is dropped, and its notification with it. A report someone generated before its period
ended (status «partial») is built again when due. The responsible role is notified through the
inbox and mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mcu.analytics.periods import Period, month, quarter, year
from mcu.db import writer_bind
from mcu.notifications.operations import send
from mcu.reports import build, queries
from mcu.reports.models import Report
from mcu.reports.operations import AlreadyGenerated, generate
from mcu.rules.recipients import addressees
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.models import Tenant
from mcu.tenancy.queries import current_config

log = logging.getLogger(__name__)

READY = time(1, 0)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SCHEDULED = ("day", "week", "month", "quarter", "year")
ACTOR = "worker"


@dataclass(frozen=True)
class Due:
    report: dict[str, Any]
    period: Period
    ready_at: datetime  # when it is generated (UTC)
    due_on: date  # the day it is to be presented, local
    due_time: str | None  # by what time, when the act says

    @property
    def report_id(self) -> str:
        return self.report["id"]


def _month_day(y: int, m: int, day: int) -> date:
    last = (date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)).day
    return date(y, m, min(day, last))


def _due_day_on_or_before(every: str, schedule: dict[str, Any], d: date) -> date:
    """The latest day on or before `d` on which a report of this schedule is presented."""
    if every == "day":
        return d
    if every == "week":
        weekday = WEEKDAYS.index(schedule.get("weekday", "monday"))
        return d - timedelta(days=(d.weekday() - weekday) % 7)
    day = int(schedule.get("day") or 1)
    step = {"month": 1, "quarter": 3, "year": 12}[every]
    y, m = d.year, d.month
    m -= (m - 1) % step  # the first month of d's quarter / year
    while True:
        candidate = _month_day(y, m, day)
        if candidate <= d:
            return candidate
        m -= step
        if m < 1:
            y, m = y - 1, m + 12


def period_for(every: str, schedule: dict[str, Any], due_on: date) -> Period:
    """The period a report presented on `due_on` covers: the last one completed before it."""
    if every == "day":
        p = due_on - timedelta(days=1)
        return Period(p, p, "day")
    if every == "week":
        start = due_on - timedelta(days=7)
        return Period(start, due_on - timedelta(days=1), "week" if start.weekday() == 0 else "span")
    first = due_on.replace(day=1)
    if every == "month":
        prev = first - timedelta(days=1)
        return month(prev.year, prev.month)
    if every == "quarter":
        prev = first - timedelta(days=1)
        return quarter(prev.year, (prev.month - 1) // 3 + 1)
    return year(due_on.year - 1)


def _ready_time(schedule: dict[str, Any]) -> time:
    due = schedule.get("due_time")
    if due:
        hh, mm = (int(x) for x in due.split(":"))
        return min(READY, time(hh, mm))
    return READY


def latest_due(report: dict[str, Any], tz: ZoneInfo, now: datetime) -> Due | None:
    """The latest period of a scheduled report whose generation moment has come; None for a
    report made on request."""
    schedule = report.get("schedule") or {}
    every = schedule.get("every")
    if every not in SCHEDULED:
        return None
    ready = _ready_time(schedule)
    local = now.astimezone(tz)
    due_on = _due_day_on_or_before(every, schedule, local.date())
    if datetime.combine(due_on, ready, tz) > now:
        due_on = _due_day_on_or_before(every, schedule, due_on - timedelta(days=1))
    return Due(
        report=report,
        period=period_for(every, schedule, due_on),
        ready_at=datetime.combine(due_on, ready, tz),
        due_on=due_on,
        due_time=schedule.get("due_time"),
    )


def default_period(report: dict[str, Any], tz: ZoneInfo, now: datetime) -> Period:
    """The period a report is made for when nobody names one: a scheduled report's latest due
    period (what the schedule generates), a report on request's previous month."""
    due = latest_due(report, tz, now)
    if due is not None:
        return due.period
    first = now.astimezone(tz).date().replace(day=1)
    prev = first - timedelta(days=1)
    return month(prev.year, prev.month)


def due_reports(config: TenantConfig, now: datetime) -> list[Due]:
    out = []
    for report in config.data.get("reports") or []:
        due = latest_due(report, config.tz, now)
        if due is not None:
            out.append(due)
    return out


# ---------------------------------------------------------------- running
def run(engine: Engine, *, now: datetime | None = None) -> int:
    """Generate every due scheduled report of every active district that is not there yet,
    each in its own transaction; returns how many were generated."""
    now = now or utcnow()
    todo: list[tuple[TenantConfig, Due]] = []
    with Session(engine, expire_on_commit=False) as session:
        for tenant in session.exec(select(Tenant).where(Tenant.active)):
            config = current_config(session, tenant)
            if config is None:
                continue
            due = due_reports(config, now)
            have = queries.existing(session, tenant.id, [(d.report_id, d.period.key) for d in due])
            for d in due:
                row = have.get((d.report_id, d.period.key))
                if row is None or row.status == "partial":
                    todo.append((config, d))
    made = 0
    for config, d in todo:
        try:
            made += _generate(engine, config, d, now)
        except Exception:
            # One broken report (or a lost connection) must stop neither the others nor the
            # worker's deadlines: it is tried again at the next round.
            log.exception("scheduled report %s of %s for %s failed", d.report_id, config.slug, d.period.key)
    return made


def _generate(engine: Engine, config: TenantConfig, d: Due, now: datetime) -> int:
    """One report in one transaction, so the write lock (SQLite) is held for one build only.
    BEGIN IMMEDIATE on SQLite: a second worker waits, then finds the report made."""
    with Session(writer_bind(engine), expire_on_commit=False) as session:
        row = queries.report_for_period(session, config.tenant_id, d.report_id, d.period.key)
        if row is not None and not _still_partial(session, engine, row):
            session.commit()
            return 0
        try:
            with session.begin_nested():
                result = generate(
                    session=session,
                    config=config,
                    report_id=d.report_id,
                    period=d.period,
                    now=now,
                    actor=ACTOR,
                    replace=row is not None,
                )
                _notify(session, config, d, result.report, now)
        except (IntegrityError, AlreadyGenerated):
            session.rollback()
            return 0  # another worker stored it first
        session.commit()
        return 1


def _still_partial(session: Session, engine: Engine, row: Report) -> bool:
    """A report built before its period ended, and not being rebuilt by another worker now."""
    if row.status != "partial":
        return False
    query = select(Report).where(Report.tenant_id == row.tenant_id, Report.id == row.id)
    if engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    fresh = session.exec(query.execution_options(populate_existing=True)).first()
    return fresh is not None and fresh.status == "partial"


def _notify(session: Session, config: TenantConfig, due: Due, report: Report, now: datetime) -> None:
    spec = due.report
    if not spec.get("responsible_role") and not spec.get("responsible_role_kind"):
        return  # nobody in the district prepares it (e.g. the ЦУР's own rating of the МЦУ)
    found = addressees(config, role=spec.get("responsible_role"), role_kind=spec.get("responsible_role_kind"))
    schedule = spec.get("schedule") or {}
    when = None
    if schedule.get("weekday") or schedule.get("day") or due.due_time:
        when = f"{due.due_on:%d.%m.%Y}" + (f" до {due.due_time}" if due.due_time else "")
    title = f"Сформирован отчёт: {spec['name']} — {due.period.label}"
    body = "\n".join(
        x
        for x in (
            title,
            f"Получатель: {spec['recipient']}" if spec.get("recipient") else "",
            f"Срок представления: {when}" if when else "",
            f"Основание: {build.basis(config, spec.get('source'))}",
            f"Отчёт: /t/{config.slug}/reports/{report.id}",
        )
        if x
    )
    send(
        session,
        config,
        found,
        kind="report",
        title=title,
        body=body,
        subject_kind="report",
        subject_id=report.id,
        at=now,
    )
