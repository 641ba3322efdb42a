"""The facts an event is evaluated on: plain JSON values, aggregates computed here (in SQL) so
the engine only compares. A fact costing a query is computed only when some rule of the
tenant's book looks at it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from mcu.analytics.growth import block_growth
from mcu.emergencies.models import Emergency
from mcu.messages.models import Message
from mcu.rules.compile import RuleBook

GROWTH_FIELDS = {"growth_index", "window_count", "baseline"}


def message_facts(message: Message, now: datetime) -> dict[str, Any]:
    return {
        "block": message.block_id,
        "topic": message.topic,
        "channel": message.channel_id,
        "channel_kind": message.channel_kind,
        "regime": message.regime,
        "settlement": message.settlement_id,
        "status": message.status,
        "threat_to_life": bool(message.threat_to_life),
        "age_hours": round((now - message.received_at).total_seconds() / 3600, 3),
        "in_emergency": message.emergency_id is not None,
    }


def received_facts(
    session: Session, book: RuleBook, message: Message, *, assigned: bool, now: datetime
) -> dict[str, Any]:
    facts = {**message_facts(message, now), "assigned": assigned}
    window = float(book.param("emergency", "window_hours", 24))
    if GROWTH_FIELDS & book.fields and message.block_id and facts["age_hours"] <= window:
        # A historical import is not a spike today: growth is computed for fresh messages only.
        growth = block_growth(
            session,
            message.tenant_id,
            message.block_id,
            at=message.received_at,
            window_hours=window,
            baseline_days=float(book.param("emergency", "baseline_days", 28)),
        )
        facts.update(growth.as_facts())
    return facts


def emergency_facts(emergency: Emergency, now: datetime) -> dict[str, Any]:
    return {
        "emergency_kind": emergency.kind,
        "block": emergency.block_id,
        "settlement": emergency.settlement_id,
        "emergency_status": emergency.status,
        "emergency_age_hours": round((now - emergency.declared_at).total_seconds() / 3600, 3),
    }
