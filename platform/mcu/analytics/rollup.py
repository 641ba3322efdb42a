"""The analytics rollup: per district and local day of receipt, the counts the KPIs, the heat map,
the dashboard and the region console read instead of scanning the message table and its log.

Owns the `kpi_rollup*` tables (mcu.analytics.models):
- kpi_rollup — messages per day × block × settlement (duplicates excluded) with the summary
  counts (answered, open, with a term, answered late, open with a term, ratings, threats);
- kpi_rollup_indicator — each message-counted indicator's numerator and denominator per day,
  and for an executor-counted one per day × executor position, with every event in the log;
- kpi_rollup_indicator_change — per day of receipt and later local day (changed_on), what that
  day's events changed in those counts;
- kpi_rollup_answer_hours — answered messages per day × bucket of hours to the answer;
- kpi_rollup_state — built for which time zone and methodologies.

Kept current by marks: a session hook notes every flushed message and every message event, and
the writer's transaction adds a mark for each district-day they fall on (kpi_rollup_stale — no
unique key, so concurrent writers never wait for one another). A reader takes the stored rows of
unmarked days and computes the marked days afresh, by the same SELECT … GROUP BY the rebuild
runs; the worker folds marked days into the stored rows every round (catch_up_all), under a lock
on the district's state row. A reader therefore never sees a stale figure, never writes, and a
writer pays one small INSERT. Rows written with Core inserts (demo seed, bulk generators) bypass the
hook; those writers end with `rebuild`.

An indicator's events are counted in kpi_rollup_indicator whenever they happened; the reference
counts only those before the period's end (a local midnight). A message's counts with the events
before a local midnight change only on the days it has events, so the counts at the end are the
stored ones less the changes of the days from the end on: kpi_rollup_indicator_change rows with
the day of receipt in the period and changed_on at or after its end (none for a running period;
the last weeks' messages of a past one) — exact, and no message is read.

What the rollup cannot hold is read live and added:
- «overdue» depends on the moment asked: messages of the period whose term has not run out by
  then are read through ix_message_tenant_due and taken off — exact;
- the median time to answer comes from hour buckets (a day wide beyond a week), each value
  placed evenly within its bucket: less than an hour from the exact median while that is under
  84 hours, less than a day beyond — the one approximation (median_from_buckets).

A district whose state is missing or does not match its configuration (time zone, methodology)
is computed directly, as before; `mcu analytics rebuild` or `mcu tenants load` builds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from mcu.analytics.models import (
    KpiRollup,
    KpiRollupAnswerHours,
    KpiRollupIndicator,
    KpiRollupIndicatorChange,
    KpiRollupStale,
    KpiRollupState,
)
from mcu.ids import uuid7
from mcu.messages.lifecycle import OPEN
from mcu.messages.models import Event, Message
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig

log = logging.getLogger(__name__)

VERSION = 2  # bump when what the rollup holds changes: every district is then «not built»
M = Message.__table__
E = Event.__table__
R = KpiRollup.__table__
RI = KpiRollupIndicator.__table__
RC = KpiRollupIndicatorChange.__table__
RA = KpiRollupAnswerHours.__table__
RS = KpiRollupState.__table__
S = KpiRollupStale.__table__
WEEK_HOURS = 168
PENDING = "mcu.analytics.rollup.pending"  # session.info key: {(tenant_id, kind, value)}
READING = "mcu.analytics.rollup.reading"  # session.info key: what one reading has looked up
DAY = timedelta(days=1)


# ---------------------------------------------------------------- what a district's rollup counts
def rolled_methodologies(config: TenantConfig) -> dict[str, dict[str, Any]]:
    """The indicators the rollup holds: those counting messages or executors."""
    from mcu.analytics.kpi import indicators_for

    out = {}
    for ind in indicators_for(config):
        m = ind.get("methodology") or {}
        if m.get("counts") in ("messages", "executors"):
            out[ind["id"]] = m
    return out


def settling_kinds(methodologies: dict[str, dict[str, Any]]) -> list[str]:
    """The event kinds that can change a rolled indicator's count for a message."""
    from mcu.analytics.kpi import _event_kinds

    kinds = _event_kinds(methodologies.values())
    if any(m.get("counts") == "executors" for m in methodologies.values()):
        kinds |= {"routed", "assigned"}
    return sorted(kinds)


def digest(config: TenantConfig) -> str:
    # A configuration version never changes: its digest is worked out once per process.
    key = (config.version_id, config.tenant_id)
    found = _digests.get(key)
    if found is None:
        text = json.dumps(
            [VERSION, str(config.tz), rolled_methodologies(config)], sort_keys=True, default=str
        )
        found = _digests[key] = hashlib.sha256(text.encode()).hexdigest()
    return found


_digests: dict[tuple, str] = {}


@contextmanager
def reading(session: Session) -> Iterator[None]:
    """Within it, the session's rollup reads look at the built state and at the stale marks once
    per district: a page of many figures (the dashboard: KPIs, summary, heat map — a dozen
    reads) asks for them once, not once per figure. What it sees is the marks as they stood at
    the first look; a mark committed meanwhile is a day the stored rows do not have yet, as it
    would be had the whole page been read at that moment. For readers only: nothing may write
    to the rollup inside (a flush of the session's own writes ends the shared look)."""
    if READING in session.info:
        yield
        return
    session.info[READING] = {"built": {}, "marks": {}}
    try:
        yield
    finally:
        session.info.pop(READING, None)


