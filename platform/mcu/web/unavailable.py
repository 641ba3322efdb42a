"""503, not 500, while the database cannot be reached: the client is told to come back
(`Retry-After`) and the log gets one line with the request id, not a traceback.

What counts as "unavailable" is narrow on purpose: a pool that has no connection to give, a
connection the driver lost, and PostgreSQL's operational errors (server down or starting up,
administrator shutdown, deadlock or serialisation failure — all worth retrying). SQLite raises
OperationalError for programming errors too ("no such table"), so there only a locked or
unopenable database file counts; anything else stays a 500 that shows its traceback.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = "База данных временно недоступна. Повторите запрос через несколько секунд."
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")


def is_database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.TimeoutError):  # the pool's: no connection within pool_timeout
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, sa_exc.OperationalError):
        return False
    if type(exc.orig).__module__.startswith("sqlite3"):
        return str(exc.orig).lower().startswith(_SQLITE_UNAVAILABLE)
    return True


def unavailable_response(body: Response | None = None) -> Response:
    """The 503 answer for the current request: `body` when the route has its own (/readyz), else
    JSON under the API prefixes (Open311's error list under /open311/), a page otherwise."""
    if body is not None:
        response = body
    elif request.path.startswith("/open311/"):
        response = jsonify([{"code": 503, "description": MESSAGE}])
    elif request.path.startswith("/api/"):
        response = jsonify(error="Service Unavailable", status=503, detail=MESSAGE)
    else:
        response = Response(render_template("errors/503.html", message=MESSAGE), mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def log_unavailable(exc: BaseException) -> None:
    cause = getattr(exc, "orig", None) or exc
    log.warning(
        "database unavailable, answered 503: %s %s: %s: %s",
        request.method,
        request.path,
        type(cause).__name__,
        str(cause).strip().splitlines()[0] if str(cause).strip() else "",
    )


def init_app(app: Flask) -> None:
    def _database_error(exc: sa_exc.SQLAlchemyError):
        if not is_database_unavailable(exc):
            raise exc  # a real fault: Flask's 500 with the traceback logged
        log_unavailable(exc)
        return unavailable_response()

    app.register_error_handler(sa_exc.DBAPIError, _database_error)
    app.register_error_handler(sa_exc.TimeoutError, _database_error)
