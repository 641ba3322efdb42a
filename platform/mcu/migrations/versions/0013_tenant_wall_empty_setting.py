"""tenant_wall: an emptied `mcu.tenant_id` never reaches the integer cast

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 07:15:00

Once a transaction on a connection has set `mcu.tenant_id` (transaction-local), the setting
stays defined on that connection with the value '' — so an unscoped transaction that later gets
the same pooled connection (the worker, the region console) reads '' rather than NULL. The
policy `coalesce(s, '') = '' or tenant_id = s::integer` then depends on the planner evaluating
the left side first, which PostgreSQL does not promise: `count(distinct tenant_id)` failed with
«invalid input syntax for type integer: ""». `nullif(s, '')::integer` is NULL for both, so no
order of evaluation can fail.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from mcu.migrations.tenant_wall import POLICY, RULE, SETTING

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_RULE = f"(coalesce({SETTING}, '') = '' or tenant_id = {SETTING}::integer)"


def _walled_tables() -> list[str]:
    rows = op.get_bind().execute(
        text("select tablename from pg_policies where schemaname = current_schema() and policyname = :p"),
        {"p": POLICY},
    )
    return sorted(r[0] for r in rows)


def _replace(rule: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _walled_tables():
        op.execute(f'alter policy {POLICY} on "{table}" using {rule} with check {rule}')


def upgrade() -> None:
    _replace(RULE)


def downgrade() -> None:
    _replace(OLD_RULE)
