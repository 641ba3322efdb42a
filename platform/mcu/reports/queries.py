"""Reads for reports, always within one tenant: stored reports, and the message lists a report
shows beside the analytics figures (resolved and unresolved messages with explanations, terms
running out, examples for the media).

A message appears in a report by its number, block, settlement, executor's position, dates and
status — never the citizen's name, phone, e-mail or address, and never the text of a 59-ФЗ
обращение. The only text quoted is a shortened public social-media post (media examples), with
the author's known details and anything that looks like a phone number or e-mail removed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from mcu.emergencies.models import Emergency
from mcu.messages.lifecycle import OPEN
from mcu.messages.models import Assignment, Citizen, Event, Message
from mcu.reports.models import STATUS_NAMES, Report
from mcu.roadmaps.models import Roadmap, RoadmapMeasure
from mcu.tenancy.config import TenantConfig

M = Message.__table__
A = Assignment.__table__
E = Event.__table__

# «Решённые»: a final answer given (and not reopened since). «Нерешённые»: still open, or put in
# the registry of problems not solvable within six months.
RESOLVED = ("answered", "resolved", "closed")
UNRESOLVED = (*sorted(OPEN), "long_term")
# Events that explain why a message is still open, latest first wins.
EXPLAINING = (
    "extended",
    "executor_refused",
    "register_long_term",
    "reopen",
    "answer_preliminary",
    "escalated",
    "start",
)
# Channels whose messages are public posts (social networks via «Инцидент Менеджмент»): the only
# texts a report may quote, shortened, for the media.
PUBLIC_POST_KINDS = ("incident_management",)
CHUNK = 500

_PHONE = re.compile(r"\+?\d[\d\s\-()]{8,}\d")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
HIDDEN = "[скрыто]"


def scrub(text: str | None, *known: str | None) -> str:
    """Free text with the citizen's known details and anything like a phone or e-mail removed."""
    out = text or ""
    for value in known:
        for part in _name_parts(value):
            out = re.sub(re.escape(part), HIDDEN, out, flags=re.IGNORECASE)
    out = _EMAIL.sub(HIDDEN, out)
    return _PHONE.sub(HIDDEN, out)


def _name_parts(value: str | None) -> list[str]:
    # A full name is removed word by word (a post may give the surname alone); short words
    # («ул», initials) would take ordinary words with them.
    if not value:
        return []
    words = [w for w in re.split(r"[\s,]+", value) if len(w) >= 3]
    return sorted({value, *words}, key=len, reverse=True)


# ---------------------------------------------------------------- stored reports
def report_by_id(session: Session, tenant_id: int, report_uuid: uuid.UUID) -> Report | None:
    return session.get(Report, (tenant_id, report_uuid))


def report_for_period(session: Session, tenant_id: int, report_id: str, period_key: str) -> Report | None:
    return session.exec(
        select(Report).where(
            Report.tenant_id == tenant_id, Report.report_id == report_id, Report.period_key == period_key
        )
    ).first()


def list_reports(
    session: Session, tenant_id: int, *, report_id: str | None = None, limit: int = 200
) -> list[Report]:
    query = select(Report).where(Report.tenant_id == tenant_id)
    if report_id:
        query = query.where(Report.report_id == report_id)
    return list(session.exec(query.order_by(Report.generated_at.desc()).limit(limit)))


def existing(
    session: Session, tenant_id: int, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Report]:
    """The stored reports among (report_id, period_key) pairs."""
    keys = list(keys)
    if not keys:
        return {}
    rows = session.exec(
        select(Report).where(
            Report.tenant_id == tenant_id,
            sa.tuple_(Report.report_id, Report.period_key).in_(keys),
        )
    )
    return {(r.report_id, r.period_key): r for r in rows}


def report_public(config: TenantConfig, report: Report, *, content: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(report.id),
        "report": report.report_id,
        "kind": report.kind,
        "name": report.name,
        "period": {
            "key": report.period_key,
            "kind": report.period_kind,
            "start": report.period_start.isoformat(),
            "end": report.period_end.isoformat(),
        },
        "status": report.status,
        "status_name": STATUS_NAMES.get(report.status, report.status),
        "generated_at": report.generated_at.astimezone(config.tz).isoformat(),
        "generated_by": report.generated_by,
        "generations": report.generations,
    }
    if content:
        out["content"] = report.content
    return out


