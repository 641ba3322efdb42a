"""Messages (обращения and сообщения), citizens' personal data, assignments, deadlines and the
append-only event log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from mcu.sqltypes import TenantOwned, json_field, tenant_fk, ts_field, utcnow

# Legal regime: an обращение under 59-ФЗ or a сообщение under its channel's rules
# (Некрасовский п.1.1.4–1.1.5; Константиновский Регламент п.1).
REGIMES = ("appeal", "message")

STATUSES = (
    "new",
    "classified",
    "assigned",
    "in_progress",
    "answered_preliminary",
    "answered",
    "resolved",
    "closed",
    "reopened",
    "forwarded",
    "duplicate",
    "long_term",
)


class Citizen(TenantOwned, table=True):
    """A citizen's personal data, kept apart from the message so that it can be shown only to
    roles that need it and every view of it audited."""

    __tablename__ = "citizen"

    full_name: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=300)
    postal_address: str | None = Field(default=None, max_length=500)
    created_at: datetime = ts_field(default_factory=utcnow)


class Message(TenantOwned, table=True):
    __tablename__ = "message"
    __table_args__ = (
        # Idempotent intake: a replayed message finds the record it already made.
        sa.UniqueConstraint("tenant_id", "channel_id", "external_id", name="uq_message_external"),
        sa.UniqueConstraint("tenant_id", "number", name="uq_message_number"),
        tenant_fk(["citizen_id"], "citizen"),
        tenant_fk(["duplicate_of_id"], "message"),
        tenant_fk(["emergency_id"], "emergency"),
        sa.Index("ix_message_tenant_received", "tenant_id", "received_at"),
        sa.Index("ix_message_tenant_block_received", "tenant_id", "block_id", "received_at"),
        sa.Index("ix_message_tenant_status", "tenant_id", "status"),
        # The analytics rollup's live part: messages whose term has not yet run out.
        # Covering on PostgreSQL: read from the index alone.
        sa.Index(
            "ix_message_tenant_due",
            "tenant_id",
            "due_at",
            postgresql_include=["received_at", "answered_at", "status"],
        ),
    )

    number: str = Field(max_length=32)
    regime: str = Field(max_length=16)
    channel_id: str = Field(max_length=64)
    channel_kind: str = Field(max_length=32)
    external_id: str = Field(max_length=200)
    subject: str | None = Field(default=None, max_length=500)
    text: str = Field(sa_type=sa.Text)
    citizen_id: uuid.UUID | None = None
    address: str | None = Field(default=None, max_length=500)
    settlement_id: str | None = Field(default=None, max_length=64)
    latitude: float | None = None
    longitude: float | None = None
    block_id: str | None = Field(default=None, max_length=64)
    topic: str | None = Field(default=None, max_length=48)
    classification: dict[str, Any] = json_field()
    threat_to_life: bool = False
    status: str = Field(default="new", max_length=32)
    duplicate_of_id: uuid.UUID | None = None
    # Messages of a spike (or about the same threat) are grouped under their emergency.
    emergency_id: uuid.UUID | None = None
    received_at: datetime = ts_field()
    registered_at: datetime | None = ts_field(nullable=True)
    due_at: datetime | None = ts_field(nullable=True)
    answered_at: datetime | None = ts_field(nullable=True)
    closed_at: datetime | None = ts_field(nullable=True)
    rating: int | None = None
    config_version_id: uuid.UUID | None = None
    created_at: datetime = ts_field(default_factory=utcnow)
    updated_at: datetime = ts_field(default_factory=utcnow)


class Assignment(TenantOwned, table=True):
    """Who is responsible for a message: a roster position (and the user holding it, if any)."""

    __tablename__ = "assignment"
    __table_args__ = (
        tenant_fk(["message_id"], "message"),
        sa.Index("ix_assignment_tenant_message", "tenant_id", "message_id"),
        sa.Index("ix_assignment_tenant_position", "tenant_id", "position_id", "active"),
    )

    message_id: uuid.UUID
    position_id: str = Field(max_length=64)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id")
    automatic: bool = False
    reason: str | None = Field(default=None, max_length=500)
    active: bool = True
    assigned_at: datetime = ts_field(default_factory=utcnow)
    ended_at: datetime | None = ts_field(nullable=True)


class Deadline(TenantOwned, table=True):
    """A durable timer: answer due, reminder, emergency report. A worker claims due rows."""

    __tablename__ = "deadline"
    __table_args__ = (
        tenant_fk(["message_id"], "message"),
        sa.Index("ix_deadline_tenant_status_due", "tenant_id", "status", "due_at"),
        sa.Index("ix_deadline_tenant_message", "tenant_id", "message_id"),
        tenant_fk(["emergency_id"], "emergency"),
        # The worker claims due rows of every tenant: a small index over pending rows only.
        sa.Index(
            "ix_deadline_pending_due",
            "due_at",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
    )

    message_id: uuid.UUID | None = None
    emergency_id: uuid.UUID | None = None
    timer: str = Field(max_length=48)
    due_at: datetime = ts_field()
    status: str = Field(default="pending", max_length=16)  # pending, fired, met, cancelled
    explanation: dict[str, Any] = json_field()
    claimed_by: str | None = Field(default=None, max_length=120)
    claimed_until: datetime | None = ts_field(nullable=True)
    attempts: int = 0
    fired_at: datetime | None = ts_field(nullable=True)
    created_at: datetime = ts_field(default_factory=utcnow)


class Event(TenantOwned, table=True):
    """Append-only log of everything that happened to a message or other subject."""

    __tablename__ = "event"
    __table_args__ = (
        sa.Index("ix_event_tenant_subject", "tenant_id", "subject_kind", "subject_id", "at"),
        sa.Index("ix_event_tenant_kind_at", "tenant_id", "kind", "at"),
    )

    subject_kind: str = Field(max_length=32)  # message, emergency, roadmap, tenant ...
    subject_id: uuid.UUID | None = None
    kind: str = Field(max_length=48)
    at: datetime = ts_field(default_factory=utcnow)
    actor_kind: str = Field(default="system", max_length=16)  # system, user, citizen, rule
    actor_id: str | None = Field(default=None, max_length=120)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    data: dict[str, Any] = json_field()


class IntakeItem(TenantOwned, table=True):
    """A message accepted by the queued intake (POST /api/v1/<t>/intake) and not yet, or already,
    taken through the pipeline by the worker (mcu.messages.queue). Nothing is deleted: a refused
    item keeps its payload and the reason."""

    __tablename__ = "intake_item"
    __table_args__ = (
        # Idempotent like the message itself: a replayed delivery finds the item it made.
        sa.UniqueConstraint("tenant_id", "channel_id", "external_id", name="uq_intake_item_external"),
        # The worker takes queued items of every tenant, oldest first: an index over those only.
        sa.Index(
            "ix_intake_item_queued",
            "accepted_at",
            postgresql_where=sa.text("status = 'queued'"),
            sqlite_where=sa.text("status = 'queued'"),
        ),
    )

    channel_id: str = Field(max_length=64)
    external_id: str = Field(max_length=200)
    payload: dict[str, Any] = json_field()
    actor: str = Field(max_length=120)
    accepted_at: datetime = ts_field(default_factory=utcnow)
    status: str = Field(default="queued", max_length=16)  # queued, done, refused
    message_id: uuid.UUID | None = None
    error: dict[str, Any] | None = json_field(nullable=True, default_factory=lambda: None)
    processed_at: datetime | None = ts_field(nullable=True)
