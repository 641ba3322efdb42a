"""JSON API for emergencies: list, read (messages, timers, events, decisions), close."""

from __future__ import annotations

import uuid

from flask import abort, g, jsonify, request

from mcu.auth.api import token_required
from mcu.db import get_session
from mcu.emergencies.operations import EmergencyError, close
from mcu.emergencies.queries import emergency_by_id, emergency_public, list_emergencies
from mcu.messages.blueprint import json_body, unprocessable
from mcu.web.tenant_scope import tenant_blueprint

api = tenant_blueprint("emergencies_api", __name__, "/api/v1/<tenant>")


def _emergency_or_404(emergency_id: uuid.UUID):
    emergency = emergency_by_id(get_session(), g.tenant.id, emergency_id)
    if emergency is None:
        abort(404)
    return emergency


@api.get("/emergencies")
@token_required
def get_emergencies():
    status = request.args.get("status") or None
    if status not in (None, "open", "closed"):
        return unprocessable({"status": ["open или closed"]})
    rows = list_emergencies(get_session(), g.tenant.id, status=status)
    return jsonify(emergencies=[emergency_public(get_session(), g.config, e) for e in rows])


@api.get("/emergencies/<uuid:emergency_id>")
@token_required
def get_emergency(emergency_id: uuid.UUID):
    return jsonify(emergency_public(get_session(), g.config, _emergency_or_404(emergency_id), full=True))


@api.post("/emergencies/<uuid:emergency_id>/close")
@token_required
def close_emergency(emergency_id: uuid.UUID):
    emergency = _emergency_or_404(emergency_id)
    body = json_body()
    decisions = body.get("decisions")
    if not isinstance(decisions, str):
        return unprocessable({"decisions": ["укажите принятые решения и проведённые мероприятия (текст)"]})
    try:
        close(
            session=get_session(),
            config=g.config,
            emergency=emergency,
            decisions=decisions,
            actor=f"token:{g.api_token.name}",
        )
    except EmergencyError as exc:
        if exc.field == "status":
            return jsonify(error="Conflict", status=409, detail=str(exc)), 409
        return unprocessable({exc.field: [str(exc)]})
    get_session().commit()
    return jsonify(emergency_public(get_session(), g.config, emergency, full=True))
