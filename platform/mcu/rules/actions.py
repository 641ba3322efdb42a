"""The closed vocabulary of actions, applied to the database.

Each function returns a small dict saying what it did; the dicts are stored in the decision, so
«why was I told this?» always has an answer (rule, clause, facts, action result).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from mcu.deadlines.compute import plural
from mcu.eventlog import log_event
from mcu.messages.models import Deadline
from mcu.notifications.operations import send
from mcu.roadmaps.models import Roadmap
from mcu.rules.compile import Rule, RuleBook
from mcu.rules.operations import Trigger
from mcu.rules.recipients import addressees, describe
from mcu.tenancy.config import TenantConfig


def apply(
    session: Session,
    config: TenantConfig,
    book: RuleBook,
    rule: Rule,
    action: dict[str, Any],
    trigger: Trigger,
    decision_id: uuid.UUID,
) -> dict[str, Any]:
    kind = action["do"]
    if kind in ("notify", "escalate"):
        return _notify(session, config, rule, action, trigger, decision_id, escalation=kind == "escalate")
    if kind == "assign":
        return _assign(session, config, rule, action, trigger)
    if kind == "set_deadline":
        return _set_deadline(session, config, rule, action, trigger)
    if kind == "repeat_every":
        return _repeat_every(session, config, rule, action, trigger)
    if kind == "declare_emergency":
        return _declare_emergency(session, config, book, rule, action, trigger)
    if kind == "require_roadmap":
        return _require_roadmap(session, config, rule, action, trigger)
    if kind == "schedule_report":
        return _schedule_report(session, config, rule, action, trigger)
    raise ValueError(f"unknown action {kind}")  # the schema's enum makes this unreachable


def _block_name(config: TenantConfig, block_id: str | None) -> str | None:
    return config.blocks.get(block_id, {}).get("name") if block_id else None


def _about(config: TenantConfig, trigger: Trigger) -> str:
    """What the notification is about, without the citizen's text or personal data: an inbox
    or an e-mail is not the place for them."""
    parts = []
    if trigger.message is not None:
        m = trigger.message
        parts.append(f"Сообщение № {m.number}" + (f" «{m.subject}»" if m.subject else ""))
        if m.due_at is not None:
            parts.append(f"срок ответа {m.due_at.astimezone(config.tz):%d.%m.%Y %H:%M}")
    elif trigger.facts.get("source_message"):
        parts.append(f"Сообщение № {trigger.facts['source_message']}")
    if trigger.emergency is not None:
        parts.append(f"Аварийная ситуация: {trigger.emergency.title}")
        if trigger.emergency.decisions:
            parts.append(f"Принятые решения и мероприятия: {trigger.emergency.decisions}")
    block = _block_name(config, trigger.block_id)
    if block:
        parts.append(f"блок «{block}»")
    return "; ".join(parts)


def _clause(rule: Rule) -> str:
    src = rule.source
    return ", ".join(str(x) for x in (src.get("act"), src.get("clause"), src.get("rule_clause")) if x)


def _subject_event(session: Session, trigger: Trigger, kind: str, reason: str, data: dict[str, Any]) -> None:
    subject = trigger.message if trigger.message is not None else trigger.emergency
    if subject is None:
        return
    log_event(
        session,
        tenant_id=subject.tenant_id,
        subject_kind="message" if trigger.message is not None else "emergency",
        subject_id=subject.id,
        kind=kind,
        actor=f"rule:{data.get('rule') or ''}",
        at=trigger.now,
        reason=reason,
        data=data,
    )


def _notify(
    session: Session,
    config: TenantConfig,
    rule: Rule,
    action: dict[str, Any],
    trigger: Trigger,
    decision_id: uuid.UUID,
    *,
    escalation: bool,
) -> dict[str, Any]:
    found = addressees(
        config, role=action.get("role"), role_kind=action.get("role_kind"), block_id=trigger.block_id
    )
    title = action.get("message") or rule.title
    body = "\n".join(
        x
        for x in (
            title,
            _about(config, trigger),
            f"Основание: {rule.title} ({_clause(rule)})" if _clause(rule) else f"Основание: {rule.title}",
        )
        if x
    )
    mails = send(
        session,
        config,
        found,
        kind="escalation" if escalation else "notify",
        title=title,
        body=body,
        subject_kind=trigger.subject_kind,
        subject_id=trigger.subject_id,
        at=trigger.now,
        message_id=trigger.message.id if trigger.message is not None else None,
        emergency_id=trigger.emergency.id if trigger.emergency is not None else None,
        decision_id=decision_id,
        rule_id=rule.id,
    )
    result = {
        "do": action["do"],
        "to": describe(found),
        "message": title,
        "emails": mails,
    }
    if not found:
        result["note"] = "в районе нет роли, которой адресовано действие"
    _subject_event(
        session,
        trigger,
        "escalated" if escalation else "notified",
        title,
        {"rule": rule.id, "to": [w.position_name or w.role_name for w in found], "source": rule.source},
    )
    return result


def _assign(
    session: Session, config: TenantConfig, rule: Rule, action: dict[str, Any], trigger: Trigger
) -> dict[str, Any]:
    from mcu.messages.operations import assign_by_rule

    found = [
        a
        for a in addressees(
            config, role=action.get("role"), role_kind=action.get("role_kind"), block_id=trigger.block_id
        )
        if a.position_id
    ]
    if trigger.message is None or not found:
        return {"do": "assign", "skipped": "нет сообщения или должности для назначения"}
    assign_by_rule(
        session=session,
        config=config,
        message=trigger.message,
        position_id=found[0].position_id,
        reason=f"{rule.title} ({_clause(rule)})",
        rule_id=rule.id,
    )
    return {"do": "assign", "position": found[0].position_id, "position_name": found[0].position_name}


def _hours(action: dict[str, Any]) -> float:
    return float(action.get("hours") or 0) + 24 * float(action.get("days") or 0)


def _deadline(
    session: Session,
    config: TenantConfig,
    trigger: Trigger,
    timer: str,
    hours: float,
    explanation: dict[str, Any],
) -> Deadline:
    row = Deadline(
        tenant_id=config.tenant_id,
        message_id=trigger.message.id if trigger.message is not None else None,
        emergency_id=trigger.emergency.id if trigger.emergency is not None else None,
        timer=timer,
        due_at=(trigger.since or trigger.now) + timedelta(hours=hours),
        explanation=explanation,
        created_at=trigger.now,
    )
    session.add(row)
    return row


def _when(config: TenantConfig, row: Deadline) -> str:
    return f"{row.due_at.astimezone(config.tz):%d.%m.%Y %H:%M}"


def _set_deadline(
    session: Session, config: TenantConfig, rule: Rule, action: dict[str, Any], trigger: Trigger
) -> dict[str, Any]:
    hours = _hours(action)
    timer = action.get("timer", "rule")
    text = f"{action.get('message') or rule.title}: {_hours_text(hours)} — до "
    row = _deadline(
        session,
        config,
        trigger,
        timer,
        hours,
        {
            "text": "",
            "rule": rule.id,
            "source": rule.source,
            "message": action.get("message"),
            "hours": hours,
        },
    )
    row.explanation["text"] = text + _when(config, row)
    if timer == "liquidation" and trigger.emergency is not None:
        trigger.emergency.liquidation_due_at = row.due_at
    return {"do": "set_deadline", "timer": timer, "due_at": row.due_at.isoformat(), "hours": hours}


def _hours_text(hours: float) -> str:
    return f"через {plural(hours, 'hours')}"


def _repeat_every(
    session: Session, config: TenantConfig, rule: Rule, action: dict[str, Any], trigger: Trigger
) -> dict[str, Any]:
    hours = _hours(action)
    if hours <= 0:
        return {"do": "repeat_every", "timer": action.get("timer"), "skipped": "период 0 — график не ведётся"}
    timer = action.get("timer", "reminder")
    row = _deadline(
        session,
        config,
        trigger,
        timer,
        hours,
        {
            "text": f"{action.get('message') or rule.title}: "
            + ("каждый час" if hours == 1 else f"каждые {plural(hours, 'hours')}"),
            "rule": rule.id,
            "source": rule.source,
            "message": action.get("message"),
            "repeat_every_hours": hours,
            "event": "emergency_report_due" if trigger.emergency is not None else "deadline_due",
        },
    )
    return {
        "do": "repeat_every",
        "timer": timer,
        "every_hours": hours,
        "first_due_at": row.due_at.isoformat(),
    }


def _declare_emergency(
    session: Session,
    config: TenantConfig,
    book: RuleBook,
    rule: Rule,
    action: dict[str, Any],
    trigger: Trigger,
) -> dict[str, Any]:
    from mcu.emergencies.operations import declare

    if trigger.message is None:
        return {"do": "declare_emergency", "skipped": "нет сообщения"}
    emergency, created = declare(
        session,
        config,
        book,
        kind=action.get("emergency_kind", "threat"),
        message=trigger.message,
        facts=trigger.facts,
        rule=rule,
        now=trigger.now,
        depth=trigger.depth,
    )
    trigger.emergency = emergency
    return {
        "do": "declare_emergency",
        "emergency": str(emergency.id),
        "created": created,
        "title": emergency.title,
        **({} if created else {"note": "сообщение присоединено к открытой аварийной ситуации"}),
    }


def _require_roadmap(
    session: Session, config: TenantConfig, rule: Rule, action: dict[str, Any], trigger: Trigger
) -> dict[str, Any]:
    """The roadmap still in work for the emergency (or block) — a draft opened through the API
    included — or a new draft with the people from the roster."""
    from mcu.roadmaps import operations as roadmaps
    from mcu.roadmaps.people import from_roster

    kind = action.get("roadmap_kind", "plan")
    existing = roadmaps.open_roadmap(
        session,
        config.tenant_id,
        kind,
        emergency_id=trigger.emergency.id if trigger.emergency is not None else None,
        block_id=trigger.block_id,
    )
    if existing is not None:
        return {"do": "require_roadmap", "roadmap": str(existing.id), "created": False}
    hours = _hours(action)
    if trigger.emergency is not None:
        roadmap = roadmaps.new_operational(
            session,
            config,
            trigger.emergency,
            now=trigger.now,
            due_hours=0,
            origin="rule",
            actor=f"rule:{rule.id}",
        )
        roadmap.kind = kind
        roadmap.due_at = (trigger.since or trigger.now) + timedelta(hours=hours) if hours else None
    else:
        roadmap = Roadmap(
            tenant_id=config.tenant_id,
            kind=kind,
            block_id=trigger.block_id,
            problem=f"Негативная динамика: {_block_name(config, trigger.block_id) or 'блок не определён'}",
            growth={
                k: trigger.facts[k]
                for k in ("growth_index", "window_count", "baseline")
                if k in trigger.facts
            },
            responsible=from_roster(config, trigger.block_id),
            due_at=(trigger.since or trigger.now) + timedelta(hours=hours) if hours else None,
            origin="rule",
            created_by=f"rule:{rule.id}",
            created_at=trigger.now,
        )
        session.add(roadmap)
    result: dict[str, Any] = {
        "do": "require_roadmap",
        "roadmap": str(roadmap.id),
        "kind": kind,
        "created": True,
    }
    if hours:
        row = _deadline(
            session,
            config,
            trigger,
            "roadmap_due",
            hours,
            {
                "text": f"{action.get('message') or 'Дорожная карта'}: {_hours_text(hours)}",
                "rule": rule.id,
                "source": rule.source,
                "roadmap": str(roadmap.id),
            },
        )
        result["due_at"] = row.due_at.isoformat()
    return result


def _schedule_report(
    session: Session, config: TenantConfig, rule: Rule, action: dict[str, Any], trigger: Trigger
) -> dict[str, Any]:
    hours = _hours(action)
    row = _deadline(
        session,
        config,
        trigger,
        "report",
        hours,
        {
            "text": f"{action.get('message') or 'Отчёт'}: {_hours_text(hours)}",
            "rule": rule.id,
            "source": rule.source,
            "report": action.get("report"),
            "event": "report_due",
        },
    )
    return {"do": "schedule_report", "report": action.get("report"), "due_at": row.due_at.isoformat()}