# ---------------------------------------------------------------- messages behind a report
def _chunks(ids: list[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _executors(session: Session, tenant_id: int, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    out: dict[uuid.UUID, str] = {}
    for part in _chunks(ids):
        for mid, position in session.execute(
            sa.select(A.c.message_id, A.c.position_id).where(
                A.c.tenant_id == tenant_id, A.c.message_id.in_(part), A.c.active
            )
        ):
            out[mid] = position
    return out


_COLUMNS = (
    M.c.id,
    M.c.number,
    M.c.regime,
    M.c.channel_id,
    M.c.block_id,
    M.c.settlement_id,
    M.c.status,
    M.c.received_at,
    M.c.due_at,
    M.c.answered_at,
    M.c.rating,
)


def _rows(session: Session, config: TenantConfig, where: list[Any], order: Any) -> list[dict[str, Any]]:
    rows = [dict(r) for r in session.execute(sa.select(*_COLUMNS).where(*where).order_by(*order)).mappings()]
    executors = _executors(session, config.tenant_id, [r["id"] for r in rows])
    for r in rows:
        r["position"] = executors.get(r["id"])
    return rows


def resolved_in(
    session: Session, config: TenantConfig, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Messages whose final answer was given in [start, end) and that stay answered."""
    return _rows(
        session,
        config,
        [
            M.c.tenant_id == config.tenant_id,
            M.c.answered_at >= start,
            M.c.answered_at < end,
            M.c.status.in_(RESOLVED),
        ],
        (M.c.block_id, M.c.answered_at, M.c.number),
    )


def unresolved(session: Session, config: TenantConfig, end: datetime, now: datetime) -> list[dict[str, Any]]:
    """Messages received before `end` that are unresolved now, each with its explanation: the
    last thing that happened to it (extension and its reason, refusal, registry, reopening …)
    and where it stands against its term."""
    rows = _rows(
        session,
        config,
        [M.c.tenant_id == config.tenant_id, M.c.received_at < end, M.c.status.in_(UNRESOLVED)],
        (M.c.block_id, M.c.due_at, M.c.number),
    )
    last = _last_events(session, config.tenant_id, [r["id"] for r in rows])
    for r in rows:
        r["overdue"] = r["due_at"] is not None and r["due_at"] < now
        r["explanation"] = explain(config, r, last.get(r["id"]), now)
    return rows


def _last_events(session: Session, tenant_id: int, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    out: dict[uuid.UUID, dict[str, Any]] = {}
    for part in _chunks(ids):
        for row in session.execute(
            sa.select(E.c.subject_id, E.c.kind, E.c.at, E.c.reason, E.c.data)
            .where(
                E.c.tenant_id == tenant_id,
                E.c.subject_kind == "message",
                E.c.subject_id.in_(part),
                E.c.kind.in_(EXPLAINING),
            )
            .order_by(E.c.at)
        ).mappings():
            out[row["subject_id"]] = dict(row)
    return out


def _local(config: TenantConfig, moment: datetime | None, fmt: str = "%d.%m.%Y %H:%M") -> str:
    return moment.astimezone(config.tz).strftime(fmt) if moment else ""


def explain(config: TenantConfig, row: dict[str, Any], event: dict[str, Any] | None, now: datetime) -> str:
    """Why a message is unresolved, in one line of Russian."""
    due = row["due_at"]
    if row["status"] == "long_term":
        state = "в реестре проблем, не решаемых в срок до 6 месяцев"
    elif row["block_id"] is None:
        state = "на сортировке: отраслевой блок не определён"
    elif due is None:
        state = "срок ответа не установлен"
    elif due < now:
        state = f"срок истёк {_local(config, due)}, ответа нет"
    else:
        state = f"в работе, срок до {_local(config, due)}"
    if event is None:
        return state
    kind, at, reason, data = event["kind"], event["at"], scrub(event["reason"]), event["data"] or {}
    when = _local(config, at, "%d.%m.%Y")
    said = {
        "extended": f"срок продлён {when}" + (f": {reason}" if reason else ""),
        "executor_refused": f"исполнитель отказался {when}" + (f": {reason}" if reason else ""),
        "register_long_term": f"основание: {data.get('ground_text') or ''}"
        + (f"; {reason}" if reason else ""),
        # The reopening reason is the platform's own words (the rating), never the citizen's.
        "reopen": f"возобновлено {when}" + (f": {reason}" if reason else ""),
        # A preliminary answer's text is addressed to the citizen: only the fact is given.
        "answer_preliminary": f"дан промежуточный ответ {when}",
        "escalated": f"эскалация {when}" + (f": {reason}" if reason else ""),
        "start": f"взято в работу {when}",
    }[kind]
    return f"{state}; {said}"


def near_due(session: Session, config: TenantConfig, now: datetime, until: datetime) -> list[dict[str, Any]]:
    """Open messages whose term has run out, or runs out before `until`."""
    rows = _rows(
        session,
        config,
        [
            M.c.tenant_id == config.tenant_id,
            M.c.status.in_(sorted(OPEN)),
            M.c.due_at.is_not(None),
            M.c.due_at < until,
        ],
        (M.c.due_at, M.c.number),
    )
    for r in rows:
        r["overdue"] = r["due_at"] < now
    return rows


def received_by_channel(
    session: Session, config: TenantConfig, start: datetime, end: datetime
) -> list[tuple[str, int]]:
    from mcu.analytics.kpi import received_in

    return [
        (channel, count)
        for channel, count in session.execute(
            sa.select(M.c.channel_id, sa.func.count())
            .where(*received_in([config.tenant_id], start, end))
            .group_by(M.c.channel_id)
            .order_by(sa.func.count().desc(), M.c.channel_id)
        )
    ]


def emergencies_in(session: Session, config: TenantConfig, start: datetime, end: datetime) -> list[Emergency]:
    """Emergencies declared in the period, or still open at its end."""
    return list(
        session.exec(
            select(Emergency)
            .where(
                Emergency.tenant_id == config.tenant_id,
                Emergency.declared_at < end,
                sa.or_(Emergency.declared_at >= start, Emergency.status == "open"),
            )
            .order_by(Emergency.declared_at)
        )
    )


def media_examples(
    session: Session,
    config: TenantConfig,
    start: datetime,
    end: datetime,
    *,
    limit: int = 5,
    chars: int = 200,
) -> list[dict[str, Any]]:
    """A few problems solved in the period, for the news: one per block, best rated first. Only
    a public post's text is quoted (shortened, scrubbed); an обращение is described by its block
    and settlement alone."""
    candidates = session.execute(
        sa.select(
            M.c.id,
            M.c.number,
            M.c.regime,
            M.c.channel_kind,
            M.c.block_id,
            M.c.settlement_id,
            M.c.received_at,
            M.c.answered_at,
            M.c.due_at,
            M.c.rating,
            M.c.citizen_id,
        )
        .where(
            M.c.tenant_id == config.tenant_id,
            M.c.answered_at >= start,
            M.c.answered_at < end,
            M.c.status.in_(RESOLVED),
            M.c.block_id.is_not(None),
        )
        .order_by(
            sa.func.coalesce(M.c.rating, 0).desc(),
            (M.c.channel_kind.in_(PUBLIC_POST_KINDS) & (M.c.regime != "appeal")).desc(),
            M.c.answered_at,
            M.c.number,
        )
        .limit(50 * limit)
    ).mappings()
    picked: list[dict[str, Any]] = []
    blocks: set[str] = set()
    for row in candidates:
        if row["block_id"] in blocks:
            continue
        blocks.add(row["block_id"])
        picked.append(dict(row))
        if len(picked) == limit:
            break
    public = [r["id"] for r in picked if r["channel_kind"] in PUBLIC_POST_KINDS and r["regime"] != "appeal"]
    texts: dict[uuid.UUID, tuple[str, uuid.UUID | None]] = {}
    if public:
        texts = {
            mid: (text, citizen)
            for mid, text, citizen in session.execute(
                sa.select(M.c.id, M.c.text, M.c.citizen_id).where(
                    M.c.tenant_id == config.tenant_id, M.c.id.in_(public)
                )
            )
        }
    citizens = (
        {
            c.id: c
            for c in session.exec(
                select(Citizen).where(
                    Citizen.tenant_id == config.tenant_id,
                    Citizen.id.in_([c for _t, c in texts.values() if c]),
                )
            )
        }
        if texts
        else {}
    )
    for r in picked:
        r["excerpt"] = None
        if r["id"] in texts:
            text, citizen_id = texts[r["id"]]
            who = citizens.get(citizen_id) if citizen_id else None
            clean = scrub(text, *((who.full_name, who.phone, who.email) if who else ()))
            clean = " ".join(clean.split())
            r["excerpt"] = clean if len(clean) <= chars else clean[: chars - 1].rstrip() + "…"
    return picked


def roadmaps_in_work(session: Session, config: TenantConfig, now: datetime) -> list[dict[str, Any]]:
    """Roadmaps not yet done or cancelled, with how far their measures have got."""
    maps = list(
        session.exec(
            select(Roadmap)
            .where(Roadmap.tenant_id == config.tenant_id, Roadmap.status.in_(("draft", "agreed", "approved")))
            .order_by(Roadmap.created_at)
        )
    )
    if not maps:
        return []
    measures: dict[uuid.UUID, list[RoadmapMeasure]] = {}
    for m in session.exec(
        select(RoadmapMeasure).where(
            RoadmapMeasure.tenant_id == config.tenant_id,
            RoadmapMeasure.roadmap_id.in_([r.id for r in maps]),
        )
    ):
        measures.setdefault(m.roadmap_id, []).append(m)
    today = now.astimezone(config.tz).date()
    out = []
    for r in maps:
        mine = measures.get(r.id, [])
        out.append(
            {
                "roadmap": r,
                "measures": len(mine),
                "done": sum(m.status == "done" for m in mine),
                "late": sum(
                    m.status != "done" and m.end_date is not None and m.end_date < today for m in mine
                ),
            }
        )
    return out
