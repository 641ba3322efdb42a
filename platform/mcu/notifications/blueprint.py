"""JSON API for the inbox of a roster position (the staff UI shows the same per user)."""

from __future__ import annotations

import uuid

from flask import abort, g, jsonify, request

from mcu.auth.api import token_required
from mcu.db import get_session
from mcu.messages.blueprint import unprocessable
from mcu.notifications.models import Notification
from mcu.notifications.queries import inbox, notification_public
from mcu.sqltypes import utcnow
from mcu.web.tenant_scope import tenant_blueprint

api = tenant_blueprint("notifications_api", __name__, "/api/v1/<tenant>")


@api.get("/notifications")
@token_required
def get_notifications():
    position, role = request.args.get("position"), request.args.get("role")
    if position and position not in g.config.roster:
        return unprocessable({"position": [f"должность «{position}» отсутствует в составе района"]})
    if role and role not in g.config.roles:
        return unprocessable({"role": [f"роль «{role}» не определена в районе"]})
    if not position and not role:
        return unprocessable({"position": ["укажите должность (position) или роль (role)"]})
    rows = inbox(
        get_session(),
        g.tenant.id,
        positions=[position] if position else None,
        roles=[role] if role else None,
        unread=request.args.get("unread") in ("1", "true"),
    )
    return jsonify(notifications=[notification_public(n) for n in rows])


@api.post("/notifications/<uuid:notification_id>/read")
@token_required
def read_notification(notification_id: uuid.UUID):
    note = get_session().get(Notification, (g.tenant.id, notification_id))
    if note is None:
        abort(404)
    if note.read_at is None:
        note.read_at = utcnow()
        get_session().commit()
    return jsonify(notification_public(note))