def _reading(session: OrmSession) -> dict[str, dict] | None:
    return session.info.get(READING)


def ready(session: Session, configs: Iterable[TenantConfig]) -> set[int]:
    """The districts whose rollup is built for their current configuration."""
    memo = _reading(session)
    if memo is None:
        return ready_on(session.connection(), configs)
    configs = list(configs)
    built = memo["built"]
    unseen = [c.tenant_id for c in configs if c.tenant_id not in built]
    if unseen:
        built.update(dict.fromkeys(unseen))
        rows = session.connection().execute(
            sa.select(RS.c.tenant_id, RS.c.digest).where(RS.c.tenant_id.in_(unseen))
        )
        built.update((tid, found) for tid, found in rows)
    return {c.tenant_id for c in configs if built.get(c.tenant_id) == digest(c)}


def ready_on(conn: sa.Connection, configs: Iterable[TenantConfig]) -> set[int]:
    configs = list(configs)
    if not configs:
        return set()
    rows = conn.execute(
        sa.select(RS.c.tenant_id, RS.c.digest).where(RS.c.tenant_id.in_([c.tenant_id for c in configs]))
    )
    built = dict(rows.all())
    return {c.tenant_id for c in configs if built.get(c.tenant_id) == digest(c)}


# ---------------------------------------------------------------- local days in SQL
@lru_cache(maxsize=64)
def _segments(tz_name: str) -> tuple[tuple[datetime, int], ...]:
    """The zone's UTC offsets as (until, offset seconds) from 1990 to 2060; the last has no end."""
    tz = ZoneInfo(tz_name)

    def offset(at: datetime) -> int:
        return int(at.astimezone(tz).utcoffset().total_seconds())

    out: list[tuple[datetime, int]] = []
    at = datetime(1990, 1, 1, tzinfo=UTC)
    current = offset(at)
    while at.year < 2060:
        nxt = at + DAY
        if offset(nxt) != current:
            lo, hi = at, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(mid) == current else (lo, mid)
            out.append((hi, current))
            current = offset(hi)
        at = nxt
    out.append((datetime.max.replace(tzinfo=UTC), current))
    return tuple(out)


def local_day(column: sa.ColumnElement, tz: ZoneInfo, dialect: str) -> sa.ColumnElement:
    """The district's local date of a UTC timestamp column."""
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone(str(tz), column), sa.Date)
    segments = _segments(str(tz))
    if len(segments) == 1:
        return sa.func.date(column, f"{segments[0][1]:+d} seconds")
    # Newest first: a row of these years matches the first WHEN, not the last of the zone's
    # historical offsets (SQLite evaluates the WHENs in order, for every row).
    starts = [until for until, _ in segments[:-1]]
    return sa.case(
        *(
            (column >= start, sa.func.date(column, f"{off:+d} seconds"))
            for start, (_, off) in reversed(list(zip(starts, segments[1:], strict=True)))
        ),
        else_=sa.func.date(column, f"{segments[0][1]:+d} seconds"),
    )


