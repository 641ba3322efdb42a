"""Reads for the workspace pages, always scoped to one district."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from mcu.audit.models import AuditRecord
from mcu.messages.lifecycle import OPEN
from mcu.messages.models import Assignment, Message

PAGE = 50


@dataclass(frozen=True)
class InboxFilter:
    state: str = "open"  # open | overdue | triage | threat | all | <status>
    block: str | None = None
    channel: str | None = None
    settlement: str | None = None
    mine: bool = False
    q: str | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> InboxFilter:
        try:
            page = max(int(args.get("page", 1)), 1)
        except ValueError:
            page = 1
        return cls(
            state=args.get("state") or "open",
            block=args.get("block") or None,
            channel=args.get("channel") or None,
            settlement=args.get("settlement") or None,
            mine=args.get("mine") == "1",
            q=(args.get("q") or "").strip() or None,
            page=page,
        )

    def args(self, **change: Any) -> dict[str, Any]:
        out = {
            "state": self.state,
            "block": self.block,
            "channel": self.channel,
            "settlement": self.settlement,
            "mine": "1" if self.mine else None,
            "q": self.q,
            "page": self.page,
        }
        out.update(change)
        return {k: v for k, v in out.items() if v not in (None, "", 1) or k == "state"}


def inbox(
    session: Session, tenant_id: int, f: InboxFilter, *, now: datetime, positions: frozenset[str]
) -> tuple[list[tuple[Message, Assignment | None]], int]:
    query = (
        select(Message, Assignment)
        .join(
            Assignment,
            (Assignment.tenant_id == Message.tenant_id)
            & (Assignment.message_id == Message.id)
            & Assignment.active,
            isouter=True,
        )
        .where(Message.tenant_id == tenant_id)
    )
    if f.state == "open":
        query = query.where(Message.status.in_(OPEN))
    elif f.state == "overdue":
        query = query.where(Message.status.in_(OPEN), Message.due_at < now)
    elif f.state == "triage":
        query = query.where(Message.status == "new")
    elif f.state == "threat":
        query = query.where(Message.threat_to_life, Message.status.in_(OPEN))
    elif f.state != "all":
        query = query.where(Message.status == f.state)
    if f.block:
        query = query.where(Message.block_id == f.block)
    if f.channel:
        query = query.where(Message.channel_id == f.channel)
    if f.settlement:
        query = query.where(Message.settlement_id == f.settlement)
    if f.mine:
        query = query.where(Assignment.position_id.in_(positions or {""}))
    if f.q:
        like = f"%{f.q}%"
        query = query.where(or_(Message.number == f.q, Message.text.ilike(like), Message.address.ilike(like)))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    # Open work is ordered by what burns first; closed history by arrival.
    order = (
        (Message.due_at.asc(), Message.received_at)
        if f.state in ("open", "overdue", "triage", "threat")
        else (Message.received_at.desc(),)
    )
    rows = session.exec(query.order_by(*order).offset((f.page - 1) * PAGE).limit(PAGE)).all()
    return [(m, a) for m, a in rows], total


def audit_records(
    session: Session, tenant_id: int, *, action: str | None = None, actor: str | None = None, limit: int = 200
) -> list[AuditRecord]:
    query = select(AuditRecord).where(AuditRecord.tenant_id == tenant_id)
    if action:
        query = query.where(AuditRecord.action.startswith(action))
    if actor:
        query = query.where(AuditRecord.actor.ilike(f"%{actor}%"))
    return list(session.exec(query.order_by(AuditRecord.at.desc()).limit(limit)))
