"""The analytics part of the OpenAPI document (merged into mcu.messages.openapi.document)."""

from __future__ import annotations

from typing import Any

TENANT = {"name": "tenant", "in": "path", "required": True, "schema": {"type": "string"}}
PERIOD = {
    "name": "period",
    "in": "query",
    "schema": {"type": "string"},
    "description": "2026 — год; 2026-11 — месяц; 2026-Q4 — квартал; 2026-W47 — неделя; 2026-11-23 — день; "
    "2026-11-01..2026-11-30 — произвольный период. По умолчанию — текущий год (рейтинг и поток — месяц)",
}


def _q(name: str, description: str, enum: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if enum:
        schema["enum"] = enum
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _get(summary: str, *params: dict[str, Any], public: bool = False) -> dict[str, Any]:
    err = {"$ref": "#/components/schemas/Error"}
    responses: dict[str, Any] = {
        "200": {"description": summary, "content": {"application/json": {"schema": {"type": "object"}}}},
        "404": {"description": "Район (регион) не найден", "content": {"application/json": {"schema": err}}},
        "422": {
            "description": "Неверный параметр: ошибки в `fields`",
            "content": {"application/json": {"schema": err}},
        },
    }
    if not public:
        responses["401"] = {
            "description": "Нет действующего токена района",
            "content": {"application/json": {"schema": err}},
        }
    op: dict[str, Any] = {
        "summary": summary,
        "tags": ["Аналитика"],
        "parameters": list(params),
        "responses": responses,
    }
    if public:
        op["security"] = []
    return {"get": op}


def paths() -> dict[str, Any]:
    base = "/api/v1/{tenant}/analytics"
    return {
        f"{base}/dashboard": _get(
            "Тепловая карта, показатели (план/факт) и сводка района за период", TENANT, PERIOD
        ),
        f"{base}/heatmap": _get(
            "Тепловая карта: блоки × поселения × подпериоды, индекс роста, красная зона, ТОП-проблемы, прогноз",
            TENANT,
            PERIOD,
            _q("channel", "Только сообщения одного вида канала, например incident_management или pos"),
        ),
        f"{base}/kpi": _get(
            "Целевые показатели: числитель, знаменатель, факт, план, методика", TENANT, PERIOD
        ),
        f"{base}/ratings": _get(
            "Рейтинг ответственных получателей, органов или поселений",
            TENANT,
            PERIOD,
            _q("by", "По кому строится рейтинг", ["executor", "body", "settlement"]),
            _q("channel", "Только один вид канала, например incident_management или pos"),
        ),
        f"{base}/flow": _get(
            "Новые, повторные, просроченные и отложенные сообщения по блокам", TENANT, PERIOD
        ),
        f"{base}/messages": _get(
            "Сообщения, из которых сложилась цифра (без текста и персональных данных)",
            TENANT,
            PERIOD,
            _q("block", "Id блока или none"),
            _q("settlement", "Id поселения или none"),
            _q("bucket", "Подпериод (ключ периода)"),
            _q("channel", "Вид канала, например incident_management или pos"),
            _q("indicator", "Id показателя: сообщения его числителя или знаменателя"),
            _q("part", "Часть показателя", ["numerator", "denominator", "rest"]),
            _q("open", "1 — только незакрытые"),
            _q("limit", "Сколько строк (до 1000)"),
            _q("offset", "Сколько строк пропустить"),
        ),
        "/api/v1/regions/{region}/console": _get(
            "Консоль региона: районы рядом — показатели, объём на 1 000 жителей, просрочка, медиана ответа, оценка, "
            "аварийные ситуации, место в рейтинге",
            {"name": "region", "in": "path", "required": True, "schema": {"type": "string"}},
            PERIOD,
            public=True,
        ),
    }