def _floor(value: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    if dialect == "postgresql":
        return sa.cast(sa.func.floor(value), sa.Integer)
    return sa.cast(value, sa.Integer)  # truncation: the value is never negative here


def _hours(start: sa.ColumnElement, end: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    if dialect == "postgresql":
        return sa.func.extract("epoch", end - start) / 3600
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 24


def hour_bucket(hours: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    """-1 below zero; an hour wide up to a week; a day wide beyond."""
    return sa.case(
        (hours < 0, -1),
        (hours < WEEK_HOURS, _floor(hours, dialect)),
        else_=WEEK_HOURS + _floor((hours - WEEK_HOURS) / 24, dialect),
    )


def bucket_range(bucket: int) -> tuple[float, float]:
    if bucket < WEEK_HOURS:
        return float(bucket), float(bucket + 1)
    lo = WEEK_HOURS + (bucket - WEEK_HOURS) * 24
    return float(lo), float(lo + 24)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, time(0), tz).astimezone(UTC),
        datetime.combine(day + DAY, time(0), tz).astimezone(UTC),
    )


# ---------------------------------------------------------------- building
def _statements(
    tenant_id: int, tz: ZoneInfo, methodologies: dict[str, dict], dialect: str, days: list[date] | None
) -> list[sa.Insert]:
    """INSERT … SELECT … GROUP BY for one district, all its days or the given ones."""
    return [
        sa.insert(table).from_select([c.name for c in table.c], query)
        for table, query in _selects(tenant_id, tz, methodologies, dialect, days)
    ]


def _selects(
    tenant_id: int,
    tz: ZoneInfo,
    methodologies: dict[str, dict],
    dialect: str,
    days: list[date] | None,
    only: sa.Table | None = None,
) -> list[tuple[sa.Table, sa.Select]]:
    """What each rollup table holds for one district, all its days or the given ones, computed
    from the messages and their log: (table, SELECT giving its columns in order). A reader
    passes `only` its table: the indicators' conditions are the costly part to build."""
    from mcu.analytics.kpi import message_condition

    where = [M.c.tenant_id == tenant_id, M.c.status != "duplicate"]
    if days is not None:
        where.append(
            sa.or_(
                *(
                    sa.and_(M.c.received_at >= s, M.c.received_at < e)
                    for s, e in (day_bounds(d, tz) for d in days)
                )
            )
        )
    day = local_day(M.c.received_at, tz, dialect).label("day")
    is_open = M.c.status.in_(sorted(OPEN))
    # '' inline, not a bind parameter: PostgreSQL matches SELECT and GROUP BY expressions by
    # their text, and each rendering of a bind parameter gets its own name.
    blank = sa.literal_column("''")
    block = sa.func.coalesce(M.c.block_id, blank)
    settlement = sa.func.coalesce(M.c.settlement_id, blank)
    kinds = settling_kinds(methodologies)
    out = [
        (
            R,
            sa.select(
                M.c.tenant_id,
                day,
                block,
                settlement,
                sa.func.count(),
                sa.func.count(M.c.answered_at),
                sa.func.count().filter(is_open),
                sa.func.count(M.c.due_at),
                sa.func.count().filter(M.c.answered_at > M.c.due_at),
                sa.func.count().filter(M.c.answered_at.is_(None), is_open, M.c.due_at.is_not(None)),
                sa.func.coalesce(sa.func.sum(M.c.rating), 0),
                sa.func.count(M.c.rating),
                sa.func.count().filter(M.c.threat_to_life),
            )
            .where(*where)
            .group_by(
                M.c.tenant_id,
                day,
                block,
                settlement,
            ),
        )
    ]
    hours = _hours(sa.func.coalesce(M.c.registered_at, M.c.received_at), M.c.answered_at, dialect)
    bucket = hour_bucket(hours, dialect).label("bucket")
    out.append(
        (
            RA,
            sa.select(M.c.tenant_id, day, bucket, sa.func.count())
            .where(*where, M.c.answered_at.is_not(None))
            .group_by(M.c.tenant_id, day, bucket),
        )
    )
    wanted = only is None or only is RI or only is RC
    changes = (
        _changes(tenant_id, where, tz, kinds, dialect) if kinds and (only is None or only is RC) else None
    )
    for iid, m in methodologies.items() if wanted else ():
        den = message_condition(m.get("denominator"), None)
        num = sa.and_(den, message_condition(m.get("numerator"), None))
        if changes is not None:
            out.append((RC, _change_query(iid, m, changes, tz, dialect)))
        if m.get("counts") == "messages":
            query = (
                sa.select(
                    M.c.tenant_id,
                    day,
                    sa.literal(iid),
                    sa.literal(""),
                    sa.func.count().filter(num),
                    sa.func.count().filter(den),
                )
                .where(*where)
                .group_by(M.c.tenant_id, day)
                .having(sa.func.count().filter(den) > 0)
            )
        else:
            routed = E.alias("routed")
            position = routed.c.data["position"].as_string()
            query = (
                sa.select(
                    M.c.tenant_id,
                    day,
                    sa.literal(iid),
                    position,
                    sa.func.count().filter(num),
                    sa.func.count().filter(den),
                )
                .select_from(M.join(routed, _routed_join(routed)))
                .where(*where, position.is_not(None))
                .group_by(M.c.tenant_id, day, position)
                .having(sa.func.count().filter(den) > 0)
            )
        out.append((RI, query))
    return out


def _changes(
    tenant_id: int, where: list[sa.ColumnElement[bool]], tz: ZoneInfo, kinds: list[str], dialect: str
) -> sa.Subquery:
    """Each message (of `where`) with each later local day on which it has an event that can
    change a rolled indicator's count: (tenant_id, id, day of receipt, changed_on)."""
    e = E.alias("changing")
    day = local_day(M.c.received_at, tz, dialect)
    changed_on = local_day(e.c.at, tz, dialect)
    return (
        sa.select(M.c.tenant_id, M.c.id, day.label("day"), changed_on.label("changed_on"))
        .select_from(
            M.join(
                e,
                sa.and_(
                    e.c.tenant_id == M.c.tenant_id,
                    e.c.subject_kind == "message",
                    e.c.subject_id == M.c.id,
                    e.c.kind.in_(kinds),
                ),
            )
        )
        .where(*where, e.c.tenant_id == tenant_id)
        .group_by(M.c.tenant_id, M.c.id, day, changed_on)
        .having(changed_on > day)
        .subquery("changes")
    )


def _change_query(iid: str, m: dict, changes: sa.Subquery, tz: ZoneInfo, dialect: str) -> sa.Select:
    """kpi_rollup_indicator_change of one indicator: per day of receipt and later day of events,
    the counts with that day's events minus the counts without them (each a count of messages,
    or of (message, delivery) pairs for an executor-counted indicator, as kpi_rollup_indicator
    holds them). Summed over the days from a period's end on, they are what the events after
    the end added: counts with events before a local midnight step only on days with events."""
    from mcu.analytics.kpi import message_condition

    on = changes.c.changed_on

    def upto(at: sa.ColumnElement) -> sa.ColumnElement[bool]:
        return local_day(at, tz, dialect) <= on

    def before(at: sa.ColumnElement) -> sa.ColumnElement[bool]:
        return local_day(at, tz, dialect) < on

    def counted(end: Callable) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool]]:
        den = message_condition(m.get("denominator"), end)
        return sa.and_(den, message_condition(m.get("numerator"), end)), den

    joined = M.join(changes, sa.and_(changes.c.tenant_id == M.c.tenant_id, changes.c.id == M.c.id))
    group = [M.c.tenant_id, changes.c.day, on]
    if m.get("counts") == "messages":
        position = sa.literal("")
        (num_after, den_after), (num_before, den_before) = counted(upto), counted(before)
    else:
        routed = E.alias("routed")
        position = routed.c.data["position"].as_string()
        joined = joined.join(routed, _routed_join(routed))
        delivered = local_day(routed.c.at, tz, dialect)
        num_after, den_after = (sa.and_(delivered <= on, c) for c in counted(upto))
        num_before, den_before = (sa.and_(delivered < on, c) for c in counted(before))
        group.append(position)
    numerator = sa.func.count().filter(num_after) - sa.func.count().filter(num_before)
    denominator = sa.func.count().filter(den_after) - sa.func.count().filter(den_before)
    query = sa.select(M.c.tenant_id, changes.c.day, on, sa.literal(iid), position, numerator, denominator)
    query = query.select_from(joined)
    if m.get("counts") != "messages":
        query = query.where(position.is_not(None))
    return query.group_by(*group).having(sa.or_(numerator != 0, denominator != 0))


