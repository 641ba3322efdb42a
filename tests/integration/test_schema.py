"""The database schema: migrations go up and down, match the models, and every tenant-owned
table keys and indexes on tenant_id first (ready to be distributed by tenant)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import mcu
from mcu.db import engine
from mcu.migrate import current_revision, downgrade, upgrade

# Platform-wide tables: the tenant itself, users (a regional analyst spans districts) and failed
# log-ins (counted before anyone knows which district the person works in).
TENANT_ROOT_TABLES = {"tenant", "app_user", "login_attempt"}
# The head of the chain as Alembic reads it (ids like "0006_roadmaps" are not file-name prefixes,
# and files need not be in chain order); two heads — a merge that forgot to relink — fail here.
HEAD = ScriptDirectory(str(Path(mcu.__file__).parent / "migrations")).get_current_head()


def test_migrations_match_the_models(app):
    with app.app_context(), engine().connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == []


def test_migrations_down_to_base_and_up_again(app):
    with app.app_context():
        assert current_revision() == HEAD
        downgrade("base")
        assert current_revision() is None
        tables = set(sa.inspect(engine()).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade("head")
        assert current_revision() == HEAD


# Indexes that serve the worker, which works for every tenant at once; nothing else may skip
# tenant_id.
CROSS_TENANT_INDEXES = {
    "ix_deadline_pending_due": "the worker claims due deadlines of every district",
    "ix_mail_outbox_status_next": "the worker sends due e-mail of every district",
    "ix_intake_item_queued": "the worker takes queued intake of every district",
}


def test_every_tenant_owned_table_leads_with_tenant_id():
    owned = [t for t in SQLModel.metadata.sorted_tables if "tenant_id" in t.c]
    assert len(owned) >= 13
    for table in owned:
        pk = [c.name for c in table.primary_key.columns]
        assert pk[0] == "tenant_id", f"{table.name}: primary key {pk}"
        assert not table.c.tenant_id.nullable, table.name
        for index in table.indexes:
            if index.name in CROSS_TENANT_INDEXES:
                continue
            assert next(iter(index.columns)).name == "tenant_id", f"{table.name}.{index.name}"
        for constraint in table.constraints:
            if isinstance(constraint, sa.UniqueConstraint):
                assert next(iter(constraint.columns)).name == "tenant_id", f"{table.name} unique"
            if isinstance(constraint, sa.ForeignKeyConstraint):
                target = constraint.referred_table
                if "tenant_id" in target.c and target.name not in TENANT_ROOT_TABLES:
                    cols = [c.name for c in constraint.columns]
                    assert "tenant_id" in cols, f"{table.name} → {target.name} must include tenant_id"
    others = {t.name for t in SQLModel.metadata.sorted_tables if "tenant_id" not in t.c}
    assert others == TENANT_ROOT_TABLES


def test_cross_tenant_reference_is_refused_by_the_database(loaded_app):
    """A message may not point at another tenant's citizen: the composite key forbids it."""
    import uuid
    from datetime import UTC, datetime

    import pytest
    from sqlalchemy.exc import IntegrityError
    from sqlmodel import Session, select

    from mcu.messages.models import Citizen, Message
    from mcu.tenancy.models import Tenant

    with loaded_app.app_context(), Session(engine()) as s:
        a, b = list(s.exec(select(Tenant).order_by(Tenant.slug)))[:2]
        citizen = Citizen(tenant_id=a.id, full_name="Иванов Иван Иванович")
        s.add(citizen)
        s.commit()
        s.add(
            Message(
                tenant_id=b.id,
                number="1",
                regime="message",
                channel_id="pos",
                channel_kind="pos",
                external_id=str(uuid.uuid4()),
                text="Яма на дороге",
                citizen_id=citizen.id,
                received_at=datetime.now(UTC),
            )
        )
        with pytest.raises(IntegrityError):
            s.commit()
