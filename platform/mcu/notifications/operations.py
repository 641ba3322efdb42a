"""Writing notifications: an inbox row per addressee and an e-mail per known address through the
outbox, in the caller's transaction (rule actions, generated reports).

Neither the title nor the body may carry a citizen's text or personal data: the callers pass
numbers, blocks, dates and links.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session, select

from mcu.auth.models import RoleAssignment, User
from mcu.notifications.models import MailOutbox, Notification
from mcu.rules.recipients import Addressee
from mcu.tenancy.config import TenantConfig


def send(
    session: Session,
    config: TenantConfig,
    found: list[Addressee],
    *,
    kind: str,
    title: str,
    body: str,
    subject_kind: str,
    subject_id: uuid.UUID | None,
    at: datetime,
    message_id: uuid.UUID | None = None,
    emergency_id: uuid.UUID | None = None,
    decision_id: uuid.UUID | None = None,
    rule_id: str | None = None,
) -> int:
    """Notify every addressee; returns how many e-mails were queued."""
    mails = 0
    for who in found:
        note = Notification(
            tenant_id=config.tenant_id,
            kind=kind,
            role_id=who.role_id,
            position_id=who.position_id,
            title=title[:300],
            body=body,
            subject_kind=subject_kind,
            subject_id=subject_id,
            message_id=message_id,
            emergency_id=emergency_id,
            decision_id=decision_id,
            rule_id=rule_id,
            created_at=at,
        )
        session.add(note)
        addresses = {who.email} if who.email else set()
        addresses |= {u.email for u in _users(session, config.tenant_id, who)}
        for address in sorted(a for a in addresses if a):
            session.add(
                MailOutbox(
                    tenant_id=config.tenant_id,
                    notification_id=note.id,
                    to_address=address,
                    subject=f"[МЦУ {config.name}] {title}"[:300],
                    body=body,
                    next_attempt_at=at,
                    created_at=at,
                )
            )
            mails += 1
    return mails


def _users(session: Session, tenant_id: int, who: Addressee) -> list[User]:
    # Cached for the session (a request, or one worker batch): a batch addresses the same few
    # roles hundreds of times.
    cache = session.info.setdefault("mcu.role_users", {})
    key = (tenant_id, who.role_id)
    if key not in cache:
        cache[key] = _query_users(session, tenant_id, who.role_id)
    return cache[key]


def _query_users(session: Session, tenant_id: int, role_id: str) -> list[User]:
    query = (
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.tenant_id == tenant_id,
            RoleAssignment.role_id == role_id,
            RoleAssignment.active,
            User.is_active,
        )
    )
    return [u for u in session.exec(query) if u.email]