def _routed_join(routed: sa.Alias, end: datetime | None = None) -> sa.ColumnElement[bool]:
    parts = [
        routed.c.tenant_id == M.c.tenant_id,
        routed.c.subject_kind == "message",
        routed.c.subject_id == M.c.id,
        routed.c.kind.in_(["routed", "assigned"]),
    ]
    if end is not None:
        parts.append(routed.c.at < end)
    return sa.and_(*parts)


def _write(conn: sa.Connection, config: TenantConfig, days: list[date] | None) -> None:
    tid = config.tenant_id
    for table in (R, RI, RC, RA):
        where = [table.c.tenant_id == tid]
        if days is not None:
            where.append(table.c.day.in_(days))
        conn.execute(sa.delete(table).where(*where))
    # Every rollup row comes from a message: a district without any (a new district, every
    # `tenants load` of an empty database) has nothing to add, and building the statements —
    # one per local day offset and methodology — is the costly part.
    if days is None and conn.execute(sa.select(M.c.id).where(M.c.tenant_id == tid).limit(1)).first() is None:
        return
    for statement in _statements(tid, config.tz, rolled_methodologies(config), conn.dialect.name, days):
        conn.execute(statement)


def rebuild(session: Session, config: TenantConfig) -> None:
    """Rebuild a district's rollup from its messages and their log, in the caller's transaction."""
    _pending(session).difference_update({p for p in _pending(session) if p[0] == config.tenant_id})
    conn = session.connection()
    conn.execute(sa.select(RS.c.tenant_id).where(RS.c.tenant_id == config.tenant_id).with_for_update())
    _write(conn, config, None)
    conn.execute(sa.delete(S).where(S.c.tenant_id == config.tenant_id))
    conn.execute(sa.delete(RS).where(RS.c.tenant_id == config.tenant_id))
    conn.execute(
        sa.insert(RS).values(
            tenant_id=config.tenant_id,
            version=VERSION,
            timezone=str(config.tz),
            digest=digest(config),
            built_at=utcnow(),
        )
    )


def ensure(
    session: Session, configs: Iterable[TenantConfig], progress: Callable[[str], Any] | None = None
) -> list[str]:
    """Rebuild the rollup of each district that is not built for its current configuration (a
    new district, a changed time zone or methodology); the slugs rebuilt."""
    configs = list(configs)
    fine = ready(session, configs)
    done = []
    for config in configs:
        if config.tenant_id not in fine:
            rebuild(session, config)
            done.append(config.slug)
            if progress:
                progress(config.slug)
    return done


# ---------------------------------------------------------------- keeping it current
def _pending(session: OrmSession) -> set[tuple]:
    return session.info.setdefault(PENDING, set())


@sa_event.listens_for(OrmSession, "after_flush")
def _note_writes(session: OrmSession, _context: Any) -> None:
    pending = _pending(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Message):
            if obj.received_at is not None:
                pending.add((obj.tenant_id, "at", obj.received_at))
            for old in sa.inspect(obj).attrs.received_at.history.deleted or ():
                if old is not None:
                    pending.add((obj.tenant_id, "at", old))
        elif isinstance(obj, Event) and obj.subject_kind == "message" and obj.subject_id is not None:
            pending.add((obj.tenant_id, "message", obj.subject_id))
    memo = _reading(session)
    if memo is not None and pending:
        for looked_up in memo.values():  # the session's own writes: look again
            looked_up.clear()


