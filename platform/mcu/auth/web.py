"""Staff log-in for the web UI, the current user of a request, and the guards on every page.

A page declares what it needs with `@requires("permission")` (or `@public`); the route × role
test reads those declarations, so a page added without one fails the suite. Inside a district a
user without any role there gets 404 (the district does not exist for them), a user lacking the
permission 403; an anonymous visitor is sent to /login.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import delete, func
from sqlmodel import select

from mcu.audit.operations import record_audit
from mcu.auth.access import Access, access_in, region_access, tenants_for
from mcu.auth.models import LoginAttempt, User
from mcu.auth.passwords import DUMMY_HASH, verify_password
from mcu.auth.permissions import _load
from mcu.db import get_session
from mcu.sqltypes import utcnow
from mcu.web.csrf import csrf_ok, csrf_token

bp = Blueprint("auth", __name__, template_folder="templates")

F = TypeVar("F", bound=Callable[..., Any])

# OWASP ASVS 2.2.1: throttle guessing. Counted in the database, so every app node sees them.
MAX_FAILURES = 5
MAX_FAILURES_PER_IP = 50
WINDOW = timedelta(minutes=15)

# All assets are served by the app itself (works with no internet), so nothing else is allowed —
# a script smuggled into a social-media post has nowhere to load from and cannot run inline.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def _stamp(user: User) -> str:
    # Changes when the password does: a reset ends every open session of the user.
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def public(view: F) -> F:
    view.public = True  # type: ignore[attr-defined]
    return view


def _login_redirect():
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _guard(permission: str, allowed: Callable[[User, dict[str, Any]], bool | None]) -> Callable[[F], F]:
    """Anonymous → the log-in form; `allowed` None → 404 (nothing there for this user), False →
    403, True → the view. The permission is declared on the view for the route × role test."""
    if permission not in matrix_ids():
        raise ValueError(f"неизвестное право {permission}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any):
            user = g.get("user")
            if user is None:
                return _login_redirect()
            verdict = allowed(user, kwargs)
            if verdict is None:
                abort(404)
            if not verdict:
                abort(403)
            return view(*args, **kwargs)

        guarded.required_permission = permission  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def requires(permission: str) -> Callable[[F], F]:
    """Guard a district page (a `tenant_blueprint` view): g.access is set for the view."""

    def in_district(user: User, _kwargs: dict[str, Any]) -> bool | None:
        g.access = access_in(get_session(), user, g.tenant)
        return None if g.access is None else g.access.can(permission)

    return _guard(permission, in_district)


def requires_region(permission: str) -> Callable[[F], F]:
    """Guard a region page (`<region>` in the URL)."""
    return _guard(
        permission, lambda user, kwargs: region_access(get_session(), user, kwargs["region"], permission)
    )


def matrix_ids() -> frozenset[str]:
    """The rights the matrix defines, for checking `requires(...)` at import — before an app
    exists, so from the default rules folder; `matrix()` (per app) is what grants."""
    from pathlib import Path

    from mcu.config import DEFAULTS

    return frozenset(_load(str(Path(DEFAULTS["RULES_DIR"]) / "access" / "permissions.yaml")).permissions)


def actor() -> str:
    user = g.get("user")
    return f"user:{user.login}" if user is not None else "anonymous"


def _client_ip() -> str:
    return (request.remote_addr or "unknown")[:64]


def _throttled(login_key: str, ip: str) -> bool:
    since = utcnow() - WINDOW
    s = get_session()
    by_login = s.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.login_key == login_key, LoginAttempt.ip == ip, LoginAttempt.at >= since)
    ).one()
    by_ip = s.exec(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.ip == ip, LoginAttempt.at >= since)
    ).one()
    return by_login >= MAX_FAILURES or by_ip >= MAX_FAILURES_PER_IP


def _record_failure(login_key: str, ip: str) -> None:
    s = get_session()
    s.exec(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - WINDOW))  # type: ignore[call-overload]
    s.add(LoginAttempt(login_key=login_key[:120], ip=ip))
    s.commit()


def safe_next(target: str | None, default: str | None = None) -> str:
    # Only paths of this site: an open redirect (after log-in, after a bulk action) is a phishing aid.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default or url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    login_key = request.form.get("login", "").strip().lower()
    ip = _client_ip()
    if not csrf_ok():
        return render_template(
            "auth/login.html", error="Форма устарела, откройте страницу входа заново.", next=""
        ), 400
    if _throttled(login_key, ip):
        return render_template(
            "auth/login.html",
            error=f"Слишком много неудачных попыток входа. Повторите через {int(WINDOW.total_seconds() // 60)} минут.",
            next="",
        ), 429
    s = get_session()
    user = s.exec(select(User).where(User.login == login_key)).first()
    password = request.form.get("password", "")
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password) and user is not None
    if not ok or not user.is_active:
        _record_failure(login_key, ip)
        return render_template(
            "auth/login.html", error="Неверный логин или пароль.", next=request.form.get("next", "")
        ), 401
    session.clear()  # a fresh session on log-in: no fixation
    session.permanent = True
    session["uid"] = str(user.id)
    session["stamp"] = _stamp(user)
    for tenant in tenants_for(s, user):
        record_audit(
            session=s,
            tenant_id=tenant.id,
            actor=f"user:{user.login}",
            action="user.login",
            object_kind="user",
            object_id=user.login,
            details={"ip": ip},
        )
    s.commit()
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
@public
def logout():
    if csrf_ok():
        session.clear()
        flash("Вы вышли из системы.")
    return redirect(url_for("auth.login"))


def _load_user() -> None:
    g.user = None
    uid = session.get("uid")
    if not uid:
        return
    import uuid

    try:
        user = get_session().get(User, uuid.UUID(uid))
    except ValueError:
        user = None
    if user is None or not user.is_active or session.get("stamp") != _stamp(user):
        session.clear()
        return
    g.user = user


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if session.get("uid") and request.endpoint != "static":
        # Pages of a logged-in user carry citizens' data: not for shared caches or the back button
        # of someone else at the same computer.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _template_globals() -> dict[str, Any]:
    access: Access | None = g.get("access")
    return {
        "current_user": g.get("user"),
        "access": access,
        "csrf_token": csrf_token,
        "can": (lambda p: access is not None and access.can(p)),
    }


def init_app(app: Flask) -> None:
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=12))
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_NAME"] = "mcu_session"
    app.before_request(_load_user)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    app.register_blueprint(bp)
