"""Roadmap pages of a district's workspace: the list with the heat map's proposals, the roadmap
card with its people, causes, measures, signatures and effect, and its documents."""

from __future__ import annotations

import uuid

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from pydantic import ValidationError

from mcu.analytics import periods
from mcu.auth.web import actor, requires
from mcu.db import get_session
from mcu.messages.schemas import field_errors
from mcu.reports.render import RenderError
from mcu.roadmaps import document, operations
from mcu.roadmaps.queries import list_roadmaps, measure_of, proposals, roadmap_by_id, roadmap_public
from mcu.roadmaps.schemas import MeasureDoneIn, MeasureIn, RoadmapIn, SignIn
from mcu.web.csrf import csrf_ok
from mcu.web.tenant_scope import tenant_blueprint

pages = tenant_blueprint("roadmap_pages", __name__, "/t/<tenant>", template_folder="templates")


def _today():
    return periods.local_today(g.config.tz)


def _roadmap_or_404(roadmap_id: uuid.UUID):
    roadmap = roadmap_by_id(get_session(), g.tenant.id, roadmap_id)
    if roadmap is None:
        abort(404)
    return roadmap


@pages.get("/roadmaps")
@requires("roadmaps.view")
def list_page():
    session = get_session()
    try:
        period = periods.parse(request.args.get("period"), today=_today(), default="month")
        if period.kind not in operations.REPORTING_PERIODS:
            raise periods.PeriodError("отчётный период — месяц (2026-11) или квартал (2026-Q4)")
    except periods.PeriodError as exc:
        flash(str(exc))
        period = periods.parse(None, today=_today(), default="month")
    # The heat map proposes the month just over unless asked otherwise.
    if "period" not in request.args:
        period = period.previous()
    rows = [
        roadmap_public(session, g.config, r, today=_today(), full=False)
        for r in list_roadmaps(session, g.tenant.id)
    ]
    return render_template(
        "roadmaps/list.html",
        tenant=g.tenant,
        rows=rows,
        period=period,
        proposals=proposals(session, g.config, period),
    )


@pages.post("/roadmaps")
@requires("roadmaps.edit")
def create_page():
    if not csrf_ok():
        abort(400, description="Форма устарела: обновите страницу и повторите.")
    try:
        data = RoadmapIn.model_validate(
            {"kind": "plan", "block": request.form.get("block"), "period": request.form.get("period")}
        )
        roadmap = operations.create_plan(session=get_session(), config=g.config, data=data, actor=actor())
    except ValidationError as exc:
        flash("Не создано: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in field_errors(exc).items()))
        return redirect(url_for(".list_page"))
    except operations.RoadmapError as exc:  # RoadmapLocked is one too
        flash(f"Не создано: {exc}")
        return redirect(url_for(".list_page"))
    get_session().commit()
    flash("Дорожная карта создана: дополните первопричины и мероприятия.")
    return redirect(url_for(".card_page", roadmap_id=roadmap.id))


@pages.get("/roadmaps/<uuid:roadmap_id>")
@requires("roadmaps.view")
def card_page(roadmap_id: uuid.UUID):
    roadmap = _roadmap_or_404(roadmap_id)
    return render_template(
        "roadmaps/card.html",
        tenant=g.tenant,
        config=g.config,
        r=roadmap_public(get_session(), g.config, roadmap, today=_today()),
        positions=sorted(g.access.positions),
    )


@pages.get("/roadmaps/<uuid:roadmap_id>/document.<fmt>")
@requires("roadmaps.view")
def document_page(roadmap_id: uuid.UUID, fmt: str):
    roadmap = _roadmap_or_404(roadmap_id)
    if fmt not in ("docx", "pdf"):
        abort(404)
    doc = document.form(get_session(), g.config, roadmap, today=_today())
    try:
        data, mimetype, disposition = document.render(doc, fmt, font=current_app.config["REPORT_FONT"])
    except RenderError as exc:
        abort(503, description=str(exc))
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = disposition
    return response


ACTIONS = ("agree", "approve", "amend", "measure", "done")


@pages.post("/roadmaps/<uuid:roadmap_id>/<action>")
@requires("roadmaps.edit")
def action_page(roadmap_id: uuid.UUID, action: str):
    session = get_session()
    roadmap = _roadmap_or_404(roadmap_id)
    if action not in ACTIONS:
        abort(404)
    if not csrf_ok():
        abort(400, description="Форма устарела: обновите страницу и повторите.")
    form = request.form
    target = roadmap.id
    try:
        if action in ("agree", "approve"):
            # The signature is the logged-in person's: the position they hold that carries the role.
            sign = SignIn(position=form.get("position") or None, name=g.user.full_name)
            if sign.position is not None and sign.position not in g.access.positions:
                raise operations.RoadmapError("position", "подписать можно только от своей должности")
            step = operations.agree if action == "agree" else operations.approve
            step(session=session, config=g.config, roadmap=roadmap, data=sign, actor=actor())
        elif action == "amend":
            target = operations.amend(session=session, roadmap=roadmap, actor=actor()).id
        elif action == "measure":
            fields = (
                "title",
                "root_cause",
                "expected_result",
                "indicator",
                "executor",
                "start_date",
                "end_date",
            )
            data = MeasureIn.model_validate({k: form[k] for k in fields if form.get(k)})
            operations.add_measure(session=session, roadmap=roadmap, data=data, actor=actor())
        else:
            try:
                measure = measure_of(session, roadmap, uuid.UUID(form.get("measure", "")))
            except ValueError:
                measure = None
            if measure is None:
                abort(404)
            operations.complete_measure(
                session=session,
                config=g.config,
                roadmap=roadmap,
                measure=measure,
                data=MeasureDoneIn(evidence=form.get("evidence", "")),
                actor=actor(),
            )
    except ValidationError as exc:
        session.rollback()
        flash("Не выполнено: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in field_errors(exc).items()))
        return redirect(url_for(".card_page", roadmap_id=roadmap_id))
    except operations.RoadmapError as exc:
        session.rollback()
        flash(f"Не выполнено: {exc}")
        return redirect(url_for(".card_page", roadmap_id=roadmap_id))
    session.commit()
    flash("Сохранено.")
    return redirect(url_for(".card_page", roadmap_id=target))
