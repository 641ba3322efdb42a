"""How a queued import stores its checked rows (mcu.messages.bulk_intake): COPY through a staging
table on PostgreSQL, one INSERT on SQLite — the same report and the same queue rows either way,
a repeat within the file noted and stored once, a second run storing nothing, a batch that fails
leaving nothing of itself, and the tenant wall checking what the COPY path writes."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlmodel import select

from mcu.messages import bulk_intake
from mcu.messages.models import IntakeItem
from tests.conftest import ON_POSTGRES
from tests.integration.test_imports import _channel, _config, _import

# Rows 2–3 and 6–7 fall into different batches of two; row 6 repeats row 2, row 3 repeats itself
# at row 4 within its batch; row 5 is rejected; row 8 has no number (its key is the content).
FILE = (
    "ID сообщения;Дата поступления;Текст сообщения;Адрес\n"
    "Q-1;01.03.2025 10:00;Яма на дороге;ул. Мира, 1\n"
    "Q-2;01.03.2025 11:00;Не вывозят мусор;ул. Мира, 2\n"
    "Q-2;01.03.2025 11:00;Не вывозят мусор;ул. Мира, 2\n"
    "Q-3;31.02.2025 11:00;Нет отопления;ул. Мира, 3\n"
    "Q-1;01.03.2025 10:00;Яма на дороге;ул. Мира, 1\n"
    "Q-4;02.03.2025 09:15:30;Не горит фонарь;ул. Мира, 4\n"
    ";03.03.2025 08:00;Сломана скамейка;ул. Мира, 5\n"
).encode()

STORES = ["copy_rows", "insert_rows"] if ON_POSTGRES else ["insert_rows"]


def _use(monkeypatch, store: str) -> None:
    """Make accept_many take `store` whatever the database (PostgreSQL takes both)."""
    chosen = getattr(bulk_intake, store)
    monkeypatch.setattr(bulk_intake, "copy_rows", chosen)
    monkeypatch.setattr(bulk_intake, "insert_rows", chosen)


def _items(app) -> list[tuple[str, str, dict, str, str]]:
    from mcu.db import session_scope

    with app.app_context(), session_scope() as session:
        items = session.exec(select(IntakeItem).order_by(IntakeItem.external_id))
        return [(i.channel_id, i.external_id, i.payload, i.status, i.actor) for i in items]


@pytest.mark.parametrize("store", STORES)
def test_each_store_gives_the_same_report_and_queue_rows(loaded_app, monkeypatch, store):
    _use(monkeypatch, store)
    pos = _channel(loaded_app, "pos")
    first = _import(loaded_app, FILE, "csv", kind="pos", queued=True, batch_size=2)
    assert (first.total, first.created, first.existing) == (7, 4, 2)
    assert [(r.row, r.reasons) for r in first.rejected] == [
        (
            5,
            [
                "Дата поступления: «31.02.2025 11:00» не распознана как дата (ожидается "
                "ДД.ММ.ГГГГ ЧЧ:ММ:СС, ДД.ММ.ГГГГ ЧЧ:ММ, ДД.ММ.ГГГГ, ISO 8601 (2025-03-01T10:00:00+05:00))"
            ],
        )
    ]
    assert [(w.row, w.reasons) for w in first.warnings] == [
        (4, ["повторяет строка 3 этого файла (номер «Q-2»): сохранена один раз"]),
        (6, ["повторяет строка 2 этого файла (номер «Q-1»): сохранена один раз"]),
    ]
    again = _import(loaded_app, FILE, "csv", kind="pos", queued=True, batch_size=2)
    assert (again.created, again.existing) == (0, 6)
    assert again.as_dict() | {"existing": 0} == first.as_dict() | {"created": 0, "existing": 0}

    items = _items(loaded_app)
    assert [i[1] for i in items][:4] == ["Q-1", "Q-2", "Q-4", items[3][1]]
    assert items[3][1].startswith("sha256:") and len(items) == 4
    assert {(i[0], i[3], i[4]) for i in items} == {(pos, "queued", "test:import")}
    assert items[0][2] == {
        "channel": pos,
        "external_id": "Q-1",
        "text": "Яма на дороге",
        "received_at": "2025-03-01T10:00:00+05:00",
        "address": "ул. Мира, 1",
    }
    assert items[2][2]["received_at"] == "2025-03-02T09:15:30+05:00"
    assert items[3][2]["external_id"] == items[3][1]  # the content key intake made, kept for the worker


@pytest.mark.parametrize("store", STORES)
def test_a_batch_that_fails_in_the_store_leaves_nothing_of_itself(loaded_app, monkeypatch, store):
    real, calls = getattr(bulk_intake, store), []

    def fails_the_second_time(**kw):
        made = real(**kw)  # the batch's rows are written…
        calls.append(made)
        if len(calls) == 2:
            raise RuntimeError("simulated failure after the batch was written")  # …and undone
        return made

    _use(monkeypatch, store)
    monkeypatch.setattr(bulk_intake, "copy_rows", fails_the_second_time)
    monkeypatch.setattr(bulk_intake, "insert_rows", fails_the_second_time)
    with pytest.raises(RuntimeError, match="simulated"):
        _import(loaded_app, FILE, "csv", kind="pos", queued=True, batch_size=2)
    assert [i[1] for i in _items(loaded_app)] == ["Q-1", "Q-2"]  # the first batch, committed
    _use(monkeypatch, store)
    resumed = _import(loaded_app, FILE, "csv", kind="pos", queued=True, batch_size=2)
    assert (resumed.created, resumed.existing) == (2, 4)
    assert len(_items(loaded_app)) == 4


@pytest.mark.skipif(not ON_POSTGRES, reason="row-level security and COPY exist on PostgreSQL only")
def test_the_tenant_wall_checks_what_the_copy_path_writes(loaded_app):
    from mcu.db import engine, session_scope
    from mcu.sqltypes import utcnow
    from mcu.tenancy.queries import enter_tenant
    from tests.integration.test_row_level_security import PROBE, _probe_role

    other = _config(loaded_app, "sovetsky").tenant_id
    rows = {("pos", "W-1"): '{"channel": "pos", "text": "Яма"}'}
    with loaded_app.app_context():
        with engine().begin() as conn:
            _probe_role(conn, "select, insert")
        with session_scope() as session:
            tenant = enter_tenant(session, "kondinsky")
            session.connection().execute(text(f"set local role {PROBE}"))  # superusers pass any wall
            made = bulk_intake.copy_rows(
                session=session, tenant_id=tenant.id, rows=rows, actor="t", now=utcnow()
            )
            assert made == {("pos", "W-1")}
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"),
            session_scope() as session,
        ):
            enter_tenant(session, "kondinsky")
            session.connection().execute(text(f"set local role {PROBE}"))
            bulk_intake.copy_rows(session=session, tenant_id=other, rows=rows, actor="t", now=utcnow())
    assert [i[1] for i in _items(loaded_app)] == ["W-1"]
