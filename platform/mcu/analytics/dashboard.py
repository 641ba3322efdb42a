"""A district's dashboard: the heat map, KPIs plan vs fact and the summary figures for a period —
what the МЦУ head watches daily (ХМ Регламент п.4.1.7) and what the API returns as one document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from mcu.analytics import flow, heatmap, kpi, rollup
from mcu.analytics.periods import Period, local_today
from mcu.tenancy.config import TenantConfig


def dashboard(session: Session, config: TenantConfig, period: Period, *, now: datetime) -> dict[str, Any]:
    today = local_today(config.tz, now)
    # A dozen rollup reads: the built state and the stale marks are looked up once for them all.
    with rollup.reading(session):
        facts = kpi.compute(session, [config], period)[config.tenant_id]
        summary = rollup.summaries(session, [config], period, now)
        heat_map = heatmap.heat_map(session, config, period, today=today)
    return {
        "tenant": {"slug": config.slug, "name": config.name},
        "period": period.about(),
        "summary": summary.get(config.tenant_id, dict(flow.EMPTY_SUMMARY)),
        "kpi": [f.as_dict() for f in facts],
        "kpi_has_targets": any(f.target is not None for f in facts),
        "heat_map": heat_map,
    }