@sa_event.listens_for(OrmSession, "before_commit")
def _before_commit(session: OrmSession) -> None:
    # Also fired when a savepoint is released: the marks wait for the transaction's own commit
    # (one INSERT for all its writes), and a reader in between marks them itself (_source).
    if session.in_nested_transaction():
        return
    session.flush()
    _mark(session)


@sa_event.listens_for(OrmSession, "after_transaction_end")
def _forget(session: OrmSession, transaction: Any) -> None:
    if transaction.parent is None and not transaction.nested:
        session.info.pop(PENDING, None)


def _mark(session: OrmSession) -> None:
    """Add a stale mark for each built district-day the session's flushed writes touched, in the
    session's transaction. A writer does no more: recomputing the day here
    would have concurrent writers of one district-day delete and re-insert the same rows."""
    pending = session.info.get(PENDING)
    if not pending:
        return
    session.info[PENDING] = set()
    by_tenant: dict[int, set[tuple]] = defaultdict(set)
    for tid, kind, value in pending:
        by_tenant[tid].add((kind, value))
    conn = session.connection()
    zones = {
        tid: tz
        for tid, tz in conn.execute(
            sa.select(RS.c.tenant_id, RS.c.timezone).where(RS.c.tenant_id.in_(list(by_tenant)))
        )
    }
    rows = []
    for tid, marks in by_tenant.items():
        if tid not in zones:
            continue  # not built: read directly until rebuilt
        moments = [v for k, v in marks if k == "at"]
        ids = []
        for kind, value in marks:
            if kind != "message":
                continue
            known = session.identity_map.get(session.identity_key(Message, (tid, value)))
            if known is not None and known.received_at is not None:
                moments.append(known.received_at)
            else:
                ids.append(value)
        if ids:
            moments += conn.execute(
                sa.select(M.c.received_at).where(M.c.tenant_id == tid, M.c.id.in_(ids))
            ).scalars()
        tz = ZoneInfo(zones[tid])
        days = {(m if m.tzinfo else m.replace(tzinfo=UTC)).astimezone(tz).date() for m in moments}
        rows += [{"tenant_id": tid, "id": uuid7(), "day": day} for day in sorted(days)]
    if rows:
        conn.execute(sa.insert(S), rows)


def _source(session: OrmSession, table: sa.Table, tenant_ids: Iterable[int]) -> sa.FromClause:
    """The rollup table as a reader must see it for these districts: its rows, except that each
    marked day (the session's own writes included) is computed afresh from the messages. Readers
    never write: no lock, no write transaction on SQLite, nothing for a GET to roll back."""
    _mark(session)
    marked = {tid: days for tid, days in _marks(session, sorted(set(tenant_ids))).items() if days}
    if not marked:
        return table
    from mcu.tenancy.models import Tenant
    from mcu.tenancy.queries import current_config

    fresh = []
    for tid, days in sorted(marked.items()):
        tenant = session.get(Tenant, tid)
        config = current_config(session, tenant) if tenant else None
        if config is not None:  # readers of an unconfigured district do not use the rollup
            fresh.append((config, tuple(sorted(days))))
    marks = tuple((tid, tuple(sorted(days))) for tid, days in sorted(marked.items()))
    return _with_fresh_days(table, session.connection().dialect.name, tuple(fresh), marks)


def _marks(session: OrmSession, tenant_ids: list[int]) -> dict[int, set[date]]:
    """The marked days of these districts (within `reading`, looked up once per district)."""
    memo = _reading(session)
    known = memo["marks"] if memo is not None else {}
    unseen = [tid for tid in tenant_ids if tid not in known]
    if unseen:
        found: dict[int, set[date]] = {tid: set() for tid in unseen}
        for tid, day in session.connection().execute(
            sa.select(S.c.tenant_id, S.c.day).where(S.c.tenant_id.in_(unseen)).distinct()
        ):
            found[tid].add(day if isinstance(day, date) else date.fromisoformat(day))
        known.update(found)
    return {tid: known[tid] for tid in tenant_ids}


# Built SELECTs of marked days, by table, dialect and (configuration version, days) of each
# district: building them — every indicator's conditions, an alias of the event log each — took
# a dashboard from 8 to 43 ms of CPU, while a district's marks are the same day or two for hours
# (today's intake, until the worker folds it in). SQLAlchemy statements are immutable and are
# shared between threads.
_FRESH_SIZE = 256
_fresh_cache: OrderedDict[tuple, sa.FromClause] = OrderedDict()
_fresh_lock = threading.Lock()


def _with_fresh_days(
    table: sa.Table,
    dialect: str,
    fresh: tuple[tuple[TenantConfig, tuple[date, ...]], ...],
    marked: tuple[tuple[int, tuple[date, ...]], ...],
) -> sa.FromClause:
    key = (table.name, dialect, tuple((c.tenant_id, c.version_id, days) for c, days in fresh), marked)
    with _fresh_lock:
        found = _fresh_cache.get(key)
        if found is not None:
            _fresh_cache.move_to_end(key)
            return found
    kept = sa.and_(*(sa.or_(table.c.tenant_id != tid, table.c.day.not_in(days)) for tid, days in marked))
    parts: list[sa.Select] = [sa.select(*table.c).where(kept)]
    for config, days in fresh:
        selects = _selects(
            config.tenant_id, config.tz, rolled_methodologies(config), dialect, list(days), table
        )
        parts += [query for t, query in selects if t is table]
    built = sa.union_all(*parts).subquery(table.name)
    with _fresh_lock:
        _fresh_cache[key] = built
        while len(_fresh_cache) > _FRESH_SIZE:
            _fresh_cache.popitem(last=False)
    return built


