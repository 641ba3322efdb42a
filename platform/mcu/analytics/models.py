"""Computed KPI values (fact) for a period; targets (plan) live in the tenant's configuration."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

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


# ---------------------------------------------------------------- the analytics rollup
# Kept by mcu.analytics.rollup in the same transaction as the writes it summarises; the figures
# it serves equal the direct computation (tests/integration/test_kpi_rollup.py). A string key
# part that is absent in the message (no block, no settlement, a message-level indicator) is ""
# rather than NULL: it is part of the primary key.


class KpiRollup(SQLModel, table=True):
    """Messages received on a district's local day, duplicates excluded, per block × settlement:
    the heat map's cells and the summary figures (flow.summary) of any period."""

    __tablename__ = "kpi_rollup"

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    day: date = Field(primary_key=True)
    block_id: str = Field(default="", max_length=64, primary_key=True)
    settlement_id: str = Field(default="", max_length=64, primary_key=True)
    received: int = 0
    answered: int = 0
    open: int = 0
    due_set: int = 0  # with a due date
    answered_late: int = 0  # answered after the due date
    open_due: int = 0  # still open, unanswered, with a due date
    rating_sum: int = 0
    rated: int = 0
    threats: int = 0


class KpiRollupIndicator(SQLModel, table=True):
    """Per local day of receipt, each message-counted indicator's numerator and denominator
    (position_id "") and, for an executor-counted one, per executor position the messages
    delivered to it that count — with every event in the log, whenever it happened (the reader
    corrects for events after a period's end)."""

    __tablename__ = "kpi_rollup_indicator"

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    day: date = Field(primary_key=True)
    indicator_id: str = Field(max_length=64, primary_key=True)
    position_id: str = Field(default="", max_length=64, primary_key=True)
    numerator: int = 0
    denominator: int = 0


class KpiRollupIndicatorChange(SQLModel, table=True):
    """What the events of a later local day (changed_on, after the day of receipt) changed in
    the counts of kpi_rollup_indicator: per day of receipt, indicator and position, the numerator
    and denominator with that day's events minus without them. kpi_rollup_indicator holds the
    counts with every event; a period ending before `changed_on` takes these changes off, exactly,
    without reading a message (mcu.analytics.rollup.indicator_changes)."""

    __tablename__ = "kpi_rollup_indicator_change"
    # A period's changes are the rows from its end on whose day of receipt is in the period:
    # found here without reading the other rows of its days (the primary key's order). At 1 M
    # messages, 0.2 ms for the running year of a region (46 ms by the key), 12 ms for last year.
    __table_args__ = (
        sa.Index("ix_kpi_rollup_indicator_change_changed_on", "tenant_id", "changed_on", "day"),
    )

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    day: date = Field(primary_key=True)
    changed_on: date = Field(primary_key=True)
    indicator_id: str = Field(max_length=64, primary_key=True)
    position_id: str = Field(default="", max_length=64, primary_key=True)
    numerator: int = 0
    denominator: int = 0


class KpiRollupAnswerHours(SQLModel, table=True):
    """Answered messages per local day of receipt and bucket of hours from registration to the
    answer (one hour wide up to a week, a day wide beyond): the median time to answer."""

    __tablename__ = "kpi_rollup_answer_hours"

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    day: date = Field(primary_key=True)
    bucket: int = Field(primary_key=True)
    answered: int = 0


class KpiRollupState(SQLModel, table=True):
    """A district's rollup is built, and with what: the time zone its days are read in and a
    digest of the methodologies it counts. A mismatch with the current configuration means
    «not built»: readers compute directly until `mcu analytics rebuild` (or `mcu tenants load`)."""

    __tablename__ = "kpi_rollup_state"

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    version: int
    timezone: str = Field(max_length=64)
    digest: str = Field(max_length=64)
    built_at: datetime = ts_field(default_factory=utcnow)


class KpiRollupStale(TenantOwned, table=True):
    """A district-day whose rollup rows may lag its messages: every transaction that changes a
    message adds one when it commits. There is no unique key on purpose — concurrent writers of
    the same day never wait for each other; the reader or worker that recomputes the day deletes
    the marks it saw (mcu.analytics.rollup.catch_up)."""

    __tablename__ = "kpi_rollup_stale"

    day: date
