"""intake_item: the queued intake — accepted at once, taken through the pipeline by the worker

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mcu.sqltypes
from mcu.migrations.tenant_wall import tenant_wall

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "intake_item",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", S(length=64), nullable=False),
        sa.Column("external_id", S(length=200), nullable=False),
        sa.Column("payload", mcu.sqltypes.JSONType, nullable=False),
        sa.Column("actor", S(length=120), nullable=False),
        sa.Column("accepted_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", S(length=16), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("error", mcu.sqltypes.JSONType, nullable=True),
        sa.Column("processed_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.UniqueConstraint("tenant_id", "channel_id", "external_id", name="uq_intake_item_external"),
    )
    op.create_index(
        "ix_intake_item_queued",
        "intake_item",
        ["accepted_at"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
        sqlite_where=sa.text("status = 'queued'"),
    )
    tenant_wall("intake_item")  # the second wall, as on every tenant-owned table


def downgrade() -> None:
    op.drop_index("ix_intake_item_queued", table_name="intake_item")
    op.drop_table("intake_item")
