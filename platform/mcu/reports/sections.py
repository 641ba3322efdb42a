"""The sections reports share, each built from one analytics figure (summary, flow, heat map,
KPIs, ratings) or one message list of `reports.queries`; nothing here counts on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from mcu.analytics import flow, heatmap, kpi, ratings
from mcu.analytics.periods import Period, local_today
from mcu.emergencies.queries import KIND_NAMES as EMERGENCY_KINDS
from mcu.emergencies.queries import STATUS_NAMES as EMERGENCY_STATUSES
from mcu.messages.lifecycle import STATUS_NAMES
from mcu.reports import queries
from mcu.tenancy.config import TenantConfig

# Systems a rating may be limited to (Кондинский Положение п.4.6; Некрасовский п.2.5б, п.2.6б),
# recognised by the name the decrees give them.
SYSTEMS = {
    "incident_management": ("«Инцидент Менеджмент»", ("инцидент менеджмент",), "ИМ"),
    "pos": ("«Платформа обратной связи»", ("платформа обратной связи", "платформы обратной связи"), "ПОС"),
}
RATING_SHEETS = {
    "executor": "Рейтинг исполнителей",
    "body": "Рейтинг органов",
    "settlement": "Рейтинг поселений",
}


# ---------------------------------------------------------------- document parts
def col(title: str, type: str = "text") -> dict[str, str]:
    return {"title": title, "type": type}


def table(columns: list[dict[str, str]], rows: list[list[Any]], title: str | None = None) -> dict[str, Any]:
    return {"title": title, "columns": columns, "rows": rows}


def section(
    heading: str, sheet: str, paragraphs: list[str] | None = None, tables: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"heading": heading, "sheet": sheet, "paragraphs": paragraphs or [], "tables": tables or []}


@dataclass
class Context:
    session: Session
    config: TenantConfig
    report: dict[str, Any]
    period: Period
    now: datetime
    # The system (channel kinds) a report is limited to, e.g. ПОС for Некрасовский п.2.6г; None:
    # every channel of the district.
    channel_kinds: list[str] | None = None

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return self.period.bounds(self.config.tz)

    @property
    def during(self) -> str:
        """«за март 2026 г.», «за период 16.03.2026 — 22.03.2026»."""
        label = self.period.label
        return (
            f"за {label}" if self.period.kind in ("day", "month", "quarter", "year") else f"за период {label}"
        )

    def local(self, moment: datetime | None) -> str | None:
        return moment.astimezone(self.config.tz).isoformat(timespec="minutes") if moment else None

    def block(self, block_id: str | None) -> str:
        if block_id is None:
            return "на сортировке (блок не определён)"
        return self.config.blocks.get(block_id, {}).get("name", block_id)

    def settlement(self, settlement_id: str | None) -> str:
        return self.config.settlements.get(settlement_id or "", {}).get("name", "не определено")

    def position(self, position_id: str | None) -> str:
        if position_id is None:
            return "не назначен"
        return self.config.roster.get(position_id, {}).get("position", position_id)


def num(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    return f"{value:.{digits}f}".replace(".", ",")


def change_text(now: int, before: int) -> str:
    if not before:
        return (
            "за предыдущий период сообщений не было" if now else "как и в предыдущем периоде, сообщений нет"
        )
    pct = round(100 * (now - before) / before)
    if pct == 0:
        return f"столько же, сколько за предыдущий период ({num(before)})"
    return f"на {abs(pct)}% {'больше' if pct > 0 else 'меньше'}, чем за предыдущий период ({num(before)})"


def yes_no(value: bool) -> str:
    return "да" if value else "нет"


# ---------------------------------------------------------------- common sections
def summary(ctx: Context) -> dict[str, Any]:
    tid = ctx.config.tenant_id
    prev = ctx.period.previous()
    ps, pe = prev.bounds(ctx.config.tz)
    start, end = ctx.bounds
    kinds = ctx.channel_kinds
    got = flow.summary(ctx.session, [tid], start, end, ctx.now, channel_kinds=kinds)
    cur = got.get(tid, dict(flow.EMPTY_SUMMARY))
    old = flow.summary(ctx.session, [tid], ps, pe, ctx.now, channel_kinds=kinds).get(
        tid, dict(flow.EMPTY_SUMMARY)
    )
    return {"current": cur, "previous": old, "previous_period": prev}


SUMMARY_ROWS = (
    ("received", "Поступило сообщений и обращений"),
    ("answered", "Из них дан окончательный ответ"),
    ("open", "Из них не закрыто на момент отчёта"),
    ("overdue", "Из них просрочено (ответ позже срока или не дан)"),
    ("overdue_share", "Доля просроченных среди тех, чей срок истёк, %"),
    ("median_hours", "Медиана времени до окончательного ответа, ч"),
    ("satisfaction", "Средняя оценка жителей (1–5)"),
    ("rated", "Получено оценок"),
    ("threats", "Сообщения об угрозе жизни и здоровью"),
)


def summary_section(ctx: Context, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The period's figures beside the previous period's; the rows differ in unit, so the
    columns are plain numbers and each row's title says its unit."""
    data = data or summary(ctx)
    cur, old, prev = data["current"], data["previous"], data["previous_period"]
    rows = [[title, cur.get(key), old.get(key)] for key, title in SUMMARY_ROWS]
    paragraphs = [
        f"Поступило сообщений и обращений: {num(cur['received'])} — {change_text(cur['received'], old['received'])}."
    ]
    contents = ctx.report.get("contents") or []
    if contents:
        paragraphs.append("Состав отчёта по акту: " + "; ".join(contents) + ".")
    return section(
        "Основные показатели",
        "Показатели",
        paragraphs,
        [
            table(
                [
                    col("Показатель"),
                    col(f"Отчётный период: {ctx.period.label}", "number"),
                    col(f"Предыдущий период: {prev.label}", "number"),
                ],
                rows,
            )
        ],
    )


