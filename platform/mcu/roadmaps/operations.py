"""Writing roadmaps: creating them (from the heat map's growth, or from an emergency), editing a
draft, agreement and approval by the district's configured signers, amendment by a new version,
and carrying measures out — which marks the messages the roadmap covers for the KPI «доля
обращений и сообщений, по которым реализованы мероприятия «дорожных карт»» (Конд Прил. 4 п.5).

Operations take `*, session, config`, flush and never commit; every change is also an entry in
the event log (subject `roadmap`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from mcu.analytics import periods
from mcu.analytics.heatmap import period_dynamics
from mcu.emergencies.models import Emergency
from mcu.eventlog import log_event
from mcu.messages.models import Event, Message
from mcu.roadmaps import people
from mcu.roadmaps.models import Roadmap, RoadmapMeasure
from mcu.roadmaps.schemas import MeasureDoneIn, MeasureIn, MeasureUpdate, RoadmapIn, RoadmapUpdate, SignIn
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig

# A roadmap that is still being prepared or carried out (one per emergency, one per block).
OPEN = ("draft", "agreed", "approved")
REPORTING_PERIODS = ("month", "quarter")  # «за отчетный период» (Конд Прил. 1): month or quarter
LIQUIDATION = "Ликвидация аварийной ситуации"  # the first row of Конд Регламент Прил. 2
MEASURE_DONE = "roadmap_measure_done"  # the event rules/kpi/indicators.yaml roadmap_measures_share counts


class RoadmapError(ValueError):
    """Input the roadmap cannot take (422)."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field


class RoadmapLocked(RoadmapError):
    """The roadmap's state forbids the change (409): approved roadmaps are read-only."""


def _log(
    session: Session,
    roadmap: Roadmap,
    kind: str,
    *,
    actor: str,
    at: datetime,
    reason: str | None,
    data: dict[str, Any] | None = None,
) -> None:
    log_event(
        session,
        tenant_id=roadmap.tenant_id,
        subject_kind="roadmap",
        subject_id=roadmap.id,
        kind=kind,
        actor=actor,
        at=at,
        reason=reason,
        data=data,
    )


def approval_config(config: TenantConfig) -> dict[str, Any]:
    """settings.roadmap_approval, or the platform's default: approved by the МЦУ curator, no
    agreement step (what the ХМАО forms have in common)."""
    found = config.settings.get("roadmap_approval")
    if found:
        return {"agree": found.get("agree"), "approve": list(found.get("approve") or [])}
    curators = [r["id"] for r in config.roles.values() if r.get("kind") == "mcu_curator"]
    return {"agree": None, "approve": curators}


def open_roadmap(
    session: Session,
    tenant_id: int,
    kind: str,
    *,
    emergency_id: uuid.UUID | None = None,
    block_id: str | None = None,
) -> Roadmap | None:
    """The roadmap still in work for this emergency (or, without one, this block)."""
    query = select(Roadmap).where(
        Roadmap.tenant_id == tenant_id, Roadmap.kind == kind, Roadmap.status.in_(OPEN)
    )
    if emergency_id is not None:
        query = query.where(Roadmap.emergency_id == emergency_id)
    else:
        query = query.where(
            Roadmap.block_id == block_id if block_id else Roadmap.block_id.is_(None),
            Roadmap.emergency_id.is_(None),
        )
    return session.exec(query.order_by(Roadmap.created_at.desc())).first()


def _local_date(config: TenantConfig, at: datetime) -> date:
    return at.astimezone(config.tz).date()


# ---------------------------------------------------------------- creating
def growth_for(
    session: Session, config: TenantConfig, block_id: str, period: periods.Period
) -> dict[str, Any]:
    """The form's «Прирост количества сообщений по категориям» for one block and period."""
    dyn = next((d for d in period_dynamics(session, config, period) if d.block == block_id), None)
    previous = period.previous()
    return {
        "period": period.about(),
        "previous_period": previous.about(),
        "count": dyn.count if dyn else 0,
        "previous_count": dyn.previous if dyn else 0,
        "growth_index": round(dyn.growth_index, 2) if dyn else None,
        "rank": dyn.rank if dyn else None,
    }


