"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from mcu.ids import uuid7


class UTCDateTime(sa.TypeDecorator):
    """Timestamps are stored in UTC and always come back timezone-aware.

    SQLite has no timezone type and would hand back naive datetimes; mixing naive and aware
    values is the classic source of off-by-N-hours deadline bugs.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def ts_field(*, nullable: bool = False, index: bool = False, **kw: Any) -> Any:
    return Field(sa_type=UTCDateTime(), nullable=nullable, index=index, **kw)


def json_field(*, nullable: bool = False, default_factory: Any = dict) -> Any:
    return Field(sa_type=JSONType, nullable=nullable, default_factory=default_factory)


class TenantOwned(SQLModel):
    """Base of every tenant-owned table: the key is (tenant_id, id), tenant first.

    Leading with tenant_id makes every key and index usable for a table distributed by tenant
    (e.g. Citus) and makes a lookup without the tenant impossible to write by accident.
    """

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)


def tenant_fk(columns: list[str], table: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    """A foreign key that includes tenant_id, so a row can never point into another tenant."""
    return sa.ForeignKeyConstraint(
        ["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete
    )