def catch_up(session: OrmSession, conn: sa.Connection, tenant_ids: Iterable[int]) -> int:
    """Recompute each marked day of these districts and delete the marks seen; the days done.
    One recomputation per district at a time: the state row is locked first (PostgreSQL), so two
    workers never rewrite the same rows side by side. A writer that commits a mark meanwhile is
    safe: its mark was not seen, so it stays for the next round."""
    from mcu.tenancy.models import Tenant
    from mcu.tenancy.queries import current_config

    done = 0
    for tid in sorted(set(tenant_ids)):
        locked = conn.execute(
            sa.select(RS.c.tenant_id).where(RS.c.tenant_id == tid).with_for_update()
        ).first()
        marks = conn.execute(sa.select(S.c.id, S.c.day).where(S.c.tenant_id == tid)).all()
        if not marks:
            continue
        tenant = session.get(Tenant, tid)
        config = current_config(session, tenant) if tenant and locked else None
        if config is not None and tid in ready_on(conn, [config]):
            days = sorted({d if isinstance(d, date) else date.fromisoformat(d) for _, d in marks})
            _write(conn, config, days)
            done += len(days)
        # Marks of a district that is not built (or no longer matches its configuration) go too:
        # readers compute it directly, and its rebuild starts from the messages.
        conn.execute(sa.delete(S).where(S.c.tenant_id == tid, S.c.id.in_([m[0] for m in marks])))
    return done


def catch_up_all(engine: sa.Engine) -> int:
    """The worker's round: recompute every marked day of every district and fold it into the
    rollup, so readers have few days to compute afresh; the days done."""
    from mcu.db import writer_bind

    with OrmSession(writer_bind(engine)) as session, session.begin():
        conn = session.connection()
        tenant_ids = conn.execute(sa.select(S.c.tenant_id).distinct()).scalars().all()
        return catch_up(session, conn, tenant_ids) if tenant_ids else 0


# ---------------------------------------------------------------- reading
def counts_by_days(
    session: Session, tenant_id: int, ranges: list[tuple[date, date]], by_settlement: bool
) -> dict[tuple, int]:
    """Messages received on the days of each [first, after) range, per block (and settlement):
    {(range index, block, [settlement]): count}, None for an absent block or settlement."""
    if not ranges:
        return {}
    r = _source(session, R, [tenant_id])
    bucket = sa.case(*((sa.and_(r.c.day >= s, r.c.day < e), i) for i, (s, e) in enumerate(ranges)))
    where = sa.or_(*(sa.and_(r.c.day >= s, r.c.day < e) for s, e in ranges))
    group = [r.c.block_id, r.c.settlement_id] if by_settlement else [r.c.block_id]
    rows = session.connection().execute(
        sa.select(bucket, *group, sa.func.sum(r.c.received))
        .where(r.c.tenant_id == tenant_id, where)
        .group_by(bucket, *group)
    )
    return {(row[0], *(v or None for v in row[1:-1])): int(row[-1]) for row in rows if row[-1]}


def indicator_sums(
    session: Session, tenant_ids: list[int], first: date, after: date
) -> dict[int, dict[tuple[str, str], tuple[int, int]]]:
    """{tenant: {(indicator, position): (numerator, denominator)}} over the days [first, after)."""
    return _totals(session, _source(session, RI, tenant_ids), tenant_ids, first, after)


def _totals(
    session: Session,
    source: sa.FromClause,
    tenant_ids: list[int],
    first: date,
    after: date,
    *also: sa.ColumnElement[bool],
) -> dict[int, dict[tuple[str, str], tuple[int, int]]]:
    """Numerators and denominators of an indicator table summed over the days [first, after)
    (a source without days is taken as it is)."""
    c = source.c
    days = [c.day >= first, c.day < after] if "day" in c else []
    rows = session.connection().execute(
        sa.select(
            c.tenant_id, c.indicator_id, c.position_id, sa.func.sum(c.numerator), sa.func.sum(c.denominator)
        )
        .where(c.tenant_id.in_(tenant_ids), *days, *also)
        .group_by(c.tenant_id, c.indicator_id, c.position_id)
    )
    out: dict[int, dict[tuple[str, str], tuple[int, int]]] = defaultdict(dict)
    for tid, iid, pos, n, d in rows:
        out[tid][(iid, pos)] = (int(n), int(d))
    return out


def indicator_changes(
    session: Session, tenant_ids: list[int], first: date, after: date
) -> dict[int, dict[tuple[str, str], tuple[int, int]]]:
    """What the events from the local day `after` on added to the counts of the messages
    received on the days [first, after): {tenant: {(indicator, position): (numerator,
    denominator)}}, to take off indicator_sums for a period that ended before them. Empty for a
    running period."""
    rc = _source(session, RC, tenant_ids)
    return _totals(session, rc, tenant_ids, first, after, rc.c.changed_on >= after)


