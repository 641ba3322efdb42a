"""While the database cannot be reached the platform answers 503 with Retry-After (JSON for the
API and Open311, a page otherwise), /readyz says why and /healthz still answers; a real fault
behind an OperationalError stays a 500."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from mcu.app import create_app
from mcu.web.unavailable import RETRY_AFTER_SECONDS

# Nothing listens on port 1: the connection is refused at once.
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/mcu?connect_timeout=2"


@pytest.fixture
def down_client(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": UNREACHABLE, "INSTANCE_DIR": str(tmp_path)})
    yield app.test_client()
    app.extensions["mcu.engine"].dispose()


def _unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_api_route_answers_503_json_and_logs_one_line_with_the_request_id(down_client, caplog):
    with caplog.at_level(logging.WARNING, logger="mcu.web.unavailable"):
        response = down_client.get("/api/v1/kondinsky/messages", headers={"X-Request-ID": "db-down-1"})
    _unavailable(response)
    assert response.headers["X-Request-ID"] == "db-down-1"
    assert response.json["status"] == 503
    assert "База данных временно недоступна" in response.json["detail"]
    lines = [r for r in caplog.records if r.name == "mcu.web.unavailable"]
    assert len(lines) == 1 and lines[0].request_id == "db-down-1"
    assert "/api/v1/kondinsky/messages" in lines[0].getMessage() and lines[0].exc_info is None


def test_post_to_the_api_answers_503_too(down_client):
    response = down_client.post(
        "/api/v1/kondinsky/messages", json={"channel": "pos", "text": "Яма на дороге"}
    )
    _unavailable(response)


def test_open311_answers_503_in_its_error_format(down_client):
    response = down_client.get("/open311/v2/services.json?jurisdiction_id=kondinsky")
    _unavailable(response)
    assert response.json[0]["code"] == 503
    assert "недоступна" in response.json[0]["description"]


def test_web_page_answers_503_html(down_client):
    response = down_client.get("/")
    _unavailable(response)
    assert response.mimetype == "text/html"
    assert "Сервис временно недоступен" in response.get_data(as_text=True)


def test_readyz_reports_the_database_and_healthz_stays_up(down_client):
    ready = down_client.get("/readyz")
    _unavailable(ready)
    assert ready.json == {
        "status": "not ready",
        "reason": "database unavailable",
        "detail": ready.json["detail"],
    }
    assert down_client.get("/healthz").status_code == 200


def _raising_app(make_app, error: BaseException):
    app = make_app()

    @app.get("/api/v1/boom")
    def boom():
        raise error

    return app.test_client()


def test_locked_sqlite_database_is_unavailable_but_a_missing_table_is_a_fault(make_app):
    locked = OperationalError("select 1", {}, sqlite3.OperationalError("database is locked"))
    _unavailable(_raising_app(make_app, locked).get("/api/v1/boom"))
    missing = OperationalError("select 1", {}, sqlite3.OperationalError("no such table: nothing"))
    with pytest.raises(OperationalError):  # TESTING propagates what would be a 500
        _raising_app(make_app, missing).get("/api/v1/boom")


def test_reachable_database_is_ready(loaded_app):
    response = loaded_app.test_client().get("/readyz")
    assert response.status_code == 200 and "Retry-After" not in response.headers
