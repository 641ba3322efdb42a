"""PostgreSQL row-level security: the second wall behind the application's tenant scoping."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlmodel import SQLModel

from mcu.db import engine, get_session
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="row-level security exists on PostgreSQL only")

PROBE = "mcu_rls_probe"


def _probe_role(conn, rights: str) -> None:
    """An ordinary role to look through: superusers (the test connection) bypass row-level
    security."""
    conn.execute(
        text(
            f"do $$ begin if not exists (select from pg_roles where rolname = '{PROBE}') "
            f"then create role {PROBE} nologin; end if; end $$"
        )
    )
    conn.execute(text(f"grant usage on schema public to {PROBE}"))
    conn.execute(text(f"grant {rights} on all tables in schema public to {PROBE}"))


def _tenant_ids(app) -> dict[str, int]:
    with app.app_context(), engine().connect() as conn:
        return dict(conn.execute(text("select slug, id from tenant")).all())


def _post(app, slug: str) -> None:
    runner, client = app.test_cli_runner(), app.test_client()
    token = runner.invoke(args=["tokens", "create", "--tenant", slug]).stdout.split()[0]
    response = client.post(
        f"/api/v1/{slug}/messages",
        headers={"Authorization": f"Bearer {token}"},
        json={"channel": "pos", "text": "Яма на дороге"},
    )
    assert response.status_code == 201


def test_every_tenant_owned_table_has_the_wall(loaded_app):
    owned = {t.name for t in SQLModel.metadata.sorted_tables if "tenant_id" in t.c}
    with loaded_app.app_context(), engine().connect() as conn:
        rows = conn.execute(
            text(
                "select c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "exists (select 1 from pg_policies p where p.tablename = c.relname and p.policyname = 'tenant_wall') "
                "from pg_class c where c.relname = any(:names)"
            ),
            {"names": sorted(owned)},
        ).all()
    assert {r[0] for r in rows} == owned
    assert [r[0] for r in rows if not (r[1] and r[2] and r[3])] == []


def test_a_scoped_transaction_sees_and_writes_only_its_district(loaded_app):
    _post(loaded_app, "kondinsky")
    _post(loaded_app, "sovetsky")
    ids = _tenant_ids(loaded_app)
    with loaded_app.app_context():
        with engine().begin() as conn:
            _probe_role(conn, "select, insert")
        with engine().begin() as conn:
            conn.execute(text(f"set local role {PROBE}"))
            assert (
                conn.execute(text("select count(distinct tenant_id) from message")).scalar() == 2
            )  # unscoped
            conn.execute(text("select set_config('mcu.tenant_id', :t, true)"), {"t": str(ids["kondinsky"])})
            seen = conn.execute(text("select distinct tenant_id from message")).scalars().all()
            assert seen == [ids["kondinsky"]]
            other = conn.execute(
                text("select count(*) from message where tenant_id = :t"), {"t": ids["sovetsky"]}
            ).scalar()
            assert other == 0  # even asked by id, another district's rows are not there
        with pytest.raises(ProgrammingError, match="row-level security"), engine().begin() as conn:
            conn.execute(text(f"set local role {PROBE}"))
            conn.execute(text("select set_config('mcu.tenant_id', :t, true)"), {"t": str(ids["kondinsky"])})
            conn.execute(
                text(
                    "insert into audit_record (tenant_id, id, at, actor, action, object_kind, details) "
                    "values (:t, gen_random_uuid(), now(), 'x', 'x', 'x', '{}')"
                ),
                {"t": ids["sovetsky"]},
            )


def test_an_unscoped_transaction_on_a_connection_scoped_before_sees_every_district(loaded_app):
    """A transaction-local setting leaves '' behind on the connection, not NULL: the next,
    unscoped user of that pooled connection (the worker, the region console) must see all."""
    _post(loaded_app, "kondinsky")
    _post(loaded_app, "sovetsky")
    ids = _tenant_ids(loaded_app)
    with loaded_app.app_context(), engine().connect() as conn:
        _probe_role(conn, "select")
        conn.commit()
        with conn.begin():
            conn.execute(text("select set_config('mcu.tenant_id', :t, true)"), {"t": str(ids["kondinsky"])})
        with conn.begin():
            assert conn.execute(text("select current_setting('mcu.tenant_id', true)")).scalar() == ""
            conn.execute(text(f"set local role {PROBE}"))
            assert conn.execute(text("select count(distinct tenant_id) from message")).scalar() == 2


def test_a_district_request_runs_every_transaction_scoped(loaded_app):
    ids = _tenant_ids(loaded_app)
    with loaded_app.test_request_context("/t/kondinsky/"):
        loaded_app.preprocess_request()
        session = get_session()
        setting = text("select current_setting('mcu.tenant_id', true)")
        assert session.exec(setting).one()[0] == str(ids["kondinsky"])
        session.commit()
        assert session.exec(setting).one()[0] == str(ids["kondinsky"])  # the next transaction too
    with loaded_app.test_request_context("/region/khmao/"):
        loaded_app.preprocess_request()
        assert get_session().exec(text("select current_setting('mcu.tenant_id', true)")).one()[0] in (
            None,
            "",
        )
