"""Per-tenant API tokens for machine channels: create (shown once), verify, revoke."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value
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
    # A prefix starting with «-» reads as an option on the command line (`mcu tokens revoke
    # --tenant T PREFIX`): draw again, one time in 64.
    while plain[4] == "-":
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


def token_prefix(plain: str | None) -> str | None:
    """The prefix stored with the token `plain` would be (its lookup key); None when `plain` is
    no token of ours."""
    if not plain or not plain.startswith("mcu_"):
        return None
    return plain[4 : 4 + PREFIX_LEN]


def verify_token(
    *, session: Session, tenant_id: int, plain: str | None, candidates: Iterable[ApiToken] | None = None
) -> ApiToken | None:
    """The active token of this tenant matching `plain`; another tenant's token never matches.

    `candidates`: the tenant's tokens with this prefix, fetched already (with the tenant:
    mcu.tenancy.queries.enter_tenant_with_tokens); none are then looked up. Each is checked in
    full all the same, so a wrong candidate can only be refused."""
    prefix = token_prefix(plain)
    if prefix is None:
        return None
    if candidates is None:
        candidates = session.exec(
            select(ApiToken).where(ApiToken.tenant_id == tenant_id, ApiToken.prefix == prefix)
        )
    digest = _hash(plain)
    for token in candidates:
        if (
            token.tenant_id == tenant_id
            and token.prefix == prefix
            and token.revoked_at is None
            and hmac.compare_digest(token.token_hash, digest)
        ):
            return token
    return None


def note_use(*, session: Session, token: ApiToken) -> bool:
    """Note the token's use, at most once a minute, without waiting for the token's row; True
    when the row was written (the caller then commits at once: mcu.auth.api.authenticated_token).

    Committed at once, the row is held for milliseconds, not for the request — an import's first
    batch can take many seconds, and any request of the channel touching the row meanwhile would
    queue behind it. SKIP LOCKED covers whoever else holds the row (a revocation, a concurrent
    toucher): this request then skips the touch. `FOR NO KEY UPDATE`, the lock an UPDATE of a
    non-key column takes, so rows referring to the token are not held up. SQLite ignores the
    lock clause: a writer holds the whole database there.
    """
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at <= LAST_USED_RESOLUTION:
        return False
    free = (
        select(ApiToken.id)
        .where(
            ApiToken.tenant_id == token.tenant_id,
            ApiToken.id == token.id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_RESOLUTION),
        )
        .with_for_update(skip_locked=True, key_share=True)
    )
    touched = session.execute(
        update(ApiToken)
        .where(ApiToken.tenant_id == token.tenant_id, ApiToken.id.in_(free.scalar_subquery()))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not touched.rowcount:
        return False
    set_committed_value(token, "last_used_at", now)
    return True


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
