"""Reads for tenancy. Every tenant-scoped read in the platform starts from `tenant_by_slug`."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict

import sqlalchemy as sa
from sqlmodel import Session, select

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
    if session.get_bind().dialect.name != "postgresql":
        tenant = tenant_by_slug(session, slug)
        if tenant is not None:
            scope_to_tenant(session, tenant.id)
        return tenant
    scoped = sa.func.set_config("mcu.tenant_id", sa.cast(Tenant.id, sa.Text), True)
    row = session.exec(select(Tenant, scoped).where(Tenant.slug == slug, Tenant.active)).first()
    if row is None:
        return None
    scope_to_tenant(session, row[0].id, set_in_transaction=True)
    return row[0]


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
