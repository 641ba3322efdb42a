"""rules engine: decisions, notifications, mail outbox, emergencies group messages

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:07:43.478261
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import mcu.sqltypes

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("role_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("position_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("emergency_id", sa.Uuid(), nullable=True),
        sa.Column("decision_id", sa.Uuid(), nullable=True),
        sa.Column("rule_id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True),
        sa.Column("created_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_tenant_decision", ["tenant_id", "decision_id"], unique=False)
        batch_op.create_index(
            "ix_notification_tenant_position", ["tenant_id", "position_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_notification_tenant_user", ["tenant_id", "user_id", "read_at"], unique=False
        )

    op.create_table(
        "rule_decision",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("config_version_id", sa.Uuid(), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("emergency_id", sa.Uuid(), nullable=True),
        sa.Column("rule_id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("rule_set", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column(
            "source",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "facts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "actions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    with op.batch_alter_table("rule_decision", schema=None) as batch_op:
        batch_op.create_index("ix_rule_decision_tenant_rule_at", ["tenant_id", "rule_id", "at"], unique=False)
        batch_op.create_index(
            "ix_rule_decision_tenant_subject", ["tenant_id", "subject_kind", "subject_id", "at"], unique=False
        )

    op.create_table(
        "mail_outbox",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("to_address", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", mcu.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "notification_id"],
            ["notification.tenant_id", "notification.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_mail_outbox_status_next", ["status", "next_attempt_at"], unique=False)

    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deadline_pending_due",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_foreign_key(
            "fk_deadline_emergency", "emergency", ["tenant_id", "emergency_id"], ["tenant_id", "id"]
        )

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emergency_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            "fk_message_emergency", "emergency", ["tenant_id", "emergency_id"], ["tenant_id", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_constraint("fk_message_emergency", type_="foreignkey")
        batch_op.drop_column("emergency_id")

    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_constraint("fk_deadline_emergency", type_="foreignkey")
        batch_op.drop_index(
            "ix_deadline_pending_due",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )

    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_outbox_status_next")

    op.drop_table("mail_outbox")
    with op.batch_alter_table("rule_decision", schema=None) as batch_op:
        batch_op.drop_index("ix_rule_decision_tenant_subject")
        batch_op.drop_index("ix_rule_decision_tenant_rule_at")

    op.drop_table("rule_decision")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_tenant_user")
        batch_op.drop_index("ix_notification_tenant_position")
        batch_op.drop_index("ix_notification_tenant_decision")

    op.drop_table("notification")
