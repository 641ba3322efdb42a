"""Reads of rule decisions."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from mcu.messages.models import Message
from mcu.rules.models import RuleDecision


def decisions_for_message(session: Session, message: Message) -> list[RuleDecision]:
    return list(
        session.exec(
            select(RuleDecision)
            .where(RuleDecision.tenant_id == message.tenant_id, RuleDecision.message_id == message.id)
            .order_by(RuleDecision.at)
        )
    )


def decisions_public(rows: Any) -> list[dict[str, Any]]:
    """Why something happened: the rule, its decree clause, the facts it saw, what it did."""
    return [
        {
            "at": d.at.isoformat(),
            "event": d.event,
            "rule": d.rule_id,
            "title": d.title,
            "source": d.source,
            "facts": d.facts,
            "actions": d.actions,
        }
        for d in rows
    ]