def indicator_counts(
    session: Session, tenant_ids: list[int], first: date, after: date
) -> dict[int, dict[tuple[str, str], tuple[int, int]]]:
    """indicator_sums less indicator_changes — the counts with the events before the local day
    `after` only — in one statement: {tenant: {(indicator, position): (numerator,
    denominator)}}, every key either has."""
    ri, rc = _source(session, RI, tenant_ids), _source(session, RC, tenant_ids)
    keys = ("tenant_id", "indicator_id", "position_id")
    rows = sa.union_all(
        sa.select(*(ri.c[k] for k in keys), ri.c.numerator, ri.c.denominator).where(
            ri.c.tenant_id.in_(tenant_ids), ri.c.day >= first, ri.c.day < after
        ),
        sa.select(*(rc.c[k] for k in keys), -rc.c.numerator, -rc.c.denominator).where(
            rc.c.tenant_id.in_(tenant_ids), rc.c.day >= first, rc.c.day < after, rc.c.changed_on >= after
        ),
    ).subquery("counted")
    return _totals(session, rows, tenant_ids, first, after)


def median_from_buckets(buckets: dict[int, int]) -> float | None:
    """The median as PostgreSQL's percentile_cont(0.5) takes it — the middle value, or the mean of
    the two middle ones — each order statistic placed evenly within its bucket. Each is off by
    less than its bucket's width, so the median by less than an hour while under 84 hours (both
    middle values are then under a week), by less than a day beyond."""
    total = sum(buckets.values())
    if not total:
        return None
    ordered = sorted(buckets.items())

    def nth(i: int) -> float:  # the i-th value (0-based)
        seen = 0
        for b, n in ordered:
            if i < seen + n:
                lo, hi = bucket_range(b)
                return lo + (hi - lo) * (i - seen + 0.5) / n
            seen += n
        raise IndexError(i)

    rank = (total - 1) / 2
    low = int(rank)
    value = nth(low) if rank == low else (nth(low) + nth(low + 1)) / 2
    return round(value, 1)


