"""Audit records: every change, and every view of a citizen's personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from mcu.sqltypes import TenantOwned, json_field, ts_field, utcnow


class AuditRecord(TenantOwned, table=True):
    __tablename__ = "audit_record"
    __table_args__ = (sa.Index("ix_audit_tenant_at", "tenant_id", "at"),)

    at: datetime = ts_field(default_factory=utcnow)
    actor: str = Field(max_length=120)  # user login, "cli:<os user>", "system"
    action: str = Field(max_length=64)  # e.g. config.loaded, message.viewed_personal_data
    object_kind: str = Field(max_length=48)
    object_id: str | None = Field(default=None, max_length=120)
    details: dict[str, Any] = json_field()
