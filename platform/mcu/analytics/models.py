"""Computed KPI values (fact) for a period; targets (plan) live in the tenant's configuration."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from mcu.sqltypes import TenantOwned, json_field, ts_field, utcnow


class KpiValue(TenantOwned, table=True):
    __tablename__ = "kpi_value"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "indicator_id", "period_start", "period_end"),)

    indicator_id: str = Field(max_length=64)
    period_start: date
    period_end: date
    numerator: float
    denominator: float
    value: float | None = None
    details: dict[str, Any] = json_field()
    computed_at: datetime = ts_field(default_factory=utcnow)
