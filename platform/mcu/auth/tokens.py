"""Per-tenant API tokens for machine channels: create (shown once), verify, revoke."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlmodel import Session, select

from mcu.audit.operations import record_audit
from mcu.auth.models import ApiToken
from mcu.sqltypes import utcnow

PREFIX_LEN = 8
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    *, session: Session, tenant_id: int, name: str, channel_id: str | None, actor: str
) -> tuple[ApiToken, str]:
    """Returns the row and the plain token, which is not stored and cannot be shown again."""
    plain = f"mcu_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        tenant_id=tenant_id,
        name=name,
        prefix=plain[4 : 4 + PREFIX_LEN],
        token_hash=_hash(plain),
        channel_id=channel_id,
    )
    session.add(token)
    session.flush()
    record_audit(
        session=session,
        tenant_id=tenant_id,
        actor=actor,
        action="api_token.created",
        object_kind="api_token",
        object_id=str(token.id),
        details={"name": name, "channel": channel_id},
    )
    return token, plain


def verify_token(*, session: Session, tenant_id: int, plain: str | None) -> ApiToken | None:
    """The active token of this tenant matching `plain`; another tenant's token never matches."""
    if not plain or not plain.startswith("mcu_"):
        return None
    candidates = session.exec(
        select(ApiToken).where(ApiToken.tenant_id == tenant_id, ApiToken.prefix == plain[4 : 4 + PREFIX_LEN])
    )
    digest = _hash(plain)
    for token in candidates:
        if token.revoked_at is None and hmac.compare_digest(token.token_hash, digest):
            # Updated at most once a minute: every request writing the same row would queue all
            # of a channel's requests behind one row lock.
            now = utcnow()
            if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
                token.last_used_at = now
            return token
    return None


def revoke_token(*, session: Session, tenant_id: int, prefix: str, actor: str) -> int:
    count = 0
    for token in session.exec(
        select(ApiToken).where(ApiToken.tenant_id == tenant_id, ApiToken.prefix == prefix)
    ):
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            count += 1
            record_audit(
                session=session,
                tenant_id=tenant_id,
                actor=actor,
                action="api_token.revoked",
                object_kind="api_token",
                object_id=str(token.id),
                details={"name": token.name},
            )
    return count
