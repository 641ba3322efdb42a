"""Roadmaps (дорожные карты, Конд Регламент Прил. 1–2; ХМ Прил. 1–2) and their measures."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from mcu.sqltypes import TenantOwned, json_field, tenant_fk, ts_field, utcnow


class Roadmap(TenantOwned, table=True):
    __tablename__ = "roadmap"
    __table_args__ = (
        tenant_fk(["supersedes_id"], "roadmap"),
        tenant_fk(["emergency_id"], "emergency"),
        sa.Index("ix_roadmap_tenant_status", "tenant_id", "status"),
    )

    kind: str = Field(max_length=16)  # plan, operational
    block_id: str | None = Field(default=None, max_length=64)
    problem: str = Field(max_length=500)
    growth: dict[str, Any] = json_field()
    # Curator, block head and coordinator: name, position, phone, e-mail (the decree's form).
    responsible: dict[str, Any] = json_field()
    root_causes: str | None = Field(default=None, sa_type=sa.Text)
    status: str = Field(default="draft", max_length=16)  # draft, agreed, approved, done, cancelled
    version: int = 1
    supersedes_id: uuid.UUID | None = None
    emergency_id: uuid.UUID | None = None
    period_start: date | None = None
    period_end: date | None = None
    due_at: datetime | None = ts_field(nullable=True)
    agreed_by: str | None = Field(default=None, max_length=300)  # СОГЛАСОВАНО
    agreed_at: datetime | None = ts_field(nullable=True)
    approved_by: str | None = Field(default=None, max_length=300)  # УТВЕРЖДАЮ
    approved_at: datetime | None = ts_field(nullable=True)
    created_at: datetime = ts_field(default_factory=utcnow)


class RoadmapMeasure(TenantOwned, table=True):
    __tablename__ = "roadmap_measure"
    __table_args__ = (
        tenant_fk(["roadmap_id"], "roadmap"),
        sa.Index("ix_roadmap_measure_tenant_roadmap", "tenant_id", "roadmap_id"),
    )

    roadmap_id: uuid.UUID
    position: int = 1
    title: str = Field(max_length=1000)
    expected_result: str | None = Field(default=None, max_length=1000)
    indicator: str | None = Field(default=None, max_length=500)
    executor: str | None = Field(default=None, max_length=300)
    start_date: date | None = None
    end_date: date | None = None
    status: str = Field(default="planned", max_length=16)  # planned, in_progress, done
    evidence: str | None = Field(default=None, sa_type=sa.Text)
    completed_at: datetime | None = ts_field(nullable=True)
