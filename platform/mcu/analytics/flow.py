"""The flow of messages: new, repeated, overdue and postponed per block, from which the main
problem areas are picked (Константиновский Регламент п.5.2), and the summary figures every
report opens with.

Method (the platform's; the decree names the four counts only):
- new: received in the period (duplicates excluded);
- repeated: new messages of the same block from the same citizen or at the same address as an
  earlier message within `REPEAT_DAYS` days;
- overdue: messages whose term ran out in the period, answered late or not answered by its end;
- postponed: messages whose term was extended, or that were put in the registry of problems not
  solvable within six months, in the period.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mcu.analytics.kpi import received_in
from mcu.analytics.periods import Period
from mcu.messages.lifecycle import OPEN
from mcu.messages.models import Event, Message
from mcu.tenancy.config import TenantConfig

M = Message.__table__
E = Event.__table__
REPEAT_DAYS = 90
METHOD = (
    "Новые — поступившие за период (без дубликатов). Повторные — новые сообщения того же блока от "
    f"того же гражданина или по тому же адресу, что и сообщение за предыдущие {REPEAT_DAYS} дней. "
    "Просроченные — сообщения, срок ответа по которым истёк в периоде, а ответ дан с опозданием или не "
    "дан. Отложенные — сообщения, срок по которым в периоде продлён или которые внесены в реестр "
    "проблем, не решаемых в срок до 6 месяцев. Проблемные сферы — блоки с наибольшим числом "
    "повторных, просроченных и отложенных."
)


def of_channels(channel_kinds: list[str] | None) -> list[sa.ColumnElement[bool]]:
    """The condition limiting a count to messages of these channel kinds (a system such as ПОС or
    «Инцидент менеджмент»); none when every channel counts."""
    return [M.c.channel_kind.in_(channel_kinds)] if channel_kinds else []


def _repeated(
    session: Session, tenant_id: int, start: datetime, end: datetime, channel_kinds: list[str] | None = None
) -> dict[str | None, int]:
    """New messages per block that repeat an earlier one (same block, same citizen or address,
    within REPEAT_DAYS). Matched here rather than in SQL: date arithmetic is not portable, and
    one ordered pass over the period and its look-back is cheap."""
    rows = session.execute(
        sa.select(M.c.block_id, M.c.citizen_id, M.c.address, M.c.received_at)
        .where(
            *received_in([tenant_id], start - timedelta(days=REPEAT_DAYS), end), *of_channels(channel_kinds)
        )
        .order_by(M.c.received_at)
    )
    last_seen: dict[tuple, datetime] = {}
    out: dict[str | None, int] = {}
    window = timedelta(days=REPEAT_DAYS)
    for block, citizen, address, received in rows:
        keys = [
            k
            for k in (("c", block, citizen) if citizen else None, ("a", block, address) if address else None)
            if k
        ]
        if received >= start and any(k in last_seen and received - last_seen[k] <= window for k in keys):
            out[block] = out.get(block, 0) + 1
        for k in keys:
            last_seen[k] = received
    return out


def flow(
    session: Session,
    config: TenantConfig,
    period: Period,
    *,
    now: datetime,
    channel_kinds: list[str] | None = None,
) -> dict[str, Any]:
    """The four counts per block; with `channel_kinds`, of those channels' messages only."""
    start, end = period.bounds(config.tz)
    until = min(end, now)
    tid = config.tenant_id
    only = of_channels(channel_kinds)
    new = dict(
        session.execute(
            sa.select(M.c.block_id, sa.func.count())
            .where(*received_in([tid], start, end), *only)
            .group_by(M.c.block_id)
        ).all()
    )
    repeated = _repeated(session, tid, start, end, channel_kinds)
    late = sa.or_(M.c.answered_at > M.c.due_at, sa.and_(M.c.answered_at.is_(None), M.c.status.in_(OPEN)))
    overdue = dict(
        session.execute(
            sa.select(M.c.block_id, sa.func.count())
            .where(
                M.c.tenant_id == tid,
                M.c.due_at >= start,
                M.c.due_at < until,
                M.c.status != "duplicate",
                late,
                *only,
            )
            .group_by(M.c.block_id)
        ).all()
    )
    postponed = dict(
        session.execute(
            sa.select(M.c.block_id, sa.func.count(sa.distinct(M.c.id)))
            .select_from(
                M.join(
                    E,
                    sa.and_(
                        E.c.tenant_id == M.c.tenant_id,
                        E.c.subject_kind == "message",
                        E.c.subject_id == M.c.id,
                    ),
                )
            )
            .where(
                M.c.tenant_id == tid,
                E.c.kind.in_(["extended", "register_long_term"]),
                E.c.at >= start,
                E.c.at < end,
                *only,
            )
            .group_by(M.c.block_id)
        ).all()
    )
    rows = []
    names = {b["id"]: b["name"] for b in config.data.get("blocks") or []}
    for block in [*names, None]:
        counts = {
            "new": new.get(block, 0),
            "repeated": repeated.get(block, 0),
            "overdue": overdue.get(block, 0),
            "postponed": postponed.get(block, 0),
        }
        if block is None and not any(counts.values()):
            continue
        trouble = counts["repeated"] + counts["overdue"] + counts["postponed"]
        rows.append(
            {
                "block": block,
                "name": names.get(block, "на сортировке (блок не определён)"),
                **counts,
                "trouble": trouble,
                "trouble_share": round(100 * trouble / counts["new"], 1) if counts["new"] else None,
            }
        )
    problem_areas = sorted((r for r in rows if r["trouble"]), key=lambda r: (-r["trouble"], r["name"]))[:5]
    return {
        "blocks": rows,
        "totals": {k: sum(r[k] for r in rows) for k in ("new", "repeated", "overdue", "postponed")},
        "problem_areas": [
            {"block": r["block"], "name": r["name"], "trouble": r["trouble"]} for r in problem_areas
        ],
        "method": METHOD,
    }


