"""The row-level-security policy every tenant-owned table carries on PostgreSQL (migration 0008
explains it); later migrations that create such a table call `tenant_wall` for it."""

from __future__ import annotations

from alembic import op

SETTING = "current_setting('mcu.tenant_id', true)"
RULE = f"(coalesce({SETTING}, '') = '' or tenant_id = {SETTING}::integer)"


def tenant_wall(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'alter table "{table}" enable row level security')
    op.execute(f'alter table "{table}" force row level security')
    op.execute(f'create policy tenant_wall on "{table}" using {RULE} with check {RULE}')
