"""The application factory. Nothing is built at import time; each subsystem has `init_app`."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from mcu import cli, db, web
from mcu.config import load_config
from mcu.observability import logs


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(load_config(test_config))
    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    # Alembic announces every plugin at INFO; only its warnings are worth a district admin's eye.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("pymorphy3").setLevel(logging.WARNING)
    db.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app
