"""Writes for tenancy: loading validated configurations into the database.

Operations take `*, session`, flush and never commit: the CLI command or request commits once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session, select

from mcu.audit.operations import record_audit
from mcu.sqltypes import utcnow
from mcu.tenancy.loader import ReadResult, TenantSource
from mcu.tenancy.models import Tenant, TenantConfigVersion

log = logging.getLogger(__name__)


class InvalidConfiguration(Exception):
    """Raised when asked to load a set of tenants that has problems: nothing is loaded."""

    def __init__(self, result: ReadResult) -> None:
        super().__init__(f"{len(result.problems)} problem(s) in tenant configuration")
        self.result = result


@dataclass(frozen=True)
class LoadOutcome:
    slug: str
    change: str  # created, updated, unchanged
    version_hash: str


def load_tenants(result: ReadResult, *, session: Session, actor: str) -> list[LoadOutcome]:
    """Record each tenant and, when its effective configuration changed, a new version."""
    if not result.ok:
        raise InvalidConfiguration(result)
    outcomes = [
        _load_one(src, session=session, actor=actor)
        for src in sorted(result.tenants.values(), key=lambda s: s.slug)
    ]
    session.flush()
    _adopt_rollups(session, [o.slug for o in outcomes])
    return outcomes


def _adopt_rollups(session: Session, slugs: list[str]) -> None:
    """Build the analytics rollup of each loaded district that has none for its configuration
    (a new district, a changed time zone or KPI methodology), in the loading transaction."""
    from mcu.analytics import rollup
    from mcu.tenancy.queries import current_config

    tenants = session.exec(select(Tenant).where(Tenant.slug.in_(slugs))).all()
    configs = [c for c in (current_config(session, t) for t in tenants) if c is not None]
    rebuilt = rollup.ensure(session, configs)
    if rebuilt:
        log.info("analytics rollup rebuilt: %s", ", ".join(rebuilt))


def _load_one(src: TenantSource, *, session: Session, actor: str) -> LoadOutcome:
    plain = src.plain
    digest = src.content_hash
    tenant = session.exec(select(Tenant).where(Tenant.slug == src.slug)).first()
    change = "updated"
    if tenant is None:
        change = "created"
        tenant = Tenant(
            slug=src.slug,
            region=src.region,
            name=plain["name"]["full"],
            short_name=plain["name"]["short"],
            timezone=plain["timezone"],
        )
        session.add(tenant)
        session.flush()
    version = session.exec(
        select(TenantConfigVersion).where(
            TenantConfigVersion.tenant_id == tenant.id, TenantConfigVersion.content_hash == digest
        )
    ).first()
    if version is not None and tenant.current_version_id == version.id:
        return LoadOutcome(src.slug, "unchanged", digest)
    if version is None:
        version = TenantConfigVersion(
            tenant_id=tenant.id,
            content_hash=digest,
            source_files=src.files,
            effective=plain,
            provenance=src.provenance,
            resolved=src.resolved,
        )
        session.add(version)
    previous = tenant.current_version_id
    tenant.current_version_id = version.id
    tenant.region = src.region
    tenant.name = plain["name"]["full"]
    tenant.short_name = plain["name"]["short"]
    tenant.timezone = plain["timezone"]
    tenant.active = True
    tenant.updated_at = utcnow()
    session.flush()
    record_audit(
        session=session,
        tenant_id=tenant.id,
        actor=actor,
        action="config.loaded",
        object_kind="tenant_config_version",
        object_id=str(version.id),
        details={
            "hash": digest,
            "previous_version": str(previous) if previous else None,
            "files": src.files,
            "change": change,
        },
    )
    log.info("tenant %s: configuration %s (%s)", src.slug, change, digest[:12])
    return LoadOutcome(src.slug, change, digest)
