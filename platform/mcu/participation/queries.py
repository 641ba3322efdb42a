"""Reads for participation events, always within one tenant: lookups, the list, and the state of
each event's term on a given day (Кондинский Положение п.2.4.2: «мониторинг сроков проведения
опросов, обсуждений …, публичных слушаний …, голосований»).

An event entered with a term (с … по …, local days) and not yet held is upcoming before its first
day, running from its first to its last day, and overdue after the last day; once held it is
held (and the text says if that was after its term). The decree sets no reminder period, so the
platform shows the state on the day asked for and leaves the chasing to staff.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from mcu.analytics.periods import local_today
from mcu.deadlines.compute import plural
from mcu.participation.models import ParticipationEvent
from mcu.participation.schemas import KINDS, TERM_STATES

P = ParticipationEvent


@dataclass(frozen=True)
class Term:
    state: str  # upcoming, running, overdue, held
    text: str
    days: int | None  # upcoming: days to the start; running: days to the end; overdue: days past it

    def as_dict(self) -> dict:
        return {
            "state": self.state,
            "state_name": TERM_STATES[self.state],
            "text": self.text,
            "days": self.days,
        }


def _d(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _span(row: ParticipationEvent) -> str:
    if row.starts_on == row.ends_on:
        return _d(row.starts_on)
    return f"с {_d(row.starts_on)} по {_d(row.ends_on)}"


def term(row: ParticipationEvent, *, today: date, tz: ZoneInfo) -> Term:
    """The state of the event's term on `today` (the district's local day), in staff's words."""
    if row.held_at is not None:
        held = row.held_at.astimezone(tz).date()
        late = f" — позже срока (по {_d(row.ends_on)})" if row.ends_on and held > row.ends_on else ""
        return Term("held", f"проведено {_d(held)}{late}", None)
    assert row.starts_on is not None and row.ends_on is not None  # the operation enforces one or the other
    if today < row.starts_on:
        n = (row.starts_on - today).days
        return Term("upcoming", f"предстоит {_span(row)}: до начала {plural(n, 'days')}", n)
    if today <= row.ends_on:
        n = (row.ends_on - today).days
        left = f"до окончания {plural(n, 'days')}" if n else "последний день"
        return Term("running", f"проводится {_span(row)}: {left}", n)
    n = (today - row.ends_on).days
    return Term(
        "overdue",
        f"срок проведения истёк {_d(row.ends_on)}, не проведено: просрочено на {plural(n, 'days')}",
        n,
    )


def participation_public(row: ParticipationEvent, *, today: date, tz: ZoneInfo) -> dict[str, Any]:
    """An event as the API and the page show it, with the state of its term on `today`."""
    return {
        "id": str(row.id),
        "kind": row.kind,
        "kind_name": KINDS[row.kind],
        "title": row.title,
        "via_pos": row.via_pos,
        "block": row.block_id,
        "starts_on": row.starts_on.isoformat() if row.starts_on else None,
        "ends_on": row.ends_on.isoformat() if row.ends_on else None,
        "held_at": row.held_at.isoformat() if row.held_at else None,
        "term": term(row, today=today, tz=tz).as_dict(),
        "decision_taken": row.decision_taken,
        "decision": row.decision,
        "informed_at": row.informed_at.isoformat() if row.informed_at else None,
    }


def participation_by_id(session: Session, tenant_id: int, event_id: uuid.UUID) -> ParticipationEvent | None:
    return session.get(ParticipationEvent, (tenant_id, event_id))


def list_participation(
    session: Session,
    tenant_id: int,
    *,
    today: date,
    kind: str | None = None,
    state: str | None = None,
    limit: int = 500,
) -> list[ParticipationEvent]:
    """The district's events, the ones not yet held first by the end of their term, then the held
    ones newest first; of one kind and one term state (on `today`) when asked."""
    query = select(P).where(P.tenant_id == tenant_id)
    if kind:
        query = query.where(P.kind == kind)
    planned = P.held_at.is_(None)
    if state == "held":
        query = query.where(P.held_at.is_not(None))
    elif state == "upcoming":
        query = query.where(planned, P.starts_on > today)
    elif state == "running":
        query = query.where(planned, P.starts_on <= today, P.ends_on >= today)
    elif state == "overdue":
        query = query.where(planned, P.ends_on < today)
    order = (sa.case((planned, 0), else_=1), sa.case((planned, P.ends_on)), P.held_at.desc(), P.title)
    return list(session.exec(query.order_by(*order).limit(limit)))


class TermQueryError(ValueError):
    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field


def term_query(args: Mapping[str, str], tz: ZoneInfo) -> dict[str, Any]:
    """The list's filters from a query string: `kind`, `term` (a state) and `on` (the day the
    states are for, ГГГГ-ММ-ДД; today in the district by default)."""
    kind = args.get("kind") or None
    if kind and kind not in KINDS:
        raise TermQueryError("kind", f"вид мероприятия: {', '.join(KINDS)}")
    state = args.get("term") or None
    if state and state not in TERM_STATES:
        raise TermQueryError("term", f"состояние срока проведения: {', '.join(TERM_STATES)}")
    try:
        today = date.fromisoformat(args["on"]) if args.get("on") else local_today(tz)
    except ValueError as exc:
        raise TermQueryError("on", "дата в виде ГГГГ-ММ-ДД") from exc
    return {"kind": kind, "state": state, "today": today}
