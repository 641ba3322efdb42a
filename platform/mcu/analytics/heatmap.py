"""The district's heat map («Тепловая карта»): messages by block × settlement × sub-period, the
growth of each block against the previous period, the red zone and TOP problems, negative
dynamics, and a forecast from the same period last year (ХМ Регламент п.4.1.3, п.4.2.4).

The decrees name these figures but publish no method; the platform's method is stated in each
function's docstring and on the heat-map page, and the red-zone parameters are the district's
(rules/escalation/red-zone.yaml), so the page and the escalation agree on what is red.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mcu.analytics.periods import Period
from mcu.messages.models import Message
from mcu.rules.operations import rulebook
from mcu.tenancy.config import TenantConfig

M = Message.__table__
NO_BLOCK = "—"
DAY = timedelta(days=1)


def _in_ranges(ranges: list[tuple[datetime, datetime]]) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """A CASE giving each message the index of the range it falls in, and the WHERE for all."""
    case = sa.case(
        *((sa.and_(M.c.received_at >= s, M.c.received_at < e), i) for i, (s, e) in enumerate(ranges))
    )
    where = sa.or_(*(sa.and_(M.c.received_at >= s, M.c.received_at < e) for s, e in ranges))
    return case, where


def counts_by_range(
    session: Session,
    tenant_id: int,
    ranges: list[tuple[datetime, datetime]],
    *group: sa.ColumnElement,
    channel_kinds: list[str] | None = None,
) -> dict[tuple, int]:
    """Messages received in each [start, end) range (duplicates excluded; of the given channel
    kinds only, when named), grouped by the given columns: {(range index, *group values): count}.
    One indexed query for any number of ranges."""
    bucket, where = _in_ranges(ranges)
    only = [M.c.channel_kind.in_(channel_kinds)] if channel_kinds else []
    query = (
        sa.select(bucket.label("bucket"), *group, sa.func.count())
        .where(M.c.tenant_id == tenant_id, M.c.status != "duplicate", where, *only)
        .group_by(bucket, *group)
    )
    return {tuple(row[:-1]): row[-1] for row in session.execute(query)}


@dataclass(frozen=True)
class BlockDynamics:
    block: str
    count: int
    previous: int
    growth_index: float  # count / max(previous, 1)
    rank: int  # 1 = fastest-growing block with messages
    negative_dynamics: bool  # more than in the previous period
    red_zone: bool

    def as_facts(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "growth_index": round(self.growth_index, 4),
            "window_count": self.count,
            "previous_count": self.previous,
            "rank": self.rank,
            "negative_dynamics": self.negative_dynamics,
            "red_zone": self.red_zone,
        }


def red_zone_params(config: TenantConfig) -> dict[str, float]:
    book = rulebook(config)
    return {
        "top_n": int(book.param("red-zone", "top_n", 5)),
        "min_growth_index": float(book.param("red-zone", "min_growth_index", 1.5)),
        "window_hours": float(book.param("red-zone", "window_hours", 168)),
    }


def dynamics(config: TenantConfig, current: dict[str, int], previous: dict[str, int]) -> list[BlockDynamics]:
    """Growth per block against the previous period of the same length. The TOP problems are the
    `top_n` fastest-growing blocks; one of them is in the red zone when it grew (negative
    dynamics) by at least `min_growth_index` times (ХМ Регламент п.4.2.4)."""
    p = red_zone_params(config)
    growth = {b: current.get(b, 0) / max(previous.get(b, 0), 1) for b in config.blocks}
    ranked = sorted((b for b in growth if current.get(b)), key=lambda b: (-growth[b], b))
    out = []
    for rank, block in enumerate(ranked, start=1):
        negative = current.get(block, 0) > previous.get(block, 0)
        out.append(
            BlockDynamics(
                block=block,
                count=current.get(block, 0),
                previous=previous.get(block, 0),
                growth_index=growth[block],
                rank=rank,
                negative_dynamics=negative,
                red_zone=rank <= p["top_n"] and negative and growth[block] >= p["min_growth_index"],
            )
        )
    return out


def rolling_dynamics(session: Session, config: TenantConfig, now: datetime) -> list[BlockDynamics]:
    """The worker's daily red-zone check: the last window against the window before it."""
    window = timedelta(hours=red_zone_params(config)["window_hours"])
    counts = counts_by_range(
        session, config.tenant_id, [(now - window, now), (now - 2 * window, now - window)], M.c.block_id
    )
    current = {b: n for (i, b), n in counts.items() if i == 0 and b}
    previous = {b: n for (i, b), n in counts.items() if i == 1 and b}
    return dynamics(config, current, previous)