def flow_section(ctx: Context) -> dict[str, Any]:
    data = flow.flow(ctx.session, ctx.config, ctx.period, now=ctx.now, channel_kinds=ctx.channel_kinds)
    rows = [
        [r["name"], r["new"], r["repeated"], r["overdue"], r["postponed"], r["trouble"], r["trouble_share"]]
        for r in data["blocks"]
    ]
    t = data["totals"]
    rows.append(["Всего", t["new"], t["repeated"], t["overdue"], t["postponed"], None, None])
    areas = data["problem_areas"]
    paragraphs = [
        "Основные проблемные сферы и отрасли: "
        + "; ".join(f"{a['name']} (повторных, просроченных и отложенных — {a['trouble']})" for a in areas)
        + "."
        if areas
        else "Проблемных сфер за период не выявлено: повторных, просроченных и отложенных сообщений нет."
    ]
    return section(
        "Новые, повторные, просроченные и отложенные сообщения по отраслевым блокам",
        "Поток по блокам",
        [*paragraphs, "Как считается: " + " ".join(data["method"].split())],
        [
            table(
                [
                    col("Отраслевой блок"),
                    col("Новые", "int"),
                    col("Повторные", "int"),
                    col("Просроченные", "int"),
                    col("Отложенные", "int"),
                    col("Проблемные (повт. + просроч. + отлож.)", "int"),
                    col("Доля проблемных, %", "percent"),
                ],
                rows,
            )
        ],
    )


def heat_map(ctx: Context) -> dict[str, Any]:
    return heatmap.heat_map(
        ctx.session,
        ctx.config,
        ctx.period,
        today=local_today(ctx.config.tz, ctx.now),
        channel_kinds=ctx.channel_kinds,
    )


