"""Report routes: the district's reports as JSON (with the district's token, like the rest of the
API) and as pages, each with generating for a period and downloading as XLSX, CSV, PDF or JSON.

Pages follow the analytics pages: figures, message numbers, executors' positions and
explanations, no citizen's data, so the district's URL is enough to read them; generating from a
page is a form that must come from the page itself (a CSRF token in the browser session).
A report of another district is a 404 on every route.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from mcu.analytics.periods import Period, PeriodError, local_today, parse
from mcu.auth.api import token_required
from mcu.auth.web import actor, requires
from mcu.db import get_session
from mcu.messages.blueprint import unprocessable
from mcu.reports import build, queries, render, schedule
from mcu.reports.models import STATUS_NAMES, Report
from mcu.reports.operations import ReportError, configured, generate
from mcu.sqltypes import utcnow
from mcu.web.csrf import csrf_ok
from mcu.web.tenant_scope import tenant_blueprint

api = tenant_blueprint("reports_api", __name__, "/api/v1/<tenant>")
pages = tenant_blueprint("reports", __name__, "/t/<tenant>", template_folder="templates")


# ---------------------------------------------------------------- shared
def _report_or_404(report_uuid: uuid.UUID) -> Report:
    report = queries.report_by_id(get_session(), g.tenant.id, report_uuid)
    if report is None:
        abort(404)
    return report


def _spec_or_404(report_id: str) -> dict[str, Any]:
    try:
        return configured(g.config, report_id)
    except ReportError:
        abort(404)


def _period(spec: dict[str, Any], text: str | None, now) -> Period:
    if not text:
        return schedule.default_period(spec, g.config.tz, now)
    return parse(text, today=local_today(g.config.tz, now))


def _configured_public(latest: dict[str, Report], now) -> list[dict[str, Any]]:
    out = []
    for spec in g.config.data.get("reports") or []:
        last = latest.get(spec["id"])
        out.append(
            {
                "id": spec["id"],
                "kind": spec["kind"],
                "kind_name": build.KINDS[spec["kind"]],
                "name": spec["name"],
                "schedule": spec.get("schedule"),
                "schedule_text": build.schedule_text(spec.get("schedule") or {}),
                "responsible": build.responsible(g.config, spec),
                "recipient": spec.get("recipient"),
                "contents": spec.get("contents") or [],
                "basis": build.basis(g.config, spec.get("source")),
                "default_period": schedule.default_period(spec, g.config.tz, now).key,
                "latest": queries.report_public(g.config, last) if last else None,
            }
        )
    return out


def _latest(rows: list[Report]) -> dict[str, Report]:
    latest: dict[str, Report] = {}
    for r in rows:  # newest first
        latest.setdefault(r.report_id, r)
    return latest


def _export(report: Report, fmt: str) -> Response:
    if fmt not in render.FORMATS:
        abort(404)
    data = render.render(report.content, fmt, font=current_app.config["REPORT_FONT"])
    response = Response(data, mimetype=render.FORMATS[fmt])
    response.headers["Content-Disposition"] = render.content_disposition(report.content, fmt)
    return response


# ---------------------------------------------------------------- JSON API
@api.errorhandler(render.RenderError)
def _api_render_error(exc: render.RenderError):
    return jsonify(error="Service Unavailable", status=503, detail=str(exc)), 503


@api.get("/reports")
@token_required
def api_list():
    now = utcnow()
    rows = queries.list_reports(get_session(), g.tenant.id, report_id=request.args.get("report") or None)
    return jsonify(
        configured=_configured_public(_latest(rows), now),
        generated=[queries.report_public(g.config, r) for r in rows],
    )


@api.post("/reports/<report_id>/generate")
@token_required
def api_generate(report_id: str):
    spec = _spec_or_404(report_id)
    now = utcnow()
    try:
        period = _period(spec, request.args.get("period"), now)
    except PeriodError as exc:
        return unprocessable({"period": [str(exc)]})
    result = generate(
        session=get_session(),
        config=g.config,
        report_id=spec["id"],
        period=period,
        now=now,
        actor=f"token:{g.api_token.name}",
    )
    get_session().commit()
    body = queries.report_public(g.config, result.report, content=True)
    body["exports"] = {
        fmt: url_for(".api_export", report_uuid=result.report.id, fmt=fmt) for fmt in render.FORMATS
    }
    return jsonify(body), 201 if result.created else 200


@api.get("/reports/<uuid:report_uuid>")
@token_required
def api_get(report_uuid: uuid.UUID):
    report = _report_or_404(report_uuid)
    body = queries.report_public(g.config, report, content=True)
    body["exports"] = {fmt: url_for(".api_export", report_uuid=report.id, fmt=fmt) for fmt in render.FORMATS}
    return jsonify(body)


@api.get("/reports/<uuid:report_uuid>/export.<fmt>")
@token_required
def api_export(report_uuid: uuid.UUID, fmt: str):
    return _export(_report_or_404(report_uuid), fmt)


# ---------------------------------------------------------------- pages
@pages.errorhandler(render.RenderError)
def _page_render_error(exc: render.RenderError):
    return render_template("reports/error.html", tenant=g.tenant, error=str(exc)), 503


@pages.app_template_filter("report_cell")
def _report_cell(value: Any, kind: str = "text") -> str:
    return render.text(value, kind, empty="—")


@pages.get("/reports")
@requires("reports.view")
def list_page(errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status: int = 200):
    now = utcnow()
    rows = queries.list_reports(get_session(), g.tenant.id)
    return render_template(
        "reports/list.html",
        tenant=g.tenant,
        config=g.config,
        configured=_configured_public(_latest(rows), now),
        generated=[queries.report_public(g.config, r) for r in rows],
        formats=list(render.FORMATS),
        errors=errors or {},
        values=values or {},
    ), status


@pages.post("/reports/<report_id>/generate")
@requires("reports.generate")
def generate_page(report_id: str):
    spec = _spec_or_404(report_id)
    if not csrf_ok():
        return render_template(
            "reports/error.html",
            tenant=g.tenant,
            error="Форма устарела или пришла не со страницы отчётов: откройте страницу заново.",
        ), 400
    now = utcnow()
    text = (request.form.get("period") or "").strip()
    try:
        period = _period(spec, text, now)
    except PeriodError as exc:
        return list_page(errors={spec["id"]: str(exc)}, values={spec["id"]: text}, status=422)
    result = generate(
        session=get_session(), config=g.config, report_id=spec["id"], period=period, now=now, actor=actor()
    )
    get_session().commit()
    return redirect(url_for(".report_page", report_uuid=result.report.id), code=303)


@pages.get("/reports/<uuid:report_uuid>")
@requires("reports.view")
def report_page(report_uuid: uuid.UUID):
    report = _report_or_404(report_uuid)
    return render_template(
        "reports/report.html",
        tenant=g.tenant,
        report=report,
        doc=report.content,
        status_name=STATUS_NAMES.get(report.status, report.status),
        formats=list(render.FORMATS),
    )


@pages.get("/reports/<uuid:report_uuid>/export.<fmt>")
@requires("reports.view")
def export_page(report_uuid: uuid.UUID, fmt: str):
    return _export(_report_or_404(report_uuid), fmt)


def openapi_paths() -> dict[str, Any]:
    """This API's part of the OpenAPI document."""
    err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    tenant = {"name": "tenant", "in": "path", "required": True, "schema": {"type": "string"}}
    ident = {
        "name": "report_uuid",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    fails = {
        "401": {"description": "Нет действующего токена района", **err},
        "404": {"description": "Не найдено (в том числе отчёт другого района)", **err},
    }

    def ok(text: str) -> dict[str, Any]:
        return {"description": text, "content": {"application/json": {"schema": {"type": "object"}}}}

    return {
        "/api/v1/{tenant}/reports": {
            "get": {
                "summary": "Отчёты района: настроенные по постановлению и сформированные",
                "parameters": [tenant, {"name": "report", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": ok("Отчёты"), **fails},
            }
        },
        "/api/v1/{tenant}/reports/{report_id}/generate": {
            "post": {
                "summary": "Сформировать (или переформировать) отчёт за период",
                "parameters": [
                    tenant,
                    {"name": "report_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "period", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": ok("Отчёт переформирован"),
                    "201": ok("Отчёт сформирован"),
                    **fails,
                    "422": {"description": "Неверный период", **err},
                },
            }
        },
        "/api/v1/{tenant}/reports/{report_uuid}": {
            "get": {
                "summary": "Сформированный отчёт",
                "parameters": [tenant, ident],
                "responses": {"200": ok("Отчёт"), **fails},
            }
        },
        "/api/v1/{tenant}/reports/{report_uuid}/export.{fmt}": {
            "get": {
                "summary": "Выгрузка отчёта: XLSX, CSV (UTF-8, «;»), PDF или JSON",
                "parameters": [
                    tenant,
                    ident,
                    {"name": "fmt", "in": "path", "required": True, "schema": {"enum": list(render.FORMATS)}},
                ],
                "responses": {
                    "200": {"description": "Файл с русским именем (Content-Disposition)"},
                    **fails,
                    "503": {"description": "Нет шрифта для PDF (настройка REPORT_FONT)", **err},
                },
            }
        },
    }
