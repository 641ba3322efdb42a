"""Growth of a category: messages in a window against its baseline.

The decrees name the figure («индекс категории больше 3,00, по данным тепловой карты», ХМ
Регламент п.5.1) but publish no method. The platform's method, documented here and in the
emergency rule set's parameters:

    index = count in the window / max(trailing average per window, same window last year, 1)

The baseline is the larger of the two so that a seasonal rise that also happened last year is
not a spike; the floor of 1 keeps a quiet category from exploding on its second message (the
rule set also asks for a minimum count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from mcu.messages.models import Message


@dataclass(frozen=True)
class Growth:
    count: int
    trailing: float  # average per window over the baseline days before the window
    last_year: int  # the same window a year earlier
    index: float

    @property
    def baseline(self) -> float:
        return max(self.trailing, float(self.last_year), 1.0)

    def as_facts(self) -> dict[str, float | int]:
        return {
            "growth_index": round(self.index, 4),
            "window_count": self.count,
            "baseline": round(self.baseline, 4),
            "baseline_trailing": round(self.trailing, 4),
            "baseline_last_year": self.last_year,
        }


def _count(session: Session, tenant_id: int, block_id: str, start: datetime, end: datetime) -> int:
    return session.exec(
        select(func.count())
        .select_from(Message)
        .where(
            Message.tenant_id == tenant_id,
            Message.block_id == block_id,
            Message.received_at > start,
            Message.received_at <= end,
            Message.status != "duplicate",
        )
    ).one()


def block_growth(
    session: Session,
    tenant_id: int,
    block_id: str,
    *,
    at: datetime,
    window_hours: float,
    baseline_days: float,
) -> Growth:
    window = timedelta(hours=window_hours)
    count = _count(session, tenant_id, block_id, at - window, at)
    history = timedelta(days=baseline_days)
    trailing_total = _count(session, tenant_id, block_id, at - window - history, at - window)
    trailing = trailing_total / (history / window) if history else 0.0
    year_ago = at - timedelta(days=365)
    last_year = _count(session, tenant_id, block_id, year_ago - window, year_ago)
    baseline = max(trailing, float(last_year), 1.0)
    return Growth(count=count, trailing=trailing, last_year=last_year, index=count / baseline)
