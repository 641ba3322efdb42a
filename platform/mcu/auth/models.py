"""Users and their role assignments in districts."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mcu.ids import uuid7
from mcu.sqltypes import TenantOwned, ts_field, utcnow


class User(SQLModel, table=True):
    """A person who logs in. Users are platform-wide (a regional analyst spans districts);
    what they may do in a district comes from their role assignments there."""

    __tablename__ = "app_user"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    login: str = Field(max_length=120, unique=True, index=True)
    full_name: str = Field(max_length=300)
    email: str | None = Field(default=None, max_length=300)
    password_hash: str | None = Field(default=None, max_length=300)
    is_active: bool = True
    is_platform_admin: bool = False
    # Regional analysts read every district of a region.
    analyst_region: str | None = Field(default=None, max_length=48)
    created_at: datetime = ts_field(default_factory=utcnow)


class RoleAssignment(TenantOwned, table=True):
    """A user holds a role (and optionally a roster position) of a district's configuration."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "user_id", "role_id", "position_id"),
        sa.Index("ix_role_assignment_tenant_user", "tenant_id", "user_id"),
    )

    user_id: uuid.UUID = Field(foreign_key="app_user.id")
    role_kind: str = Field(max_length=48)
    role_id: str = Field(max_length=64)
    position_id: str | None = Field(default=None, max_length=64)
    active: bool = True
    created_at: datetime = ts_field(default_factory=utcnow)


class ApiToken(TenantOwned, table=True):
    """A machine channel's credential for one district (API, import, Open311 `api_key`).

    Only a hash is stored; the token is shown once, when created.
    """

    __tablename__ = "api_token"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "token_hash"),
        sa.Index("ix_api_token_tenant_prefix", "tenant_id", "prefix"),
    )

    name: str = Field(max_length=120)
    prefix: str = Field(max_length=12)
    token_hash: str = Field(max_length=64)
    # Channel the token submits to by default (e.g. an Open311 app posts to `open311`).
    channel_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = ts_field(default_factory=utcnow)
    revoked_at: datetime | None = ts_field(nullable=True)
    last_used_at: datetime | None = ts_field(nullable=True)


class LoginAttempt(SQLModel, table=True):
    """A failed log-in, kept for throttling (several app nodes share the database, so the count
    must live there, not in a worker's memory). Rows older than the window are pruned."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        sa.Index("ix_login_attempt_key_at", "login_key", "at"),
        sa.Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    login_key: str = Field(max_length=120)
    ip: str = Field(max_length=64)
    at: datetime = ts_field(default_factory=utcnow)
