"""Ratings of responsible executors, bodies and settlements «по количеству, срокам рассмотрения и
полноте реагирования по существу» (Кондинский Положение п.2.4.6, п.4.3; Некрасовский п.3.2б;
Константиновский п.4.2), optionally for one system (ИМ or ПОС: Кондинский п.4.6).

The platform's method, shown beside every rating:
- messages: received in the period and assigned to the executor (its active assignment);
- on time: share of final answers given by the due date in force when they were given;
- completeness on the merits: share of final answers the citizen did not have to reopen;
- median time to answer, hours, from registration to the final answer;
- satisfaction: mean citizen rating (1–5), where given;
- score = (on-time share + completeness) / 2, in points out of 100; places by score, then by the
  median time (faster first), then by volume.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mcu.analytics.kpi import received_in
from mcu.analytics.periods import Period
from mcu.messages.models import Assignment, Event, Message
from mcu.tenancy.config import TenantConfig

M = Message.__table__
A = Assignment.__table__
E = Event.__table__

BY = {"executor": "ответственные получатели", "body": "органы и организации", "settlement": "поселения"}
METHOD = (
    "Сообщения — поступившие за период и назначенные исполнителю; «в срок» — доля окончательных "
    "ответов, данных не позже срока; «полнота по существу» — доля окончательных ответов, по "
    "которым житель не возобновлял сообщение; медиана — часов от регистрации до окончательного "
    "ответа; оценка — средняя оценка жителей. Балл = (доля в срок + полнота) / 2 × 100; места — по "
    "баллу, затем по медиане (быстрее выше), затем по числу сообщений."
)


@dataclass
class RatingRow:
    key: str
    name: str
    messages: int = 0
    answered: int = 0
    on_time: int = 0
    complete: int = 0
    overdue_open: int = 0
    ratings: int = 0
    rating_sum: int = 0
    median_hours: float | None = None
    place: int = 0

    @property
    def on_time_share(self) -> float | None:
        return round(100 * self.on_time / self.answered, 1) if self.answered else None

    @property
    def completeness(self) -> float | None:
        return round(100 * self.complete / self.answered, 1) if self.answered else None

    @property
    def satisfaction(self) -> float | None:
        return round(self.rating_sum / self.ratings, 2) if self.ratings else None

    @property
    def score(self) -> float | None:
        if not self.answered:
            return None
        return round(50 * (self.on_time + self.complete) / self.answered, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "place": self.place,
            "key": self.key,
            "name": self.name,
            "messages": self.messages,
            "answered": self.answered,
            "on_time_share": self.on_time_share,
            "completeness": self.completeness,
            "overdue_open": self.overdue_open,
            "median_hours": self.median_hours,
            "satisfaction": self.satisfaction,
            "score": self.score,
        }


def body_of(config: TenantConfig, position_id: str) -> tuple[str, str]:
    """The body (орган, организация) a roster position belongs to: its `body` where the district
    gives one, the settlement's administration for a settlement's responsible, else the position."""
    pos = config.roster.get(position_id) or {}
    if pos.get("body"):
        return pos["body"], pos["body"]
    if pos.get("settlement") in config.settlements:
        name = config.settlements[pos["settlement"]]["name"]
        return f"settlement:{pos['settlement']}", f"Администрация: {name}"
    return position_id, pos.get("position", position_id)


def _rows(
    session: Session, config: TenantConfig, period: Period, channel_kinds: list[str] | None
) -> list[Any]:
    start, end = period.bounds(config.tz)

    def logged(kind: str, *data: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        return sa.exists(
            sa.select(sa.literal(1)).where(
                E.c.tenant_id == M.c.tenant_id,
                E.c.subject_kind == "message",
                E.c.subject_id == M.c.id,
                E.c.kind == kind,
                *data,
            )
        )

    reopened = logged("reopen")
    # Timeliness as it was when the answer was given (a reopened message gets a new term, which
    # must not make an old late answer timely); answers logged before the flag existed fall back
    # to comparing the dates.
    flag = E.c.data["on_time"].as_boolean()
    late = logged("answer", flag.is_(False))
    timely = logged("answer", flag.is_(True))
    where = [*received_in([config.tenant_id], start, end)]
    if channel_kinds:
        where.append(M.c.channel_kind.in_(channel_kinds))
    query = (
        sa.select(
            A.c.position_id,
            M.c.settlement_id,
            M.c.registered_at,
            M.c.received_at,
            M.c.answered_at,
            M.c.due_at,
            M.c.rating,
            reopened.label("reopened"),
            late.label("late"),
            timely.label("timely"),
        )
        .select_from(
            M.outerjoin(A, sa.and_(A.c.tenant_id == M.c.tenant_id, A.c.message_id == M.c.id, A.c.active))
        )
        .where(*where)
    )
    return list(session.execute(query))


def ratings(
    session: Session,
    config: TenantConfig,
    period: Period,
    *,
    by: str = "executor",
    now: datetime,
    channel_kinds: list[str] | None = None,
) -> list[RatingRow]:
    """The rating table, best first."""
    if by not in BY:
        raise ValueError(f"рейтинг по «{by}» не предусмотрен (есть: {', '.join(BY)})")
    rows: dict[str, RatingRow] = {}
    hours: dict[str, list[float]] = defaultdict(list)
    for position, settlement, registered, received, answered, due, rating, reopened, late, timely in _rows(
        session, config, period, channel_kinds
    ):
        if by == "settlement":
            key = settlement or ""
            name = config.settlements.get(settlement, {}).get("name", "поселение не определено")
        elif position is None:
            key, name = "", "исполнитель не назначен"
        elif by == "body":
            key, name = body_of(config, position)
        else:
            key, name = position, config.roster.get(position, {}).get("position", position)
        row = rows.setdefault(key, RatingRow(key=key, name=name))
        row.messages += 1
        if answered is not None and answered <= now:
            row.answered += 1
            row.on_time += (not late) if (late or timely) else (due is None or answered <= due)
            row.complete += not reopened
            hours[key].append(((answered - (registered or received)).total_seconds()) / 3600)
        elif due is not None and due < now:
            row.overdue_open += 1
        if rating is not None:
            row.ratings += 1
            row.rating_sum += rating
    for key, row in rows.items():
        if hours[key]:
            row.median_hours = round(statistics.median(hours[key]), 1)
    ordered = sorted(
        rows.values(),
        key=lambda r: (
            r.score is None,
            -(r.score or 0),
            r.median_hours if r.median_hours is not None else float("inf"),
            -r.messages,
            r.name,
        ),
    )
    for place, row in enumerate(ordered, start=1):
        row.place = place
    return ordered
