"""KPI facts: each indicator's methodology (rules/kpi/indicators.yaml) compiled to SQL over the
message table and the event log, computed for any period, shown against the yearly target.

One query answers every message-counted indicator of many districts at once (a conditional
count per indicator, grouped by district), so the region console costs what one district does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mcu.analytics.periods import Period
from mcu.messages.models import Event, Message
from mcu.tenancy.config import TenantConfig

M = Message.__table__
E = Event.__table__


@dataclass
class KpiFact:
    indicator_id: str
    number: str | None
    name: str
    unit: str
    methodology: str
    numerator: int
    denominator: int
    target: float | None
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        """The fact, %; none when nothing was there to count (not a zero: nothing to judge)."""
        if not self.denominator:
            return None
        return round(100.0 * self.numerator / self.denominator, 1)

    @property
    def status(self) -> str:
        if self.value is None:
            return "no_data"
        if self.target is None:
            return "no_target"
        return "achieved" if self.value >= self.target else "behind"

    def as_dict(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator_id,
            "number": self.number,
            "name": self.name,
            "unit": self.unit,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "fact": self.value,
            "target": self.target,
            "status": self.status,
            "status_text": STATUS_TEXT[self.status],
            "methodology": self.methodology,
            "source": self.source,
        }


STATUS_TEXT = {
    "achieved": "достигнуто",
    "behind": "ниже плана",
    "no_target": "плановое значение не установлено",
    "no_data": "нет данных за период",
}


def catalogue(config: TenantConfig) -> dict[str, dict[str, Any]]:
    return config.resolved.get("indicators") or {}


def indicators_for(config: TenantConfig) -> list[dict[str, Any]]:
    """The district's indicators with their targets; a district whose decree sets none is shown
    the whole catalogue, facts only."""
    cat = catalogue(config)
    own = (config.data.get("kpi") or {}).get("indicators") or []
    if own:
        return [
            {**cat.get(i["id"], {}), **i, "methodology": cat.get(i["id"], {}).get("methodology")} for i in own
        ]
    return [{**item, "targets": {}} for item in cat.values()]


# ---------------------------------------------------------------- compiling conditions
def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _data_match(table: sa.Table, data: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    out = []
    for key, want in data.items():
        element = table.c.data[key]
        if isinstance(want, bool):
            out.append(element.as_boolean() == want)
        elif isinstance(want, int | float):
            out.append(element.as_float() == float(want))
        else:
            out.append(element.as_string().in_([str(w) for w in _as_list(want)]))
    return out


# When a counted event must have happened: before a moment, whenever (None), or as a condition
# on the event's time column (the rollup's «up to that local day»).
Before = datetime | Callable[[sa.ColumnElement], sa.ColumnElement[bool]] | None


def _event_exists(
    spec: dict[str, Any],
    subject_kind: str,
    subject_id: sa.ColumnElement,
    tenant: sa.ColumnElement,
    end: Before,
) -> sa.ColumnElement[bool]:
    """An event of the spec in the subject's log before `end` (None: whenever it happened)."""
    e = E.alias()
    where = [
        e.c.tenant_id == tenant,
        e.c.subject_kind == subject_kind,
        e.c.subject_id == subject_id,
        e.c.kind.in_(_as_list(spec["kind"])),
        *_data_match(e, spec.get("data") or {}),
    ]
    if callable(end):
        where.append(end(e.c.at))
    elif end is not None:
        where.append(e.c.at < end)
    return sa.exists(sa.select(sa.literal(1)).select_from(e).where(*where))


def message_condition(spec: dict[str, Any] | None, end: Before) -> sa.ColumnElement[bool]:
    """A methodology's condition on a message (regime, channel kind, events in its log before
    `end`; None: whenever they happened)."""
    spec = spec or {}
    parts: list[sa.ColumnElement[bool]] = []
    if "regime" in spec:
        parts.append(M.c.regime.in_(_as_list(spec["regime"])))
    if "channel_kind" in spec:
        parts.append(M.c.channel_kind.in_(_as_list(spec["channel_kind"])))
    for has in _as_list(spec.get("has_event") or []):
        parts.append(_event_exists(has, "message", M.c.id, M.c.tenant_id, end))
    for lacks in _as_list(spec.get("lacks_event") or []):
        parts.append(~_event_exists(lacks, "message", M.c.id, M.c.tenant_id, end))
    return sa.and_(sa.true(), *parts)


def received_in(tenant_ids: Iterable[int], start: datetime, end: datetime) -> list[sa.ColumnElement[bool]]:
    """The base of every message count: received in [start, end), duplicates excluded."""
    return [
        M.c.tenant_id.in_(list(tenant_ids)),
        M.c.received_at >= start,
        M.c.received_at < end,
        M.c.status != "duplicate",
    ]