def summary(
    session: Session,
    tenant_ids: list[int],
    first: date,
    after: date,
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[int, dict]:
    """flow.summary from the rollup: per district, of messages received on the days [first, after)
    (= [start, end) in UTC), with overdue as it stands at `now`."""
    r = _source(session, R, tenant_ids)
    ra = _source(session, RA, tenant_ids)
    conn = session.connection()
    rows = (
        conn.execute(
            sa.select(
                r.c.tenant_id,
                *(
                    sa.func.sum(r.c[c]).label(c)
                    for c in (
                        "received",
                        "answered",
                        "open",
                        "due_set",
                        "answered_late",
                        "open_due",
                        "rating_sum",
                        "rated",
                        "threats",
                    )
                ),
            )
            .where(r.c.tenant_id.in_(tenant_ids), r.c.day >= first, r.c.day < after)
            .group_by(r.c.tenant_id)
        )
        .mappings()
        .all()
    )
    is_open = M.c.status.in_(sorted(OPEN))
    live = {
        r[0]: r[1:]
        for r in conn.execute(
            sa.select(
                M.c.tenant_id,
                sa.func.count(),
                sa.func.count().filter(M.c.answered_at > M.c.due_at),
                sa.func.count().filter(M.c.answered_at.is_(None), is_open),
            )
            .where(
                M.c.tenant_id.in_(tenant_ids),
                M.c.due_at >= now,
                M.c.received_at >= start,
                M.c.received_at < end,
                M.c.status != "duplicate",
            )
            .group_by(M.c.tenant_id)
        )
    }
    hist: dict[int, dict[int, int]] = defaultdict(dict)
    for tid, b, n in conn.execute(
        sa.select(ra.c.tenant_id, ra.c.bucket, sa.func.sum(ra.c.answered))
        .where(ra.c.tenant_id.in_(tenant_ids), ra.c.day >= first, ra.c.day < after)
        .group_by(ra.c.tenant_id, ra.c.bucket)
    ):
        hist[tid][int(b)] = int(n)
    out = {}
    for r in rows:
        tid = r["tenant_id"]
        if not r["received"]:
            continue
        not_due, late_not_due, open_not_due = live.get(tid, (0, 0, 0))
        due_passed = int(r["due_set"]) - not_due
        overdue = int(r["answered_late"]) - late_not_due + int(r["open_due"]) - open_not_due
        rated = int(r["rated"])
        out[tid] = {
            "received": int(r["received"]),
            "answered": int(r["answered"]),
            "open": int(r["open"]),
            "overdue": overdue,
            "overdue_share": round(100 * overdue / due_passed, 1) if due_passed else None,
            "satisfaction": round(int(r["rating_sum"]) / rated, 2) if rated else None,
            "rated": rated,
            "threats": int(r["threats"]),
            "median_hours": median_from_buckets(hist.get(tid, {})),
        }
    return out


def summaries(session: Session, configs: list[TenantConfig], period: Any, now: datetime) -> dict[int, dict]:
    """flow.summary of each district for the period, from the rollup where it is built."""
    from mcu.analytics import flow

    built = ready(session, configs)
    out: dict[int, dict] = {}
    for tz in {str(c.tz) for c in configs}:
        group = [c for c in configs if str(c.tz) == tz]
        start, end = period.bounds(group[0].tz)
        rolled = [c.tenant_id for c in group if c.tenant_id in built]
        direct = [c.tenant_id for c in group if c.tenant_id not in built]
        if rolled:
            out.update(summary(session, rolled, period.start, period.end + DAY, start, end, now))
        if direct:
            out.update(flow.summary(session, direct, start, end, now))
    return out


# ---------------------------------------------------------------- checking against the direct computation
def median_tolerance(hours: float | None) -> float:
    """How far the bucketed median may be from the exact one (see median_from_buckets; + the
    rounding of both to 0.1 h)."""
    return 1.1 if hours is None or hours < WEEK_HOURS / 2 else 24.1


def _check_positions(session: Session, config: TenantConfig, period: Any) -> list[str]:
    """An executor-counted indicator's fact counts positions; the counts behind it, per position
    (stored counts less the later changes), against the direct count of (message, delivery)
    pairs with deliveries and events before the period's end."""
    from mcu.analytics.kpi import message_condition, received_in

    start, end = period.bounds(config.tz)
    first, after = period.start, period.end + DAY
    sums = indicator_sums(session, [config.tenant_id], first, after).get(config.tenant_id, {})
    later = indicator_changes(session, [config.tenant_id], first, after).get(config.tenant_id, {})
    out = []
    for iid, m in rolled_methodologies(config).items():
        if m.get("counts") != "executors":
            continue
        routed = E.alias()
        position = routed.c.data["position"].as_string()
        den = message_condition(m.get("denominator"), end)
        num = sa.and_(den, message_condition(m.get("numerator"), end))
        direct = {
            pos: (n, d)
            for pos, n, d in session.execute(
                sa.select(position, sa.func.count().filter(num), sa.func.count().filter(den))
                .select_from(M.join(routed, _routed_join(routed, end)))
                .where(*received_in([config.tenant_id], start, end), position.is_not(None))
                .group_by(position)
            )
            if n or d
        }
        mine = {}
        for (i, pos), (n, d) in sums.items():
            n1, d1 = later.get((i, pos), (0, 0))
            if i == iid and pos and (n - n1 or d - d1):
                mine[pos] = (n - n1, d - d1)
        if mine != direct:
            out.append(f"КПЭ {iid} по должностям: сводные {mine} ≠ прямой расчёт {direct}")
    return out


def check(session: Session, config: TenantConfig, period: Any, now: datetime) -> list[str]:
    """The differences between what the rollup gives a district for the period and the direct
    computation (KPI numerators and denominators — an executor-counted one's per position too —,
    heat-map cells, summary figures); none when they agree. The median time to answer may differ within its bucket (see the module)."""
    from mcu.analytics import flow, heatmap, kpi

    if config.tenant_id not in ready(session, [config]):
        return [f"{config.slug}: сводные данные не построены"]
    out = []
    rolled = {
        f.indicator_id: (f.numerator, f.denominator)
        for f in kpi.compute(session, [config], period)[config.tenant_id]
    }
    direct = {
        f.indicator_id: (f.numerator, f.denominator)
        for f in kpi.compute_reference(session, [config], period)[config.tenant_id]
    }
    out += [
        f"КПЭ {i}: сводные {rolled.get(i)} ≠ прямой расчёт {direct[i]}"
        for i in direct
        if rolled.get(i) != direct[i]
    ]
    out += _check_positions(session, config, period)
    days = [(p.start, p.end + DAY) for p in period.buckets()]
    cells = counts_by_days(session, config.tenant_id, days, True)
    exact = heatmap.counts_by_range(
        session,
        config.tenant_id,
        [p.bounds(config.tz) for p in period.buckets()],
        M.c.block_id,
        M.c.settlement_id,
    )
    if cells != {k: v for k, v in exact.items() if v}:
        out.append(f"тепловая карта: {len(set(cells.items()) ^ set(exact.items()))} ячеек расходятся")
    start, end = period.bounds(config.tz)
    mine = summary(session, [config.tenant_id], period.start, period.end + DAY, start, end, now).get(
        config.tenant_id
    )
    ref = flow.summary(session, [config.tenant_id], start, end, now).get(config.tenant_id)
    if (mine is None) != (ref is None):
        out.append(f"сводка: сводные {mine} ≠ прямой расчёт {ref}")
    elif mine and ref:
        for key, value in ref.items():
            if key == "median_hours":
                if (value is None) != (mine[key] is None) or (
                    value is not None and abs(mine[key] - value) > median_tolerance(value)
                ):
                    out.append(f"медиана часов: сводные {mine[key]} ≠ прямой расчёт {value}")
            elif mine[key] != value:
                out.append(f"сводка {key}: сводные {mine[key]} ≠ прямой расчёт {value}")
    return out
