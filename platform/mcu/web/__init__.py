"""HTTP wiring: blueprints, the per-request tenant, error pages and health checks."""

from __future__ import annotations

from flask import Flask, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from mcu.auth import web as auth_web
from mcu.db import get_session
from mcu.observability import logs, metrics
from mcu.web import i18n, unavailable

JSON_PREFIXES = ("/api/",)


def init_app(app: Flask) -> None:
    from mcu.analytics import blueprint as analytics
    from mcu.emergencies import blueprint as emergencies
    from mcu.messages import blueprint as messages
    from mcu.messages import imports_api, reception
    from mcu.notifications import blueprint as notifications
    from mcu.open311 import blueprint as open311
    from mcu.participation import blueprint as participation
    from mcu.participation import pages as participation_pages
    from mcu.reports import blueprint as reports
    from mcu.roadmaps import blueprint as roadmaps
    from mcu.roadmaps import pages as roadmap_pages
    from mcu.specbook import pages as specbook
    from mcu.tenancy import blueprint as tenancy
    from mcu.workspace import pages as workspace

    logs.init_app(app)
    metrics.init_app(app)
    auth_web.init_app(app)
    i18n.init_app(app)
    unavailable.init_app(app)

    for bp in (
        tenancy.home,
        tenancy.pages,
        tenancy.api_index,
        tenancy.api,
        messages.api,
        emergencies.api,
        notifications.api,
        imports_api.api,
        reception.pages,
        open311.bp,
        participation.api,
        participation_pages.pages,
        analytics.api,
        analytics.pages,
        analytics.region_api,
        analytics.region_pages,
        reports.api,
        reports.pages,
        roadmaps.api,
        roadmap_pages.pages,
        workspace.bp,
        specbook.bp,
    ):
        app.register_blueprint(bp)
    # Bulk imports are the largest bodies; single-message endpoints set their own, smaller limit.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        session = get_session()
        try:
            session.exec(text("select 1"))
            count = session.exec(
                text("select count(*) from tenant where current_version_id is not null")
            ).one()[0]
        except SQLAlchemyError as exc:
            if not unavailable.is_database_unavailable(exc):
                raise
            # Same verdict as every other route gives while the database is away (503, Retry-After).
            unavailable.log_unavailable(exc)
            return unavailable.unavailable_response(
                jsonify(status="not ready", reason="database unavailable", detail=unavailable.MESSAGE)
            )
        if not count:
            return jsonify(status="not ready", reason="no tenant configuration loaded"), 503
        return jsonify(status="ready", tenants=count)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith(JSON_PREFIXES):
            return jsonify(error=exc.name, status=exc.code, detail=exc.description), exc.code
        return exc
