"""One builder per report kind, and the document they make: the title block (district, period,
recipient, responsible role, schedule and basis in the decree) over the sections of that kind.

A document is JSON:

    {title, subtitle: [[label, value] …], period, generated_at,
     sections: [{heading, sheet, paragraphs: [str], tables: [{title, columns, rows}]}]}

Each column has a `type` (text, int, number, percent, date, datetime) so that every export shows
numbers as numbers and dates as dates; dates travel as ISO text in the district's local time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from mcu.analytics import ratings
from mcu.analytics.periods import Period
from mcu.reports import queries
from mcu.reports.sections import (
    SYSTEMS,
    Context,
    change_text,
    col,
    emergencies_section,
    flow_section,
    heat_map,
    heatmap_section,
    kpi_section,
    message_columns,
    message_row,
    num,
    ratings_section,
    section,
    summary,
    summary_section,
    table,
)
from mcu.tenancy.config import TenantConfig

FORMAT = 1
KINDS = {
    "daily_summary": "Ежедневная сводка",
    "weekly_report": "Еженедельный отчёт",
    "weekly_note": "Еженедельная аналитическая записка",
    "monthly_kpi": "Ежемесячный отчёт по показателям",
    "monthly_media": "Ежемесячная статистика для СМИ",
    "monthly_rating": "Ежемесячный рейтинг",
    "quarterly": "Ежеквартальный отчёт",
    "yearly": "Годовой отчёт",
    "on_demand": "Аналитический отчёт",
}
WEEKDAYS_IN = {
    "monday": "в понедельник",
    "tuesday": "во вторник",
    "wednesday": "в среду",
    "thursday": "в четверг",
    "friday": "в пятницу",
    "saturday": "в субботу",
    "sunday": "в воскресенье",
}
EVERY = {
    "day": "ежедневно",
    "week": "еженедельно",
    "month": "ежемесячно",
    "quarter": "ежеквартально",
    "year": "ежегодно",
    "on_request": "по запросу",
}
NEAR_DUE_HOURS = 24
CONSULTATIONS = (
    "Оказанные консультации платформой не учитываются: в журнале сообщений нет отметки о "
    "консультации. Их число ответственный указывает сам."
)
RESOLVED_METHOD = (
    "«Решённые» — сообщения и обращения, окончательный ответ по которым дан в периоде и которые не "
    "возобновлены (статусы «дан ответ», «решено», «закрыто»); «нерешённые» — поступившие до конца "
    "периода и не закрытые на момент формирования отчёта, а также внесённые в реестр проблем, не "
    "решаемых в срок до 6 месяцев. Пояснение — последнее событие по сообщению (продление срока и "
    "его причина, отказ исполнителя, эскалация, возобновление) и положение относительно срока."
)


# ---------------------------------------------------------------- words
def schedule_text(schedule: dict[str, Any]) -> str:
    every = schedule.get("every", "on_request")
    parts = [EVERY.get(every, every)]
    if schedule.get("weekday"):
        parts.append(WEEKDAYS_IN[schedule["weekday"]])
    if schedule.get("day"):
        parts.append(f"{schedule['day']}-го числа" + (" следующего месяца" if every == "month" else ""))
    if schedule.get("due_time"):
        parts.append(f"до {schedule['due_time']}")
    return ", ".join(parts)


def basis(config: TenantConfig, source: dict[str, Any] | None) -> str:
    """The act and clause a report comes from, as it is cited in documents."""
    if not source:
        return "не указано"
    acts = {**(config.resolved.get("acts") or {}), **config.acts}
    act_id = source.get("act")
    if act_id == "platform":
        return "значение платформы" + (f": {source['note']}" if source.get("note") else "")
    act = acts.get(act_id) or {}
    if act.get("number") and act.get("date"):
        y, m, d = str(act["date"]).split("-")
        name = f"{act.get('kind', '')} от {d}.{m}.{y} № {act['number']}".strip()
    elif act:
        name = f"{act.get('kind', '')} (без даты и номера)".strip()
    else:
        name = str(act_id)
    return ", ".join(x for x in (name, source.get("clause")) if x)


def responsible(config: TenantConfig, report: dict[str, Any]) -> str | None:
    if report.get("responsible_role"):
        role = config.roles.get(report["responsible_role"])
        return role["name"] if role else report["responsible_role"]
    if report.get("responsible_role_kind"):
        names = [r["name"] for r in config.roles.values() if r.get("kind") == report["responsible_role_kind"]]
        return "; ".join(names) or None
    return None


# ---------------------------------------------------------------- builders
def daily_summary(ctx: Context) -> list[dict[str, Any]]:
    start, end = ctx.bounds
    by_channel = queries.received_by_channel(ctx.session, ctx.config, start, end)
    until = ctx.now + timedelta(hours=NEAR_DUE_HOURS)
    near = queries.near_due(ctx.session, ctx.config, ctx.now, until)
    overdue = [r for r in near if r["overdue"]]
    return [
        summary_section(ctx),
        section(
            "Поступило по каналам",
            "По каналам",
            [],
            [
                table(
                    [col("Канал"), col("Поступило", "int")],
                    [[ctx.config.channels.get(c, {}).get("name", c), n] for c, n in by_channel],
                )
            ],
        ),
        flow_section(ctx),
        section(
            "Просроченные и близкие к просрочке",
            "Сроки",
            [
                f"На {ctx.now.astimezone(ctx.config.tz):%d.%m.%Y %H:%M}: просрочено {num(len(overdue))}, "
                f"срок истекает в ближайшие {NEAR_DUE_HOURS} ч — {num(len(near) - len(overdue))}."
            ],
            [
                table(
                    [*message_columns(False)[:7], col("Состояние")],
                    [
                        [*message_row(ctx, r, False)[:7], "просрочено" if r["overdue"] else "срок истекает"]
                        for r in near
                    ],
                )
            ],
        ),
        emergencies_section(ctx),
    ]


def weekly_report(ctx: Context) -> list[dict[str, Any]]:
    start, end = ctx.bounds
    order = {b: i for i, b in enumerate(ctx.config.blocks)}
    resolved = sorted(
        queries.resolved_in(ctx.session, ctx.config, start, end),
        key=lambda r: (order.get(r["block_id"], len(order)), r["answered_at"], r["number"]),
    )
    open_ = sorted(
        queries.unresolved(ctx.session, ctx.config, end, ctx.now),
        key=lambda r: (
            not r["overdue"],
            order.get(r["block_id"], len(order)),
            r["due_at"] or ctx.now,
            r["number"],
        ),
    )
    per_block: dict[str | None, Counter] = {}
    for r in resolved:
        per_block.setdefault(r["block_id"], Counter())["resolved"] += 1
    for r in open_:
        c = per_block.setdefault(r["block_id"], Counter())
        c["unresolved"] += 1
        c["overdue"] += r["overdue"]
    block_rows = [
        [ctx.block(b), per_block[b]["resolved"], per_block[b]["unresolved"], per_block[b]["overdue"]]
        for b in [*ctx.config.blocks, None]
        if b in per_block
    ]
    block_rows.append(["Всего", len(resolved), len(open_), sum(r["overdue"] for r in open_)])
    at = ctx.now.astimezone(ctx.config.tz)
    return [
        summary_section(ctx),
        section(
            "Решённые и нерешённые сообщения и обращения по отраслевым блокам",
            "Решённые и нерешённые",
            [
                f"Решено за период: {num(len(resolved))}. Нерешённых на {at:%d.%m.%Y %H:%M}: {num(len(open_))}, "
                f"из них с истёкшим сроком: {num(sum(r['overdue'] for r in open_))}.",
                RESOLVED_METHOD,
            ],
            [
                table(
                    [
                        col("Отраслевой блок"),
                        col("Решено", "int"),
                        col("Не решено", "int"),
                        col("Из них срок истёк", "int"),
                    ],
                    block_rows,
                )
            ],
        ),
        section(
            "Нерешённые сообщения и обращения с пояснениями",
            "Нерешённые",
            [] if open_ else ["Нерешённых сообщений и обращений нет."],
            [table(message_columns(True), [message_row(ctx, r, True) for r in open_])] if open_ else [],
        ),
        section(
            "Решённые сообщения и обращения",
            "Решённые",
            [] if resolved else ["За период решённых сообщений и обращений нет."],
            [table(message_columns(False), [message_row(ctx, r, False) for r in resolved])]
            if resolved
            else [],
        ),
        heatmap_section(ctx),
    ]


def weekly_note(ctx: Context) -> list[dict[str, Any]]:
    data = summary(ctx)
    cur = data["current"]
    hm = heat_map(ctx)
    growing = sorted(
        (r for r in hm["blocks"] if r["total"] > r["previous"]), key=lambda r: r["previous"] - r["total"]
    )[:3]
    roadmaps = queries.roadmaps_in_work(ctx.session, ctx.config, ctx.now)
    note = [
        f"{ctx.during.capitalize()} в МЦУ поступило сообщений и обращений: {num(cur['received'])} — "
        f"{change_text(cur['received'], data['previous']['received'])}. Окончательный ответ дан по "
        f"{num(cur['answered'])}, не закрыто {num(cur['open'])}, просрочено {num(cur['overdue'])}"
        + (f" ({num(cur['overdue_share'])}% тех, чей срок истёк)" if cur["overdue_share"] is not None else "")
        + ".",
        "Наибольший рост: "
        + (
            "; ".join(f"{r['name']} — {num(r['total'])} (было {num(r['previous'])})" for r in growing)
            or "роста нет"
        )
        + ".",
    ]
    if roadmaps:
        note.append(
            f"Дорожных карт в работе: {len(roadmaps)}; мероприятий выполнено {sum(r['done'] for r in roadmaps)} "
            f"из {sum(r['measures'] for r in roadmaps)}, с истёкшим сроком — {sum(r['late'] for r in roadmaps)}."
        )
    else:
        note.append("Дорожных карт в работе нет.")
    sections = [
        section("Аналитическая записка", "Записка", note),
        summary_section(ctx, data),
        heatmap_section(ctx, "Динамика по направлениям (отраслевым блокам)", hm),
        flow_section(ctx),
        emergencies_section(ctx),
    ]
    if roadmaps:
        sections.append(
            section(
                "Реализация мероприятий: дорожные карты в работе",
                "Дорожные карты",
                [],
                [
                    table(
                        [
                            col("Отраслевой блок"),
                            col("Проблема"),
                            col("Вид"),
                            col("Статус"),
                            col("Мероприятий", "int"),
                            col("Выполнено", "int"),
                            col("Срок истёк", "int"),
                        ],
                        [
                            [
                                ctx.block(r["roadmap"].block_id),
                                r["roadmap"].problem,
                                {"plan": "план", "operational": "оперативная"}.get(
                                    r["roadmap"].kind, r["roadmap"].kind
                                ),
                                r["roadmap"].status,
                                r["measures"],
                                r["done"],
                                r["late"],
                            ]
                            for r in roadmaps
                        ],
                    )
                ],
            )
        )
    return sections


def monthly_kpi(ctx: Context) -> list[dict[str, Any]]:
    return [summary_section(ctx), *kpi_section(ctx)]


def monthly_media(ctx: Context) -> list[dict[str, Any]]:
    start, end = ctx.bounds
    data = summary(ctx)
    resolved = queries.resolved_in(ctx.session, ctx.config, start, end)
    by_block = Counter(r["block_id"] for r in resolved)
    examples = queries.media_examples(ctx.session, ctx.config, start, end)
    cur = data["current"]
    return [
        section(
            "Статистика для публикации",
            "Статистика",
            [
                f"{ctx.during.capitalize()} в МЦУ поступило сообщений и обращений жителей: {num(cur['received'])}; "
                f"решено проблем: {num(len(resolved))}"
                + (
                    f"; средняя оценка жителей — {num(cur['satisfaction'], 2)} из 5"
                    if cur["satisfaction"]
                    else ""
                )
                + ".",
                CONSULTATIONS,
            ],
            [
                table(
                    [col("Показатель"), col("Значение", "int")],
                    [
                        ["Поступило сообщений и обращений", cur["received"]],
                        ["Решено проблем (дан окончательный ответ)", len(resolved)],
                        [
                            "Из них ответ дан в срок",
                            sum(r["due_at"] is None or r["answered_at"] <= r["due_at"] for r in resolved),
                        ],
                        ["Оказано консультаций", None],
                    ],
                ),
                table(
                    [col("Отраслевой блок"), col("Решено проблем", "int")],
                    [
                        [ctx.block(b), n]
                        for b, n in sorted(by_block.items(), key=lambda x: (-x[1], ctx.block(x[0])))
                    ],
                    "Решённые проблемы по отраслевым блокам",
                ),
            ],
        ),
        section(
            "Примеры решённых проблем",
            "Примеры",
            [
                "Примеры — решённые в месяце проблемы, по одной на отраслевой блок, с лучшей оценкой жителей. "
                "Текст приводится только для публичных сообщений из социальных сетей (сокращённо, без данных "
                "автора); текст обращений по 59-ФЗ не публикуется."
            ],
            [
                table(
                    [
                        col("№ сообщения"),
                        col("Отраслевой блок"),
                        col("Поселение"),
                        col("Поступило", "datetime"),
                        col("Решено", "datetime"),
                        col("Оценка жителя", "int"),
                        col("Суть (публичное сообщение)"),
                    ],
                    [
                        [
                            r["number"],
                            ctx.block(r["block_id"]),
                            ctx.settlement(r["settlement_id"]),
                            ctx.local(r["received_at"]),
                            ctx.local(r["answered_at"]),
                            r["rating"],
                            r["excerpt"]
                            or ("текст обращения не публикуется" if r["regime"] == "appeal" else "—"),
                        ]
                        for r in examples
                    ],
                )
            ]
            if examples
            else [],
        ),
    ]


def _systems(report: dict[str, Any]) -> list[str]:
    """The systems a rating names («Инцидент Менеджмент», «Платформа обратной связи»)."""
    words = " ".join([report.get("name", ""), *(report.get("contents") or [])]).lower()
    return [kind for kind, (_name, marks, _short) in SYSTEMS.items() if any(m in words for m in marks)]


def monthly_rating(ctx: Context) -> list[dict[str, Any]]:
    systems = _systems(ctx.report)
    present = {c.get("kind") for c in ctx.config.channels.values()}
    out = []
    if len(systems) != 1:
        out += [
            ratings_section(ctx, "executor"),
            ratings_section(ctx, "body"),
            ratings_section(ctx, "settlement"),
        ]
    for kind in systems:
        if kind not in present:
            out.append(
                section(
                    f"Рейтинг — система {SYSTEMS[kind][0]}",
                    kind,
                    [f"Канал {SYSTEMS[kind][0]} в районе не настроен."],
                )
            )
            continue
        if len(systems) == 1:
            out.append(ratings_section(ctx, "executor", channel_kinds=[kind], system=SYSTEMS[kind][0]))
        out.append(ratings_section(ctx, "body", channel_kinds=[kind], system=SYSTEMS[kind][0]))
    if len(systems) == 1:
        out[0]["paragraphs"].insert(0, ratings.METHOD)
    return out


def periodic(ctx: Context) -> list[dict[str, Any]]:
    """Quarterly and yearly: the period's figures, KPIs against the year's targets, the heat map
    with last year and the forecast, the flow, and the bodies' rating."""
    return [
        summary_section(ctx),
        *kpi_section(ctx),
        heatmap_section(ctx, "Тепловая карта: отраслевые блоки, сравнение с прошлым годом и прогноз"),
        flow_section(ctx),
        ratings_section(ctx, "body"),
    ]