def growth_text(config: TenantConfig, roadmap: Roadmap) -> str:
    g = roadmap.growth or {}
    block = config.blocks.get(roadmap.block_id or "", {}).get("name") or "блок не определён"
    if "period" in g:
        return (
            f"«{block}»: {g['previous_count']} → {g['count']} сообщений "
            f"({g['previous_period']['label']} → {g['period']['label']}"
            + (
                f", индекс {g['growth_index']:.2f}".replace(".", ",")
                if g.get("growth_index") is not None
                else ""
            )
            + ")"
        )
    if g.get("growth_index") is not None:
        return f"«{block}»: индекс прироста {g['growth_index']:.2f}".replace(".", ",") + (
            f", сообщений за окно: {g['window_count']}" if "window_count" in g else ""
        )
    if "messages" in g:
        return f"«{block}»: сообщений по аварийной ситуации — {g['messages']}"
    return f"«{block}»"


def create_plan(
    *, session: Session, config: TenantConfig, data: RoadmapIn, actor: str, now: datetime | None = None
) -> Roadmap:
    """A plan of measures for a block whose messages grew over a reporting period (month or
    quarter) — the heat map's proposal accepted (Конд Регламент Прил. 1; ХМ п.4.3.2)."""
    now = now or utcnow()
    if not data.block or data.block not in config.blocks:
        raise RoadmapError("block", f"отраслевой блок «{data.block}» не настроен в районе")
    try:
        period = periods.parse(data.period or "", today=_local_date(config, now))
    except periods.PeriodError as exc:
        raise RoadmapError("period", str(exc)) from exc
    if period.kind not in REPORTING_PERIODS:
        raise RoadmapError("period", "отчётный период — месяц (2026-11) или квартал (2026-Q4)")
    existing = open_roadmap(session, config.tenant_id, "plan", block_id=data.block)
    if existing is not None:
        raise RoadmapLocked(
            "block", f"по блоку уже есть дорожная карта в работе (№ {existing.id}, {existing.status})"
        )
    growth = growth_for(session, config, data.block, period)
    block = config.blocks[data.block]["name"]
    # By default the plan runs over the next period of the same kind (the month or quarter after).
    following = period.next()
    start = data.period_start or following.start
    roadmap = Roadmap(
        tenant_id=config.tenant_id,
        kind="plan",
        block_id=data.block,
        problem=(data.problem or f"Рост количества сообщений: {block}")[:500],
        growth=growth,
        responsible=people.from_roster(config, data.block),
        root_causes=data.root_causes,
        period_start=start,
        period_end=data.period_end
        or (following.end if start == following.start else start + timedelta(days=following.days - 1)),
        origin="heatmap",
        created_by=actor,
        created_at=now,
    )
    if data.people:
        roadmap.responsible = people.merged(roadmap.responsible, data.people.model_dump(exclude_unset=True))
    _check_period(roadmap)
    session.add(roadmap)
    session.flush()
    _log(session, roadmap, "created", actor=actor, at=now, reason=roadmap.problem, data={"origin": "heatmap"})
    return roadmap


def new_operational(
    session: Session,
    config: TenantConfig,
    emergency: Emergency,
    *,
    now: datetime,
    due_hours: float,
    origin: str,
    actor: str,
) -> Roadmap:
    """The operational roadmap of an emergency, due `due_hours` after the emergency arose (Конд
    Регламент п.5.4, ХМ п.5.4: «в течение 24 часов с момента возникновения аварийной ситуации»),
    its first measure the form's «Ликвидация аварийной ситуации» (Конд Прил. 2)."""
    messages = session.exec(
        select(sa.func.count())
        .select_from(Message)
        .where(Message.tenant_id == config.tenant_id, Message.emergency_id == emergency.id)
    ).one()
    growth: dict[str, Any] = {"messages": messages}
    if emergency.growth_index is not None:
        growth["growth_index"] = emergency.growth_index
    start = _local_date(config, emergency.declared_at)
    roadmap = Roadmap(
        tenant_id=config.tenant_id,
        kind="operational",
        block_id=emergency.block_id,
        problem=emergency.title[:500],
        growth=growth,
        responsible=people.from_roster(config, emergency.block_id),
        emergency_id=emergency.id,
        due_at=emergency.declared_at + timedelta(hours=due_hours) if due_hours else None,
        # The decrees give an operational roadmap no term of its own: the platform judges its effect
        # over the month after the emergency arose (editable in the draft).
        period_start=start,
        period_end=start + timedelta(days=30),
        origin=origin,
        created_by=actor,
        created_at=now,
    )
    session.add(roadmap)
    session.flush()
    liquidation_due = emergency.liquidation_due_at or (emergency.declared_at + timedelta(hours=24))
    session.add(
        RoadmapMeasure(
            tenant_id=config.tenant_id,
            roadmap_id=roadmap.id,
            position=1,
            title=LIQUIDATION,
            start_date=start,
            end_date=_local_date(config, liquidation_due),
        )
    )
    _log(
        session,
        roadmap,
        "created",
        actor=actor,
        at=now,
        reason=roadmap.problem,
        data={"origin": origin, "emergency": str(emergency.id)},
    )
    return roadmap


