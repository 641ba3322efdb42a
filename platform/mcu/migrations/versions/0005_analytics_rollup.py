"""analytics rollup: per district-day figures the KPIs, heat map, dashboard and region console read

Revision ID: 0005_analytics_rollup
Revises: 0004
Create Date: 2026-12-04 14:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mcu.sqltypes

revision = "0005_analytics_rollup"
down_revision = "0004"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def _counts(*names: str) -> list[sa.Column]:
    return [sa.Column(n, sa.Integer(), nullable=False) for n in names]


def upgrade() -> None:
    op.create_table(
        "kpi_rollup",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("block_id", S(length=64), nullable=False),
        sa.Column("settlement_id", S(length=64), nullable=False),
        *_counts(
            "received",
            "answered",
            "open",
            "due_set",
            "answered_late",
            "open_due",
            "rating_sum",
            "rated",
            "threats",
        ),
        sa.Column("last_event_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "day", "block_id", "settlement_id"),
    )
    op.create_table(
        "kpi_rollup_indicator",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("indicator_id", S(length=64), nullable=False),
        sa.Column("position_id", S(length=64), nullable=False),
        *_counts("numerator", "denominator"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "day", "indicator_id", "position_id"),
    )
    op.create_table(
        "kpi_rollup_answer_hours",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "day", "bucket"),
    )
    op.create_table(
        "kpi_rollup_state",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("timezone", S(length=64), nullable=False),
        sa.Column("digest", S(length=64), nullable=False),
        sa.Column("built_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_index(
        "ix_message_tenant_due",
        "message",
        ["tenant_id", "due_at"],
        unique=False,
        # Covering on PostgreSQL (SQLite ignores it): the live part of the summary reads no table.
        postgresql_include=["received_at", "answered_at", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_message_tenant_due", table_name="message")
    op.drop_table("kpi_rollup_state")
    op.drop_table("kpi_rollup_answer_hours")
    op.drop_table("kpi_rollup_indicator")
    op.drop_table("kpi_rollup")
