"""Participation events: polls, votes, public discussions and hearings (Конд Прил. 4 п.3, 4, 7),
with the term set for holding them (Конд Положение п.2.4.2: мониторинг сроков проведения)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from mcu.sqltypes import TenantOwned, ts_field, utcnow


class ParticipationEvent(TenantOwned, table=True):
    __tablename__ = "participation_event"
    __table_args__ = (
        sa.Index("ix_participation_tenant_held", "tenant_id", "kind", "held_at"),
        sa.Index("ix_participation_tenant_term", "tenant_id", "ends_on"),
    )

    kind: str = Field(max_length=24)  # poll, vote, discussion, hearing
    title: str = Field(max_length=500)
    via_pos: bool = False
    block_id: str | None = Field(default=None, max_length=64)
    # The term of holding, local calendar days (a hearing: one day; a vote or the taking of
    # proposals: a span). Absent for an event recorded only after it was held.
    starts_on: date | None = None
    ends_on: date | None = None
    held_at: datetime | None = ts_field(nullable=True)  # None: planned, not held yet
    decision: str | None = Field(default=None, sa_type=sa.Text)
    decision_taken: bool = False
    informed_at: datetime | None = ts_field(nullable=True)  # informing about implementation
    created_at: datetime = ts_field(default_factory=utcnow)
