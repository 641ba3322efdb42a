"""Storing many checked messages in the intake queue at once: what a queued import does with
each batch of good rows.

On PostgreSQL the batch goes in by COPY into a temporary staging table and one
`INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING` into intake_item: a row is one COPY line,
where a multi-row INSERT made psycopg split and convert a statement of thousands of parameters
(most of what a queued row used to cost). SQLite has no COPY: one INSERT of many rows. Both answer alike: for each message, its external
id and whether it is new to the queue; the key (tenant, channel, external id) keeps a replay, or
a repeat within the batch, from being stored twice.

The staging table lives in the transaction (ON COMMIT DROP): a batch that fails leaves nothing,
neither in intake_item nor in staging, and the next transaction on the pooled connection starts
clean. Row-level security applies to the INSERT as to any other: the tenant wall's WITH CHECK
admits rows of the session's own tenant only. (The role needs TEMPORARY on the database, which
PostgreSQL grants to PUBLIC unless revoked.)
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from mcu.ids import uuid7
from mcu.messages.models import IntakeItem
from mcu.messages.schemas import MessageIn
from mcu.observability.metrics import INTAKE_QUEUED
from mcu.tenancy.config import TenantConfig

T = IntakeItem.__table__
Checked = tuple[MessageIn, dict[str, Any], datetime, str]  # data + what check_intake returned
Key = tuple[str, str]  # (channel id, external id)

_STAGING = "pg_temp.intake_staging"
_CREATE_STAGING = (
    f"create temporary table {_STAGING} "
    "(id uuid, channel_id text, external_id text, payload jsonb) on commit drop"
)
_COPY = f"copy {_STAGING} (id, channel_id, external_id, payload) from stdin"
_MOVE = (
    "insert into intake_item (tenant_id, id, channel_id, external_id, payload, actor, accepted_at, status) "
    f"select %s, id, channel_id, external_id, payload, %s, %s, 'queued' from {_STAGING} "
    "on conflict (tenant_id, channel_id, external_id) do nothing "
    "returning channel_id, external_id"
)


def payload(data: MessageIn, received: datetime, external_id: str) -> str:
    """The item's payload as JSON text, made once: the message as intake took it, with the moment
    of receipt and the key intake settled on, so the worker needs nothing else."""
    if data.received_at is not received or data.external_id != external_id:  # intake filled them in
        data = data.model_copy(update={"received_at": received, "external_id": external_id})
    return data.model_dump_json(exclude_none=True)


def accept_many(
    *, session: Session, config: TenantConfig, items: list[Checked], actor: str, now: datetime
) -> list[tuple[str, bool]]:
    """Store messages checked by `operations.check_intake`; for each, its external id and
    whether it is new to the queue (a key repeated in `items` counts once, at its first place)."""
    rows: dict[Key, str] = {}
    keys: list[Key] = []
    for data, channel, received, external_id in items:
        key = (channel["id"], external_id)
        keys.append(key)
        if key not in rows:
            rows[key] = payload(data, received, external_id)
    if not rows:
        return []
    store = copy_rows if session.connection().dialect.name == "postgresql" else insert_rows
    new = store(session=session, tenant_id=config.tenant_id, rows=rows, actor=actor, now=now)
    for channel_id in {c for c, _ in new}:
        INTAKE_QUEUED.labels(config.slug, channel_id).inc(sum(1 for c, _ in new if c == channel_id))
    out = []
    for key in keys:
        out.append((key[1], key in new))
        new.discard(key)  # a repeat of the key later in `items` is not new
    return out


def copy_rows(
    *, session: Session, tenant_id: int, rows: dict[Key, str], actor: str, now: datetime
) -> set[Key]:
    """PostgreSQL: COPY into staging, then one INSERT … SELECT; the keys that were new."""
    # The session's own connection and transaction: the tenant setting and the batch's fate are
    # shared with everything else the session does.
    connection = session.connection().connection.driver_connection
    with connection.cursor() as cursor:
        cursor.execute(_CREATE_STAGING)
        with cursor.copy(_COPY) as copy:
            for (channel_id, external_id), body in rows.items():
                copy.write_row((uuid7(), channel_id, external_id, body))
        cursor.execute(_MOVE, (tenant_id, actor, now))
        new = {(c, e) for c, e in cursor.fetchall()}
        cursor.execute(f"drop table {_STAGING}")  # the next batch in this transaction makes its own
    return new


def insert_rows(
    *, session: Session, tenant_id: int, rows: dict[Key, str], actor: str, now: datetime
) -> set[Key]:
    """SQLite: one INSERT of every row; the keys that were new. (PostgreSQL takes it too: the
    tests compare it with `copy_rows` there.)"""
    values = [
        {
            "tenant_id": tenant_id,
            "id": uuid7(),
            "channel_id": channel_id,
            "external_id": external_id,
            "payload": json.loads(body),
            "actor": actor,
            "accepted_at": now,
            "status": "queued",
        }
        for (channel_id, external_id), body in rows.items()
    ]
    dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(T).on_conflict_do_nothing(
        index_elements=["tenant_id", "channel_id", "external_id"]
    )
    made = session.connection().execute(insert.returning(T.c.channel_id, T.c.external_id), values)
    return {(c, e) for c, e in made}


__all__ = ["Checked", "accept_many", "copy_rows", "insert_rows", "payload"]
