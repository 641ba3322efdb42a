"""Shared fixtures (flaskr style): `app`, `client`, `runner`, on a freshly migrated database.

The suite runs on SQLite by default. With MCU_TEST_DB=postgres (set by `make test` when the
server answers) every database test runs on a throw-away PostgreSQL database instead; the
schema is built once per session by the Alembic migrations and tables are emptied between tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import mcu.models  # noqa: F401
from mcu.app import create_app

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ON_POSTGRES = os.environ.get("MCU_TEST_DB") == "postgres"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if not ON_POSTGRES:
        yield None  # each test gets its own SQLite file (see `app`)
        return
    admin_url = make_url(os.environ["MCU_TEST_PG_URL"])
    name = f"mcu_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _pg_migrated(database_url):
    """On PostgreSQL, migrate once per session; tests then start from emptied tables."""
    if database_url is None:
        yield None
        return
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(Path(os.environ.get("TMPDIR", "/tmp")) / "mcu-test-instance"),
        }
    )
    with app.app_context():
        from mcu.migrate import upgrade

        upgrade("head")
    yield database_url
    app.extensions["mcu.engine"].dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory, _pg_migrated):
    """On SQLite, one database file migrated once per session: each test starts from a copy of it
    (a file copy instead of running every migration again; `upgrade` then finds it at head)."""
    if _pg_migrated:
        return None
    instance = tmp_path_factory.mktemp("sqlite-template")
    path = instance / "template.sqlite3"
    app = create_app({"TESTING": True, "INSTANCE_DIR": str(instance), "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        from mcu.migrate import upgrade

        upgrade("head")
    app.extensions["mcu.engine"].dispose()
    return path


@pytest.fixture
def make_app(tmp_path, _pg_migrated, _sqlite_template):
    """Build an app on a fresh, migrated database; extra settings override the defaults."""
    created = []

    def factory(**overrides):
        instance = tmp_path / f"instance{len(created)}"
        config = {
            "TESTING": True,
            "PASSWORD_HASHING": "fast",
            "INSTANCE_DIR": str(instance),
            "TENANTS_DIR": str(REPO / "tenants"),
            "RULES_DIR": str(REPO / "rules"),
        }
        if _pg_migrated:
            config["DATABASE_URL"] = _pg_migrated
        else:
            instance.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_sqlite_template, instance / "test.sqlite3")
            config["DATABASE_URL"] = f"sqlite:///{instance / 'test.sqlite3'}"
        config.update(overrides)
        app = create_app(config)
        with app.app_context():
            from mcu.migrate import upgrade

            if _pg_migrated and config["DATABASE_URL"] == _pg_migrated:
                _truncate_all(_pg_migrated)
            upgrade("head")
        created.append(app)
        return app

    yield factory
    for app in created:
        app.extensions["mcu.engine"].dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def loaded_app(app):
    """The app with the five founding tenants loaded."""
    result = app.test_cli_runner().invoke(args=["tenants", "load"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def tenant_tree(tmp_path):
    """A private copy of the small valid fixture tree (region `testreg`, district `alpha`)."""
    dest = tmp_path / "tenants"
    shutil.copytree(FIXTURES / "tenants", dest)
    return dest
