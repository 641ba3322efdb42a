"""Did the messages fall? The closed loop of a roadmap or an information campaign.

After a roadmap (or campaign) ends, the messages of its block(s) received while it ran are
compared with the same number of days just before it started. The decrees ask for the result
(«снижение количества сообщений», Конд Регламент Прил. 1; ХМ п.4.3.2) but give no method: this
is the platform's, and the text it returns says what was compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from mcu.analytics.heatmap import block_counts
from mcu.analytics.periods import Period
from mcu.tenancy.config import TenantConfig

METHOD = (
    "Сравниваются сообщения блока, поступившие за время действия, и за столько же дней "
    "непосредственно перед началом (дубликаты не считаются); методика платформы."
)


@dataclass(frozen=True)
class Effect:
    verdict: str  # fell, not_fell, pending
    text: str
    during: int | None = None
    before: int | None = None

    def public(self) -> dict[str, Any]:
        from mcu.roadmaps.schemas import EFFECT_NAMES

        return {
            "verdict": self.verdict,
            "verdict_name": EFFECT_NAMES[self.verdict],
            "text": self.text,
            "during": self.during,
            "before": self.before,
            "method": METHOD,
        }


def _d(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def volume_effect(
    session: Session,
    config: TenantConfig,
    *,
    blocks: list[str],
    start: date | None,
    end: date | None,
    today: date,
    what: str,
) -> Effect:
    """`what` names the thing in the text («карта», «кампания»)."""
    if start is None or end is None:
        return Effect("pending", f"{what.capitalize()}: сроки действия не заданы — оценить нечего.")
    if not blocks:
        return Effect("pending", f"{what.capitalize()}: отраслевой блок не определён — оценить нечего.")
    if today <= end:
        return Effect(
            "pending",
            f"{what.capitalize()} действует до {_d(end)}: снизилось ли число сообщений, будет видно после окончания.",
        )
    during = Period(start, end, "span")
    before = Period(start - timedelta(days=during.days), start - timedelta(days=1), "span")
    n_during, n_before = block_counts(
        session, config, blocks, [during.bounds(config.tz), before.bounds(config.tz)]
    )
    names = ", ".join(f"«{config.blocks.get(b, {}).get('name', b)}»" for b in blocks)
    head = (
        f"Сообщений по {'блоку' if len(blocks) == 1 else 'блокам'} {names} за время действия "
        f"({_d(start)}–{_d(end)}): {n_during}, за {during.days} дн. до начала "
        f"({_d(before.start)}–{_d(before.end)}): {n_before}"
    )
    if n_during < n_before:
        share = round(100 * (n_before - n_during) / n_before)
        return Effect("fell", f"{head} — снизилось на {share} %.", n_during, n_before)
    if n_during == n_before:
        return Effect("not_fell", f"{head} — не снизилось (столько же).", n_during, n_before)
    return Effect("not_fell", f"{head} — не снизилось, выросло.", n_during, n_before)
