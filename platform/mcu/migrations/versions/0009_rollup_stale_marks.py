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

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# As in migration 0008: the second wall on every tenant-owned table.
SETTING = "current_setting('mcu.tenant_id', true)"
RULE = f"(coalesce({SETTING}, '') = '' or tenant_id = {SETTING}::integer)"


def upgrade() -> None:
    op.create_table(
        "kpi_rollup_stale",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("alter table kpi_rollup_stale enable row level security")
        op.execute("alter table kpi_rollup_stale force row level security")
        op.execute(f"create policy tenant_wall on kpi_rollup_stale using {RULE} with check {RULE}")


def downgrade() -> None:
    op.drop_table("kpi_rollup_stale")
