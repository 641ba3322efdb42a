"""Emergencies (аварийная ситуация): declared by a rule, grouping the messages they concern,
closed with a record of the decisions taken (ХМ Регламент п.5.7)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from mcu.emergencies.models import Emergency
from mcu.eventlog import log_event
from mcu.messages.models import Deadline, Event, Message
from mcu.rules.compile import Rule, RuleBook
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig


class EmergencyError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _event(
    session: Session,
    emergency: Emergency,
    kind: str,
    *,
    at: datetime,
    actor: str,
    reason: str | None,
    data: dict[str, Any] | None = None,
) -> None:
    log_event(
        session,
        tenant_id=emergency.tenant_id,
        subject_kind="emergency",
        subject_id=emergency.id,
        kind=kind,
        actor=actor,
        at=at,
        reason=reason,
        data=data,
    )


def _open_for(session: Session, config: TenantConfig, kind: str, message: Message) -> Emergency | None:
    query = select(Emergency).where(
        Emergency.tenant_id == config.tenant_id,
        Emergency.status == "open",
        Emergency.kind == kind,
        Emergency.block_id == message.block_id if message.block_id else Emergency.block_id.is_(None),
    )
    if kind == "threat":
        # The same threat is the same block in the same place; elsewhere it is another emergency.
        query = query.where(
            Emergency.settlement_id == message.settlement_id
            if message.settlement_id
            else Emergency.settlement_id.is_(None)
        )
    return session.exec(query.order_by(Emergency.declared_at)).first()


def _title(config: TenantConfig, kind: str, message: Message, facts: dict[str, Any]) -> str:
    block = config.blocks.get(message.block_id or "", {}).get("name", "блок не определён")
    place = config.settlements.get(message.settlement_id or "", {}).get("name")
    if kind == "spike":
        index = facts.get("growth_index")
        return f"Резкий рост сообщений: {block}" + (f" (индекс {index:.2f})" if index is not None else "")
    return f"Угроза жизни и здоровью: {block}" + (f", {place}" if place else "")


def declare(
    session: Session,
    config: TenantConfig,
    book: RuleBook,
    *,
    kind: str,
    message: Message,
    facts: dict[str, Any],
    rule: Rule,
    now: datetime,
    depth: int = 0,
) -> tuple[Emergency, bool]:
    """Declare an emergency for `message`, or group the message under the open one it belongs
    to. Returns the emergency and whether it is new; a new one is evaluated as
    `emergency_declared` at once (the decrees' «незамедлительно»)."""
    existing = _open_for(session, config, kind, message)
    if existing is not None:
        message.emergency_id = existing.id
        _event(
            session,
            existing,
            "message_grouped",
            at=now,
            actor=f"rule:{rule.id}",
            reason=f"сообщение № {message.number}",
            data={"message": str(message.id)},
        )
        return existing, False
    emergency = Emergency(
        tenant_id=config.tenant_id,
        kind=kind,
        block_id=message.block_id,
        settlement_id=message.settlement_id,
        title=_title(config, kind, message, facts)[:500],
        growth_index=facts.get("growth_index") if kind == "spike" else None,
        trigger={k: v for k, v in facts.items() if k != "event"},
        # «с момента возникновения аварийной ситуации» (п.5.4): when the message that shows it
        # arrived, which an import or a queue may have delayed.
        declared_at=min(message.received_at, now),
        declared_by_rule=rule.id,
        source_message_id=message.id,
    )
    session.add(emergency)
    session.flush()
    message.emergency_id = emergency.id
    grouped = 1
    if kind == "spike" and message.block_id:
        window = timedelta(hours=float(book.param("emergency", "window_hours", 24)))
        grouped += session.exec(
            update(Message)
            .where(
                Message.tenant_id == config.tenant_id,
                Message.block_id == message.block_id,
                Message.received_at > message.received_at - window,
                Message.received_at <= message.received_at,
                Message.emergency_id.is_(None),
                Message.id != message.id,
            )
            .values(emergency_id=emergency.id)
            .execution_options(synchronize_session=False)
        ).rowcount
    _event(
        session,
        emergency,
        "declared",
        at=now,
        actor=f"rule:{rule.id}",
        reason=emergency.title,
        data={"kind": kind, "messages": grouped, "source": rule.source},
    )
    session.add(
        Event(
            tenant_id=config.tenant_id,
            subject_kind="message",
            subject_id=message.id,
            kind="emergency_declared",
            at=now,
            actor_kind="rule",
            actor_id=rule.id,
            reason=emergency.title,
            data={"emergency": str(emergency.id)},
        )
    )
    from mcu.rules.operations import handle

    handle(
        session,
        config,
        "emergency_declared",
        facts={
            "emergency_kind": kind,
            "block": emergency.block_id,
            "settlement": emergency.settlement_id,
            "growth_index": emergency.growth_index,
            "messages": grouped,
            "source_message": message.number,
        },
        now=now,
        emergency=emergency,
        subject_kind="emergency",
        subject_id=emergency.id,
        block_id=emergency.block_id,
        depth=depth + 1,
        book=book,
        since=emergency.declared_at,
    )
    return emergency, True


def close(
    *,
    session: Session,
    config: TenantConfig,
    emergency: Emergency,
    decisions: str,
    actor: str,
    now: datetime | None = None,
) -> None:
    """Close with the record of decisions and measures (ХМ Регламент п.5.7); every pending
    reminder of the emergency stops."""
    now = now or utcnow()
    if emergency.status != "open":
        raise EmergencyError("status", "аварийная ситуация уже закрыта")
    if not decisions or not decisions.strip():
        raise EmergencyError("decisions", "укажите принятые решения и проведённые мероприятия")
    emergency.status = "closed"
    emergency.closed_at = now
    emergency.decisions = decisions.strip()
    for row in session.exec(
        select(Deadline).where(
            Deadline.tenant_id == emergency.tenant_id,
            Deadline.emergency_id == emergency.id,
            Deadline.status == "pending",
        )
    ):
        row.status = "cancelled"
    _event(session, emergency, "closed", at=now, actor=actor, reason=emergency.decisions)
    from mcu.rules.operations import handle

    handle(
        session,
        config,
        "emergency_closed",
        facts={"emergency_kind": emergency.kind, "block": emergency.block_id},
        now=now,
        emergency=emergency,
        subject_kind="emergency",
        subject_id=emergency.id,
        block_id=emergency.block_id,
    )
