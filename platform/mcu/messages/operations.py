"""Writes for messages: intake from any channel and every lifecycle action.

This is the one place that changes a message. Each operation takes `*, session`, the tenant's
`config` and an `actor`, records an event (actor, time, reason) for everything it does, flushes
and never commits. Nothing is ever deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mcu.deadlines.compute import Due, answer_timer, compute_due, move_off_day, plural
from mcu.eventlog import log_event
from mcu.messages import lifecycle
from mcu.messages.classify import classifier_for, detect_threat
from mcu.messages.models import Assignment, Citizen, Deadline, Event, Message
from mcu.messages.routing import route
from mcu.messages.schemas import MessageIn
from mcu.observability.metrics import INTAKE
from mcu.rules.facts import message_facts, received_facts
from mcu.rules.operations import handle, rulebook
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig

log = logging.getLogger(__name__)

# Tenants may tighten this through the poor-answer rule set's `max_poor_rating` parameter.
DEFAULT_MAX_POOR_RATING = 2
EXTENSION_MAX_DAYS = 30  # 59-ФЗ ст. 12 ч. 2: once, by up to 30 days
# Timers a reply stops: any reply is feedback; only the final answer meets the answer term.
FEEDBACK_CLOSES = ("first_response", "no_feedback")
FINAL_CLOSES = ("answer", "first_response", "no_feedback", "overdue_followup")
RESERVED_NUMBERS = "mcu.messages.reserved_numbers"  # session.info: {(tenant, year): [numbers]}


class IntakeError(ValueError):
    """Input that cannot become a message; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class IntakeResult:
    message: Message
    created: bool
    # What intake made, so the response need not read it back (None for a replay).
    assignment: Assignment | None = None
    deadline: Deadline | None = None


