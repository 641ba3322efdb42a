"""kpi_rollup_indicator_change: what a later day's events changed in an indicator's counts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:10:00

An ended period's KPI facts were corrected for the events after its end by counting the
messages of its last weeks directly (twice, with and without those events): ≈ 3 s for a region
console of last year at 1 M messages. The rollup now keeps the corrections themselves, per day
of receipt and day of the events. The rollup's VERSION changes with it: every district reads
directly until `mcu analytics rebuild` (or `mcu tenants load`) builds it again.
kpi_rollup.last_event_at, which told the reader from which day to count directly, goes.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mcu.sqltypes
from mcu.migrations.tenant_wall import tenant_wall

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "kpi_rollup_indicator_change",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("indicator_id", S(length=64), nullable=False),
        sa.Column("position_id", S(length=64), nullable=False),
        sa.Column("numerator", sa.Integer(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "day", "changed_on", "indicator_id", "position_id"),
    )
    op.create_index(
        "ix_kpi_rollup_indicator_change_changed_on",
        "kpi_rollup_indicator_change",
        ["tenant_id", "changed_on", "day"],
    )
    tenant_wall("kpi_rollup_indicator_change")  # the second wall, as on every tenant-owned table
    with op.batch_alter_table("kpi_rollup") as batch:
        batch.drop_column("last_event_at")


def downgrade() -> None:
    with op.batch_alter_table("kpi_rollup") as batch:
        batch.add_column(sa.Column("last_event_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=True))
    op.drop_table("kpi_rollup_indicator_change")
