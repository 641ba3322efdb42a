"""The messages behind a figure: every count on the dashboard links here with the filters that
produced it (block, settlement, sub-period, kind of channel, a KPI's numerator or denominator), so a figure can
be checked message by message. Only what is not personal is listed: number, dates, block,
settlement, channel, status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mcu.analytics import kpi
from mcu.analytics.periods import Period, PeriodError, parse
from mcu.messages.lifecycle import OPEN, STATUS_NAMES
from mcu.messages.models import Message
from mcu.tenancy.config import TenantConfig

M = Message.__table__
PAGE = 100


class FigureError(ValueError):
    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field


def _int(args: Mapping[str, str], name: str, default: int, top: int) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit():
        raise FigureError(name, "ожидается целое неотрицательное число")
    return min(int(raw), top)


def conditions(config: TenantConfig, period: Period, args: Mapping[str, str]) -> tuple[list, list[str]]:
    """SQL conditions for the figure's filters, and their description in Russian."""
    said = [period.label]
    if args.get("bucket"):
        try:
            period = parse(args["bucket"], today=period.end)
        except PeriodError as exc:
            raise FigureError("bucket", str(exc)) from exc
        said = [period.label]
    indicator = args.get("indicator")
    if indicator:
        part = args.get("part", "numerator")
        if part not in ("numerator", "denominator", "rest"):
            raise FigureError("part", "part: numerator, denominator или rest")
        where = kpi.messages_behind(config, indicator, part, period)
        if where is None:
            raise FigureError(
                "indicator", f"показатель «{indicator}» не считается по сообщениям или не существует"
            )
        name = kpi.catalogue(config)[indicator]["name"]
        said.append(
            {"numerator": "числитель", "denominator": "знаменатель", "rest": "не вошли в числитель"}[part]
            + f" показателя «{name}»"
        )
    else:
        start, end = period.bounds(config.tz)
        where = kpi.received_in([config.tenant_id], start, end)
    for name, column, known, unknown, words in (
        (
            "block",
            M.c.block_id,
            config.blocks,
            "блок не определён",
            "отраслевой блок «{}» не настроен в районе",
        ),
        (
            "settlement",
            M.c.settlement_id,
            config.settlements,
            "поселение не определено",
            "поселение «{}» не настроено в районе",
        ),
    ):
        value = args.get(name)
        if not value:
            continue
        if value == "none":
            where.append(column.is_(None))
            said.append(unknown)
        elif value in known:
            where.append(column == value)
            said.append(f"блок «{known[value]['name']}»" if name == "block" else known[value]["name"])
        else:
            raise FigureError(name, words.format(value))
    kind = args.get("channel")
    if kind:
        names = [c["name"] for c in config.channels.values() if c["kind"] == kind]
        if not names:
            raise FigureError("channel", f"вида канала «{kind}» в районе нет")
        where.append(M.c.channel_kind == kind)
        said.append("поступившие через " + ", ".join(f"«{n}»" for n in names))
    if args.get("open") == "1":
        where.append(M.c.status.in_(OPEN))
        said.append("не закрытые")
    return where, said


def messages_behind(
    session: Session, config: TenantConfig, period: Period, args: Mapping[str, str]
) -> dict[str, Any]:
    where, said = conditions(config, period, args)
    limit = _int(args, "limit", PAGE, 1000)
    offset = _int(args, "offset", 0, 10**9)
    total = session.execute(sa.select(sa.func.count()).select_from(M).where(*where)).scalar_one()
    rows = session.execute(
        sa.select(
            M.c.id,
            M.c.number,
            M.c.received_at,
            M.c.block_id,
            M.c.settlement_id,
            M.c.channel_id,
            M.c.status,
            M.c.due_at,
            M.c.answered_at,
        )
        .where(*where)
        .order_by(M.c.received_at, M.c.number)
        .limit(limit)
        .offset(offset)
    ).mappings()
    tz = config.tz
    return {
        "filter": said,
        "total": total,
        "limit": limit,
        "offset": offset,
        "messages": [
            {
                "id": str(r["id"]),
                "number": r["number"],
                "received_at": r["received_at"].astimezone(tz).isoformat(),
                "block": r["block_id"],
                "block_name": config.blocks.get(r["block_id"], {}).get("name"),
                "settlement": r["settlement_id"],
                "settlement_name": config.settlements.get(r["settlement_id"], {}).get("name"),
                "channel": config.channels.get(r["channel_id"], {}).get("name", r["channel_id"]),
                "status": r["status"],
                "status_name": STATUS_NAMES.get(r["status"], r["status"]),
                "due_at": r["due_at"].astimezone(tz).isoformat() if r["due_at"] else None,
                "answered_at": r["answered_at"].astimezone(tz).isoformat() if r["answered_at"] else None,
            }
            for r in rows
        ],
    }