def on_demand(ctx: Context) -> list[dict[str, Any]]:
    """A request's report: the flow analysis that picks the problem areas (Константиновский
    Регламент п.5.2), the heat map and the bodies' rating for the asked period. A report of one
    system (Некрасовский п.2.5г «Инцидент менеджмент», п.2.6г ПОС) counts that system's messages
    only, in every section."""
    systems = _systems(ctx.report)
    if len(systems) == 1:
        ctx = replace(ctx, channel_kinds=systems)
    sections = [
        summary_section(ctx),
        flow_section(ctx),
        heatmap_section(ctx, "Динамика по отраслевым блокам"),
        ratings_section(ctx, "body"),
    ]
    if ctx.channel_kinds:
        name = SYSTEMS[systems[0]][0]
        sections[0]["paragraphs"].insert(0, f"Учтены только сообщения и обращения системы {name}.")
    return sections


BUILDERS: dict[str, Callable[[Context], list[dict[str, Any]]]] = {
    "daily_summary": daily_summary,
    "weekly_report": weekly_report,
    "weekly_note": weekly_note,
    "monthly_kpi": monthly_kpi,
    "monthly_media": monthly_media,
    "monthly_rating": monthly_rating,
    "quarterly": periodic,
    "yearly": periodic,
    "on_demand": on_demand,
}


