"""Workspace pages of a district: inbox with filters and bulk actions, the message card with its
timeline and actions, the emergencies board, users and the audit log."""

from __future__ import annotations

import uuid

from flask import abort, flash, g, redirect, render_template, request, url_for
from pydantic import ValidationError

from mcu.audit.operations import record_audit
from mcu.auth.web import actor, requires, safe_next
from mcu.db import get_session
from mcu.emergencies.queries import emergency_public, list_emergencies
from mcu.messages import operations as ops
from mcu.messages.actions import ACTION_NAMES, ActionIn, apply_action
from mcu.messages.lifecycle import OPEN, STATUS_NAMES, TRANSITIONS, TransitionError
from mcu.messages.queries import (
    active_assignment,
    answer_deadline,
    events_of,
    message_by_id,
    message_by_number,
)
from mcu.messages.schemas import field_errors
from mcu.rules.queries import decisions_for_message
from mcu.sqltypes import utcnow
from mcu.web.csrf import csrf_ok
from mcu.web.tenant_scope import tenant_blueprint
from mcu.workspace.events import event_name
from mcu.workspace.personal_data import citizen_view
from mcu.workspace.queries import PAGE, InboxFilter, audit_records, inbox

bp = tenant_blueprint("staff", __name__, "/t/<tenant>", template_folder="templates")

BULK_ACTIONS = ("assign", "classify", "start")
# Actions the card offers besides the status transitions (they keep the status).
EXTRA_ACTIONS = ("extend", "refuse", "record_control")


def _require_csrf() -> None:
    if not csrf_ok():
        abort(400, description="Форма устарела: обновите страницу и повторите.")


def _message_or_404(message_id: uuid.UUID):
    message = message_by_id(get_session(), g.tenant.id, message_id)
    if message is None:
        abort(404)
    return message


def _available(message) -> list[str]:
    actions = [a for a, (allowed, _target) in TRANSITIONS.items() if message.status in allowed]
    if message.status in OPEN:
        actions += [a for a in EXTRA_ACTIONS if a != "extend" or message.regime == "appeal"]
    else:
        actions.append("record_control")
    return actions


@bp.get("/messages")
@requires("messages.view")
def inbox_page():
    f = InboxFilter.from_args(request.args)
    rows, total = inbox(get_session(), g.tenant.id, f, now=utcnow(), positions=g.access.positions)
    return render_template(
        "workspace/inbox.html",
        tenant=g.tenant,
        config=g.config,
        f=f,
        rows=rows,
        total=total,
        pages=(total + PAGE - 1) // PAGE,
        now=utcnow(),
        statuses=STATUS_NAMES,
        bulk_actions={a: ACTION_NAMES[a] for a in BULK_ACTIONS},
    )


@bp.post("/messages/bulk")
@requires("messages.work")
def bulk_action():
    _require_csrf()
    session = get_session()
    ids = request.form.getlist("ids")
    name = request.form.get("action", "")
    if name not in BULK_ACTIONS or not ids:
        flash("Выберите сообщения и действие.")
        return redirect(safe_next(request.form.get("back"), url_for(".inbox_page")))
    done, failed = 0, []
    for raw in ids:
        try:
            message = message_by_id(session, g.tenant.id, uuid.UUID(raw))
        except ValueError:
            message = None
        if message is None:
            failed.append(f"{raw[:8]}…: не найдено")
            continue
        try:
            with session.begin_nested():
                apply_action(
                    session,
                    g.config,
                    ActionIn(
                        action=name,
                        block=request.form.get("block") or None,
                        position=request.form.get("position") or None,
                        reason=request.form.get("reason", "")[:2000],
                    ),
                    message,
                    actor=actor(),
                )
                _audit_action(message, name)
            done += 1
        except (ops.IntakeError, TransitionError, ValidationError) as exc:
            failed.append(f"№ {message.number}: {exc}")
    session.commit()
    flash(f"{ACTION_NAMES[name]}: выполнено для {done} из {len(ids)}.")
    for line in failed[:20]:
        flash(line)
    return redirect(safe_next(request.form.get("back"), url_for(".inbox_page")))


def _audit_action(message, name: str) -> None:
    record_audit(
        session=get_session(),
        tenant_id=g.tenant.id,
        actor=actor(),
        action=f"message.{name}",
        object_kind="message",
        object_id=message.number,
        details={"status": message.status},
    )


@bp.get("/messages/<uuid:message_id>")
@requires("messages.view")
def message_page(message_id: uuid.UUID):
    session = get_session()
    message = _message_or_404(message_id)
    citizen = citizen_view(session, message, full=g.access.can("citizens.personal_data"), actor=actor())
    session.commit()  # the audit record of a personal-data view
    deadline = answer_deadline(session, message)
    assignment = active_assignment(session, message)
    return render_template(
        "workspace/message.html",
        tenant=g.tenant,
        config=g.config,
        m=message,
        citizen=citizen,
        deadline=deadline,
        assignment=assignment,
        events=events_of(session, message),
        decisions=decisions_for_message(session, message),
        event_name=event_name,
        statuses=STATUS_NAMES,
        actions={a: ACTION_NAMES[a] for a in _available(message)},
        now=utcnow(),
        errors=None,
    )


