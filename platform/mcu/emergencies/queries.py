"""Reads for emergencies, always within one tenant."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from mcu.emergencies.models import Emergency
from mcu.messages.models import Deadline, Event, Message
from mcu.rules.models import RuleDecision
from mcu.rules.queries import decisions_public
from mcu.tenancy.config import TenantConfig

STATUS_NAMES = {"open": "открыта", "closed": "закрыта"}
KIND_NAMES = {"spike": "резкий рост сообщений", "threat": "угроза жизни и здоровью"}


def emergency_by_id(session: Session, tenant_id: int, emergency_id: uuid.UUID) -> Emergency | None:
    return session.get(Emergency, (tenant_id, emergency_id))


def list_emergencies(session: Session, tenant_id: int, *, status: str | None = None) -> list[Emergency]:
    query = select(Emergency).where(Emergency.tenant_id == tenant_id)
    if status:
        query = query.where(Emergency.status == status)
    return list(session.exec(query.order_by(Emergency.declared_at.desc()).limit(200)))


def emergency_public(
    session: Session, config: TenantConfig, emergency: Emergency, *, full: bool = False
) -> dict[str, Any]:
    count = session.exec(
        select(func.count())
        .select_from(Message)
        .where(Message.tenant_id == emergency.tenant_id, Message.emergency_id == emergency.id)
    ).one()
    out: dict[str, Any] = {
        "id": str(emergency.id),
        "kind": emergency.kind,
        "kind_name": KIND_NAMES.get(emergency.kind, emergency.kind),
        "title": emergency.title,
        "status": emergency.status,
        "status_name": STATUS_NAMES.get(emergency.status, emergency.status),
        "block": emergency.block_id,
        "block_name": config.blocks.get(emergency.block_id or "", {}).get("name"),
        "settlement": emergency.settlement_id,
        "growth_index": emergency.growth_index,
        "declared_at": emergency.declared_at.isoformat(),
        "liquidation_due_at": emergency.liquidation_due_at.isoformat()
        if emergency.liquidation_due_at
        else None,
        "closed_at": emergency.closed_at.isoformat() if emergency.closed_at else None,
        "decisions": emergency.decisions,
        "declared_by_rule": emergency.declared_by_rule,
        "messages": count,
    }
    if full:
        tid = emergency.tenant_id
        out["message_numbers"] = list(
            session.exec(
                select(Message.number)
                .where(Message.tenant_id == tid, Message.emergency_id == emergency.id)
                .order_by(Message.received_at)
            )
        )
        out["timers"] = [
            {
                "timer": d.timer,
                "due_at": d.due_at.isoformat(),
                "status": d.status,
                "text": d.explanation.get("text"),
            }
            for d in session.exec(
                select(Deadline)
                .where(Deadline.tenant_id == tid, Deadline.emergency_id == emergency.id)
                .order_by(Deadline.due_at)
            )
        ]
        out["events"] = [
            {"kind": e.kind, "at": e.at.isoformat(), "actor": e.actor_kind, "reason": e.reason}
            for e in session.exec(
                select(Event)
                .where(
                    Event.tenant_id == tid,
                    Event.subject_kind == "emergency",
                    Event.subject_id == emergency.id,
                )
                .order_by(Event.at)
            )
        ]
        out["decisions_log"] = decisions_public(
            session.exec(
                select(RuleDecision)
                .where(RuleDecision.tenant_id == tid, RuleDecision.emergency_id == emergency.id)
                .order_by(RuleDecision.at)
            )
        )
    return out
