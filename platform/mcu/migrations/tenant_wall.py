"""The row-level-security policy every tenant-owned table carries on PostgreSQL (migration 0008
explains it); later migrations that create such a table call `tenant_wall` for it."""

from __future__ import annotations

from alembic import op

POLICY = "tenant_wall"
SETTING = "current_setting('mcu.tenant_id', true)"
# '' (a connection whose earlier transaction set it) and NULL (never set) both mean unscoped;
# nullif keeps '' away from the cast whatever order the planner evaluates the two sides in (0013).
RULE = f"(nullif({SETTING}, '') is null or tenant_id = nullif({SETTING}, '')::integer)"


def tenant_wall(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'alter table "{table}" enable row level security')
    op.execute(f'alter table "{table}" force row level security')
    op.execute(f'create policy {POLICY} on "{table}" using {RULE} with check {RULE}')
