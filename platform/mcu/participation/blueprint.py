"""JSON API for public participation: list (with the state of each event's term on a day),
record (held, or planned with its term), mark held, and record the informing about a decision."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from flask import abort, g, jsonify, request
from pydantic import ValidationError

from mcu.analytics.periods import local_today
from mcu.auth.api import token_required
from mcu.db import get_session
from mcu.messages.blueprint import json_body, unprocessable
from mcu.messages.schemas import field_errors
from mcu.participation.models import ParticipationEvent
from mcu.participation.operations import ParticipationError, inform, mark_held, record
from mcu.participation.queries import (
    TermQueryError,
    list_participation,
    participation_by_id,
    participation_public,
    term_query,
)
from mcu.participation.schemas import KINDS, TERM_STATES, HeldIn, InformedIn, ParticipationIn
from mcu.web.tenant_scope import tenant_blueprint

api = tenant_blueprint("participation_api", __name__, "/api/v1/<tenant>")


def _today() -> date:
    return local_today(g.config.tz)


def public(row: ParticipationEvent, *, today: date) -> dict:
    return participation_public(row, today=today, tz=g.config.tz)


def _actor() -> str:
    return f"token:{g.api_token.name}"


def _row_or_404(participation_id: uuid.UUID) -> ParticipationEvent:
    row = participation_by_id(get_session(), g.tenant.id, participation_id)
    if row is None:
        abort(404)
    return row


@api.get("/participation")
@token_required
def list_events():
    try:
        asked = term_query(request.args, g.config.tz)
    except TermQueryError as exc:
        return unprocessable({exc.field: [str(exc)]})
    rows = list_participation(get_session(), g.tenant.id, **asked)
    return jsonify(
        on=asked["today"].isoformat(), participation=[public(r, today=asked["today"]) for r in rows]
    )


def _applied(change: Callable[[], ParticipationEvent], status: int = 200):
    """Run one change; its event as JSON once committed, or 422 with the field at fault."""
    try:
        row = change()
    except ValidationError as exc:
        return unprocessable(field_errors(exc))
    except ParticipationError as exc:
        return unprocessable({exc.field: [str(exc)]})
    get_session().commit()
    return jsonify(public(row, today=_today())), status


@api.post("/participation")
@token_required
def create_participation():
    return _applied(
        lambda: record(
            session=get_session(),
            config=g.config,
            data=ParticipationIn.model_validate(json_body()),
            actor=_actor(),
        ),
        201,
    )


@api.post("/participation/<uuid:participation_id>/held")
@token_required
def held(participation_id: uuid.UUID):
    row = _row_or_404(participation_id)

    def change() -> ParticipationEvent:
        mark_held(session=get_session(), row=row, data=HeldIn.model_validate(json_body()), actor=_actor())
        return row

    return _applied(change)


@api.post("/participation/<uuid:participation_id>/informed")
@token_required
def informed(participation_id: uuid.UUID):
    row = _row_or_404(participation_id)

    def change() -> ParticipationEvent:
        body = InformedIn.model_validate(json_body())
        inform(session=get_session(), row=row, informed_at=body.informed_at, link=body.link, actor=_actor())
        return row

    return _applied(change)


def openapi_paths() -> dict:
    """This API's part of the OpenAPI document."""
    tenant = {"name": "tenant", "in": "path", "required": True, "schema": {"type": "string"}}
    ident = {
        "name": "participation_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

    def body(model) -> dict:
        return {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}

    def ok(text: str) -> dict:
        return {"description": text, "content": {"application/json": {"schema": {"type": "object"}}}}

    fails = {
        "401": {"description": "Нет действующего токена района", **err},
        "404": {"description": "Не найдено (в том числе запись другого района)", **err},
        "422": {"description": "Данные не приняты: ошибки по полям в `fields`", **err},
    }
    return {
        "/api/v1/{tenant}/participation": {
            "get": {
                "summary": "Опросы, голосования, обсуждения и публичные слушания района",
                "parameters": [
                    tenant,
                    {"name": "kind", "in": "query", "schema": {"enum": list(KINDS)}},
                    {
                        "name": "term",
                        "in": "query",
                        "description": "Состояние срока проведения: "
                        + ", ".join(f"{k} — {v}" for k, v in TERM_STATES.items()),
                        "schema": {"enum": list(TERM_STATES)},
                    },
                    {
                        "name": "on",
                        "in": "query",
                        "description": "День, на который показывается состояние сроков (ГГГГ-ММ-ДД; по умолчанию — сегодня по местному времени района)",
                        "schema": {"type": "string", "format": "date"},
                    },
                ],
                "responses": {"200": ok("Мероприятия и состояние их сроков проведения"), **fails},
            },
            "post": {
                "summary": "Записать мероприятие с участием жителей: проведённое (и принятое решение) или предстоящее со сроком проведения",
                "parameters": [tenant],
                "requestBody": body(ParticipationIn),
                "responses": {"201": ok("Записано"), **fails},
            },
        },
        "/api/v1/{tenant}/participation/{participation_id}/held": {
            "post": {
                "summary": "Отметить предстоящее мероприятие проведённым (и принятое решение)",
                "parameters": [tenant, ident],
                "requestBody": body(HeldIn),
                "responses": {"200": ok("Отмечено"), **fails},
            }
        },
        "/api/v1/{tenant}/participation/{participation_id}/informed": {
            "post": {
                "summary": "Отметить информирование жителей в соцсетях о реализации решения",
                "parameters": [tenant, ident],
                "requestBody": body(InformedIn),
                "responses": {"200": ok("Отмечено"), **fails},
            }
        },
    }
