"""CSRF protection for the app's forms: a per-session token (Flask's signed session cookie) in a
hidden `csrf_token` field, checked on every POST of a form."""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

SESSION_KEY = "mcu_csrf"


def csrf_token() -> str:
    token = session.get(SESSION_KEY)
    if not token:
        token = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def csrf_ok() -> bool:
    expected = session.get(SESSION_KEY) or ""
    given = request.form.get("csrf_token", "")
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())
