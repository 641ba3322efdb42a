"""Tenants and the versions of their configuration loaded into the database."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcu.sqltypes import TenantOwned, json_field, tenant_fk, ts_field, utcnow


class Tenant(SQLModel, table=True):
    """A district. Not tenant-owned itself: it is the tenant."""

    __tablename__ = "tenant"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=48, unique=True, index=True)
    region: str = Field(max_length=48, index=True)
    name: str = Field(max_length=300)
    short_name: str = Field(max_length=200)
    timezone: str = Field(max_length=64)
    active: bool = True
    current_version_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = ts_field(default_factory=utcnow)
    updated_at: datetime = ts_field(default_factory=utcnow)


class TenantConfigVersion(TenantOwned, table=True):
    """One loaded version of a district's effective configuration (its content hash)."""

    __tablename__ = "tenant_config_version"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "content_hash"),)

    content_hash: str = Field(max_length=64)
    loaded_at: datetime = ts_field(default_factory=utcnow)
    source_files: list[str] = json_field(default_factory=list)
    effective: dict[str, Any] = json_field()
    # Where each section of the effective config came from: {"blocks": {"origin": "region", ...}}
    provenance: dict[str, Any] = json_field()
    # The shared rules/ data this version uses (deadline profiles, topics, rule sets, threat
    # lexicon), so a version is self-contained and a change to shared data is a new version.
    resolved: dict[str, Any] = json_field()


class TenantCounter(SQLModel, table=True):
    """Per-tenant sequences (e.g. registration numbers of messages)."""

    __tablename__ = "tenant_counter"

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    name: str = Field(max_length=48, primary_key=True)
    value: int = 0


__all__ = ["Tenant", "TenantConfigVersion", "TenantCounter", "tenant_fk"]
