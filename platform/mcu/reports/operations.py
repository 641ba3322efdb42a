"""Generating a report: build the document, store it once per (report, period), log it.

Operations flush and never commit: the request, CLI command or worker job that calls them
commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from mcu.analytics.periods import Period
from mcu.eventlog import log_event
from mcu.reports import build, queries
from mcu.reports.models import Report
from mcu.tenancy.config import TenantConfig


class ReportError(ValueError):
    """A request that cannot be a report; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AlreadyGenerated(ReportError):
    """The period's report is there already and was not to be replaced."""


@dataclass(frozen=True)
class Generated:
    report: Report
    created: bool  # False: an earlier version of the same period was replaced


def configured(config: TenantConfig, report_id: str) -> dict[str, Any]:
    found = next((r for r in config.data.get("reports") or [] if r["id"] == report_id), None)
    if found is None:
        raise ReportError("report", f"отчёт «{report_id}» не настроен в районе")
    return found


def generate(
    *,
    session: Session,
    config: TenantConfig,
    report_id: str,
    period: Period,
    now: datetime,
    actor: str,
    replace: bool = True,
) -> Generated:
    """Build `report_id` for `period` and store it. A period built before is built again and its
    document replaced; the event log keeps both moments and who asked. With `replace=False` a
    period stored meanwhile by someone else raises AlreadyGenerated, or IntegrityError when it
    is being stored at this very moment (the schedule: the other worker's report stands)."""
    report = configured(config, report_id)
    document = build.build(session, config, report, period, now=now)
    _, end = period.bounds(config.tz)
    status = "ready" if now >= end else "partial"
    row = queries.report_for_period(session, config.tenant_id, report_id, period.key)
    if row is not None and not replace:
        raise AlreadyGenerated("report", f"отчёт «{report_id}» за {period.label} уже сформирован")
    created = row is None
    if row is None:
        row = Report(
            tenant_id=config.tenant_id,
            report_id=report_id,
            kind=report["kind"],
            name=report["name"],
            period_key=period.key,
            period_kind=period.kind,
            period_start=period.start,
            period_end=period.end,
            status=status,
            content=document,
            config_version_id=config.version_id,
            generated_at=now,
            generated_by=actor[:120],
            created_at=now,
        )
        try:
            # Someone else (another worker, a person) may be storing the same period right now:
            # the unique key decides, and the loser replaces the winner's document below.
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            if not replace:
                raise
            created = False
            row = queries.report_for_period(session, config.tenant_id, report_id, period.key)
            if row is None:  # pragma: no cover - the conflicting row vanished: nothing deletes reports
                raise
    previous = None if created else row.generated_at
    if not created:
        row.kind, row.name, row.status, row.content = report["kind"], report["name"], status, document
        row.config_version_id = config.version_id
        row.generated_by = actor[:120]
        row.generated_at = now
        row.generations += 1
    log_event(
        session,
        tenant_id=config.tenant_id,
        subject_kind="report",
        subject_id=row.id,
        kind="report_generated" if created else "report_regenerated",
        # "worker", "page": the platform itself acted
        actor=actor if ":" in actor else f"system:{actor}",
        at=now,
        reason=f"{report['name']} — {period.label}"
        + (
            ""
            if created
            else f"; сформирован заново, версия от {previous.astimezone(config.tz):%d.%m.%Y %H:%M} заменена"
        ),
        data={"report": report_id, "period": period.key, "status": status, "generation": row.generations},
    )
    session.flush()
    return Generated(row, created)