def heatmap_section(
    ctx: Context,
    heading: str = "Мониторинг Тепловой карты: динамика по отраслевым блокам",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data = data or heat_map(ctx)
    rows = [
        [
            r["name"],
            r["total"],
            r["previous"],
            r["growth_index"],
            yes_no(r["red_zone"]),
            r["last_year"],
            r["forecast_next"],
        ]
        for r in data["blocks"]
    ]
    top = data["top_problems"]
    red = [r["name"] for r in data["blocks"] if r["red_zone"]]
    negative = [r["name"] for r in data["blocks"] if r["negative_dynamics"]]
    paragraphs = [
        "ТОП проблем по индексу роста: "
        + ("; ".join(f"{t['rank']}. {t['name']} ({num(t['growth_index'], 2)})" for t in top) or "нет")
        + ".",
        "Красная зона: " + (", ".join(red) if red else "нет") + ".",
        "Негативная динамика (рост к предыдущему периоду): "
        + (", ".join(negative) if negative else "нет")
        + ".",
        "Как считается: "
        + "; ".join(f"{v}" for k, v in data["method"].items() if k != "source")
        + f" ({data['method']['source']}).",
    ]
    return section(
        heading,
        "Тепловая карта",
        paragraphs,
        [
            table(
                [
                    col("Отраслевой блок"),
                    col("За период", "int"),
                    col("За предыдущий период", "int"),
                    col("Индекс роста", "number"),
                    col("Красная зона"),
                    col("Тот же период год назад", "int"),
                    col("Прогноз на следующий период", "int"),
                ],
                rows,
            )
        ],
    )


def kpi_section(ctx: Context) -> list[dict[str, Any]]:
    facts = kpi.compute(ctx.session, [ctx.config], ctx.period)[ctx.config.tenant_id]
    rows = [
        [
            f.number or "",
            f.name,
            f.unit,
            f.numerator,
            f.denominator,
            f.value,
            f.target,
            kpi.STATUS_TEXT[f.status],
        ]
        for f in facts
    ]
    behind = [f.name for f in facts if f.status == "behind"]
    achieved = sum(f.status == "achieved" for f in facts)
    paragraphs = [
        f"Показателей: {len(facts)}; достигнуто плановое значение: {achieved}; ниже плана: {len(behind)}."
        + (f" Ниже плана: {'; '.join(behind)}." if behind else ""),
        f"Плановые значения — на {ctx.period.end.year} год по постановлению района; факт — {ctx.during}.",
    ]
    return [
        section(
            "Достигнутые значения индикаторов результативности",
            "Показатели KPI",
            paragraphs,
            [
                table(
                    [
                        col("№"),
                        col("Показатель"),
                        col("Ед."),
                        col("Числитель", "int"),
                        col("Знаменатель", "int"),
                        col("Факт", "number"),
                        col("План", "number"),
                        col("Оценка"),
                    ],
                    rows,
                )
            ],
        ),
        section(
            "Методика расчёта показателей",
            "Методика KPI",
            [],
            [
                table(
                    [col("№"), col("Показатель"), col("Методика")],
                    [[f.number or "", f.name, f.methodology] for f in facts],
                )
            ],
        ),
    ]


def ratings_section(
    ctx: Context, by: str, *, channel_kinds: list[str] | None = None, system: str | None = None
) -> dict[str, Any]:
    rows = ratings.ratings(
        ctx.session,
        ctx.config,
        ctx.period,
        by=by,
        now=ctx.now,
        channel_kinds=channel_kinds or ctx.channel_kinds,
    )
    title = ratings.BY[by]
    sheet = RATING_SHEETS[by] + ("".join(f" {SYSTEMS[k][2]}" for k in channel_kinds or []))
    return section(
        f"Рейтинг: {title}" + (f" — система {system}" if system else ""),
        sheet,
        [ratings.METHOD] if by == "executor" and not system else [],
        [
            table(
                [
                    col("Место", "int"),
                    col(title.capitalize()),
                    col("Сообщений", "int"),
                    col("Ответов", "int"),
                    col("В срок, %", "percent"),
                    col("Полнота по существу, %", "percent"),
                    col("Просрочено (не отвечено)", "int"),
                    col("Медиана, ч", "number"),
                    col("Оценка жителей", "number"),
                    col("Балл", "number"),
                ],
                [
                    [
                        r.place,
                        r.name,
                        r.messages,
                        r.answered,
                        r.on_time_share,
                        r.completeness,
                        r.overdue_open,
                        r.median_hours,
                        r.satisfaction,
                        r.score,
                    ]
                    for r in rows
                ],
            )
        ],
    )


def emergencies_section(ctx: Context) -> dict[str, Any]:
    start, end = ctx.bounds
    rows = [
        [
            EMERGENCY_KINDS.get(e.kind, e.kind),
            e.title,
            ctx.local(e.declared_at),
            EMERGENCY_STATUSES.get(e.status, e.status),
            ctx.local(e.closed_at),
        ]
        for e in queries.emergencies_in(ctx.session, ctx.config, start, end)
    ]
    return section(
        "Аварийные ситуации",
        "Аварийные ситуации",
        [] if rows else ["Аварийных ситуаций за период не было и открытых нет."],
        [
            table(
                [
                    col("Вид"),
                    col("Аварийная ситуация"),
                    col("Объявлена", "datetime"),
                    col("Состояние"),
                    col("Закрыта", "datetime"),
                ],
                rows,
            )
        ]
        if rows
        else [],
    )


def message_columns(explanation: bool) -> list[dict[str, str]]:
    cols = [
        col("№ сообщения"),
        col("Вид"),
        col("Отраслевой блок"),
        col("Поселение"),
        col("Исполнитель (должность)"),
        col("Поступило", "datetime"),
        col("Срок ответа", "datetime"),
    ]
    if explanation:
        return [*cols, col("Состояние"), col("Пояснение")]
    return [*cols, col("Ответ дан", "datetime"), col("В срок")]


def message_row(ctx: Context, r: dict[str, Any], explanation: bool) -> list[Any]:
    row = [
        r["number"],
        "обращение" if r["regime"] == "appeal" else "сообщение",
        ctx.block(r["block_id"]),
        ctx.settlement(r["settlement_id"]),
        ctx.position(r["position"]),
        ctx.local(r["received_at"]),
        ctx.local(r["due_at"]),
    ]
    if explanation:
        return [*row, STATUS_NAMES.get(r["status"], r["status"]), r["explanation"]]
    on_time = r["due_at"] is None or (r["answered_at"] is not None and r["answered_at"] <= r["due_at"])
    return [*row, ctx.local(r["answered_at"]), yes_no(on_time)]
