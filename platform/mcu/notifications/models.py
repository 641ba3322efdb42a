"""The inbox (one row per addressee) and the mail outbox (one row per e-mail to send).

Both are written in the transaction of the decision that caused them, so a notification exists
exactly when its decision does; mail leaves through the outbox, so a failing SMTP server delays
it and loses nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from mcu.sqltypes import TenantOwned, tenant_fk, ts_field, utcnow


class Notification(TenantOwned, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        sa.Index("ix_notification_tenant_position", "tenant_id", "position_id", "created_at"),
        sa.Index("ix_notification_tenant_user", "tenant_id", "user_id", "read_at"),
        sa.Index("ix_notification_tenant_decision", "tenant_id", "decision_id"),
    )

    kind: str = Field(max_length=16)  # notify, escalation, reminder
    # Addressed to a roster position (whoever holds it) and, where known, a user.
    role_id: str | None = Field(default=None, max_length=64)
    position_id: str | None = Field(default=None, max_length=64)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    title: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    subject_kind: str = Field(max_length=32)
    subject_id: uuid.UUID | None = None
    message_id: uuid.UUID | None = None
    emergency_id: uuid.UUID | None = None
    decision_id: uuid.UUID | None = None
    rule_id: str | None = Field(default=None, max_length=160)
    created_at: datetime = ts_field(default_factory=utcnow)
    read_at: datetime | None = ts_field(nullable=True)


class MailOutbox(TenantOwned, table=True):
    __tablename__ = "mail_outbox"
    __table_args__ = (
        tenant_fk(["notification_id"], "notification"),
        sa.Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),
    )

    notification_id: uuid.UUID
    to_address: str = Field(max_length=300)
    subject: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    status: str = Field(default="pending", max_length=16)  # pending, sent, failed
    attempts: int = 0
    next_attempt_at: datetime = ts_field(default_factory=utcnow)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    sent_at: datetime | None = ts_field(nullable=True)
    created_at: datetime = ts_field(default_factory=utcnow)