# ---------------------------------------------------------------- helpers
def _event(
    session: Session,
    message: Message,
    kind: str,
    *,
    actor: str,
    at: datetime | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    return log_event(
        session,
        tenant_id=message.tenant_id,
        subject_kind="message",
        subject_id=message.id,
        kind=kind,
        actor=actor,
        at=at,
        reason=reason,
        data=data,
    )


def next_number(session: Session, tenant_id: int, year: int) -> str:
    """Registration number «ГГГГ-NNNNNN», unique per tenant.

    On PostgreSQL it is taken in its own short transaction: the counter row is one per tenant
    and year, and holding its lock until the intake commits would let only one message of a
    district in at a time; a number taken by an intake that then fails is skipped, never reused.
    SQLite has one writer at a time anyway, and a second connection would wait for the lock this
    request already holds, so there the number is taken in the request's own transaction.
    """
    reserved = session.info.get(RESERVED_NUMBERS, {}).get((tenant_id, year))
    if reserved:
        return f"{year}-{reserved.pop(0):06d}"
    return f"{year}-{_take_numbers(session, tenant_id, year, 1)[0]:06d}"


def reserve_numbers(session: Session, tenant_id: int, year: int, count: int) -> None:
    """Take `count` numbers at once for the next intakes of this session (the worker's batch):
    one counter update instead of one per message. Numbers a batch does not use are skipped."""
    numbers = session.info.setdefault(RESERVED_NUMBERS, {}).setdefault((tenant_id, year), [])
    numbers += _take_numbers(session, tenant_id, year, count)


def _take_numbers(session: Session, tenant_id: int, year: int, count: int) -> list[int]:
    name = f"message_number:{year}"
    if session.get_bind().dialect.name == "sqlite":
        return _take_number(session, tenant_id, name, count)
    with session.get_bind().connect() as conn:
        return _take_number(conn, tenant_id, name, count, own_transaction=True)


def _take_number(
    db: Any, tenant_id: int, name: str, count: int, *, own_transaction: bool = False
) -> list[int]:
    def step(statement: str, *, returns: bool):
        with db.begin() if own_transaction else db.begin_nested():
            result = db.execute(sql(statement), {"t": tenant_id, "n": name, "k": count})
            return result.first() if returns else None

    for _ in range(3):
        row = step(
            "UPDATE tenant_counter SET value = value + :k WHERE tenant_id = :t AND name = :n RETURNING value",
            returns=True,
        )
        if row is not None:
            return list(range(row[0] - count + 1, row[0] + 1))
        # Another intake may create the row first: then take the UPDATE path again.
        with contextlib.suppress(IntegrityError):
            step("INSERT INTO tenant_counter (tenant_id, name, value) VALUES (:t, :n, 0)", returns=False)
    raise RuntimeError("could not allocate a message number")


def _resolve_settlement(config: TenantConfig, given: str | None, address: str | None) -> str | None:
    """A settlement id from an explicit id or name, else recognised in the address."""
    candidates = [s for s in (given, address) if s]
    for text in candidates:
        low = text.lower()
        if text in config.settlements:
            return text
        for sid, s in config.settlements.items():
            names = [s["name"], *(s.get("aliases") or [])]
            if any(n.lower() == low for n in names):
                return sid
        for sid, s in config.settlements.items():
            for name in [*(s.get("aliases") or []), s["name"]]:
                core = name.lower().replace("сельское поселение ", "").replace("городское поселение ", "")
                if len(core) >= 4 and core in low:
                    return sid
    return None


def _deadline(session: Session, message: Message, due: Due, *, status: str = "pending") -> Deadline:
    row = Deadline(
        tenant_id=message.tenant_id,
        message_id=message.id,
        timer=due.timer,
        due_at=due.at,
        status=status,
        explanation=due.explanation,
    )
    session.add(row)
    return row


def _pending(session: Session, message: Message, timer: str) -> list[Deadline]:
    return list(
        session.exec(
            select(Deadline).where(
                Deadline.tenant_id == message.tenant_id,
                Deadline.message_id == message.id,
                Deadline.timer == timer,
                Deadline.status == "pending",
            )
        )
    )


def _assign(
    session: Session,
    config: TenantConfig,
    message: Message,
    *,
    actor: str,
    automatic: bool,
    position_id: str | None = None,
    reason: str | None = None,
    new: bool = False,
    at: datetime | None = None,
) -> Assignment | None:
    if position_id is None:
        decided = route(config, block_id=message.block_id, settlement_id=message.settlement_id)
        position_id, reason = decided.position_id, decided.reason
    previous = (
        []
        if new
        else session.exec(
            select(Assignment).where(
                Assignment.tenant_id == message.tenant_id,
                Assignment.message_id == message.id,
                Assignment.active,
            )
        )
    )
    for old in previous:
        old.active = False
        old.ended_at = at or utcnow()
    if position_id is None:
        _event(session, message, "routing_failed", actor=actor, at=at, reason=reason)
        return None
    assignment = Assignment(
        tenant_id=message.tenant_id,
        message_id=message.id,
        position_id=position_id,
        automatic=automatic,
        reason=reason,
        assigned_at=at or utcnow(),
    )
    session.add(assignment)
    # `automatic` feeds the KPI «автоматизированная доставка до конечного исполнителя».
    _event(
        session,
        message,
        "routed" if automatic else "assigned",
        actor=actor,
        at=at,
        reason=reason,
        data={
            "position": position_id,
            "automatic": automatic,
            "position_name": config.roster.get(position_id, {}).get("position"),
        },
    )
    return assignment


def _evaluate(
    session: Session,
    config: TenantConfig,
    message: Message,
    event: str,
    *,
    now: datetime | None = None,
    **facts: Any,
) -> None:
    """Hand what just happened to the message to the district's rules, in this transaction."""
    now = now or utcnow()
    handle(session, config, event, facts={**message_facts(message, now), **facts}, now=now, message=message)


def _set(message: Message, status: str) -> None:
    message.status = status
    message.updated_at = utcnow()


# ---------------------------------------------------------------- intake
@dataclass
class Intake:
    """One checked delivery on its way in (what `check_intake` returned with the payload)."""

    config: TenantConfig
    data: MessageIn
    channel: dict[str, Any]
    received: datetime
    external_id: str
    actor: str


@dataclass
class _Plan:
    """Everything intake decides about a message before writing a row: the decisions are pure
    (lexicons, calendar, roster), so a batch decides all its messages and then writes them table
    by table — a handful of statements for the batch instead of a dozen per message."""

    intake: Intake
    now: datetime
    registered: datetime
    start: datetime
    threat: Any
    block_id: str | None
    topic: str | None
    triage: bool
    classification: dict[str, Any]
    settlement_id: str | None
    profile: dict[str, Any]
    due: Due
    decided: Any
    status: str


def receive_message(
    *, session: Session, config: TenantConfig, data: MessageIn, actor: str, now: datetime | None = None
) -> IntakeResult:
    """Take in one message: store, classify, route and set its deadlines — or return the record
    a previous delivery of the same (channel, external id) already made."""
    now = now or utcnow()
    channel, received, external_id = check_intake(config, data, now)
    existing = _find_existing(session, config.tenant_id, data.channel, external_id)
    if existing is not None:
        return IntakeResult(existing, created=False)
    try:
        with session.begin_nested():
            (result,) = receive_checked(
                session=session,
                intakes=[Intake(config, data, channel, received, external_id, actor)],
                now=now,
            )
    except IntegrityError:
        # The same delivery raced us to the unique key: it is stored once, return that one.
        existing = _find_existing(session, config.tenant_id, data.channel, external_id)
        if existing is None:
            raise
        return IntakeResult(existing, created=False)
    return result


def receive_checked(*, session: Session, intakes: list[Intake], now: datetime) -> list[IntakeResult]:
    """Store, classify, route and set deadlines for checked deliveries that are new (the caller
    looked for earlier ones). Raises whatever a write raises: the caller decides what to roll
    back — a savepoint for one message, the whole batch for the worker."""
    plans = [_plan(intake, now) for intake in intakes]
    made = _write(session, plans)
    for plan in plans:
        INTAKE.labels(plan.intake.config.slug, plan.intake.channel["id"]).inc()
    return made


def check_intake(
    config: TenantConfig, data: MessageIn, now: datetime
) -> tuple[dict[str, Any], datetime, str]:
    """What intake checks before storing anything (IntakeError names the field): the channel,
    the dates, the block. Returns the channel, the moment of receipt and the idempotency key."""
    channel = config.channels.get(data.channel)
    if channel is None:
        raise IntakeError(
            "channel", f"канал «{data.channel}» не настроен в районе (есть: {', '.join(config.channels)})"
        )
    received = data.received_at or now
    if received > now + timedelta(minutes=5):
        raise IntakeError("received_at", "время поступления в будущем")
    day = received.astimezone(config.tz).date().isoformat()
    if day > channel.get("valid_to", "9999-12-31") or day < channel.get("valid_from", "0000-01-01"):
        raise IntakeError(
            "channel",
            f"канал «{channel['name']}» действует{_period(channel)}: "
            f"сообщение от {_ru_date(day)} по нему не принимается",
        )
    if data.registered_at is not None and data.registered_at < received:
        raise IntakeError("registered_at", "дата регистрации раньше даты поступления")
    if data.block is not None and data.block not in config.blocks:
        raise IntakeError("block", f"отраслевой блок «{data.block}» не настроен в районе")
    external_id = data.external_id or _content_id(data, received)

    return channel, received, external_id


def _ru_date(iso: str) -> str:
    return datetime.strptime(iso, "%Y-%m-%d").strftime("%d.%m.%Y")


def _period(channel: dict[str, Any]) -> str:
    start, end = channel.get("valid_from"), channel.get("valid_to")
    return (f" с {_ru_date(start)}" if start else "") + (f" по {_ru_date(end)}" if end else "")


def _content_id(data: MessageIn, received: datetime) -> str:
    """Without an external id, the same text on the same channel at the same time is one message."""
    digest = hashlib.sha256(f"{data.channel}|{received.isoformat()}|{data.text}".encode()).hexdigest()
    return f"sha256:{digest[:40]}"


def _find_existing(session: Session, tenant_id: int, channel: str, external_id: str) -> Message | None:
    return session.exec(
        select(Message).where(
            Message.tenant_id == tenant_id, Message.channel_id == channel, Message.external_id == external_id
        )
    ).first()


def _plan(intake: Intake, now: datetime) -> _Plan:
    config, data, channel = intake.config, intake.data, intake.channel
    threat = detect_threat(data.text, config.resolved.get("threat_to_life") or {})
    if data.block is not None:
        block_id, topic, triage = data.block, config.blocks[data.block]["topic"], False
        classification = {
            "source": "channel",
            "block": data.block,
            "confidence": 1.0,
            "explanation": "блок указан источником сообщения",
        }
    else:
        result = classifier_for(config, config.resolved["topics"]).classify(data.text)
        classification, triage = result.as_dict(), result.triage
        block_id, topic = (None, None) if triage else (result.block_id, result.topic)
    settlement_id = _resolve_settlement(config, data.settlement, data.address)
    profile = config.deadline_profile(channel["deadline_profile"])
    # Electronic intake registers at once; a source registry (СЭД) may give its own registration
    # date, from which an обращение's answer term runs (59-ФЗ ст. 12 ч. 1).
    registered = data.registered_at or intake.received
    start = registered if channel["regime"] == "appeal" else intake.received
    due = compute_due(
        timer=answer_timer(profile, topic),
        start=start,
        tz=config.tz,
        settings=config.settings,
        profile_id=profile["id"],
    )
    decided = None if triage else route(config, block_id=block_id, settlement_id=settlement_id)
    return _Plan(
        intake=intake,
        now=now,
        registered=registered,
        start=start,
        threat=threat,
        block_id=block_id,
        topic=topic,
        triage=triage,
        classification=classification,
        settlement_id=settlement_id,
        profile=profile,
        due=due,
        decided=decided,
        status="new" if triage else ("assigned" if decided.position_id else "classified"),
    )


def _write(session: Session, plans: list[_Plan]) -> list[IntakeResult]:
    # Table by table for the whole batch: the message rows must exist before the rows that refer
    # to them, and the rules must see every message as stored (growth counts a block's messages
    # received up to each one's own time, so a batch counts as the same messages one by one).
    messages = [_message_row(session, plan) for plan in plans]
    session.flush()
    made = [_message_trail(session, plan, message) for plan, message in zip(plans, messages, strict=True)]
    session.flush()
    for plan, result in zip(plans, made, strict=True):
        book = rulebook(plan.intake.config)
        if "message_received" in book.events:
            facts = received_facts(
                session, book, result.message, assigned=result.assignment is not None, now=plan.now
            )
            handle(
                session,
                plan.intake.config,
                "message_received",
                facts=facts,
                now=plan.now,
                message=result.message,
                book=book,
                flush=False,
            )
    session.flush()
    return made


def _message_row(session: Session, plan: _Plan) -> Message:
    intake, data = plan.intake, plan.intake.data
    config, channel = intake.config, intake.channel
    citizen_id = None
    if data.citizen is not None and any(data.citizen.model_dump().values()):
        citizen = Citizen(tenant_id=config.tenant_id, **data.citizen.model_dump())
        session.add(citizen)
        citizen_id = citizen.id
    message = Message(
        tenant_id=config.tenant_id,
        number=next_number(session, config.tenant_id, intake.received.astimezone(config.tz).year),
        regime=channel["regime"],
        channel_id=channel["id"],
        channel_kind=channel["kind"],
        external_id=intake.external_id,
        subject=data.subject,
        text=data.text,
        citizen_id=citizen_id,
        address=data.address,
        settlement_id=plan.settlement_id,
        latitude=data.latitude,
        longitude=data.longitude,
        received_at=intake.received,
        registered_at=plan.registered,
        config_version_id=config.version_id,
        status=plan.status,
        block_id=plan.block_id,
        topic=plan.topic,
        classification=plan.classification,
        threat_to_life=plan.threat.threat,
        due_at=plan.due.at,
    )
    session.add(message)
    return message


def _message_trail(session: Session, plan: _Plan, message: Message) -> IntakeResult:
    """The stored message's events, deadlines and automatic assignment."""
    intake, now, profile = plan.intake, plan.now, plan.profile
    config, channel, actor = intake.config, intake.channel, intake.actor
    _event(
        session,
        message,
        "received",
        actor=actor,
        at=intake.received,
        data={"channel": channel["id"], "regime": channel["regime"], "external_id": intake.external_id},
    )
    registration = next((t for t in profile["timers"] if t["id"] == "registration"), None)
    if channel["regime"] == "appeal" and registration is not None:
        limit = compute_due(
            timer=registration,
            start=intake.received,
            tz=config.tz,
            settings=config.settings,
            profile_id=profile["id"],
        )
        late = plan.registered > limit.at
        _event(
            session,
            message,
            "registered",
            actor=actor,
            at=plan.registered,
            reason=("зарегистрировано с нарушением срока: " if late else "") + limit.text(),
            data={"late": late, "due": limit.explanation},
        )
    if plan.threat.threat:
        _event(
            session,
            message,
            "threat_detected",
            actor="system:threat-detector",
            at=now,
            reason=plan.threat.explanation,
            data={"hazards": plan.threat.hazards},
        )
    _event(
        session,
        message,
        "classified" if not plan.triage else "sent_to_triage",
        actor="system:classifier",
        at=now,
        reason=plan.classification.get("explanation"),
        data=plan.classification,
    )
    deadline = _deadline(session, message, plan.due)
    for timer in profile["timers"]:
        if timer["id"] not in ("answer", "forwarding", "registration"):
            _deadline(
                session,
                message,
                compute_due(
                    timer=timer,
                    start=plan.start,
                    tz=config.tz,
                    settings=config.settings,
                    profile_id=profile["id"],
                ),
            )
    _event(
        session,
        message,
        "deadline_set",
        actor="system",
        at=now,
        reason=plan.due.text(),
        data=plan.due.explanation,
    )
    assignment = None
    if plan.decided is not None:
        assignment = _assign(
            session,
            config,
            message,
            actor="system:router",
            automatic=True,
            position_id=plan.decided.position_id,
            reason=plan.decided.reason,
            new=True,
            at=now,
        )
    return IntakeResult(message, created=True, assignment=assignment, deadline=deadline)


# ---------------------------------------------------------------- lifecycle actions
def transition(
    session: Session,
    message: Message,
    action: str,
    *,
    actor: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    before = message.status
    _set(message, lifecycle.next_status(before, action))
    _event(
        session,
        message,
        action,
        actor=actor,
        at=at,
        reason=reason,
        data={"from": before, "to": message.status, **(data or {})},
    )


def reclassify(
    *, session: Session, config: TenantConfig, message: Message, block_id: str, actor: str, reason: str
) -> None:
    """Staff correct the block: recorded with the old and new block, and the message re-routes."""
    if block_id not in config.blocks:
        raise IntakeError("block", f"отраслевой блок «{block_id}» не настроен в районе")
    old = message.block_id
    message.block_id = block_id
    message.topic = config.blocks[block_id]["topic"]
    message.classification = {
        **message.classification,
        "source": "staff",
        "block": block_id,
        "previous_block": old,
        "confidence": 1.0,
        # The card explains the block it shows: after a correction that is the staff's decision.
        "explanation": f"блок «{config.blocks[block_id]['name']}» выбран сотрудником"
        + (f" вместо «{config.blocks[old]['name']}»" if old in config.blocks else "")
        + (f": {reason}" if reason else ""),
    }
    transition(
        session,
        message,
        "classify",
        actor=actor,
        reason=reason,
        data={"block": block_id, "previous_block": old},
    )
    if _assign(session, config, message, actor=actor, automatic=True) is not None:
        transition(
            session, message, "assign", actor=actor, reason="повторная маршрутизация после смены блока"
        )
    _evaluate(session, config, message, "message_classified", long_term=False, previous_block=old)


def assign_by_rule(
    *, session: Session, config: TenantConfig, message: Message, position_id: str, reason: str, rule_id: str
) -> None:
    """An `assign` action of a rule: like staff assignment, the rule being the actor."""
    if message.status in lifecycle.TRANSITIONS["assign"][0]:
        transition(session, message, "assign", actor=f"rule:{rule_id}", reason=reason)
    _assign(
        session,
        config,
        message,
        actor=f"rule:{rule_id}",
        automatic=True,
        position_id=position_id,
        reason=reason,
    )


def assign(
    *,
    session: Session,
    config: TenantConfig,
    message: Message,
    position_id: str,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> None:
    if position_id not in config.roster:
        raise IntakeError("position", f"должность «{position_id}» отсутствует в составе района")
    transition(session, message, "assign", actor=actor, reason=reason, at=now)
    _assign(
        session, config, message, actor=actor, automatic=False, position_id=position_id, reason=reason, at=now
    )


def answer(
    *, session: Session, message: Message, text: str, final: bool, actor: str, now: datetime | None = None
) -> None:
    now = now or utcnow()
    # `on_time` is fixed when the answer is given: a later extension must not make it timely.
    on_time = message.due_at is None or now <= message.due_at
    transition(
        session,
        message,
        "answer" if final else "answer_preliminary",
        actor=actor,
        reason=text,
        data={"final": final, "on_time": on_time},
        at=now,
    )
    for timer in FINAL_CLOSES if final else FEEDBACK_CLOSES:
        for row in _pending(session, message, timer):
            row.status = "met" if now <= row.due_at else "missed"
            row.fired_at = now
    if final:
        message.answered_at = now


def start(
    *, session: Session, message: Message, actor: str, reason: str | None = None, now: datetime | None = None
) -> None:
    """The executor takes the message into work: that is feedback (ХМ Регламент п.4.2.3)."""
    now = now or utcnow()
    transition(session, message, "start", actor=actor, reason=reason or "взято в работу", at=now)
    for row in _pending(session, message, "no_feedback"):
        row.status = "met"
        row.fired_at = now


def refuse(
    *,
    session: Session,
    config: TenantConfig,
    message: Message,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> None:
    """The executor refuses to solve the problem (ХМ Регламент п.4.3.5): recorded, and the
    rules take it up (to the block's responsible and the head of the district)."""
    now = now or utcnow()
    if not reason:
        raise IntakeError("reason", "укажите причину отказа")
    if message.status not in lifecycle.OPEN:
        raise IntakeError("reason", "отказаться можно только от открытого сообщения")
    _event(session, message, "executor_refused", actor=actor, at=now, reason=reason)
    _evaluate(session, config, message, "executor_refused", now=now, reason=reason)


def extend(
    *,
    session: Session,
    config: TenantConfig,
    message: Message,
    days: int,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> None:
    """59-ФЗ ст. 12 ч. 2: the answer term may be extended once, by up to 30 days, with notice to
    the citizen."""
    if message.regime != "appeal":
        raise IntakeError("days", "продление срока по ст. 12 ч. 2 59-ФЗ возможно только для обращений")
    if not 1 <= days <= EXTENSION_MAX_DAYS:
        raise IntakeError("days", f"срок продлевается не более чем на {EXTENSION_MAX_DAYS} дней")
    already = session.exec(
        select(Event).where(
            Event.tenant_id == message.tenant_id, Event.subject_id == message.id, Event.kind == "extended"
        )
    ).first()
    if already is not None:
        raise IntakeError("days", "срок по этому обращению уже продлевался: продление допускается один раз")
    if message.status not in lifecycle.OPEN:
        raise IntakeError("days", "продлить можно только срок по открытому обращению")
    # The decision to extend belongs within the term (ст. 12 ч. 2). A decision entered after the
    # term ran out is still recorded — refusing it would hide what happened — but marked late.
    now = now or utcnow()
    late = message.due_at is not None and message.due_at < now
    for row in _pending(session, message, "answer"):
        row.status = "cancelled"
    base = (message.due_at or now).astimezone(config.tz).date()
    rule = config.settings.get("deadline_on_day_off", "following_working_day")
    day, note = move_off_day(base + timedelta(days=days), rule, base)
    at = datetime.combine(day, time(23, 59, 59), config.tz)
    due = Due(
        timer="answer",
        at=at,
        explanation={
            "text": f"срок продлён на {plural(days, 'calendar_days')} (59-ФЗ, ст. 12 ч. 2) с {base:%d.%m.%Y}{note}: "
            f"до {at:%d.%m.%Y %H:%M}; гражданин уведомлён"
            + ("; решение внесено после истечения срока — нарушение ст. 12 ч. 2" if late else ""),
            "late": late,
            "profile": "fz59",
            "timer": "answer",
            "extended_by_days": days,
            "reason": reason,
            "source": {"act": "fz59", "clause": "ст. 12 ч. 2"},
        },
    )
    _deadline(session, message, due)
    message.due_at = due.at
    _event(session, message, "extended", actor=actor, at=now, reason=reason, data=due.explanation)
    _event(
        session,
        message,
        "citizen_notified",
        actor=actor,
        at=now,
        reason="уведомление о продлении срока рассмотрения",
        data={"new_due_at": due.at.isoformat()},
    )


def forward(
    *, session: Session, config: TenantConfig, message: Message, to_body: str, actor: str, reason: str
) -> None:
    """Not our competence: forwarded to the competent body, citizen notified (59-ФЗ ст. 8 ч. 3).

    For an обращение the 7-day forwarding term is recorded as met or missed."""
    profile = config.deadline_profile(config.channels[message.channel_id]["deadline_profile"])
    timer = next((t for t in profile["timers"] if t["id"] == "forwarding"), None)
    term: dict[str, Any] = {}
    if message.regime == "appeal" and timer is not None:
        due = compute_due(
            timer=timer,
            start=message.registered_at or message.received_at,
            tz=config.tz,
            settings=config.settings,
            profile_id=profile["id"],
        )
        now = utcnow()
        row = _deadline(session, message, due, status="met" if now <= due.at else "missed")
        row.fired_at = now
        term = {"forwarding_due": due.at.isoformat(), "in_time": now <= due.at, "explanation": due.text()}
    transition(session, message, "forward", actor=actor, reason=reason, data={"to": to_body, **term})
    _event(session, message, "citizen_notified", actor=actor, reason=f"обращение перенаправлено: {to_body}")
    for row in _pending(session, message, "answer"):
        row.status = "cancelled"
    message.due_at = None  # the answer is now the competent body's to give


def mark_duplicate(*, session: Session, message: Message, original: Message, actor: str) -> None:
    if original.tenant_id != message.tenant_id or original.id == message.id:
        raise IntakeError("original", "дубликатом можно отметить только другое сообщение этого района")
    message.duplicate_of_id = original.id
    transition(
        session,
        message,
        "mark_duplicate",
        actor=actor,
        reason=f"дубликат сообщения № {original.number}",
        data={"original": str(original.id)},
    )
    for row in _pending(session, message, "answer"):
        row.status = "cancelled"


LONG_TERM_GROUNDS = {
    "over_6_months": "проблему нельзя решить в срок не более 6 месяцев",
    "no_legal_ground": "нет законных оснований удовлетворить потребность заявителя",
}


def register_long_term(
    *, session: Session, config: TenantConfig, message: Message, ground: str, actor: str, reason: str
) -> None:
    """Ханты-Мансийский Регламент п.4.2.8: a problem that cannot be solved within 6 months, or
    for which there is no legal ground, is recorded for further analysis — only in a district
    whose configuration keeps that registry (the six-month-registry rule set)."""
    if not rulebook(config).enabled("six-month-registry"):
        raise IntakeError("ground", "в районе не ведётся реестр проблем, не решаемых в срок до 6 месяцев")
    if ground not in LONG_TERM_GROUNDS:
        raise IntakeError(
            "ground", f"основание: {', '.join(f'{k} — {v}' for k, v in LONG_TERM_GROUNDS.items())}"
        )
    if not reason:
        raise IntakeError("reason", "укажите, почему проблема внесена в реестр")
    transition(
        session,
        message,
        "register_long_term",
        actor=actor,
        reason=reason,
        data={"ground": ground, "ground_text": LONG_TERM_GROUNDS[ground]},
    )
    _evaluate(session, config, message, "message_classified", long_term=True, ground=ground)


def rate(
    *,
    session: Session,
    config: TenantConfig,
    message: Message,
    score: int,
    comment: str | None,
    actor: str,
    now: datetime | None = None,
) -> bool:
    """The citizen rates the answer 1–5; a poor rating reopens the message. Returns reopened."""
    if not 1 <= score <= 5:
        raise IntakeError("score", "оценка — целое число от 1 до 5")
    if message.status not in ("answered", "resolved", "closed"):
        raise IntakeError("score", "оценить можно только сообщение, на которое дан ответ")
    now = now or utcnow()
    message.rating = score
    _event(session, message, "rated", actor=actor, at=now, reason=comment, data={"score": score})
    _evaluate(session, config, message, "answer_rated", now=now, score=score)
    if score <= poor_rating_limit(config):
        transition(
            session,
            message,
            "reopen",
            actor=actor,
            reason=f"житель не удовлетворён ответом (оценка {score})",
            at=now,
        )
        profile = config.deadline_profile(config.channels[message.channel_id]["deadline_profile"])
        due = compute_due(
            timer={**answer_timer(profile, message.topic), "from": "reopened"},
            start=now,
            tz=config.tz,
            settings=config.settings,
            profile_id=profile["id"],
        )
        message.due_at = due.at
        _deadline(session, message, due)
        return True
    return False


CONTROL_KINDS = {"photo": "фотофиксация", "video": "видеофиксация", "glonass": "отметка ГЛОНАСС"}


def record_control(
    *, session: Session, message: Message, kind: str, reference: str, actor: str, now: datetime | None = None
) -> None:
    """Automated control of the solution (photo or video, a ГЛОНАСС track) is on record; the
    KPI «автоматизированные механизмы контроля» counts messages that have it."""
    if kind not in CONTROL_KINDS:
        raise IntakeError("control", f"вид контроля: {', '.join(CONTROL_KINDS)}")
    if not reference:
        raise IntakeError("reference", "укажите ссылку на фото, видео или трек")
    _event(
        session,
        message,
        "control_recorded",
        actor=actor,
        at=now,
        reason=f"{CONTROL_KINDS[kind]}: {reference}",
        data={"kind": kind, "reference": reference},
    )


def poor_rating_limit(config: TenantConfig) -> int:
    """The rating at or below which an answer is poor: the poor-answer set's parameter where the
    district uses the set, the platform's scale otherwise."""
    return int(rulebook(config).param("poor-answer", "max_poor_rating", DEFAULT_MAX_POOR_RATING))
