"""Language and formats of the UI: Russian (Flask-Babel, so other languages can be added with
message catalogues), dates and times in the district's own timezone, numbers the Russian way."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g
from flask_babel import Babel, format_date, format_datetime, format_decimal, format_percent

DEFAULT_TIMEZONE = "Europe/Moscow"


def _timezone() -> str:
    config = g.get("config")
    return config.tz.key if config is not None else DEFAULT_TIMEZONE


def local(value: datetime | str | None, fmt: str = "dd.MM.yyyy HH:mm") -> str:
    """A moment as the district reads it: its own clock (ХМАО is UTC+5, Ростов UTC+3)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(value, fmt)


def day(value: date | str | None) -> str:
    """A calendar date (no time of day, so no timezone) as дд.мм.гггг."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, "dd.MM.yyyy")


def num(value: float | int | None) -> str:
    return "—" if value is None else format_decimal(value)


def pct(value: float | None) -> str:
    return "—" if value is None else format_percent(value)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "ru")
    Babel(app, locale_selector=lambda: "ru", timezone_selector=_timezone)
    app.jinja_env.filters.update(local=local, day=day, num=num, pct=pct)
