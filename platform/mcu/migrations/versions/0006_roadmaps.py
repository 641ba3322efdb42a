"""roadmaps: approval positions and roles, origin, measures' root cause, information campaigns

Revision ID: 0006_roadmaps
Revises: 0005_analytics_rollup
Create Date: 2026-12-04 14:40:00

Other revisions are being added in parallel (main has 0007, 0008 since): the chain is relinked
when this lands. If it lands after 0008 (row-level security), the new table gets the same
policy here.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import mcu.sqltypes

revision = "0006_roadmaps"
down_revision = "0005_analytics_rollup"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("roadmap", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agreed_position", S(length=500), nullable=True))
        batch_op.add_column(sa.Column("agreed_role", S(length=64), nullable=True))
        batch_op.add_column(sa.Column("approved_position", S(length=500), nullable=True))
        batch_op.add_column(sa.Column("approved_role", S(length=64), nullable=True))
        # Roadmaps made before this revision were all required by a rule.
        batch_op.add_column(sa.Column("origin", S(length=16), nullable=False, server_default="rule"))
        batch_op.add_column(sa.Column("created_by", S(length=120), nullable=True))
    with op.batch_alter_table("roadmap", schema=None) as batch_op:
        batch_op.alter_column("origin", server_default=None)
    with op.batch_alter_table("roadmap_measure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("root_cause", S(length=1000), nullable=True))
        batch_op.add_column(sa.Column("completed_by", S(length=120), nullable=True))
    op.create_table(
        "information_campaign",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", S(length=500), nullable=False),
        sa.Column(
            "blocks",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("channel", S(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_by", S(length=120), nullable=True),
        sa.Column("created_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    with op.batch_alter_table("information_campaign", schema=None) as batch_op:
        batch_op.create_index(
            "ix_information_campaign_tenant_start", ["tenant_id", "start_date"], unique=False
        )
    _tenant_wall("information_campaign")


def _tenant_wall(table: str) -> None:
    """Row-level security like every other tenant-owned table, when this migration runs after the
    one that installs it on PostgreSQL (the «tenant_wall» policy exists); before it, that
    migration covers this table too."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    installed = bind.execute(
        sa.text("select 1 from pg_policies where policyname = 'tenant_wall' limit 1")
    ).first()
    if installed is None:
        return
    setting = "current_setting('mcu.tenant_id', true)"
    rule = f"(coalesce({setting}, '') = '' or tenant_id = {setting}::integer)"
    op.execute(f'alter table "{table}" enable row level security')
    op.execute(f'alter table "{table}" force row level security')
    op.execute(f'create policy tenant_wall on "{table}" using {rule} with check {rule}')


def downgrade() -> None:
    with op.batch_alter_table("information_campaign", schema=None) as batch_op:
        batch_op.drop_index("ix_information_campaign_tenant_start")
    op.drop_table("information_campaign")
    with op.batch_alter_table("roadmap_measure", schema=None) as batch_op:
        batch_op.drop_column("completed_by")
        batch_op.drop_column("root_cause")
    with op.batch_alter_table("roadmap", schema=None) as batch_op:
        batch_op.drop_column("created_by")
        batch_op.drop_column("origin")
        batch_op.drop_column("approved_role")
        batch_op.drop_column("approved_position")
        batch_op.drop_column("agreed_role")
        batch_op.drop_column("agreed_position")
