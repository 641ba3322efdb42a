"""The region console: a region's districts side by side — KPI plan vs fact, volume per 1,000
residents, overdue share, median time to answer, satisfaction, emergencies — and a league table.

League-table method (the platform's; the region's own ЦУР rating method is not published):
districts are placed by the share of their KPI targets achieved, then by the overdue share
(lower first), then by the median time to answer. A district without targets is placed by
the second and third figures only, after the districts that have targets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from mcu.analytics import flow, kpi, rollup
from mcu.analytics.periods import Period
from mcu.emergencies.models import Emergency
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.models import Tenant
from mcu.tenancy.queries import current_config

METHOD = (
    "Районы ранжируются по доле достигнутых плановых значений целевых показателей, затем по доле "
    "просроченных (меньше — выше), затем по медиане времени ответа. Районы без плановых значений на "
    "год периода ранжируются по двум последним признакам, после районов с плановыми значениями. "
    "Методика ЦУР региона не опубликована; это методика платформы."
)


def region_configs(session: Session, region: str) -> list[TenantConfig]:
    tenants = session.exec(select(Tenant).where(Tenant.region == region, Tenant.active).order_by(Tenant.slug))
    return [c for c in (current_config(session, t) for t in tenants) if c is not None]


def _emergencies(session: Session, tenant_ids: list[int], start: datetime, end: datetime) -> dict[int, int]:
    rows = session.execute(
        sa.select(Emergency.tenant_id, sa.func.count())
        .where(
            Emergency.tenant_id.in_(tenant_ids), Emergency.declared_at >= start, Emergency.declared_at < end
        )
        .group_by(Emergency.tenant_id)
    )
    return dict(rows.all())


def _population(config: TenantConfig) -> int | None:
    pop = config.data.get("population") or {}
    return pop.get("value")


def console(session: Session, region: str, period: Period, *, now: datetime) -> dict[str, Any] | None:
    configs = region_configs(session, region)
    if not configs:
        return None
    ids = [c.tenant_id for c in configs]
    facts = kpi.compute(session, configs, period)
    # Districts of one region share its time zone as a rule; each is still read in its own.
    summaries = rollup.summaries(session, configs, period, now)
    emergencies: dict[int, int] = {}
    for tz in {str(c.tz) for c in configs}:
        group = [c for c in configs if str(c.tz) == tz]
        start, end = period.bounds(group[0].tz)
        emergencies.update(_emergencies(session, [c.tenant_id for c in group], start, end))
    rows = []
    for config in configs:
        s = summaries.get(config.tenant_id, dict(flow.EMPTY_SUMMARY))
        mine = facts[config.tenant_id]
        judged = [f for f in mine if f.status in ("achieved", "behind")]
        achieved = sum(f.status == "achieved" for f in judged)
        population = _population(config)
        rows.append(
            {
                "slug": config.slug,
                "name": config.name,
                "population": population,
                **s,
                "per_1000": round(1000 * s["received"] / population, 1) if population else None,
                "emergencies": emergencies.get(config.tenant_id, 0),
                "kpi": {
                    f.indicator_id: {"fact": f.value, "target": f.target, "status": f.status} for f in mine
                },
                "kpi_judged": len(judged),
                "kpi_achieved": achieved,
                "kpi_achieved_share": round(100 * achieved / len(judged), 1) if judged else None,
            }
        )
    rows.sort(
        key=lambda r: (
            r["kpi_achieved_share"] is None,
            -(r["kpi_achieved_share"] or 0),
            r["overdue_share"] if r["overdue_share"] is not None else float("inf"),
            r["median_hours"] if r["median_hours"] is not None else float("inf"),
            r["name"],
        )
    )
    for place, row in enumerate(rows, start=1):
        row["place"] = place
    indicators: dict[str, str] = {}
    for config in configs:
        for ind in kpi.indicators_for(config):
            indicators.setdefault(ind["id"], ind["name"])
    return {
        "region": region,
        "period": period.about(),
        "districts": rows,
        "indicators": [{"id": i, "name": n} for i, n in indicators.items()],
        "ids": ids,
        "method": METHOD,
    }
