"""Reads for messages. Every function takes the tenant: a message of another tenant is not found."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, select

from mcu.messages.lifecycle import STATUS_NAMES
from mcu.messages.models import Assignment, Deadline, Event, Message
from mcu.tenancy.config import TenantConfig


def message_by_id(session: Session, tenant_id: int, message_id: uuid.UUID) -> Message | None:
    return session.get(Message, (tenant_id, message_id))


def message_by_number(session: Session, tenant_id: int, number: str) -> Message | None:
    return session.exec(
        select(Message).where(Message.tenant_id == tenant_id, Message.number == number)
    ).first()


def list_messages(
    session: Session,
    tenant_id: int,
    *,
    status: str | None = None,
    block: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Message]:
    query = select(Message).where(Message.tenant_id == tenant_id)
    if status:
        query = query.where(Message.status == status)
    if block:
        query = query.where(Message.block_id == block)
    query = query.order_by(Message.received_at.desc()).offset(offset).limit(limit)
    return list(session.exec(query))


def active_assignment(session: Session, message: Message) -> Assignment | None:
    return session.exec(
        select(Assignment).where(
            Assignment.tenant_id == message.tenant_id, Assignment.message_id == message.id, Assignment.active
        )
    ).first()


UNREAD = object()  # message_public: not read by the caller


def messages_public(session: Session, config: TenantConfig, messages: list[Message]) -> list[dict[str, Any]]:
    """Many messages as the API shows them; their executors and answer terms read in two queries,
    not two per message."""
    if not messages:
        return []
    tenant_id, ids = messages[0].tenant_id, [m.id for m in messages]
    assignments = {
        a.message_id: a
        for a in session.exec(
            select(Assignment).where(
                Assignment.tenant_id == tenant_id, Assignment.message_id.in_(ids), Assignment.active
            )
        )
    }
    deadlines: dict[Any, Deadline] = {}
    for d in session.exec(
        select(Deadline)
        .where(
            Deadline.tenant_id == tenant_id,
            Deadline.message_id.in_(ids),
            Deadline.timer == "answer",
            Deadline.status != "cancelled",
        )
        .order_by(Deadline.created_at.desc())
    ):
        deadlines.setdefault(d.message_id, d)  # the latest, as answer_deadline takes it
    return [
        message_public(session, config, m, assignment=assignments.get(m.id), deadline=deadlines.get(m.id))
        for m in messages
    ]


def answer_deadline(session: Session, message: Message) -> Deadline | None:
    return session.exec(
        select(Deadline)
        .where(
            Deadline.tenant_id == message.tenant_id,
            Deadline.message_id == message.id,
            Deadline.timer == "answer",
            Deadline.status != "cancelled",
        )
        .order_by(Deadline.created_at.desc())
    ).first()


def events_of(session: Session, message: Message) -> list[Event]:
    return list(
        session.exec(
            select(Event)
            .where(
                Event.tenant_id == message.tenant_id,
                Event.subject_kind == "message",
                Event.subject_id == message.id,
            )
            .order_by(Event.at, Event.id)
        )
    )


def message_public(
    session: Session,
    config: TenantConfig,
    message: Message,
    *,
    with_events: bool = False,
    assignment: Assignment | object | None = UNREAD,
    deadline: Deadline | object | None = UNREAD,
) -> dict[str, Any]:
    """A message as the API shows it — without the citizen's personal data. A caller that has
    already read (or just made) the assignment and deadline passes them in, None included."""
    if assignment is UNREAD:
        assignment = active_assignment(session, message)
    if deadline is UNREAD:
        deadline = answer_deadline(session, message)
    position = config.roster.get(assignment.position_id) if assignment else None
    block = config.blocks.get(message.block_id) if message.block_id else None
    out: dict[str, Any] = {
        "id": str(message.id),
        "number": message.number,
        "regime": message.regime,
        "channel": message.channel_id,
        "status": message.status,
        "status_name": STATUS_NAMES.get(message.status, message.status),
        "subject": message.subject,
        "text": message.text,
        "address": message.address,
        "settlement": message.settlement_id,
        "latitude": message.latitude,
        "longitude": message.longitude,
        "block": {"id": block["id"], "name": block["name"]} if block else None,
        "classification": message.classification,
        "threat_to_life": message.threat_to_life,
        "received_at": message.received_at.isoformat(),
        "registered_at": message.registered_at.isoformat() if message.registered_at else None,
        "due_at": message.due_at.isoformat() if message.due_at else None,
        "due_explanation": (deadline.explanation or {}).get("text") if deadline else None,
        "executor": {
            "position_id": assignment.position_id,
            "position": position.get("position") if position else None,
            "automatic": assignment.automatic,
        }
        if assignment
        else None,
        "answered_at": message.answered_at.isoformat() if message.answered_at else None,
        "closed_at": message.closed_at.isoformat() if message.closed_at else None,
        "rating": message.rating,
        "duplicate_of": str(message.duplicate_of_id) if message.duplicate_of_id else None,
    }
    if with_events:
        out["events"] = [
            {
                "kind": e.kind,
                "at": e.at.isoformat(),
                "actor": f"{e.actor_kind}:{e.actor_id or ''}".rstrip(":"),
                "reason": e.reason,
            }
            for e in events_of(session, message)
        ]
    return out