def median_hours_to_answer(
    session: Session,
    tenant_ids: list[int],
    start: datetime,
    end: datetime,
    *,
    channel_kinds: list[str] | None = None,
) -> dict[int, float | None]:
    """Median hours from registration to the final answer of messages received in [start, end),
    per district: computed by the database where it can (PostgreSQL), else here."""
    hours = (
        sa.func.extract("epoch", M.c.answered_at - sa.func.coalesce(M.c.registered_at, M.c.received_at))
        / 3600
    )
    where = [*received_in(tenant_ids, start, end), M.c.answered_at.is_not(None), *of_channels(channel_kinds)]
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            sa.select(M.c.tenant_id, sa.func.percentile_cont(0.5).within_group(hours))
            .where(*where)
            .group_by(M.c.tenant_id)
        )
        return {t: round(float(v), 1) if v is not None else None for t, v in rows}
    values: dict[int, list[float]] = {}
    for t, registered, received, answered in session.execute(
        sa.select(M.c.tenant_id, M.c.registered_at, M.c.received_at, M.c.answered_at).where(*where)
    ):
        values.setdefault(t, []).append(((answered - (registered or received)).total_seconds()) / 3600)
    return {t: round(statistics.median(v), 1) for t, v in values.items()}


def summary(
    session: Session,
    tenant_ids: list[int],
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    channel_kinds: list[str] | None = None,
) -> dict[int, dict]:
    """Per district: received, answered, open, overdue (term passed, answered late or still
    open), overdue share, mean rating — of messages received in [start, end) (by the given
    channel kinds only, when named)."""
    passed = sa.and_(M.c.due_at.is_not(None), M.c.due_at < now)
    overdue = sa.and_(
        passed, sa.or_(M.c.answered_at > M.c.due_at, sa.and_(M.c.answered_at.is_(None), M.c.status.in_(OPEN)))
    )
    rows = session.execute(
        sa.select(
            M.c.tenant_id,
            sa.func.count().label("received"),
            sa.func.count(M.c.answered_at).label("answered"),
            sa.func.count().filter(M.c.status.in_(OPEN)).label("open"),
            sa.func.count().filter(passed).label("due_passed"),
            sa.func.count().filter(overdue).label("overdue"),
            sa.func.avg(M.c.rating).label("satisfaction"),
            sa.func.count(M.c.rating).label("rated"),
            sa.func.count().filter(M.c.threat_to_life).label("threats"),
        )
        .where(*received_in(tenant_ids, start, end), *of_channels(channel_kinds))
        .group_by(M.c.tenant_id)
    ).mappings()
    medians = median_hours_to_answer(session, tenant_ids, start, end, channel_kinds=channel_kinds)
    out = {}
    for r in rows:
        out[r["tenant_id"]] = {
            "received": r["received"],
            "answered": r["answered"],
            "open": r["open"],
            "overdue": r["overdue"],
            "overdue_share": round(100 * r["overdue"] / r["due_passed"], 1) if r["due_passed"] else None,
            "satisfaction": round(float(r["satisfaction"]), 2) if r["satisfaction"] is not None else None,
            "rated": r["rated"],
            "threats": r["threats"],
            "median_hours": medians.get(r["tenant_id"]),
        }
    return out


EMPTY_SUMMARY = {
    "received": 0,
    "answered": 0,
    "open": 0,
    "overdue": 0,
    "overdue_share": None,
    "satisfaction": None,
    "rated": 0,
    "threats": 0,
    "median_hours": None,
}
