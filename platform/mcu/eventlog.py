"""The append-only event log: the one way any area writes what happened to a subject (a message,
an emergency, a decision, a hearing …). KPIs and replays read this log, so every writer must
give the same shape: who acted as `kind:id` («user:ivanov», «rule:overdue-1», «system»)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session

from mcu.messages.models import Event
from mcu.sqltypes import utcnow


def log_event(
    session: Session,
    *,
    tenant_id: int,
    subject_kind: str,
    subject_id: uuid.UUID | None,
    kind: str,
    actor: str,
    at: datetime | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    actor_kind, _, actor_id = actor.partition(":")
    event = Event(
        tenant_id=tenant_id,
        subject_kind=subject_kind,
        subject_id=subject_id,
        kind=kind,
        at=at or utcnow(),
        actor_kind=actor_kind or "system",
        actor_id=actor_id or None,
        reason=reason,
        data=data or {},
    )
    session.add(event)
    return event