# ---------------------------------------------------------------- counting
Counts = dict[int, dict[str, tuple[int, int]]]  # tenant → indicator → (numerator, denominator)


def _count_messages(
    session: Session,
    tenant_ids: list[int],
    specs: dict[str, dict],
    start: datetime,
    end: datetime,
) -> Counts:
    """Counts over the messages received in [start, end), their events taken before its end."""
    columns = []
    for iid, m in specs.items():
        den = message_condition(m.get("denominator"), end)
        num = sa.and_(den, message_condition(m.get("numerator"), end))
        columns += [
            sa.func.count().filter(num).label(f"n_{iid}"),
            sa.func.count().filter(den).label(f"d_{iid}"),
        ]
    query = (
        sa.select(M.c.tenant_id, *columns).where(*received_in(tenant_ids, start, end)).group_by(M.c.tenant_id)
    )
    out: Counts = defaultdict(dict)
    for row in session.execute(query).mappings():
        for iid in specs:
            out[row["tenant_id"]][iid] = (row[f"n_{iid}"], row[f"d_{iid}"])
    return out


def _per_tenant(session: Session, query: sa.Select, iid: str) -> Counts:
    """Rows of (tenant, numerator, denominator) as counts of one indicator."""
    out: Counts = defaultdict(dict)
    for tenant_id, n, d in session.execute(query):
        out[tenant_id][iid] = (n, d)
    return out


def _count_executors(
    session: Session, tenant_ids: list[int], iid: str, m: dict, start: datetime, end: datetime
) -> Counts:
    routed = E.alias()
    position = routed.c.data["position"].as_string()
    den = message_condition(m.get("denominator"), end)
    num = sa.and_(den, message_condition(m.get("numerator"), end))
    query = (
        sa.select(
            M.c.tenant_id,
            sa.func.count(sa.distinct(sa.case((num, position)))).label("n"),
            sa.func.count(sa.distinct(sa.case((den, position)))).label("d"),
        )
        .select_from(
            M.join(
                routed,
                sa.and_(
                    routed.c.tenant_id == M.c.tenant_id,
                    routed.c.subject_kind == "message",
                    routed.c.subject_id == M.c.id,
                    routed.c.kind.in_(["routed", "assigned"]),
                    routed.c.at < end,
                ),
            )
        )
        .where(*received_in(tenant_ids, start, end), position.is_not(None))
        .group_by(M.c.tenant_id)
    )
    return _per_tenant(session, query, iid)


def _count_events(
    session: Session, tenant_ids: list[int], iid: str, m: dict, start: datetime, end: datetime
) -> Counts:
    base = m["event"]

    def cond(spec: dict[str, Any] | None) -> sa.ColumnElement[bool]:
        spec = spec or {}
        parts = _data_match(E, spec.get("data") or {})
        for has in _as_list(spec.get("has_event") or []):
            parts.append(_event_exists(has, base["subject"], E.c.subject_id, E.c.tenant_id, end))
        return sa.and_(sa.true(), *parts)

    den = cond(m.get("denominator"))
    num = sa.and_(den, cond(m.get("numerator")))
    query = (
        sa.select(
            E.c.tenant_id,
            sa.func.count().filter(num).label("n"),
            sa.func.count().filter(den).label("d"),
        )
        .where(
            E.c.tenant_id.in_(tenant_ids),
            E.c.kind == base["kind"],
            E.c.subject_kind == base["subject"],
            E.c.at >= start,
            E.c.at < end,
        )
        .group_by(E.c.tenant_id)
    )
    return _per_tenant(session, query, iid)


def count(
    session: Session, tenant_ids: list[int], methodologies: dict[str, dict], start: datetime, end: datetime
) -> Counts:
    """Numerator and denominator of each indicator for each district, over [start, end)."""
    out: Counts = defaultdict(dict)
    by_messages = {i: m for i, m in methodologies.items() if m.get("counts") == "messages"}
    parts = [_count_messages(session, tenant_ids, by_messages, start, end)] if by_messages else []
    for iid, m in methodologies.items():
        if m.get("counts") == "executors":
            parts.append(_count_executors(session, tenant_ids, iid, m, start, end))
        elif m.get("counts") == "events":
            parts.append(_count_events(session, tenant_ids, iid, m, start, end))
    for part in parts:
        for tenant_id, values in part.items():
            out[tenant_id].update(values)
    return out


def _target(indicator: dict[str, Any], period: Period) -> float | None:
    targets = indicator.get("targets") or {}
    value = targets.get(str(period.end.year))
    return float(value) if value is not None else None


