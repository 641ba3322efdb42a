"""The queued intake: accept a message at once, take it through the pipeline in the worker.

For machine channels that deliver in volume (ПОС, «Инцидент Менеджмент», ЕДДС, СЭД). Accepting
checks everything intake checks before storing (the same IntakeError → 422) and stores the
payload as an intake item — one INSERT on the key (tenant, channel, external id), so a replayed
delivery finds the item it made and nothing is stored twice. The worker then takes queued items
in batches, oldest first, and runs each through `operations.receive_message`: classification,
routing, deadlines, rules — the same code as the inline intake, with the moment of acceptance as
the moment of receipt. A batch is one transaction: a worker killed mid-batch leaves its items
queued, and the next round makes each message exactly once. An item intake then refuses (the
district's configuration changed meanwhile) is kept as «refused» with the reason.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mcu.db import writer_bind
from mcu.ids import uuid7
from mcu.messages import operations as ops
from mcu.messages.models import IntakeItem
from mcu.messages.schemas import MessageIn
from mcu.observability.metrics import INTAKE_QUEUED
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.queries import Configs

log = logging.getLogger(__name__)
T = IntakeItem.__table__
NO_DISTRICT = "район не настроен или отключён"


def accept(
    *, session: Session, config: TenantConfig, data: MessageIn, actor: str, now: datetime | None = None
) -> tuple[uuid.UUID, bool]:
    """Check and store one message for the worker: (item id, True) — or the id of the item the
    same (channel, external id) already made and False."""
    now = now or utcnow()
    channel, received, external_id = ops.check_intake(config, data, now)
    row = _row(config, data, channel, received, external_id, actor, now)
    params = {f"item_{name}": value for name, value in row.items()}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        found = connection.execute(_STORE_OR_FIND, params).first()
    else:
        made = connection.execute(_insert(sqlite).returning(T.c.id), [row]).first()
        found = (made[0], True) if made is not None else None
    if found is None:
        # SQLite; or, on PostgreSQL, a concurrent delivery of the same item that committed while
        # our INSERT waited for it — the statement's snapshot predates it, a new one sees it.
        found = (connection.execute(_FIND, params).scalar_one(), False)
    item_id, created = found
    if created:
        INTAKE_QUEUED.labels(config.slug, channel["id"]).inc()
    return item_id, created


def _insert(dialect):
    return dialect.insert(T).on_conflict_do_nothing(index_elements=["tenant_id", "channel_id", "external_id"])


def _store_or_find() -> sa.CompoundSelect:
    """One statement, one round trip, for a new delivery and a replay alike: the INSERT's row, or
    when the key is taken the item that holds it. (PostgreSQL only: SQLite has no INSERT in a
    WITH.) Built once; SQLAlchemy caches its compiled form."""
    made = _insert(postgresql).values({name: _P[name] for name in _ROW_COLUMNS}).returning(T.c.id).cte("made")
    return sa.union_all(
        sa.select(made.c.id, sa.true().label("created")),
        sa.select(T.c.id, sa.false()).where(_KEY, ~sa.exists(sa.select(made.c.id))),
    )


_ROW_COLUMNS = ("tenant_id", "id", "channel_id", "external_id", "payload", "actor", "accepted_at", "status")
# Named apart from the columns: SQLAlchemy keeps a column's own name for the VALUES it makes.
_P = {name: sa.bindparam(f"item_{name}", type_=T.c[name].type) for name in _ROW_COLUMNS}
_KEY = sa.and_(
    T.c.tenant_id == _P["tenant_id"],
    T.c.channel_id == _P["channel_id"],
    T.c.external_id == _P["external_id"],
)
_FIND = sa.select(T.c.id).where(_KEY)
_STORE_OR_FIND = _store_or_find()


def _row(
    config: TenantConfig,
    data: MessageIn,
    channel: dict[str, Any],
    received: datetime,
    external_id: str,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    payload = data.model_dump(mode="json", exclude_none=True)
    payload.update(received_at=received.isoformat(), external_id=external_id)
    return {
        "tenant_id": config.tenant_id,
        "id": uuid7(),
        "channel_id": channel["id"],
        "external_id": external_id,
        "payload": payload,
        "actor": actor,
        "accepted_at": now,
        "status": "queued",
    }


def item_by_id(session: Session, tenant_id: int, item_id: uuid.UUID) -> IntakeItem | None:
    return session.get(IntakeItem, (tenant_id, item_id))


def process(engine: Engine, *, batch: int = 200, now: datetime | None = None) -> int:
    """Take up to `batch` queued items of every district through the pipeline, in one
    transaction; the number taken. Workers side by side take different items (SKIP LOCKED).

    The batch is written together (a few statements per table for all its messages), as new
    messages: the queue's key keeps two items from sharing one. A delivery the inline intake
    stored before the worker came breaks the message's unique key — as does any defect — and
    the batch is then rolled back and taken again one message at a time, each in its own
    savepoint: the stored one is found, the others go in, a faulty one is kept as refused with
    its reason. (Looking the whole batch up first would cost a query the planner can answer
    by reading a channel's every message.)"""
    try:
        return _process(engine, batch, now, together=True)
    except IntegrityError as exc:
        log.info("intake batch meets a message stored already (%s); taking it one by one", exc.orig)
        return _process(engine, batch, now, together=False)
    except Exception:
        log.warning("intake batch could not be written together; taking it one by one", exc_info=True)
        return _process(engine, batch, now, together=False)


def _process(engine: Engine, batch: int, now: datetime | None, *, together: bool) -> int:
    with Session(writer_bind(engine), expire_on_commit=False) as session:
        items = list(
            session.exec(
                select(IntakeItem)
                .where(IntakeItem.status == "queued")
                .order_by(IntakeItem.accepted_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        if not items:
            return 0
        now = now or utcnow()
        configs = Configs(session)
        years: Counter[tuple[int, int]] = Counter()
        for item in items:
            config = configs(item.tenant_id)
            if config is not None:
                received = datetime.fromisoformat(item.payload["received_at"])
                years[(item.tenant_id, received.astimezone(config.tz).year)] += 1
        for (tenant_id, year), count in years.items():
            ops.reserve_numbers(session, tenant_id, year, count)
        if together:
            _take_together(session, configs, items, now)
        else:
            for item in items:
                _take(session, configs(item.tenant_id), item, now)
        session.commit()
        return len(items)


def _take_together(session: Session, configs: Configs, items: list[IntakeItem], now: datetime) -> None:
    checked: list[tuple[IntakeItem, ops.Intake]] = []
    for item in items:
        item.processed_at = now
        config = configs(item.tenant_id)
        if config is None:
            item.status, item.error = "refused", {"field": "tenant", "message": NO_DISTRICT}
            continue
        data = MessageIn.model_validate(item.payload)
        try:
            channel, received, external_id = ops.check_intake(config, data, now)
        except ops.IntakeError as exc:
            item.status, item.error = "refused", {"field": exc.field, "message": str(exc)}
            continue
        checked.append((item, ops.Intake(config, data, channel, received, external_id, item.actor)))
    results = ops.receive_checked(session=session, intakes=[i for _, i in checked], now=now)
    for (item, _), result in zip(checked, results, strict=True):
        item.status, item.message_id = "done", result.message.id


def _take(session: Session, config: TenantConfig | None, item: IntakeItem, now: datetime) -> None:
    item.processed_at = now
    if config is None:
        item.status, item.error = "refused", {"field": "tenant", "message": NO_DISTRICT}
        return
    try:
        # receive_message writes inside a savepoint of its own: a failure leaves nothing behind.
        result = ops.receive_message(
            session=session,
            config=config,
            data=MessageIn.model_validate(item.payload),
            actor=item.actor,
            now=now,
        )
    except ops.IntakeError as exc:
        item.status, item.error = "refused", {"field": exc.field, "message": str(exc)}
        return
    except Exception:  # a defect must not hold the queue up: the item keeps it, with the payload
        log.exception("intake item %s could not be processed", item.id)
        item.status, item.error = "refused", {"field": None, "message": "внутренняя ошибка обработки"}
        return
    item.status, item.message_id = "done", result.message.id


def item_public(item: IntakeItem) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(item.id),
        "status": item.status,
        "channel": item.channel_id,
        "external_id": item.external_id,
        "accepted_at": item.accepted_at.isoformat(),
        "processed_at": item.processed_at.isoformat() if item.processed_at else None,
    }
    if item.error:
        out["error"] = item.error
    if item.message_id:
        out["message_id"] = str(item.message_id)
    return out
