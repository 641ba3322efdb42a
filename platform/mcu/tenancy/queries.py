"""Reads for tenancy. Every tenant-scoped read in the platform starts from `tenant_by_slug`."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, select

from mcu.auth.models import ApiToken
from mcu.db import scope_to_tenant
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.models import Tenant, TenantConfigVersion

_CACHE_SIZE = 256
_cache: OrderedDict[uuid.UUID, TenantConfig] = OrderedDict()
_cache_lock = threading.Lock()


def tenant_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.exec(select(Tenant).where(Tenant.slug == slug, Tenant.active)).first()


def enter_tenant(session: Session, slug: str) -> Tenant | None:
    """The active tenant with this slug, with the session scoped to it from now on
    (`db.scope_to_tenant`). On PostgreSQL the lookup itself sets `mcu.tenant_id` for the open
    transaction: every request of a district saves a round trip."""
    entry = enter_tenant_with_tokens(session, slug, None)
    return entry.tenant if entry else None


class TenantEntry(NamedTuple):
    tenant: Tenant
    # The tenant's unrevoked API tokens with the presented token's prefix (mcu.auth.tokens): the
    # candidates its hash is checked against. Empty when no prefix was given or none matches.
    tokens: list[ApiToken]


def enter_tenant_with_tokens(session: Session, slug: str, token_prefix: str | None) -> TenantEntry | None:
    """`enter_tenant`, fetching in the same statement the tenant's candidate tokens for the
    prefix of the token a machine channel presents — an API request then needs no round trip of
    its own to authenticate. The tokens are joined on the tenant's id: another district's token
    with the same prefix is never a candidate."""
    columns: list[Any] = [Tenant]
    if token_prefix is not None:
        columns.append(ApiToken)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        columns.append(sa.func.set_config("mcu.tenant_id", sa.cast(Tenant.id, sa.Text), True))
    query = select(*columns).where(Tenant.slug == slug, Tenant.active)
    if token_prefix is not None:
        query = query.outerjoin(
            ApiToken,
            sa.and_(
                ApiToken.tenant_id == Tenant.id,
                ApiToken.prefix == token_prefix,
                ApiToken.revoked_at.is_(None),
            ),
        )
    # On PostgreSQL the tenant wall on api_token sees `mcu.tenant_id` as the transaction had it
    # when the statement began (unset at a request's start) or as this statement sets it — the
    # tenant's own id; the join on that id is what keeps another district's tokens out.
    rows = session.exec(query).all()
    if not rows:
        return None
    tenant = rows[0] if len(columns) == 1 else rows[0][0]
    tokens = [row[1] for row in rows if row[1] is not None] if token_prefix is not None else []
    scope_to_tenant(session, tenant.id, set_in_transaction=postgres)
    return TenantEntry(tenant, tokens)


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.exec(select(Tenant).order_by(Tenant.region, Tenant.slug)))


def current_version(session: Session, tenant: Tenant) -> TenantConfigVersion | None:
    if tenant.current_version_id is None:
        return None
    return session.get(TenantConfigVersion, (tenant.id, tenant.current_version_id))


def current_config(session: Session, tenant: Tenant) -> TenantConfig | None:
    """The tenant's current configuration; versions are immutable, so cache by version id."""
    version_id = tenant.current_version_id
    if version_id is None:
        return None
    with _cache_lock:
        cached = _cache.get(version_id)
        if cached is not None:
            _cache.move_to_end(version_id)
            return cached
    version = current_version(session, tenant)
    if version is None:
        return None
    config = TenantConfig(
        tenant_id=tenant.id,
        slug=tenant.slug,
        version_id=version.id,
        version_hash=version.content_hash,
        data=version.effective,
        provenance=version.provenance,
        resolved=version.resolved,
    )
    with _cache_lock:
        _cache[version_id] = config
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return config


class Configs:
    """Each tenant's current config, read once per batch of work spanning tenants (the worker):
    a reload takes effect at the next batch. An inactive or unconfigured tenant gives None."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[int, TenantConfig | None] = {}

    def __call__(self, tenant_id: int) -> TenantConfig | None:
        if tenant_id not in self.cache:
            tenant = self.session.get(Tenant, tenant_id)
            self.cache[tenant_id] = current_config(self.session, tenant) if tenant and tenant.active else None
        return self.cache[tenant_id]
