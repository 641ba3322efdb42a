"""PostgreSQL row-level security on every tenant-owned table: the second wall behind the
application's own tenant scoping

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 15:00:00

A request scoped to one district sets `mcu.tenant_id` for each of its transactions
(`mcu.db.scope_to_tenant`); the policy then lets that transaction see and write only the
district's rows, whatever a query forgets. Work that spans districts by design (the worker, the
CLI, the region console) sets nothing and is not filtered. FORCE makes the policy bind the
tables' owner too; PostgreSQL superusers bypass RLS always, so production connects as an
ordinary role (README, «Production»). SQLite has no RLS: nothing to do there.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

POLICY = "tenant_wall"
SETTING = "current_setting('mcu.tenant_id', true)"


def _tenant_tables() -> list[str]:
    rows = op.get_bind().execute(
        text(
            "select c.table_name from information_schema.columns c "
            "join information_schema.tables t using (table_schema, table_name) "
            "where c.table_schema = current_schema() and c.column_name = 'tenant_id' "
            "and t.table_type = 'BASE TABLE' order by 1"
        )
    )
    return [r[0] for r in rows]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _tenant_tables():
        rule = f"(coalesce({SETTING}, '') = '' or tenant_id = {SETTING}::integer)"
        op.execute(f'alter table "{table}" enable row level security')
        op.execute(f'alter table "{table}" force row level security')
        op.execute(f'create policy {POLICY} on "{table}" using {rule} with check {rule}')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _tenant_tables():
        op.execute(f'drop policy if exists {POLICY} on "{table}"')
        op.execute(f'alter table "{table}" no force row level security')
        op.execute(f'alter table "{table}" disable row level security')