def facts_for(configs: list[TenantConfig], period: Period, counts: Counts) -> dict[int, list[KpiFact]]:
    out: dict[int, list[KpiFact]] = {}
    for config in configs:
        mine = counts.get(config.tenant_id, {})
        out[config.tenant_id] = [
            KpiFact(
                indicator_id=ind["id"],
                number=ind.get("number"),
                name=ind["name"],
                unit=ind.get("unit", "%"),
                methodology=(ind.get("methodology") or {}).get("text", "методика не описана"),
                numerator=mine.get(ind["id"], (0, 0))[0],
                denominator=mine.get(ind["id"], (0, 0))[1],
                target=_target(ind, period),
                source=ind.get("source") or {},
            )
            for ind in indicators_for(config)
        ]
    return out


def compute(session: Session, configs: list[TenantConfig], period: Period) -> dict[int, list[KpiFact]]:
    """KPI facts of the given districts for the period (each read in its own time zone): from
    the rollup for the districts that have it built, directly for the others."""
    from mcu.analytics import rollup

    built = rollup.ready(session, configs)
    direct = [c for c in configs if c.tenant_id not in built]
    out = compute_reference(session, direct, period) if direct else {}
    rolled = [c for c in configs if c.tenant_id in built]
    if rolled:
        out.update(facts_for(rolled, period, _rolled_counts(session, rolled, period)))
    return {c.tenant_id: out[c.tenant_id] for c in configs}


def _group_methodologies(group: list[TenantConfig]) -> dict[str, dict]:
    methodologies: dict[str, dict] = {}
    for config in group:
        for ind in indicators_for(config):
            if ind.get("methodology"):
                methodologies[ind["id"]] = ind["methodology"]
    return methodologies


def _event_kinds(specs: Iterable[dict[str, Any]]) -> set[str]:
    kinds: set[str] = set()
    for m in specs:
        for part in (m.get("numerator") or {}, m.get("denominator") or {}):
            for key in ("has_event", "lacks_event"):
                for spec in _as_list(part.get(key) or []):
                    kinds.update(_as_list(spec["kind"]))
    return kinds


def _rolled_counts(session: Session, configs: list[TenantConfig], period: Period) -> Counts:
    """Counts from the rollup: its counts with every event, less what the events after the
    period's end changed in them (the rollup keeps that per later day; the methodology counts
    only the events before the end)."""
    from mcu.analytics import rollup

    counts: Counts = defaultdict(dict)
    by_tz: dict[str, list[TenantConfig]] = defaultdict(list)
    for config in configs:
        by_tz[str(config.tz)].append(config)
    first, after = period.start, period.end + timedelta(days=1)
    for group in by_tz.values():
        ids = [c.tenant_id for c in group]
        start, end = period.bounds(group[0].tz)
        methodologies = _group_methodologies(group)
        pairs = rollup.indicator_counts(session, ids, first, after)
        for iid, m in methodologies.items():
            if m.get("counts") == "messages":
                for tid in ids:
                    counts[tid][iid] = pairs[tid].get((iid, ""), (0, 0))
            elif m.get("counts") == "executors":
                for tid in ids:
                    mine = [v for (i, pos), v in pairs[tid].items() if i == iid and pos]
                    counts[tid][iid] = (sum(v[0] > 0 for v in mine), sum(v[1] > 0 for v in mine))
            elif m.get("counts") == "events":
                for tid, values in _count_events(session, ids, iid, m, start, end).items():
                    counts[tid].update(values)
    return counts


def compute_reference(
    session: Session, configs: list[TenantConfig], period: Period
) -> dict[int, list[KpiFact]]:
    """KPI facts computed directly from the message table and the event log: what the rollup
    must equal, and the path of a district whose rollup is not built."""
    by_tz: dict[str, list[TenantConfig]] = defaultdict(list)
    for config in configs:
        by_tz[str(config.tz)].append(config)
    counts: Counts = defaultdict(dict)
    for group in by_tz.values():
        start, end = period.bounds(group[0].tz)
        methodologies: dict[str, dict] = {}
        for config in group:
            for ind in indicators_for(config):
                if ind.get("methodology"):
                    methodologies[ind["id"]] = ind["methodology"]
        for tenant_id, values in count(
            session, [c.tenant_id for c in group], methodologies, start, end
        ).items():
            counts[tenant_id].update(values)
    return facts_for(configs, period, counts)


def messages_behind(
    config: TenantConfig, indicator_id: str, part: str, period: Period
) -> list[sa.ColumnElement[bool]] | None:
    """Conditions selecting the messages counted in an indicator's numerator (`part=numerator`)
    or denominator; None for an indicator that does not count messages."""
    ind = catalogue(config).get(indicator_id)
    m = (ind or {}).get("methodology") or {}
    if m.get("counts") != "messages":
        return None
    start, end = period.bounds(config.tz)
    cond = message_condition(m.get("denominator"), end)
    if part == "numerator":
        cond = sa.and_(cond, message_condition(m.get("numerator"), end))
    elif part == "rest":
        cond = sa.and_(cond, ~message_condition(m.get("numerator"), end))
    return [*received_in([config.tenant_id], start, end), cond]
