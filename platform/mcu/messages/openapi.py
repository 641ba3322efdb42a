"""The OpenAPI 3.1 document of the JSON API, built from the same pydantic models that validate
requests, so the published schema and the check are one thing."""

from __future__ import annotations

from typing import Any

from mcu.messages.schemas import MessageIn

TENANT = {
    "name": "tenant",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Slug района, например kondinsky",
}
MESSAGE_ID = {
    "name": "message_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
ERR = {"$ref": "#/components/schemas/Error"}
EMERGENCY_ID = {**MESSAGE_ID, "name": "emergency_id"}
ITEM_ID = {**MESSAGE_ID, "name": "item_id"}
NOTIFICATION_ID = {**MESSAGE_ID, "name": "notification_id"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "Некорректный запрос",
        401: "Нет действующего токена района",
        404: "Не найдено (в том числе объект другого района)",
        409: "Действие невозможно в текущем статусе",
        413: "Тело запроса слишком большое",
        422: "Данные не приняты: ошибки по полям в `fields`",
    }
    return {str(c): _json(ERR, words[c]) for c in codes}


def document() -> dict[str, Any]:
    from mcu.analytics.openapi import paths as analytics_paths
    from mcu.messages.actions import ActionIn
    from mcu.messages.blueprint import RatingIn
    from mcu.participation.blueprint import openapi_paths as participation_paths
    from mcu.reports.blueprint import openapi_paths as reports_paths
    from mcu.roadmaps.blueprint import openapi_paths as roadmaps_paths
    from mcu.roadmaps.blueprint import openapi_schemas as roadmaps_schemas

    schemas: dict[str, Any] = {}
    for model in (MessageIn, ActionIn, RatingIn):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas.update(roadmaps_schemas())
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "Ошибки по полям (путь поля → сообщения)",
            },
        },
    }
    schemas["Message"] = {
        "type": "object",
        "description": "Сообщение без персональных данных заявителя",
        "properties": {
            k: {}
            for k in (
                "id",
                "number",
                "regime",
                "channel",
                "status",
                "status_name",
                "subject",
                "text",
                "address",
                "settlement",
                "latitude",
                "longitude",
                "block",
                "classification",
                "threat_to_life",
                "received_at",
                "registered_at",
                "due_at",
                "due_explanation",
                "executor",
                "answered_at",
                "closed_at",
                "rating",
                "duplicate_of",
                "events",
            )
        },
    }
    schemas["EmergencyCloseIn"] = {
        "type": "object",
        "required": ["decisions"],
        "properties": {
            "decisions": {
                "type": "string",
                "minLength": 1,
                "description": "Принятые решения и проведённые мероприятия",
            }
        },
    }
    msg = {"$ref": "#/components/schemas/Message"}
    queued = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string"},
            "status_url": {"type": "string"},
        },
    }
    item = {
        "type": "object",
        "description": "status: queued — ждёт обработчика; done — сообщение создано (message_id); "
        "refused — не принято при обработке (error)",
        "properties": {
            k: {}
            for k in (
                "id",
                "status",
                "channel",
                "external_id",
                "accepted_at",
                "processed_at",
                "message_id",
                "message_url",
                "error",
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Платформа МЦУ — API приёма и обработки сообщений",
            "version": "1",
            "description": "Приём обращений (59-ФЗ) и сообщений из машинных каналов района, их чтение и действия жизненного "
            "цикла. Токен района: `mcu tokens create --tenant SLUG`, передаётся как `Authorization: Bearer …`.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"token": []}],
        "paths": {
            "/api/v1/{tenant}/messages": {
                "post": {
                    "summary": "Принять сообщение",
                    "parameters": [TENANT],
                    "description": "Повторная отправка с тем же (channel, external_id) возвращает уже созданную запись (200).",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/MessageIn"}}
                        },
                    },
                    "responses": {
                        "201": _json(msg, "Создано"),
                        "200": _json(msg, "Уже было принято ранее"),
                        **_errors(400, 401, 404, 413, 422),
                    },
                },
                "get": {
                    "summary": "Список сообщений",
                    "parameters": [
                        TENANT,
                        {"name": "status", "in": "query", "schema": {"type": "string"}},
                        {"name": "block", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                        },
                        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                    ],
                    "responses": {
                        "200": _json(
                            {"type": "object", "properties": {"messages": {"type": "array", "items": msg}}},
                            "Сообщения",
                        ),
                        **_errors(401, 404, 422),
                    },
                },
            },
            "/api/v1/{tenant}/intake": {
                "post": {
                    "summary": "Принять сообщение в очередь (для каналов с большим потоком)",
                    "parameters": [TENANT],
                    "description": "Сообщение проверяется сразу (ошибки — 422, как у /messages) и ставится в очередь; "
                    "классификацию, маршрутизацию и сроки выполняет обработчик (`mcu worker`). Повторная отправка с тем "
                    "же (channel, external_id) возвращает ту же запись очереди (200).",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/MessageIn"}}
                        },
                    },
                    "responses": {
                        "202": _json(queued, "Принято в очередь"),
                        "200": _json(queued, "Уже было принято ранее"),
                        **_errors(400, 401, 404, 413, 422),
                    },
                }
            },
            "/api/v1/{tenant}/intake/{item_id}": {
                "get": {
                    "summary": "Состояние сообщения в очереди приёма",
                    "parameters": [TENANT, ITEM_ID],
                    "responses": {"200": _json(item, "Запись очереди"), **_errors(401, 404)},
                }
            },
            "/api/v1/{tenant}/messages/{message_id}": {
                "get": {
                    "summary": "Сообщение с историей событий",
                    "parameters": [TENANT, MESSAGE_ID],
                    "responses": {"200": _json(msg, "Сообщение"), **_errors(401, 404)},
                }
            },
            "/api/v1/{tenant}/messages/{message_id}/actions": {
                "post": {
                    "summary": "Действие жизненного цикла",
                    "parameters": [TENANT, MESSAGE_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ActionIn"}}
                        },
                    },
                    "responses": {"200": _json(msg, "Выполнено"), **_errors(400, 401, 404, 409, 422)},
                }
            },
            "/api/v1/{tenant}/messages/{message_id}/rating": {
                "post": {
                    "summary": "Оценка ответа жителем (1–5); низкая оценка возобновляет сообщение",
                    "parameters": [TENANT, MESSAGE_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/RatingIn"}}
                        },
                    },
                    "responses": {
                        "200": _json({"type": "object"}, "Оценка принята"),
                        **_errors(400, 401, 404, 422),
                    },
                }
            },
            "/api/v1/{tenant}/messages/{message_id}/decisions": {
                "get": {
                    "summary": "Почему: сработавшие правила эскалации с пунктом постановления, фактами и действиями",
                    "parameters": [TENANT, MESSAGE_ID],
                    "responses": {"200": _json({"type": "object"}, "Решения правил"), **_errors(401, 404)},
                }
            },
            "/api/v1/{tenant}/emergencies": {
                "get": {
                    "summary": "Аварийные ситуации района",
                    "parameters": [
                        TENANT,
                        {"name": "status", "in": "query", "schema": {"enum": ["open", "closed"]}},
                    ],
                    "responses": {
                        "200": _json({"type": "object"}, "Аварийные ситуации"),
                        **_errors(401, 404, 422),
                    },
                }
            },
            "/api/v1/{tenant}/emergencies/{emergency_id}": {
                "get": {
                    "summary": "Аварийная ситуация: сообщения, сроки и напоминания, события, решения правил",
                    "parameters": [TENANT, EMERGENCY_ID],
                    "responses": {
                        "200": _json({"type": "object"}, "Аварийная ситуация"),
                        **_errors(401, 404),
                    },
                }
            },
            "/api/v1/{tenant}/emergencies/{emergency_id}/close": {
                "post": {
                    "summary": "Закрыть с записью принятых решений и мероприятий (ХМ Регламент п.5.7)",
                    "parameters": [TENANT, EMERGENCY_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/EmergencyCloseIn"}}
                        },
                    },
                    "responses": {
                        "200": _json({"type": "object"}, "Закрыта"),
                        **_errors(400, 401, 404, 409, 422),
                    },
                }
            },
            "/api/v1/{tenant}/notifications": {
                "get": {
                    "summary": "Входящие уведомления должности или роли",
                    "parameters": [
                        TENANT,
                        {"name": "position", "in": "query", "schema": {"type": "string"}},
                        {"name": "role", "in": "query", "schema": {"type": "string"}},
                        {"name": "unread", "in": "query", "schema": {"type": "boolean"}},
                    ],
                    "responses": {"200": _json({"type": "object"}, "Уведомления"), **_errors(401, 404, 422)},
                }
            },
            "/api/v1/{tenant}/notifications/{notification_id}/read": {
                "post": {
                    "summary": "Отметить уведомление прочитанным",
                    "parameters": [TENANT, NOTIFICATION_ID],
                    "responses": {"200": _json({"type": "object"}, "Отмечено"), **_errors(401, 404)},
                }
            },
            "/api/v1/{tenant}/imports": {
                "post": {
                    "summary": "Пакетная загрузка выгрузки канала (CSV, XLSX, JSON): отчёт с отклонёнными строками",
                    "parameters": [
                        TENANT,
                        {
                            "name": "channel",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "Id канала",
                        },
                        {"name": "format", "in": "query", "schema": {"enum": ["csv", "xlsx", "json"]}},
                        {
                            "name": "queue",
                            "in": "query",
                            "description": "1 — только проверить строки и поставить в очередь приёма "
                            "(обработает mcu worker); created — принято в очередь",
                            "schema": {"enum": ["0", "1"]},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"file": {"type": "string", "format": "binary"}},
                                }
                            },
                            "text/csv": {"schema": {"type": "string"}},
                            "application/json": {"schema": {}},
                        },
                    },
                    "responses": {
                        "200": _json({"type": "object"}, "Отчёт о загрузке"),
                        **_errors(401, 404, 413, 422),
                    },
                }
            },
            "/api/v1/tenants": {
                "get": {
                    "summary": "Районы платформы и версии их конфигураций",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "Районы")},
                }
            },
            "/api/v1/{tenant}/config": {
                "get": {
                    "summary": "Действующая конфигурация района с происхождением каждого значения",
                    "security": [],
                    "parameters": [TENANT],
                    "responses": {"200": _json({"type": "object"}, "Конфигурация"), **_errors(404)},
                }
            },
            **analytics_paths(),
            **participation_paths(),
            **reports_paths(),
            **roadmaps_paths(),
        },
    }
