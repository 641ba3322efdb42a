"""participation_event: the term of holding (starts_on, ends_on); held_at may be empty

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 07:00:00

Кондинский Положение п.2.4.2 asks the МЦУ to monitor the terms of polls, discussions, hearings
and votes. An event can now be entered before it is held, with its term; `held_at` stays empty
until it is held. Existing rows were all recorded as held and keep their values. The table
already carries the tenant wall (0008); new columns need nothing more.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcu.sqltypes

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participation_event") as batch:
        batch.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch.alter_column("held_at", existing_type=mcu.sqltypes.UTCDateTime(timezone=True), nullable=True)
        batch.create_index("ix_participation_tenant_term", ["tenant_id", "ends_on"], unique=False)


def downgrade() -> None:
    # A planned event never held has no date to keep: it cannot survive the older schema.
    op.execute("delete from participation_event where held_at is null")
    with op.batch_alter_table("participation_event") as batch:
        batch.drop_index("ix_participation_tenant_term")
        batch.alter_column("held_at", existing_type=mcu.sqltypes.UTCDateTime(timezone=True), nullable=False)
        batch.drop_column("ends_on")
        batch.drop_column("starts_on")