@bp.post("/messages/<uuid:message_id>/action")
@requires("messages.work")
def message_action(message_id: uuid.UUID):
    session = get_session()
    message = _message_or_404(message_id)
    _require_csrf()
    form = {k: v for k, v in request.form.items() if k not in ("csrf_token", "original_number") and v != ""}
    number = request.form.get("original_number", "").strip()
    if number:
        original = message_by_number(session, g.tenant.id, number)
        if original is None:
            flash(f"Сообщение № {number} не найдено в районе.")
            return redirect(url_for(".message_page", message_id=message.id))
        form["original"] = str(original.id)
    try:
        action = ActionIn.model_validate(form)
        apply_action(session, g.config, action, message, actor=actor())
        _audit_action(message, action.action)
    except ValidationError as exc:
        session.rollback()
        errors = "; ".join(f"{k}: {', '.join(v)}" for k, v in field_errors(exc).items())
        flash(f"Не выполнено: {errors}")
        return redirect(url_for(".message_page", message_id=message_id))
    except (ops.IntakeError, TransitionError) as exc:
        session.rollback()
        flash(f"Не выполнено: {exc}")
        return redirect(url_for(".message_page", message_id=message_id))
    session.commit()
    flash(f"{ACTION_NAMES.get(action.action, action.action)} — выполнено.")
    return redirect(url_for(".message_page", message_id=message_id))


@bp.get("/emergencies")
@requires("messages.view")
def emergencies_page():
    session = get_session()
    rows = [emergency_public(session, g.config, e) for e in list_emergencies(session, g.tenant.id)]
    return render_template("workspace/emergencies.html", tenant=g.tenant, rows=rows)


def _users_page(status: int = 200, **extra):
    from mcu.auth.permissions import matrix
    from mcu.auth.users import users_of_tenant

    return render_template(
        "workspace/users.html",
        tenant=g.tenant,
        config=g.config,
        rows=users_of_tenant(get_session(), g.tenant.id),
        matrix=matrix(),
        **extra,
    ), status


@bp.get("/users")
@requires("users.view")
def users_page():
    return _users_page()


@bp.post("/users")
@requires("users.manage")
def users_add():
    """A new account for this district with one role; the password is shown once, on this page."""
    from mcu.auth.passwords import WeakPassword
    from mcu.auth.users import UserError, add_user, grant

    _require_csrf()
    session = get_session()
    form = request.form
    try:
        with session.begin_nested():
            user, password = add_user(
                session, login=form.get("login", ""), full_name=form.get("full_name", "")
            )
            grant(
                session,
                user=user,
                tenant_id=g.tenant.id,
                config=g.config,
                role_id=form.get("role", ""),
                position_id=form.get("position") or None,
                actor=actor(),
            )
    except (UserError, WeakPassword) as exc:
        return _users_page(422, error=str(exc))
    session.commit()
    return _users_page(new_password=(user.login, password))


USER_OPS = ("grant", "revoke", "disable", "enable", "reset")


@bp.post("/users/<login>/<op>")
@requires("users.manage")
def users_change(login: str, op: str):
    from mcu.auth.users import (
        UserError,
        grant,
        managed_here,
        reset_password,
        revoke,
        set_active,
        tenants_of,
        user_by_login,
    )

    _require_csrf()
    session = get_session()
    user = user_by_login(session, login)
    if op not in USER_OPS or user is None or g.tenant.id not in tenants_of(session, user):
        abort(404)
    reason = managed_here(session, user, g.tenant.id)
    if reason and "platform_admin" not in g.access.kinds:
        return _users_page(403, error=f"{user.login}: {reason}")
    try:
        with session.begin_nested():
            if op == "grant":
                grant(
                    session,
                    user=user,
                    tenant_id=g.tenant.id,
                    config=g.config,
                    role_id=request.form.get("role", ""),
                    position_id=request.form.get("position") or None,
                    actor=actor(),
                )
            elif op == "revoke":
                revoke(
                    session,
                    user=user,
                    tenant_id=g.tenant.id,
                    role_id=request.form.get("role", ""),
                    actor=actor(),
                )
            elif op in ("disable", "enable"):
                set_active(session, user, active=op == "enable", actor=actor())
            else:
                password = reset_password(session, user, actor=actor())
    except UserError as exc:
        return _users_page(422, error=str(exc))
    session.commit()
    if op == "reset":
        return _users_page(new_password=(user.login, password))
    flash(f"{user.login}: изменения сохранены.")
    return redirect(url_for(".users_page"))


@bp.get("/audit")
@requires("audit.view")
def audit_page():
    rows = audit_records(
        get_session(),
        g.tenant.id,
        action=request.args.get("action") or None,
        actor=request.args.get("actor") or None,
    )
    return render_template("workspace/audit.html", tenant=g.tenant, rows=rows)
