"""Information campaigns: explanations on a topic residents write about, run «в целях
недопущения или снижения количества сообщений в медиаполе» (Конд Регламент п.4.2; ХМ
Регламент п.4.4.2), linked to the blocks (categories) they target, with their effect on volumes
once they end (the same comparison as a roadmap's, mcu.roadmaps.effect)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlmodel import Session, select

from mcu.eventlog import log_event
from mcu.roadmaps.effect import volume_effect
from mcu.roadmaps.models import InformationCampaign
from mcu.roadmaps.operations import RoadmapError
from mcu.roadmaps.schemas import CampaignIn
from mcu.tenancy.config import TenantConfig

SOURCE = "Кондинский Регламент п.4.2; Ханты-Мансийский Регламент п.4.4.2"


def create_campaign(
    *, session: Session, config: TenantConfig, data: CampaignIn, actor: str
) -> InformationCampaign:
    unknown = [b for b in data.blocks if b not in config.blocks]
    if unknown:
        raise RoadmapError("blocks", f"отраслевые блоки не настроены в районе: {', '.join(unknown)}")
    row = InformationCampaign(tenant_id=config.tenant_id, **data.model_dump(), created_by=actor)
    row.blocks = list(dict.fromkeys(data.blocks))
    session.add(row)
    session.flush()
    log_event(
        session,
        tenant_id=row.tenant_id,
        subject_kind="campaign",
        subject_id=row.id,
        kind="campaign_recorded",
        actor=actor,
        reason=row.title,
        data={"blocks": row.blocks, "start": row.start_date.isoformat(), "end": row.end_date.isoformat()},
    )
    return row


def campaign_by_id(session: Session, tenant_id: int, campaign_id: uuid.UUID) -> InformationCampaign | None:
    return session.get(InformationCampaign, (tenant_id, campaign_id))


def list_campaigns(
    session: Session, tenant_id: int, *, block: str | None = None
) -> list[InformationCampaign]:
    rows = session.exec(
        select(InformationCampaign)
        .where(InformationCampaign.tenant_id == tenant_id)
        .order_by(InformationCampaign.start_date.desc())
        .limit(500)
    )
    return [r for r in rows if block is None or block in r.blocks]


def campaign_public(
    session: Session, config: TenantConfig, row: InformationCampaign, *, today: date
) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "title": row.title,
        "blocks": [{"id": b, "name": config.blocks.get(b, {}).get("name")} for b in row.blocks],
        "start_date": row.start_date.isoformat(),
        "end_date": row.end_date.isoformat(),
        "channel": row.channel,
        "description": row.description,
        "effect": volume_effect(
            session,
            config,
            blocks=row.blocks,
            start=row.start_date,
            end=row.end_date,
            today=today,
            what="кампания",
        ).public(),
        "source": SOURCE,
    }
