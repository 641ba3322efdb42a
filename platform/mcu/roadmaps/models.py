"""Roadmaps (дорожные карты, Конд Регламент Прил. 1–2; ХМ Прил. 1–2), their measures, and the
information campaigns run to prevent or reduce messages on a topic (Конд Регламент п.4.2;
ХМ Регламент п.4.4.2)."""

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
    # draft, agreed, approved, done, superseded, cancelled
    status: str = Field(default="draft", max_length=16)
    version: int = 1
    supersedes_id: uuid.UUID | None = None
    emergency_id: uuid.UUID | None = None
    period_start: date | None = None
    period_end: date | None = None
    due_at: datetime | None = ts_field(nullable=True)
    agreed_by: str | None = Field(default=None, max_length=300)  # СОГЛАСОВАНО
    agreed_position: str | None = Field(default=None, max_length=500)
    agreed_role: str | None = Field(default=None, max_length=64)
    agreed_at: datetime | None = ts_field(nullable=True)
    approved_by: str | None = Field(default=None, max_length=300)  # УТВЕРЖДАЮ
    approved_position: str | None = Field(default=None, max_length=500)
    approved_role: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = ts_field(nullable=True)
    origin: str = Field(default="manual", max_length=16)  # heatmap, emergency, rule, manual, amendment
    created_by: str | None = Field(default=None, max_length=120)
    created_at: datetime = ts_field(default_factory=utcnow)


class RoadmapMeasure(TenantOwned, table=True):
    __tablename__ = "roadmap_measure"
    __table_args__ = (
        tenant_fk(["roadmap_id"], "roadmap"),
        sa.Index("ix_roadmap_measure_tenant_roadmap", "tenant_id", "roadmap_id"),
    )

    roadmap_id: uuid.UUID
    position: int = 1
    # ХМ Прил. 1 табл. 2 groups measures under «Описание первопричины»: the cause this one removes.
    root_cause: str | None = Field(default=None, max_length=1000)
    title: str = Field(max_length=1000)
    expected_result: str | None = Field(default=None, max_length=1000)
    indicator: str | None = Field(default=None, max_length=500)
    executor: str | None = Field(default=None, max_length=300)
    start_date: date | None = None
    end_date: date | None = None
    status: str = Field(default="planned", max_length=16)  # planned, in_progress, done
    evidence: str | None = Field(default=None, sa_type=sa.Text)
    completed_at: datetime | None = ts_field(nullable=True)
    completed_by: str | None = Field(default=None, max_length=120)


class InformationCampaign(TenantOwned, table=True):
    """An information campaign with explanations on a topic (Конд Регламент п.4.2)."""

    __tablename__ = "information_campaign"
    __table_args__ = (sa.Index("ix_information_campaign_tenant_start", "tenant_id", "start_date"),)

    title: str = Field(max_length=500)
    blocks: list[str] = json_field(default_factory=list)  # blocks (categories) it targets
    start_date: date
    end_date: date
    channel: str = Field(max_length=300)  # where residents were told: site, social networks, press …
    description: str | None = Field(default=None, sa_type=sa.Text)
    created_by: str | None = Field(default=None, max_length=120)
    created_at: datetime = ts_field(default_factory=utcnow)