def open_operational(
    *,
    session: Session,
    config: TenantConfig,
    emergency: Emergency,
    actor: str,
    data: RoadmapIn | None = None,
    now: datetime | None = None,
) -> tuple[Roadmap, bool]:
    """The emergency's operational roadmap: the draft a rule already opened, or a new one (with
    the problem, root causes and people given, if any)."""
    from mcu.rules.operations import rulebook

    now = now or utcnow()
    existing = open_roadmap(session, config.tenant_id, "operational", emergency_id=emergency.id)
    if existing is not None:
        return existing, False
    if emergency.status != "open":
        raise RoadmapLocked("emergency", "аварийная ситуация закрыта: оперативная карта не открывается")
    hours = float(rulebook(config).param("emergency", "roadmap_due_hours", 24))
    roadmap = new_operational(
        session, config, emergency, now=now, due_hours=hours, origin="emergency", actor=actor
    )
    if data is not None:
        given = data.model_dump(
            include={"problem", "root_causes", "period_start", "period_end", "people"}, exclude_none=True
        )
        if given:
            update(
                session=session,
                roadmap=roadmap,
                data=RoadmapUpdate.model_validate(given),
                actor=actor,
                now=now,
            )
    return roadmap, True


# ---------------------------------------------------------------- editing a draft
def _editable(roadmap: Roadmap) -> None:
    if roadmap.status != "draft":
        from mcu.roadmaps.schemas import STATUS_NAMES

        raise RoadmapLocked(
            "status",
            f"дорожная карта {STATUS_NAMES.get(roadmap.status, roadmap.status)}: изменить её нельзя — "
            "изменения вносятся новой редакцией",
        )


def _check_period(roadmap: Roadmap) -> None:
    if roadmap.period_start and roadmap.period_end and roadmap.period_end < roadmap.period_start:
        raise RoadmapError("period_end", "окончание действия карты раньше начала")


def update(
    *, session: Session, roadmap: Roadmap, data: RoadmapUpdate, actor: str, now: datetime | None = None
) -> None:
    _editable(roadmap)
    changes = data.model_dump(exclude_unset=True)
    if "people" in changes:
        roadmap.responsible = people.merged(roadmap.responsible, changes.pop("people") or {})
    for key, value in changes.items():
        if key == "problem" and not value:
            raise RoadmapError("problem", "укажите наименование проблемы")
        setattr(roadmap, key, value)
    _check_period(roadmap)
    _log(
        session,
        roadmap,
        "edited",
        actor=actor,
        at=now or utcnow(),
        reason=None,
        data={"fields": sorted(changes)},
    )


def measures_of(session: Session, roadmap: Roadmap) -> list[RoadmapMeasure]:
    return list(
        session.exec(
            select(RoadmapMeasure)
            .where(RoadmapMeasure.tenant_id == roadmap.tenant_id, RoadmapMeasure.roadmap_id == roadmap.id)
            .order_by(RoadmapMeasure.position, RoadmapMeasure.id)
        )
    )


