"""Recording public participation — polls, votes, public discussions and hearings held through
ПОС or otherwise, the decisions taken with residents, and the informing about their
implementation in social networks (Кондинский Прил. 4 п.4, 7; ХМ целевые показатели п.4).

An event is recorded when it was held, or entered beforehand with the term set for holding it
(Кондинский Положение п.2.4.2: «мониторинг сроков проведения опросов, обсуждений …, публичных
слушаний …, голосований») and marked held later; `queries.term` tells which are upcoming, running
or overdue.

Each record is a row of `participation_event`; once held, entries in the event log, which the
KPIs count: a hearing or discussion → `hearing_held`; a decision → `decision_taken`; the
informing → `implementation_published` (all with `via_pos`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from mcu.eventlog import log_event
from mcu.participation.models import ParticipationEvent
from mcu.participation.schemas import HEARING_KINDS, KINDS, HeldIn, ParticipationIn
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig

# Clocks of the systems that post differ a little; a moment this close to now is not «future».
CLOCK_SLACK = timedelta(minutes=5)


class ParticipationError(ValueError):
    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field


def _check_outcome(held_at: datetime, decision_taken: bool, decision: str | None, now: datetime) -> None:
    if held_at > now + CLOCK_SLACK:
        raise ParticipationError(
            "held_at",
            "дата проведения в будущем: у предстоящего мероприятия укажите срок проведения (starts_on, ends_on)",
        )
    if decision_taken and not decision:
        raise ParticipationError("decision", "укажите принятое решение")


def record(
    *, session: Session, config: TenantConfig, data: ParticipationIn, actor: str, now: datetime | None = None
) -> ParticipationEvent:
    """An event held (`held_at`), or planned with its term (`starts_on`–`ends_on`), or both (held
    within a term set beforehand)."""
    now = now or utcnow()
    if data.block is not None and data.block not in config.blocks:
        raise ParticipationError("block", f"отраслевой блок «{data.block}» не настроен в районе")
    if (data.starts_on is None) != (data.ends_on is None):
        field = "ends_on" if data.ends_on is None else "starts_on"
        raise ParticipationError(
            field, "срок проведения указывается двумя датами: с (starts_on) и по (ends_on)"
        )
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        raise ParticipationError("ends_on", "окончание срока проведения раньше его начала")
    if data.held_at is None:
        if data.starts_on is None:
            raise ParticipationError(
                "held_at", "укажите дату проведения (held_at) или срок проведения (starts_on, ends_on)"
            )
        if data.decision_taken or data.decision:
            raise ParticipationError(
                "decision", "решение принимается по итогам: отметьте мероприятие проведённым"
            )
    else:
        _check_outcome(data.held_at, data.decision_taken, data.decision, now)
    row = ParticipationEvent(
        tenant_id=config.tenant_id,
        kind=data.kind,
        title=data.title,
        via_pos=data.via_pos,
        block_id=data.block,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        held_at=data.held_at,
        decision=data.decision,
        decision_taken=data.decision_taken,
    )
    session.add(row)
    if row.held_at is not None:
        _log_held(session, row, actor)
    session.flush()
    return row


def mark_held(
    *, session: Session, row: ParticipationEvent, data: HeldIn, actor: str, now: datetime | None = None
) -> None:
    """A planned event has been held, with the decision taken on it if any."""
    now = now or utcnow()
    if row.held_at is not None:
        raise ParticipationError("held_at", "мероприятие уже отмечено проведённым")
    _check_outcome(data.held_at, data.decision_taken, data.decision, now)
    row.held_at = data.held_at
    row.decision_taken = data.decision_taken
    row.decision = data.decision
    _log_held(session, row, actor)
    session.flush()


def _log_held(session: Session, row: ParticipationEvent, actor: str) -> None:
    """What the KPIs count, at the moment the event was held."""
    facts = {"via_pos": row.via_pos, "kind": row.kind, "block": row.block_id}
    if row.kind in HEARING_KINDS:
        log_event(
            session,
            tenant_id=row.tenant_id,
            subject_kind="hearing",
            subject_id=row.id,
            kind="hearing_held",
            actor=actor,
            at=row.held_at,
            reason=f"{KINDS[row.kind]}: {row.title}",
            data=facts,
        )
    if row.decision_taken:
        log_event(
            session,
            tenant_id=row.tenant_id,
            subject_kind="decision",
            subject_id=row.id,
            kind="decision_taken",
            actor=actor,
            at=row.held_at,
            reason=row.decision,
            data=facts,
        )


def inform(
    *,
    session: Session,
    row: ParticipationEvent,
    informed_at: datetime,
    link: str,
    actor: str,
    now: datetime | None = None,
) -> None:
    """Residents were told in social networks how the decision is being carried out."""
    now = now or utcnow()
    if not row.decision_taken or row.held_at is None:
        raise ParticipationError(
            "decision", "по этому мероприятию решение не принято: информировать не о чем"
        )
    if row.informed_at is not None:
        raise ParticipationError("informed_at", "об этом решении уже проинформировали")
    if informed_at < row.held_at or informed_at > now + CLOCK_SLACK:
        raise ParticipationError("informed_at", "дата информирования раньше решения или в будущем")
    row.informed_at = informed_at
    log_event(
        session,
        tenant_id=row.tenant_id,
        subject_kind="decision",
        subject_id=row.id,
        kind="implementation_published",
        actor=actor,
        at=informed_at,
        reason=link,
        data={"via_pos": row.via_pos, "link": link},
    )