def forecast(this_period: int, last_year_same: int, last_year_next: int) -> int | None:
    """The next period's expected count: last year's next period scaled by how this period
    compares with the same period last year (ХМ Регламент п.4.1.3). Without last year's data
    there is nothing to forecast from."""
    if not last_year_same and not last_year_next:
        return None
    trend = this_period / last_year_same if last_year_same else 1.0
    return round(last_year_next * trend)


def heat_map(
    session: Session,
    config: TenantConfig,
    period: Period,
    *,
    today: date | None = None,
    channel_kinds: list[str] | None = None,
) -> dict[str, Any]:
    """Everything the heat-map page shows, as plain data (the API returns it as it is). With
    `channel_kinds`, of those channels' messages only: the rollup has no channel dimension, so
    such a map is counted from the messages themselves."""
    tz = config.tz
    shown = period.clipped(today) if today else period
    buckets = shown.buckets()
    from mcu.analytics import rollup

    if not channel_kinds and rollup.ready(session, [config]):

        def counts(periods: list[Period], by_settlement: bool) -> dict[tuple, int]:
            days = [(p.start, p.end + DAY) for p in periods]
            return rollup.counts_by_days(session, config.tenant_id, days, by_settlement)

    else:

        def counts(periods: list[Period], by_settlement: bool) -> dict[tuple, int]:
            group = (M.c.block_id, M.c.settlement_id) if by_settlement else (M.c.block_id,)
            return counts_by_range(
                session,
                config.tenant_id,
                [p.bounds(tz) for p in periods],
                *group,
                channel_kinds=channel_kinds,
            )

    cells = counts(buckets, True)

    # Comparison periods, equal in length to what is shown (a running month is compared with
    # the same days of the months before).
    previous = Period(shown.start - timedelta(days=shown.days), shown.start - DAY, "span")
    last_year = shown.year_before()
    nxt = period.next()
    last_year_next = nxt.year_before()
    compare = counts([shown, previous, last_year, last_year_next], False)

    def part(i: int) -> dict[str, int]:
        return {b or NO_BLOCK: n for (j, b), n in compare.items() if j == i}

    current, before, year_ago, year_ago_next = part(0), part(1), part(2), part(3)
    blocks = [{"id": b["id"], "name": b["name"]} for b in config.data.get("blocks") or []]
    settlements = [{"id": s["id"], "name": s["name"]} for s in config.data.get("settlements") or []]
    if any(s is None for (_i, _b, s) in cells):
        settlements.append({"id": None, "name": "поселение не определено"})

    matrix: dict[str, dict[str, int]] = {}
    series: dict[str, list[int]] = {}
    for (i, block, settlement), n in cells.items():
        key = block or NO_BLOCK
        matrix.setdefault(key, {})
        skey = settlement or ""
        matrix[key][skey] = matrix[key].get(skey, 0) + n
        series.setdefault(key, [0] * len(buckets))[i] += n
    if any(b is None for (_i, b, _s) in cells):
        blocks.append({"id": None, "name": "на сортировке (блок не определён)"})

    dyn = {d.block: d for d in dynamics(config, current, before)}
    rows = []
    for b in blocks:
        key = b["id"] or NO_BLOCK
        d = dyn.get(b["id"]) if b["id"] else None
        rows.append(
            {
                **b,
                "total": current.get(key, 0),
                "by_settlement": {
                    s["id"] or "": matrix.get(key, {}).get(s["id"] or "", 0) for s in settlements
                },
                "series": series.get(key, [0] * len(buckets)),
                "previous": before.get(key, 0),
                "growth_index": round(d.growth_index, 2) if d else None,
                "rank": d.rank if d else None,
                "negative_dynamics": bool(d and d.negative_dynamics),
                "red_zone": bool(d and d.red_zone),
                "last_year": year_ago.get(key, 0),
                "last_year_next": year_ago_next.get(key, 0),
                "forecast_next": forecast(
                    current.get(key, 0), year_ago.get(key, 0), year_ago_next.get(key, 0)
                ),
            }
        )
    params = red_zone_params(config)
    top = sorted((r for r in rows if r["rank"] and r["rank"] <= params["top_n"]), key=lambda r: r["rank"])
    return {
        "period": {**period.about(), "shown_to": shown.end.isoformat()},
        "buckets": [
            {"key": b.key, "label": b.short, "start": b.start.isoformat(), "end": b.end.isoformat()}
            for b in buckets
        ],
        "settlements": settlements,
        "blocks": rows,
        "total": sum(current.values()),
        "previous_total": sum(before.values()),
        "last_year_total": sum(year_ago.values()),
        "compared_with": {
            "previous": {"start": previous.start.isoformat(), "end": previous.end.isoformat()},
            "last_year": {"start": last_year.start.isoformat(), "end": last_year.end.isoformat()},
            "forecast_for": {"start": nxt.start.isoformat(), "end": nxt.end.isoformat()},
        },
        "top_problems": [
            {
                "block": r["id"],
                "name": r["name"],
                "rank": r["rank"],
                "growth_index": r["growth_index"],
                "red_zone": r["red_zone"],
            }
            for r in top
        ],
        "red_zone": [r["id"] for r in rows if r["red_zone"]],
        "negative_dynamics": [r["id"] for r in rows if r["negative_dynamics"]],
        "method": {
            "growth_index": "число сообщений блока за период / max(число за предыдущий период такой же длины, 1)",
            "top_problems": f"{params['top_n']} блоков с наибольшим индексом роста",
            "red_zone": "блок из ТОП-проблем с ростом (негативная динамика) не менее чем в "
            + f"{params['min_growth_index']:g} раза".replace(".", ","),
            "forecast": "число за следующий период прошлого года × (число за текущий период / число за тот же период прошлого года)",
            "source": "ХМ Регламент п.4.1.3, п.4.2.4; параметры — набор правил red-zone района",
        },
    }


