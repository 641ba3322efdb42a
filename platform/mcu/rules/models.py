"""Every decision the rules engine takes, with its explanation: which rule (and decree clause)
fired on which event, the facts it saw, and what each action did."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from mcu.sqltypes import TenantOwned, json_field, ts_field, utcnow


class RuleDecision(TenantOwned, table=True):
    __tablename__ = "rule_decision"
    __table_args__ = (
        sa.Index("ix_rule_decision_tenant_subject", "tenant_id", "subject_kind", "subject_id", "at"),
        sa.Index("ix_rule_decision_tenant_rule_at", "tenant_id", "rule_id", "at"),
    )

    config_version_id: uuid.UUID
    event: str = Field(max_length=48)
    subject_kind: str = Field(max_length=32)  # message, emergency, deadline, tenant
    subject_id: uuid.UUID | None = None
    message_id: uuid.UUID | None = None
    emergency_id: uuid.UUID | None = None
    rule_id: str = Field(max_length=160)
    rule_set: str | None = Field(default=None, max_length=64)
    title: str = Field(max_length=300)
    source: dict[str, Any] = json_field()
    facts: dict[str, Any] = json_field()
    actions: list[dict[str, Any]] = json_field(default_factory=list)
    at: datetime = ts_field(default_factory=utcnow)
