"""JSON API for public participation: list, record, and record the informing about a decision."""

from __future__ import annotations

import uuid

from flask import abort, g, jsonify, request
from pydantic import ValidationError
from sqlmodel import select

from mcu.auth.api import token_required
from mcu.db import get_session
from mcu.messages.blueprint import json_body, unprocessable
from mcu.messages.schemas import field_errors
from mcu.participation.models import ParticipationEvent
from mcu.participation.operations import ParticipationError, inform, record
from mcu.participation.schemas import KINDS, InformedIn, ParticipationIn
from mcu.web.tenant_scope import tenant_blueprint

api = tenant_blueprint("participation_api", __name__, "/api/v1/<tenant>")


def _public(row: ParticipationEvent) -> dict:
    return {
        "id": str(row.id),
        "kind": row.kind,
        "kind_name": KINDS[row.kind],
        "title": row.title,
        "via_pos": row.via_pos,
        "block": row.block_id,
        "held_at": row.held_at.isoformat(),
        "decision_taken": row.decision_taken,
        "decision": row.decision,
        "informed_at": row.informed_at.isoformat() if row.informed_at else None,
    }


def _actor() -> str:
    return f"token:{g.api_token.name}"


@api.get("/participation")
@token_required
def list_participation():
    query = select(ParticipationEvent).where(ParticipationEvent.tenant_id == g.tenant.id)
    kind = request.args.get("kind")
    if kind:
        if kind not in KINDS:
            return unprocessable({"kind": [f"вид мероприятия: {', '.join(KINDS)}"]})
        query = query.where(ParticipationEvent.kind == kind)
    rows = get_session().exec(query.order_by(ParticipationEvent.held_at.desc()).limit(500))
    return jsonify(participation=[_public(r) for r in rows])


@api.post("/participation")
@token_required
def create_participation():
    try:
        row = record(
            session=get_session(),
            config=g.config,
            data=ParticipationIn.model_validate(json_body()),
            actor=_actor(),
        )
    except ValidationError as exc:
        return unprocessable(field_errors(exc))
    except ParticipationError as exc:
        return unprocessable({exc.field: [str(exc)]})
    get_session().commit()
    return jsonify(_public(row)), 201


@api.post("/participation/<uuid:participation_id>/informed")
@token_required
def informed(participation_id: uuid.UUID):
    row = get_session().get(ParticipationEvent, (g.tenant.id, participation_id))
    if row is None:
        abort(404)
    try:
        body = InformedIn.model_validate(json_body())
        inform(session=get_session(), row=row, informed_at=body.informed_at, link=body.link, actor=_actor())
    except ValidationError as exc:
        return unprocessable(field_errors(exc))
    except ParticipationError as exc:
        return unprocessable({exc.field: [str(exc)]})
    get_session().commit()
    return jsonify(_public(row))


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
                "parameters": [tenant, {"name": "kind", "in": "query", "schema": {"enum": list(KINDS)}}],
                "responses": {"200": ok("Мероприятия"), **fails},
            },
            "post": {
                "summary": "Записать мероприятие с участием жителей (и принятое решение)",
                "parameters": [tenant],
                "requestBody": body(ParticipationIn),
                "responses": {"201": ok("Записано"), **fails},
            },
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
