"""Reads for messages. Every function takes the tenant: a message of another tenant is not found."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
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


def active_assignment(session: Session, message: Message) -> Assignment | None:
    return session.exec(
        select(Assignment).where(
            Assignment.tenant_id == message.tenant_id, Assignment.message_id == message.id, Assignment.active
        )
    ).first()


UNREAD = object()  # message_public: not read by the caller

M, A, D, E = Message.__table__, Assignment.__table__, Deadline.__table__, Event.__table__
# What the API shows of a message, named as Message's attributes: message_public reads a row of
# these as it reads a Message. No citizen's data (citizen_id and the like are not among them).
SHOWN = (
    M.c.id,
    M.c.number,
    M.c.regime,
    M.c.channel_id,
    M.c.status,
    M.c.subject,
    M.c.text,
    M.c.address,
    M.c.settlement_id,
    M.c.latitude,
    M.c.longitude,
    M.c.block_id,
    M.c.classification,
    M.c.threat_to_life,
    M.c.received_at,
    M.c.registered_at,
    M.c.due_at,
    M.c.answered_at,
    M.c.closed_at,
    M.c.rating,
    M.c.duplicate_of_id,
)


def _public_select(messages: sa.FromClause) -> sa.Select:
    """The shown columns of `messages` (the message table or a page of it) with the executor
    and the answer term's explanation, each a subquery by the message's key (one index probe a
    message): one statement for a page instead of one for the page and two for what it refers
    to, and Core rows instead of ORM objects, which the API does not need."""
    m = messages.c
    active = (
        sa.select(A.c.position_id, A.c.automatic)
        .where(A.c.tenant_id == m.tenant_id, A.c.message_id == m.id, A.c.active)
        .order_by(A.c.assigned_at.desc())
        .limit(1)
    )
    term = (
        sa.select(D.c.explanation["text"].as_string())
        .where(
            D.c.tenant_id == m.tenant_id,
            D.c.message_id == m.id,
            D.c.timer == "answer",
            D.c.status != "cancelled",
        )
        .order_by(D.c.created_at.desc())  # the latest, as answer_deadline takes it
        .limit(1)
    )
    return sa.select(
        *(m[c.name] for c in SHOWN),
        active.with_only_columns(A.c.position_id).scalar_subquery().label("executor_position_id"),
        active.with_only_columns(A.c.automatic).scalar_subquery().label("executor_automatic"),
        term.scalar_subquery().label("due_explanation"),
    )


def public_messages(
    session: Session,
    config: TenantConfig,
    *,
    status: str | None = None,
    block: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """A page of the district's messages as the API shows them, newest first, in one statement."""
    page = sa.select(M.c.tenant_id, *SHOWN).where(M.c.tenant_id == config.tenant_id)
    if status:
        page = page.where(M.c.status == status)
    if block:
        page = page.where(M.c.block_id == block)
    # The page first, then its executors and terms: only the page's messages are looked up.
    page = page.order_by(M.c.received_at.desc()).offset(offset).limit(limit).subquery("page")
    rows = session.execute(_public_select(page).order_by(page.c.received_at.desc()))
    return [_public_row(config, row) for row in rows]


def public_message(session: Session, config: TenantConfig, message_id: uuid.UUID) -> dict[str, Any] | None:
    """One message of the district as the API shows it, with its log; None when the district
    has no such message. Two statements: the message with its executor and term, and its log."""
    row = session.execute(
        _public_select(M).where(M.c.tenant_id == config.tenant_id, M.c.id == message_id)
    ).first()
    if row is None:
        return None
    out = _public_row(config, row)
    out["events"] = _public_log(session, config.tenant_id, message_id)
    return out


def _public_row(config: TenantConfig, row: sa.Row) -> dict[str, Any]:
    position = row.executor_position_id
    return _public(
        config,
        row,
        executor=(position, row.executor_automatic) if position is not None else None,
        due_explanation=row.due_explanation,
    )


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
    out = _public(
        config,
        message,
        executor=(assignment.position_id, assignment.automatic) if assignment else None,
        due_explanation=(deadline.explanation or {}).get("text") if deadline else None,
    )
    if with_events:
        out["events"] = _public_log(session, message.tenant_id, message.id)
    return out


def _public(
    config: TenantConfig, message: Any, *, executor: tuple[str, bool] | None, due_explanation: str | None
) -> dict[str, Any]:
    """The API's view of a message (a Message, or a row of SHOWN): the one place that says what
    is shown."""
    position = config.roster.get(executor[0]) if executor else None
    block = config.blocks.get(message.block_id) if message.block_id else None
    return {
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
        "due_explanation": due_explanation,
        "executor": {
            "position_id": executor[0],
            "position": position.get("position") if position else None,
            "automatic": executor[1],
        }
        if executor
        else None,
        "answered_at": message.answered_at.isoformat() if message.answered_at else None,
        "closed_at": message.closed_at.isoformat() if message.closed_at else None,
        "rating": message.rating,
        "duplicate_of": str(message.duplicate_of_id) if message.duplicate_of_id else None,
    }


def _public_log(session: Session, tenant_id: int, message_id: uuid.UUID) -> list[dict[str, Any]]:
    """A message's event log as the API shows it: the columns it needs, no ORM objects."""
    events = session.execute(
        sa.select(E.c.kind, E.c.at, E.c.actor_kind, E.c.actor_id, E.c.reason)
        .where(E.c.tenant_id == tenant_id, E.c.subject_kind == "message", E.c.subject_id == message_id)
        .order_by(E.c.at, E.c.id)
    )
    return [
        {
            "kind": e.kind,
            "at": e.at.isoformat(),
            "actor": f"{e.actor_kind}:{e.actor_id or ''}".rstrip(":"),
            "reason": e.reason,
        }
        for e in events
    ]
