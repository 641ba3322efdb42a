"""Recording public participation — polls, votes, public discussions and hearings held through
ПОС or otherwise, the decisions taken with residents, and the informing about their
implementation in social networks (Кондинский Прил. 4 п.4, 7; ХМ целевые показатели п.4).

Each record is a row of `participation_event` and entries in the event log, which the KPIs
count: a hearing or discussion → `hearing_held`; a decision → `decision_taken`; the informing →
`implementation_published` (all with `via_pos`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from mcu.eventlog import log_event
from mcu.participation.models import ParticipationEvent
from mcu.participation.schemas import HEARING_KINDS, KINDS, ParticipationIn
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig


class ParticipationError(ValueError):
    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field


def record(
    *, session: Session, config: TenantConfig, data: ParticipationIn, actor: str, now: datetime | None = None
) -> ParticipationEvent:
    now = now or utcnow()
    if data.block is not None and data.block not in config.blocks:
        raise ParticipationError("block", f"отраслевой блок «{data.block}» не настроен в районе")
    if data.held_at > now + timedelta(minutes=5):
        raise ParticipationError(
            "held_at", "дата проведения в будущем: запишите мероприятие, когда оно состоится"
        )
    if data.decision_taken and not data.decision:
        raise ParticipationError("decision", "укажите принятое решение")
    row = ParticipationEvent(
        tenant_id=config.tenant_id,
        kind=data.kind,
        title=data.title,
        via_pos=data.via_pos,
        block_id=data.block,
        held_at=data.held_at,
        decision=data.decision,
        decision_taken=data.decision_taken,
    )
    session.add(row)
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
    session.flush()
    return row


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
    if not row.decision_taken:
        raise ParticipationError(
            "decision", "по этому мероприятию решение не принято: информировать не о чем"
        )
    if row.informed_at is not None:
        raise ParticipationError("informed_at", "об этом решении уже проинформировали")
    if informed_at < row.held_at or informed_at > now + timedelta(minutes=5):
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