def build(
    session: Session, config: TenantConfig, report: dict[str, Any], period: Period, *, now: datetime
) -> dict[str, Any]:
    """The document of `report` (an item of the district's `reports`) for `period`."""
    ctx = Context(session, config, report, period, now)
    sections = BUILDERS[report["kind"]](ctx)
    _, end = ctx.bounds
    label = period.label + (
        f" (неполный: данные на {now.astimezone(config.tz):%d.%m.%Y %H:%M})" if now < end else ""
    )
    subtitle = [
        ["Район", config.data["name"].get("full") or config.name],
        ["Период", label],
        ["Получатель", report.get("recipient")],
        ["Ответственный", responsible(config, report)],
        ["Периодичность", schedule_text(report.get("schedule") or {})],
        ["Основание", basis(config, report.get("source"))],
        ["Сформирован", f"{now.astimezone(config.tz):%d.%m.%Y %H:%M} (время {config.data['timezone']})"],
    ]
    return {
        "format": FORMAT,
        "report": {"id": report["id"], "kind": report["kind"], "kind_name": KINDS[report["kind"]]},
        "title": report["name"],
        "subtitle": [[k, v] for k, v in subtitle if v],
        "district": {"slug": config.slug, "name": config.name},
        "period": {
            "key": period.key,
            "kind": period.kind,
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "generated_at": now.astimezone(config.tz).isoformat(timespec="seconds"),
        "sections": sections,
    }
