"""Emergencies: a spike in a category or a threat to life (Конд Регламент п.5.1; ХМ п.5.1)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from mcu.sqltypes import TenantOwned, json_field, ts_field, utcnow


class Emergency(TenantOwned, table=True):
    __tablename__ = "emergency"
    __table_args__ = (sa.Index("ix_emergency_tenant_status", "tenant_id", "status", "declared_at"),)

    kind: str = Field(max_length=16)  # spike, threat
    block_id: str | None = Field(default=None, max_length=64)
    settlement_id: str | None = Field(default=None, max_length=64)
    title: str = Field(max_length=500)
    status: str = Field(default="open", max_length=16)  # open, liquidated, closed
    growth_index: float | None = None
    trigger: dict[str, Any] = json_field()
    declared_at: datetime = ts_field(default_factory=utcnow)
    liquidation_due_at: datetime | None = ts_field(nullable=True)
    closed_at: datetime | None = ts_field(nullable=True)
    decisions: str | None = Field(default=None, sa_type=sa.Text)
    declared_by_rule: str | None = Field(default=None, max_length=120)
    source_message_id: uuid.UUID | None = None
