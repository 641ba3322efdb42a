"""Analytics routes: a district's dashboard, heat map, KPIs, ratings, flow and the messages behind
any figure (JSON API and pages), and the region console.

Pages show aggregates and message numbers only — no text of a message, no citizen's data — so
they need no more than the district's URL; the JSON API takes the district's token like the rest
of the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, jsonify, render_template, request

from mcu.analytics import flow, heatmap, kpi, ratings
from mcu.analytics.dashboard import dashboard
from mcu.analytics.figures import FigureError, messages_behind
from mcu.analytics.periods import PeriodError, local_today, parse
from mcu.analytics.region import console
from mcu.auth.api import token_required
from mcu.auth.web import requires, requires_region
from mcu.db import get_session
from mcu.messages.blueprint import unprocessable
from mcu.sqltypes import utcnow
from mcu.web.tenant_scope import tenant_blueprint

api = tenant_blueprint("analytics_api", __name__, "/api/v1/<tenant>/analytics")
pages = tenant_blueprint("analytics", __name__, "/t/<tenant>", template_folder="templates")
region_api = Blueprint("region_api", __name__, url_prefix="/api/v1/regions")
region_pages = Blueprint("region", __name__, url_prefix="/region", template_folder="templates")


class _BadQuery(Exception):
    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field


def _period(default: str = "year"):
    now = utcnow()
    tz = g.config.tz if "config" in g else None
    today = local_today(tz, now) if tz else now.date()
    try:
        return parse(request.args.get("period"), today=today, default=default), now
    except PeriodError as exc:
        raise _BadQuery("period", str(exc)) from exc


def _by() -> str:
    by = request.args.get("by", "executor")
    if by not in ratings.BY:
        raise _BadQuery("by", f"рейтинг строится по: {', '.join(ratings.BY)}")
    return by


def _channels() -> list[str] | None:
    """`?channel=` — one kind of channel of the district (incident_management, pos …): the figures
    of the messages that came through that system only (Некрасовский Положение п.2.5, п.2.6)."""
    kind = request.args.get("channel") or None
    if kind is None:
        return None
    kinds = sorted({c["kind"] for c in g.config.channels.values()})
    if kind not in kinds:
        raise _BadQuery("channel", f"вид канала района: {', '.join(kinds)}")
    return [kind]


def _bad_query(exc: _BadQuery, page: bool):
    if page:
        return render_template("analytics/bad_query.html", error=str(exc), tenant=g.get("tenant")), 400
    return unprocessable({exc.field: [str(exc)]})


def _rating_rows(period, now) -> list[dict[str, Any]]:
    rows = ratings.ratings(get_session(), g.config, period, by=_by(), now=now, channel_kinds=_channels())
    return [r.as_dict() for r in rows]


# ---------------------------------------------------------------- JSON API
@api.errorhandler(_BadQuery)
def _api_bad(exc: _BadQuery):
    return _bad_query(exc, page=False)


@api.get("/dashboard")
@token_required
def api_dashboard():
    period, now = _period()
    return jsonify(dashboard(get_session(), g.config, period, now=now))


@api.get("/heatmap")
@token_required
def api_heatmap():
    period, now = _period()
    kinds = _channels()
    found = heatmap.heat_map(
        get_session(), g.config, period, today=local_today(g.config.tz, now), channel_kinds=kinds
    )
    return jsonify({**found, "channel": kinds[0] if kinds else None})


@api.get("/kpi")
@token_required
def api_kpi():
    period, _now = _period()
    facts = kpi.compute(get_session(), [g.config], period)[g.config.tenant_id]
    return jsonify(period=period.about(), indicators=[f.as_dict() for f in facts])


@api.get("/ratings")
@token_required
def api_ratings():
    period, now = _period(default="month")
    return jsonify(
        period=period.about(),
        by=_by(),
        channel=request.args.get("channel"),
        rows=_rating_rows(period, now),
        method=ratings.METHOD,
    )


@api.get("/flow")
@token_required
def api_flow():
    period, now = _period(default="month")
    return jsonify(
        period=period.about(),
        **flow.flow(get_session(), g.config, period, now=now),
    )


@api.get("/messages")
@token_required
def api_messages():
    period, _now = _period()
    try:
        found = messages_behind(get_session(), g.config, period, request.args)
    except FigureError as exc:
        raise _BadQuery(exc.field, str(exc)) from exc
    return jsonify(found)


# ---------------------------------------------------------------- pages
@pages.errorhandler(_BadQuery)
def _page_bad(exc: _BadQuery):
    return _bad_query(exc, page=True)


@pages.get("/dashboard")
@requires("analytics.view")
def dashboard_page():
    period, now = _period()
    data = dashboard(get_session(), g.config, period, now=now)
    data["flow"] = flow.flow(get_session(), g.config, period, now=now)
    message_kpis = {i for i, v in kpi.catalogue(g.config).items() if v["methodology"]["counts"] == "messages"}
    return render_template(
        "analytics/dashboard.html",
        tenant=g.tenant,
        config=g.config,
        d=data,
        period=period,
        message_kpis=message_kpis,
    )


@pages.get("/ratings")
@requires("analytics.view")
def ratings_page():
    period, now = _period(default="month")
    return render_template(
        "analytics/ratings.html",
        tenant=g.tenant,
        config=g.config,
        period=period,
        by=_by(),
        channel=request.args.get("channel") or "",
        rows=_rating_rows(period, now),
        names=ratings.BY,
        method=ratings.METHOD,
    )


@pages.get("/figures")
@requires("analytics.view")
def figures_page():
    period, _now = _period()
    try:
        found = messages_behind(get_session(), g.config, period, request.args)
    except FigureError as exc:
        raise _BadQuery(exc.field, str(exc)) from exc
    return render_template("analytics/figures.html", tenant=g.tenant, config=g.config, period=period, f=found)


# ---------------------------------------------------------------- region console
def _region(region: str):
    period, now = _period()
    data = console(get_session(), region, period, now=now)
    if data is None:
        abort(404)
    return data, period


@region_api.get("/<region>/console")
def api_console(region: str):
    try:
        data, _ = _region(region)
    except _BadQuery as exc:
        return _bad_query(exc, page=False)
    return jsonify(data)


@region_pages.get("/<region>/")
@requires_region("region.console")
def console_page(region: str):
    try:
        data, period = _region(region)
    except _BadQuery as exc:
        return _bad_query(exc, page=True)
    return render_template("analytics/region.html", d=data, period=period)
