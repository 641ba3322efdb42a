"""JSON API for roadmaps (дорожные карты) and information campaigns — routes only: each loads the
tenant's object (another tenant's is a 404), parses, calls one operation, commits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, abort, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError

from mcu.analytics import periods
from mcu.auth.api import token_required
from mcu.db import get_session
from mcu.emergencies.queries import emergency_by_id
from mcu.messages.blueprint import json_body, unprocessable
from mcu.messages.schemas import field_errors
from mcu.reports.render import RenderError
from mcu.roadmaps import campaigns, document, operations
from mcu.roadmaps.models import Roadmap, RoadmapMeasure
from mcu.roadmaps.queries import (
    list_roadmaps,
    measure_of,
    measure_public,
    proposals,
    roadmap_by_id,
    roadmap_public,
)
from mcu.roadmaps.schemas import (
    STATUS_NAMES,
    CampaignIn,
    MeasureDoneIn,
    MeasureIn,
    MeasureUpdate,
    RoadmapIn,
    RoadmapUpdate,
    SignIn,
)
from mcu.web.tenant_scope import tenant_blueprint

api = tenant_blueprint("roadmaps_api", __name__, "/api/v1/<tenant>")


def _actor() -> str:
    return f"token:{g.api_token.name}"


def _today():
    return periods.local_today(g.config.tz)


def _roadmap_or_404(roadmap_id: uuid.UUID) -> Roadmap:
    roadmap = roadmap_by_id(get_session(), g.tenant.id, roadmap_id)
    if roadmap is None:
        abort(404)
    return roadmap


def _measure_or_404(roadmap: Roadmap, measure_id: uuid.UUID) -> RoadmapMeasure:
    measure = measure_of(get_session(), roadmap, measure_id)
    if measure is None:
        abort(404)
    return measure


def _public(roadmap: Roadmap) -> dict[str, Any]:
    return roadmap_public(get_session(), g.config, roadmap, today=_today())


def _run(
    parse: type[BaseModel] | None, act: Callable[[Any], Any], ok: Callable[[Any], Any], status: int = 200
):
    """Parse the body (if any), act, commit; 422 for bad input, 409 for a state that forbids it."""
    try:
        result = act(parse.model_validate(json_body()) if parse else None)
    except ValidationError as exc:
        return unprocessable(field_errors(exc))
    except operations.RoadmapLocked as exc:
        return jsonify(error="Conflict", status=409, detail=str(exc)), 409
    except operations.RoadmapError as exc:
        return unprocessable({exc.field: [str(exc)]})
    get_session().commit()
    return jsonify(ok(result)), status


# ---------------------------------------------------------------- roadmaps
@api.get("/roadmaps")
@token_required
def get_roadmaps():
    status, kind = request.args.get("status") or None, request.args.get("kind") or None
    if status is not None and status not in STATUS_NAMES:
        return unprocessable({"status": [", ".join(STATUS_NAMES)]})
    if kind not in (None, "plan", "operational"):
        return unprocessable({"kind": ["plan или operational"]})
    rows = list_roadmaps(get_session(), g.tenant.id, status=status, kind=kind)
    return jsonify(
        roadmaps=[roadmap_public(get_session(), g.config, r, today=_today(), full=False) for r in rows]
    )


@api.get("/roadmaps/proposals")
@token_required
def get_proposals():
    try:
        period = periods.parse(request.args.get("period"), today=_today(), default="month")
    except periods.PeriodError as exc:
        return unprocessable({"period": [str(exc)]})
    if period.kind not in operations.REPORTING_PERIODS:
        return unprocessable({"period": ["отчётный период — месяц (2026-11) или квартал (2026-Q4)"]})
    return jsonify(
        period=period.about(),
        previous_period=period.previous().about(),
        proposals=proposals(get_session(), g.config, period),
    )


@api.post("/roadmaps")
@token_required
def create_roadmap():
    session = get_session()
    try:
        data = RoadmapIn.model_validate(json_body())
        if data.kind == "plan":
            roadmap, created = (
                operations.create_plan(session=session, config=g.config, data=data, actor=_actor()),
                True,
            )
        else:
            emergency = emergency_by_id(session, g.tenant.id, data.emergency)
            if emergency is None:
                raise operations.RoadmapError("emergency", "аварийная ситуация не найдена")
            roadmap, created = operations.open_operational(
                session=session, config=g.config, emergency=emergency, data=data, actor=_actor()
            )
    except ValidationError as exc:
        return unprocessable(field_errors(exc))
    except operations.RoadmapLocked as exc:
        return jsonify(error="Conflict", status=409, detail=str(exc)), 409
    except operations.RoadmapError as exc:
        return unprocessable({exc.field: [str(exc)]})
    session.commit()
    return jsonify(_public(roadmap)), 201 if created else 200


@api.get("/roadmaps/<uuid:roadmap_id>")
@token_required
def get_roadmap(roadmap_id: uuid.UUID):
    return jsonify(_public(_roadmap_or_404(roadmap_id)))


@api.patch("/roadmaps/<uuid:roadmap_id>")
@token_required
def edit_roadmap(roadmap_id: uuid.UUID):
    roadmap = _roadmap_or_404(roadmap_id)
    return _run(
        RoadmapUpdate,
        lambda body: operations.update(session=get_session(), roadmap=roadmap, data=body, actor=_actor()),
        lambda _r: _public(roadmap),
    )


@api.post("/roadmaps/<uuid:roadmap_id>/measures")
@token_required
def add_measure(roadmap_id: uuid.UUID):
    roadmap = _roadmap_or_404(roadmap_id)
    return _run(
        MeasureIn,
        lambda body: operations.add_measure(
            session=get_session(), roadmap=roadmap, data=body, actor=_actor()
        ),
        measure_public,
        201,
    )


@api.patch("/roadmaps/<uuid:roadmap_id>/measures/<uuid:measure_id>")
@token_required
def edit_measure(roadmap_id: uuid.UUID, measure_id: uuid.UUID):
    roadmap = _roadmap_or_404(roadmap_id)
    measure = _measure_or_404(roadmap, measure_id)
    return _run(
        MeasureUpdate,
        lambda body: operations.update_measure(
            session=get_session(), roadmap=roadmap, measure=measure, data=body
        ),
        lambda _r: measure_public(measure),
    )


@api.delete("/roadmaps/<uuid:roadmap_id>/measures/<uuid:measure_id>")
@token_required
def delete_measure(roadmap_id: uuid.UUID, measure_id: uuid.UUID):
    roadmap = _roadmap_or_404(roadmap_id)
    measure = _measure_or_404(roadmap, measure_id)
    try:
        operations.delete_measure(session=get_session(), roadmap=roadmap, measure=measure)
    except operations.RoadmapLocked as exc:
        return jsonify(error="Conflict", status=409, detail=str(exc)), 409
    get_session().commit()
    return Response(status=204)


@api.post("/roadmaps/<uuid:roadmap_id>/measures/<uuid:measure_id>/done")
@token_required
def measure_done(roadmap_id: uuid.UUID, measure_id: uuid.UUID):
    roadmap = _roadmap_or_404(roadmap_id)
    measure = _measure_or_404(roadmap, measure_id)
    return _run(
        MeasureDoneIn,
        lambda body: operations.complete_measure(
            session=get_session(),
            config=g.config,
            roadmap=roadmap,
            measure=measure,
            data=body,
            actor=_actor(),
        ),
        lambda covered: {
            **measure_public(measure),
            "messages_covered": covered,
            "roadmap_status": roadmap.status,
        },
    )


@api.post("/roadmaps/<uuid:roadmap_id>/agree")
@token_required
def agree_roadmap(roadmap_id: uuid.UUID):
    roadmap = _roadmap_or_404(roadmap_id)
    return _run(
        SignIn,
        lambda body: operations.agree(
            session=get_session(), config=g.config, roadmap=roadmap, data=body, actor=_actor()
        ),
        lambda _r: _public(roadmap),
    )


@api.post("/roadmaps/<uuid:roadmap_id>/approve")
@token_required
def approve_roadmap(roadmap_id: uuid.UUID):
    roadmap = _roadmap_or_404(roadmap_id)
    return _run(
        SignIn,
        lambda body: operations.approve(
            session=get_session(), config=g.config, roadmap=roadmap, data=body, actor=_actor()
        ),
        lambda _r: _public(roadmap),
    )


@api.post("/roadmaps/<uuid:roadmap_id>/versions")
@token_required
def amend_roadmap(roadmap_id: uuid.UUID):
    roadmap = _roadmap_or_404(roadmap_id)
    return _run(
        None,
        lambda _body: operations.amend(session=get_session(), roadmap=roadmap, actor=_actor()),
        _public,
        201,
    )


@api.get("/roadmaps/<uuid:roadmap_id>/document.<fmt>")
@token_required
def roadmap_document(roadmap_id: uuid.UUID, fmt: str):
    roadmap = _roadmap_or_404(roadmap_id)
    if fmt not in ("docx", "pdf"):
        abort(404)
    doc = document.form(get_session(), g.config, roadmap, today=_today())
    try:
        data, mimetype, disposition = document.render(doc, fmt, font=current_app.config["REPORT_FONT"])
    except RenderError as exc:
        return jsonify(error="Service Unavailable", status=503, detail=str(exc)), 503
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = disposition
    return response


# ---------------------------------------------------------------- information campaigns
@api.get("/campaigns")
@token_required
def get_campaigns():
    rows = campaigns.list_campaigns(get_session(), g.tenant.id, block=request.args.get("block") or None)
    return jsonify(
        campaigns=[campaigns.campaign_public(get_session(), g.config, r, today=_today()) for r in rows]
    )


@api.post("/campaigns")
@token_required
def create_campaign():
    return _run(
        CampaignIn,
        lambda body: campaigns.create_campaign(
            session=get_session(), config=g.config, data=body, actor=_actor()
        ),
        lambda row: campaigns.campaign_public(get_session(), g.config, row, today=_today()),
        201,
    )


@api.get("/campaigns/<uuid:campaign_id>")
@token_required
def get_campaign(campaign_id: uuid.UUID):
    row = campaigns.campaign_by_id(get_session(), g.tenant.id, campaign_id)
    if row is None:
        abort(404)
    return jsonify(campaigns.campaign_public(get_session(), g.config, row, today=_today()))


# ---------------------------------------------------------------- OpenAPI
BODIES = (RoadmapIn, RoadmapUpdate, MeasureIn, MeasureUpdate, MeasureDoneIn, SignIn, CampaignIn)


def openapi_schemas() -> dict[str, Any]:
    """This API's request bodies for the document's components (nested models by reference)."""
    out: dict[str, Any] = {}
    for model in BODIES:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def openapi_paths() -> dict[str, Any]:
    """This API's part of the OpenAPI document."""

    def param(name: str, where: str = "path", **schema: Any) -> dict[str, Any]:
        return {
            "name": name,
            "in": where,
            "required": where == "path",
            "schema": schema or {"type": "string"},
        }

    tenant = param("tenant")
    rid = param("roadmap_id", type="string", format="uuid")
    mid = param("measure_id", type="string", format="uuid")
    cid = param("campaign_id", type="string", format="uuid")
    err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

    def body(model: type[BaseModel]) -> dict[str, Any]:
        ref = {"$ref": f"#/components/schemas/{model.__name__}"}
        return {"required": True, "content": {"application/json": {"schema": ref}}}

    def ok(text: str) -> dict[str, Any]:
        return {"description": text, "content": {"application/json": {"schema": {"type": "object"}}}}

    fails = {
        "401": {"description": "Нет действующего токена района", **err},
        "404": {"description": "Не найдено (в том числе запись другого района)", **err},
        "422": {"description": "Данные не приняты: ошибки по полям в `fields`", **err},
    }
    locked = {"409": {"description": "Карта согласована или утверждена: изменения — новой редакцией", **err}}
    base = "/api/v1/{tenant}/roadmaps"
    one = f"{base}/{{roadmap_id}}"
    measure = f"{one}/measures/{{measure_id}}"
    return {
        base: {
            "get": {
                "summary": "Дорожные карты района",
                "parameters": [
                    tenant,
                    param("status", "query"),
                    param("kind", "query", enum=["plan", "operational"]),
                ],
                "responses": {"200": ok("Дорожные карты"), **fails},
            },
            "post": {
                "summary": "Создать план мероприятий по блоку с наибольшим приростом (plan) или открыть "
                "оперативную дорожную карту аварийной ситуации (operational; 200 — уже открыта)",
                "parameters": [tenant],
                "requestBody": body(RoadmapIn),
                "responses": {"201": ok("Создана"), "200": ok("Уже открыта"), **fails, **locked},
            },
        },
        f"{base}/proposals": {
            "get": {
                "summary": "Предложения тепловой карты: категории с наибольшим приростом за месяц или квартал",
                "parameters": [tenant, param("period", "query")],
                "responses": {"200": ok("Блоки с приростом"), **fails},
            }
        },
        one: {
            "get": {
                "summary": "Дорожная карта: сведения, люди, мероприятия, согласование, результат",
                "parameters": [tenant, rid],
                "responses": {"200": ok("Дорожная карта"), **fails},
            },
            "patch": {
                "summary": "Изменить проект дорожной карты",
                "parameters": [tenant, rid],
                "requestBody": body(RoadmapUpdate),
                "responses": {"200": ok("Изменена"), **fails, **locked},
            },
        },
        f"{one}/measures": {
            "post": {
                "summary": "Добавить мероприятие в проект",
                "parameters": [tenant, rid],
                "requestBody": body(MeasureIn),
                "responses": {"201": ok("Добавлено"), **fails, **locked},
            }
        },
        measure: {
            "patch": {
                "summary": "Изменить мероприятие проекта",
                "parameters": [tenant, rid, mid],
                "requestBody": body(MeasureUpdate),
                "responses": {"200": ok("Изменено"), **fails, **locked},
            },
            "delete": {
                "summary": "Удалить мероприятие проекта",
                "parameters": [tenant, rid, mid],
                "responses": {"204": {"description": "Удалено"}, **fails, **locked},
            },
        },
        f"{measure}/done": {
            "post": {
                "summary": "Отметить мероприятие утверждённой карты выполненным (с подтверждением)",
                "parameters": [tenant, rid, mid],
                "requestBody": body(MeasureDoneIn),
                "responses": {"200": ok("Отмечено"), **fails, **locked},
            }
        },
        f"{one}/agree": {
            "post": {
                "summary": "«СОГЛАСОВАНО» (где район его предусматривает)",
                "parameters": [tenant, rid],
                "requestBody": body(SignIn),
                "responses": {"200": ok("Согласована"), **fails, **locked},
            }
        },
        f"{one}/approve": {
            "post": {
                "summary": "«УТВЕРЖДАЮ»: после этого карта только для чтения",
                "parameters": [tenant, rid],
                "requestBody": body(SignIn),
                "responses": {"200": ok("Утверждена"), **fails, **locked},
            }
        },
        f"{one}/versions": {
            "post": {
                "summary": "Новая редакция согласованной или утверждённой карты (проект, связанный с ней)",
                "parameters": [tenant, rid],
                "responses": {"201": ok("Новая редакция"), **fails, **locked},
            }
        },
        f"{one}/document.{{fmt}}": {
            "get": {
                "summary": "Дорожная карта по форме приложения к Регламенту: DOCX или PDF",
                "parameters": [tenant, rid, param("fmt", enum=["docx", "pdf"])],
                "responses": {
                    "200": {"description": "Файл с русским именем (Content-Disposition)"},
                    "503": {"description": "Нет шрифта для PDF (настройка REPORT_FONT)", **err},
                    **fails,
                },
            }
        },
        "/api/v1/{tenant}/campaigns": {
            "get": {
                "summary": "Информационные кампании района (Конд Регламент п.4.2) с их влиянием на число сообщений",
                "parameters": [tenant, param("block", "query")],
                "responses": {"200": ok("Кампании"), **fails},
            },
            "post": {
                "summary": "Записать информационную кампанию",
                "parameters": [tenant],
                "requestBody": body(CampaignIn),
                "responses": {"201": ok("Записана"), **fails},
            },
        },
        "/api/v1/{tenant}/campaigns/{campaign_id}": {
            "get": {
                "summary": "Информационная кампания и её результат",
                "parameters": [tenant, cid],
                "responses": {"200": ok("Кампания"), **fails},
            }
        },
    }
