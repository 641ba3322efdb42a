"""kpi_rollup_stale: district-days whose rollup rows lag their messages

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:00:00

Until now a writer recomputed the rollup rows of the days it touched inside its own transaction;
two intakes of one district on one day then both deleted and re-inserted the same rows, and the
second failed on the primary key. Writers now only add a mark here; the day is recomputed by the
next reader (or the worker) under a lock on the district's state row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mcu.migrations.tenant_wall import tenant_wall

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_rollup_stale",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    tenant_wall("kpi_rollup_stale")  # the second wall, as on every tenant-owned table


def downgrade() -> None:
    op.drop_table("kpi_rollup_stale")
