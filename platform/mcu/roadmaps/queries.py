"""Reads for roadmaps, always within one tenant: lookups, the heat map's proposals, and the
roadmap as the API and the documents show it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlmodel import Session, select

from mcu.analytics.heatmap import period_dynamics
from mcu.analytics.periods import Period
from mcu.roadmaps import people
from mcu.roadmaps.effect import Effect, volume_effect
from mcu.roadmaps.models import Roadmap, RoadmapMeasure
from mcu.roadmaps.operations import OPEN, approval_config, growth_text, measures_of, open_roadmap
from mcu.roadmaps.schemas import KINDS, STATUS_NAMES
from mcu.tenancy.config import TenantConfig


def roadmap_by_id(session: Session, tenant_id: int, roadmap_id: uuid.UUID) -> Roadmap | None:
    return session.get(Roadmap, (tenant_id, roadmap_id))


def measure_of(session: Session, roadmap: Roadmap, measure_id: uuid.UUID) -> RoadmapMeasure | None:
    measure = session.get(RoadmapMeasure, (roadmap.tenant_id, measure_id))
    return measure if measure is not None and measure.roadmap_id == roadmap.id else None


def list_roadmaps(
    session: Session, tenant_id: int, *, status: str | None = None, kind: str | None = None
) -> list[Roadmap]:
    query = select(Roadmap).where(Roadmap.tenant_id == tenant_id)
    if status:
        query = query.where(Roadmap.status == status)
    if kind:
        query = query.where(Roadmap.kind == kind)
    return list(session.exec(query.order_by(Roadmap.created_at.desc()).limit(500)))


def proposals(session: Session, config: TenantConfig, period: Period) -> list[dict[str, Any]]:
    """The categories with the greatest growth over the reporting period — the blocks whose
    messages grew against the previous period, fastest first (Конд Регламент Прил. 1: «по
    снижению количества сообщений [по] категориям с наибольшим приростом за отчетный период»;
    ХМ п.4.3.2: «при выявлении … негативной динамики»), each with the roadmap already in work."""
    out = []
    for d in period_dynamics(session, config, period):
        if not d.negative_dynamics:
            continue
        existing = open_roadmap(session, config.tenant_id, "plan", block_id=d.block)
        out.append(
            {
                "block": d.block,
                "block_name": config.blocks[d.block]["name"],
                "count": d.count,
                "previous_count": d.previous,
                "growth_index": round(d.growth_index, 2),
                "rank": d.rank,
                "red_zone": d.red_zone,
                "roadmap": str(existing.id) if existing else None,
            }
        )
    return out


def effect_of(session: Session, config: TenantConfig, roadmap: Roadmap, *, today: date) -> Effect:
    if roadmap.status in ("draft", "agreed", "cancelled", "superseded"):
        return Effect("pending", "Карта не утверждена или заменена: её результат не оценивается.")
    return volume_effect(
        session,
        config,
        blocks=[roadmap.block_id] if roadmap.block_id else [],
        start=roadmap.period_start,
        end=roadmap.period_end,
        today=today,
        what="карта",
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def measure_public(m: RoadmapMeasure) -> dict[str, Any]:
    return {
        "id": str(m.id),
        "position": m.position,
        "root_cause": m.root_cause,
        "title": m.title,
        "expected_result": m.expected_result,
        "indicator": m.indicator,
        "executor": m.executor,
        "start_date": _iso(m.start_date),
        "end_date": _iso(m.end_date),
        "status": m.status,
        "evidence": m.evidence,
        "completed_at": _iso(m.completed_at),
    }


def roadmap_public(
    session: Session, config: TenantConfig, roadmap: Roadmap, *, today: date, full: bool = True
) -> dict[str, Any]:
    rules = approval_config(config)
    out: dict[str, Any] = {
        "id": str(roadmap.id),
        "kind": roadmap.kind,
        "kind_name": KINDS.get(roadmap.kind, roadmap.kind),
        "status": roadmap.status,
        "status_name": STATUS_NAMES.get(roadmap.status, roadmap.status),
        "read_only": roadmap.status != "draft",
        "version": roadmap.version,
        "supersedes": str(roadmap.supersedes_id) if roadmap.supersedes_id else None,
        "origin": roadmap.origin,
        "block": roadmap.block_id,
        "block_name": config.blocks.get(roadmap.block_id or "", {}).get("name"),
        "emergency": str(roadmap.emergency_id) if roadmap.emergency_id else None,
        "problem": roadmap.problem,
        "growth": roadmap.growth,
        "growth_text": growth_text(config, roadmap),
        "period_start": _iso(roadmap.period_start),
        "period_end": _iso(roadmap.period_end),
        "due_at": _iso(roadmap.due_at),
        "created_at": _iso(roadmap.created_at),
        "agreed": {
            "by": roadmap.agreed_by,
            "position": roadmap.agreed_position,
            "role": roadmap.agreed_role,
            "at": _iso(roadmap.agreed_at),
        },
        "approved": {
            "by": roadmap.approved_by,
            "position": roadmap.approved_position,
            "role": roadmap.approved_role,
            "at": _iso(roadmap.approved_at),
        },
        "approval": {
            "agree": rules["agree"],
            "approve": rules["approve"],
            "source": config.settings.get("sources", {}).get("roadmap_approval"),
        },
    }
    if full:
        out["people"] = [
            {
                "slot": slot,
                "title": title,
                **{f: (roadmap.responsible.get(slot) or {}).get(f) for f in people.FIELDS},
            }
            for slot, (title, _kinds) in people.SLOTS.items()
        ]
        out["root_causes"] = roadmap.root_causes
        out["measures"] = [measure_public(m) for m in measures_of(session, roadmap)]
        out["effect"] = effect_of(session, config, roadmap, today=today).public()
        newer = session.exec(
            select(Roadmap.id).where(
                Roadmap.tenant_id == roadmap.tenant_id, Roadmap.supersedes_id == roadmap.id
            )
        ).all()
        out["newer_versions"] = [str(i) for i in newer]
    return out


__all__ = [
    "OPEN",
    "effect_of",
    "list_roadmaps",
    "measure_of",
    "measure_public",
    "proposals",
    "roadmap_by_id",
    "roadmap_public",
]