def _check_dates(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise RoadmapError("end_date", "дата завершения раньше даты начала")


def add_measure(*, session: Session, roadmap: Roadmap, data: MeasureIn, actor: str) -> RoadmapMeasure:
    _editable(roadmap)
    _check_dates(data.start_date, data.end_date)
    position = max((m.position for m in measures_of(session, roadmap)), default=0) + 1
    measure = RoadmapMeasure(
        tenant_id=roadmap.tenant_id, roadmap_id=roadmap.id, position=position, **data.model_dump()
    )
    session.add(measure)
    session.flush()
    return measure


def update_measure(
    *, session: Session, roadmap: Roadmap, measure: RoadmapMeasure, data: MeasureUpdate
) -> None:
    _editable(roadmap)
    changes = data.model_dump(exclude_unset=True)
    if "title" in changes and not changes["title"]:
        raise RoadmapError("title", "укажите мероприятие")
    for key, value in changes.items():
        setattr(measure, key, value)
    _check_dates(measure.start_date, measure.end_date)


def delete_measure(*, session: Session, roadmap: Roadmap, measure: RoadmapMeasure) -> None:
    _editable(roadmap)
    session.delete(measure)


# ---------------------------------------------------------------- agreement and approval
def _signer(
    config: TenantConfig, roadmap: Roadmap, roles: list[str], data: SignIn, what: str
) -> tuple[dict, str]:
    """The roster position that signs, holding one of `roles` (the one answering for the block
    when the role is held per block)."""
    if data.position is not None:
        position = config.roster.get(data.position)
        if position is None:
            raise RoadmapError("position", f"должности «{data.position}» нет в Составе района")
        held = [r for r in roles if r in position.get("roles", [])]
        if not held:
            names = ", ".join(f"«{config.roles[r]['name']}»" for r in roles if r in config.roles)
            raise RoadmapError(
                "position", f"{what} ставит {names}: должность «{position['position']}» этой роли не занимает"
            )
        return position, held[0]
    for role in roles:
        found = people.position_for(config, {role}, roadmap.block_id)
        if found is not None:
            return found, role
    raise RoadmapError("position", f"в Составе района нет должности, которая ставит гриф «{what}»")


def agree(
    *,
    session: Session,
    config: TenantConfig,
    roadmap: Roadmap,
    data: SignIn,
    actor: str,
    now: datetime | None = None,
) -> None:
    """«СОГЛАСОВАНО» (Конд Регламент Прил. 1–2: заместитель главы, ответственный за блок)."""
    now = now or utcnow()
    role = approval_config(config)["agree"]
    if role is None:
        raise RoadmapLocked("status", "в районе дорожные карты не согласовываются: их сразу утверждают")
    _editable(roadmap)
    position, role = _signer(config, roadmap, [role], data, "СОГЛАСОВАНО")
    _sign(roadmap, "agreed", position, role, data, now)
    roadmap.status = "agreed"
    _log(
        session,
        roadmap,
        "agreed",
        actor=actor,
        at=roadmap.agreed_at or now,
        reason=roadmap.agreed_position,
        data={"role": role, "position": position["id"], "name": roadmap.agreed_by},
    )


def approve(
    *,
    session: Session,
    config: TenantConfig,
    roadmap: Roadmap,
    data: SignIn,
    actor: str,
    now: datetime | None = None,
) -> None:
    """«УТВЕРЖДАЮ» — after «СОГЛАСОВАНО» where the district has it. From here the roadmap is
    read-only; the version it amends is superseded."""
    now = now or utcnow()
    rules = approval_config(config)
    if roadmap.status == "draft" and rules["agree"] is not None:
        raise RoadmapLocked(
            "status", "сначала дорожную карту согласовывают («СОГЛАСОВАНО»), затем утверждают"
        )
    if roadmap.status not in ("draft", "agreed"):
        _editable(roadmap)
    if not measures_of(session, roadmap):
        raise RoadmapError("measures", "в дорожной карте нет мероприятий")
    position, role = _signer(config, roadmap, rules["approve"], data, "УТВЕРЖДАЮ")
    _sign(roadmap, "approved", position, role, data, now)
    roadmap.status = "approved"
    if roadmap.supersedes_id is not None:
        previous = session.get(Roadmap, (roadmap.tenant_id, roadmap.supersedes_id))
        if previous is not None and previous.status in OPEN:
            previous.status = "superseded"
            _log(
                session,
                previous,
                "superseded",
                actor=actor,
                at=now,
                reason=f"редакция {roadmap.version}",
                data={"by": str(roadmap.id)},
            )
    _log(
        session,
        roadmap,
        "approved",
        actor=actor,
        at=roadmap.approved_at or now,
        reason=roadmap.approved_position,
        data={"role": role, "position": position["id"], "name": roadmap.approved_by},
    )


def _sign(roadmap: Roadmap, step: str, position: dict, role: str, data: SignIn, now: datetime) -> None:
    setattr(roadmap, f"{step}_by", (data.name or position.get("person") or "")[:300] or None)
    setattr(roadmap, f"{step}_position", (position.get("position") or "")[:500])
    setattr(roadmap, f"{step}_role", role)
    setattr(roadmap, f"{step}_at", data.at or now)


def amend(*, session: Session, roadmap: Roadmap, actor: str, now: datetime | None = None) -> Roadmap:
    """A new draft version of an agreed or approved roadmap, linked to it; the old one stays in
    force until the new one is approved."""
    now = now or utcnow()
    if roadmap.status not in ("agreed", "approved"):
        raise RoadmapLocked("status", "новая редакция составляется к согласованной или утверждённой карте")
    newer = session.exec(
        select(Roadmap).where(
            Roadmap.tenant_id == roadmap.tenant_id,
            Roadmap.supersedes_id == roadmap.id,
            Roadmap.status.in_(OPEN),
        )
    ).first()
    if newer is not None:
        raise RoadmapLocked("status", f"новая редакция уже готовится (№ {newer.id})")
    copy = Roadmap(
        tenant_id=roadmap.tenant_id,
        kind=roadmap.kind,
        block_id=roadmap.block_id,
        problem=roadmap.problem,
        growth=dict(roadmap.growth),
        responsible=dict(roadmap.responsible),
        root_causes=roadmap.root_causes,
        version=roadmap.version + 1,
        supersedes_id=roadmap.id,
        emergency_id=roadmap.emergency_id,
        period_start=roadmap.period_start,
        period_end=roadmap.period_end,
        due_at=roadmap.due_at,
        origin="amendment",
        created_by=actor,
        created_at=now,
    )
    session.add(copy)
    session.flush()
    for m in measures_of(session, roadmap):
        session.add(
            RoadmapMeasure(
                tenant_id=m.tenant_id,
                roadmap_id=copy.id,
                **{
                    k: getattr(m, k)
                    for k in (
                        "position",
                        "root_cause",
                        "title",
                        "expected_result",
                        "indicator",
                        "executor",
                        "start_date",
                        "end_date",
                        "status",
                        "evidence",
                        "completed_at",
                        "completed_by",
                    )
                },
            )
        )
    _log(
        session,
        copy,
        "created",
        actor=actor,
        at=now,
        reason=f"редакция {copy.version}",
        data={"origin": "amendment", "supersedes": str(roadmap.id)},
    )
    return copy


# ---------------------------------------------------------------- execution
def covered_messages(session: Session, config: TenantConfig, roadmap: Roadmap, until: datetime) -> sa.Select:
    """The messages whose cause the roadmap removes: an operational roadmap's are its
    emergency's; a plan's are its block's, from the start of the reporting period until the
    measure is done."""
    m = Message.__table__
    query = sa.select(m.c.id).where(m.c.tenant_id == roadmap.tenant_id, m.c.status != "duplicate")
    if roadmap.emergency_id is not None:
        return query.where(m.c.emergency_id == roadmap.emergency_id)
    if "period" in (roadmap.growth or {}):
        since = date.fromisoformat(roadmap.growth["period"]["start"])
    else:
        since = roadmap.period_start or _local_date(config, roadmap.created_at)
    start = periods.Period(since, since, "day").bounds(config.tz)[0]
    return query.where(m.c.block_id == roadmap.block_id, m.c.received_at >= start, m.c.received_at <= until)


def complete_measure(
    *,
    session: Session,
    config: TenantConfig,
    roadmap: Roadmap,
    measure: RoadmapMeasure,
    data: MeasureDoneIn,
    actor: str,
    now: datetime | None = None,
) -> int:
    """Mark a measure of an approved roadmap done, with its evidence. Every covered message not
    yet marked gets a `roadmap_measure_done` event (what the KPI counts). Returns how many."""
    now = now or utcnow()
    if roadmap.status != "approved":
        raise RoadmapLocked("status", "выполнение отмечается по утверждённой дорожной карте")
    if measure.status == "done":
        raise RoadmapLocked("status", "мероприятие уже отмечено выполненным")
    done_at = data.done_at or now
    if done_at > now + timedelta(minutes=5):
        raise RoadmapError("done_at", "дата выполнения в будущем")
    measure.status, measure.evidence, measure.completed_at, measure.completed_by = (
        "done",
        data.evidence,
        done_at,
        actor,
    )
    e = Event.__table__
    already = sa.select(e.c.subject_id).where(
        e.c.tenant_id == roadmap.tenant_id, e.c.subject_kind == "message", e.c.kind == MEASURE_DONE
    )
    ids = list(
        session.execute(
            covered_messages(session, config, roadmap, done_at).where(Message.__table__.c.id.not_in(already))
        ).scalars()
    )
    for message_id in ids:
        log_event(
            session,
            tenant_id=roadmap.tenant_id,
            subject_kind="message",
            subject_id=message_id,
            kind=MEASURE_DONE,
            actor=actor,
            at=done_at,
            reason=f"{measure.title} (дорожная карта: {roadmap.problem})"[:500],
            data={"roadmap": str(roadmap.id), "measure": str(measure.id)},
        )
    _log(
        session,
        roadmap,
        "measure_done",
        actor=actor,
        at=done_at,
        reason=measure.title,
        data={"measure": str(measure.id), "evidence": data.evidence, "messages": len(ids)},
    )
    if all(m.status == "done" for m in measures_of(session, roadmap)):
        roadmap.status = "done"
        _log(session, roadmap, "done", actor=actor, at=done_at, reason="все мероприятия выполнены")
    return len(ids)
