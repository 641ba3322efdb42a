"""The inbox: what was addressed to a user's positions and roles in one district."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from mcu.auth.models import RoleAssignment
from mcu.notifications.models import Notification


def inbox(
    session: Session,
    tenant_id: int,
    *,
    positions: list[str] | None = None,
    roles: list[str] | None = None,
    user_id: uuid.UUID | None = None,
    unread: bool = False,
    limit: int = 100,
) -> list[Notification]:
    """Notifications to any of the positions or roles, or to the user by name. A user's inbox
    is `inbox_for_user`, which finds their positions and roles from their role assignments."""
    who = []
    if positions:
        who.append(Notification.position_id.in_(positions))
    if roles:
        who.append(Notification.role_id.in_(roles))
    if user_id is not None:
        who.append(Notification.user_id == user_id)
    if not who:
        return []
    query = select(Notification).where(Notification.tenant_id == tenant_id, or_(*who))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return list(session.exec(query.order_by(Notification.created_at.desc()).limit(limit)))


def inbox_for_user(
    session: Session, tenant_id: int, user_id: uuid.UUID, *, unread: bool = False
) -> list[Notification]:
    held = list(
        session.exec(
            select(RoleAssignment).where(
                RoleAssignment.tenant_id == tenant_id,
                RoleAssignment.user_id == user_id,
                RoleAssignment.active,
            )
        )
    )
    return inbox(
        session,
        tenant_id,
        positions=[a.position_id for a in held if a.position_id],
        roles=[a.role_id for a in held if not a.position_id],
        user_id=user_id,
        unread=unread,
    )


def notification_public(note: Notification) -> dict[str, Any]:
    return {
        "id": str(note.id),
        "kind": note.kind,
        "title": note.title,
        "body": note.body,
        "role": note.role_id,
        "position": note.position_id,
        "subject_kind": note.subject_kind,
        "subject_id": str(note.subject_id) if note.subject_id else None,
        "message_id": str(note.message_id) if note.message_id else None,
        "emergency_id": str(note.emergency_id) if note.emergency_id else None,
        "rule": note.rule_id,
        "created_at": note.created_at.isoformat(),
        "read_at": note.read_at.isoformat() if note.read_at else None,
    }