def period_dynamics(session: Session, config: TenantConfig, period: Period) -> list[BlockDynamics]:
    """Growth of each block over a reporting period against the period of the same kind before
    it (a month against the previous month, a quarter against the previous quarter): the
    «прирост количества сообщений по категориям» of the roadmap forms (Конд Регламент Прил. 1;
    ХМ Прил. 1), ranked fastest-growing first."""
    previous = period.previous()
    counts = counts_by_range(
        session, config.tenant_id, [period.bounds(config.tz), previous.bounds(config.tz)], M.c.block_id
    )
    current = {b: n for (i, b), n in counts.items() if i == 0 and b}
    before = {b: n for (i, b), n in counts.items() if i == 1 and b}
    return dynamics(config, current, before)


def block_counts(
    session: Session, config: TenantConfig, blocks: list[str], ranges: list[tuple[datetime, datetime]]
) -> list[int]:
    """Messages of the given blocks received in each [start, end) range (duplicates excluded)."""
    if not blocks:
        return [0] * len(ranges)
    bucket, where = _in_ranges(ranges)
    query = (
        sa.select(bucket, sa.func.count())
        .where(M.c.tenant_id == config.tenant_id, M.c.status != "duplicate", M.c.block_id.in_(blocks), where)
        .group_by(bucket)
    )
    found = dict(session.execute(query).all())
    return [found.get(i, 0) for i in range(len(ranges))]
