"""reports: generated report documents, one per (district, report, period)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:08:30.666222
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import mcu.sqltypes

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("period_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("period_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "content",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("config_version_id", sa.Uuid(), nullable=True),
        sa.Column("generated_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("generated_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("generations", sa.Integer(), nullable=False),
        sa.Column("created_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.UniqueConstraint("tenant_id", "report_id", "period_key", name="uq_report_period"),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index("ix_report_tenant_generated", ["tenant_id", "generated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_tenant_generated")

    op.drop_table("report")
