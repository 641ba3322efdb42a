"""A generated report: one row per (district, configured report, period), holding the built
document. Regenerating a period replaces the document in place (and says so in the event log),
so the schedule and a person asking for the same period can never make two competing versions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from mcu.sqltypes import TenantOwned, json_field, ts_field, utcnow

# ready: the period had ended when the report was built; partial: it had not (figures to date),
# and the schedule builds it again once the period is over.
STATUS_NAMES = {"ready": "сформирован", "partial": "предварительный: период не завершён"}


class Report(TenantOwned, table=True):
    __tablename__ = "report"
    __table_args__ = (
        # One document per report and period: the schedule's idempotency (two workers, a worker
        # and a person) rests on this key.
        sa.UniqueConstraint("tenant_id", "report_id", "period_key", name="uq_report_period"),
        sa.Index("ix_report_tenant_generated", "tenant_id", "generated_at"),
    )

    report_id: str = Field(max_length=64)  # the id in the district's `reports` section
    kind: str = Field(max_length=32)
    name: str = Field(sa_type=sa.Text)  # the report's name when it was built
    period_key: str = Field(max_length=32)
    period_kind: str = Field(max_length=16)
    period_start: date
    period_end: date
    status: str = Field(default="ready", max_length=16)
    content: dict[str, Any] = json_field()
    config_version_id: uuid.UUID | None = None
    generated_at: datetime = ts_field(default_factory=utcnow)
    generated_by: str = Field(max_length=120)  # worker, token:<name>, cli:<user>, page
    generations: int = 1
    created_at: datetime = ts_field(default_factory=utcnow)
