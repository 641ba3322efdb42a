"""Reads for Open311: the tenant's service requests, i.e. messages submitted through Open311.

Only those are visible here. The GET methods are public (GeoReport has no key for reading), and
a message from any other channel — a 59-ФЗ обращение above all — must not be published: its
content is confidential (59-ФЗ ст. 6 ч. 2). A 311 app's user, by contrast, files into a public
system by design. Every function takes the tenant: another tenant's request is not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session, select

from mcu.messages.lifecycle import DONE
from mcu.messages.models import Assignment, Event, Message
from mcu.messages.queries import message_by_id

# Open311 intake gives each request an external id under this prefix (GeoReport has no client
# id); it is what marks a message as an Open311 service request.
EXTERNAL_ID_PREFIX = "open311:"


def is_service_request(message: Message) -> bool:
    return message.external_id.startswith(EXTERNAL_ID_PREFIX)


def service_request(session: Session, tenant_id: int, message_id: uuid.UUID) -> Message | None:
    message = message_by_id(session, tenant_id, message_id)
    return message if message is not None and is_service_request(message) else None


def service_requests(
    session: Session,
    tenant_id: int,
    *,
    ids: Collection[uuid.UUID] | None = None,
    codes: Collection[str] = (),
    statuses: Collection[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 1000,
) -> list[Message]:
    """Newest first. `ids`, when given, overrides every other filter (as GeoReport says)."""
    query = select(Message).where(
        Message.tenant_id == tenant_id, Message.external_id.startswith(EXTERNAL_ID_PREFIX)
    )
    if ids is not None:
        query = query.where(Message.id.in_(list(ids)))
    else:
        if codes:
            query = query.where(Message.block_id.in_(list(codes)))
        if set(statuses) == {"closed"}:
            query = query.where(Message.status.in_(DONE))
        elif set(statuses) == {"open"}:
            query = query.where(Message.status.not_in(DONE))
        if start is not None:
            query = query.where(Message.received_at >= start)
        if end is not None:
            query = query.where(Message.received_at <= end)
    return list(session.exec(query.order_by(Message.received_at.desc()).limit(limit)))


def executors(session: Session, tenant_id: int, message_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """message id → the position its active assignment names; one query for a whole page."""
    if not message_ids:
        return {}
    rows = session.exec(
        select(Assignment.message_id, Assignment.position_id).where(
            Assignment.tenant_id == tenant_id, Assignment.message_id.in_(list(message_ids)), Assignment.active
        )
    )
    return dict(rows.all())


def latest_events(
    session: Session, tenant_id: int, message_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Event]:
    """message id → its latest event that gives a reason; one query for a whole page."""
    if not message_ids:
        return {}
    rows = session.exec(
        select(Event)
        .where(
            Event.tenant_id == tenant_id,
            Event.subject_kind == "message",
            Event.subject_id.in_(list(message_ids)),
            Event.reason.is_not(None),
        )
        .order_by(Event.at, Event.id)
    )
    return {event.subject_id: event for event in rows}
