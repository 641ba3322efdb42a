"""JSON API for messages: intake, reads, lifecycle actions, the citizen's rating.

Views parse, call one operation, commit, render. Errors are JSON: 422 with field-level messages,
404 for anything of another tenant, 409 for an action the message's status does not allow,
413 for an oversized body.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, g, jsonify, request, url_for
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mcu.auth.api import token_required
from mcu.db import get_session
from mcu.messages import operations as ops
from mcu.messages import queue as intake_queue
from mcu.messages.actions import ActionIn, apply_action
from mcu.messages.lifecycle import TransitionError
from mcu.messages.queries import message_by_id, message_public, public_message, public_messages
from mcu.messages.schemas import MessageIn, field_errors
from mcu.web.tenant_scope import tenant_blueprint

api = tenant_blueprint("messages_api", __name__, "/api/v1/<tenant>")

MAX_MESSAGE_BODY = 1024 * 1024


def unprocessable(fields: dict[str, list[str]]):
    response = jsonify(error="Unprocessable Entity", status=422, detail="данные не приняты", fields=fields)
    response.status_code = 422
    return response


def json_body() -> dict[str, Any]:
    if request.content_length and request.content_length > MAX_MESSAGE_BODY:
        abort(413, description=f"тело запроса больше {MAX_MESSAGE_BODY // 1024} КБ")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="ожидается JSON-объект в кодировке UTF-8 (Content-Type: application/json)")
    return body


def _message_or_404(message_id: uuid.UUID):
    message = message_by_id(get_session(), g.tenant.id, message_id)
    if message is None:
        abort(404)
    return message


def _intake(take):
    """Parse the body into a message (the token's channel when none is named) and hand it to
    `take` (an intake operation); a 422 with field errors, or what `take` returned."""
    body = json_body()
    if "channel" not in body and g.api_token.channel_id:
        body["channel"] = g.api_token.channel_id
    try:
        data = MessageIn.model_validate(body)
        return None, take(
            session=get_session(), config=g.config, data=data, actor=f"token:{g.api_token.name}"
        )
    except ValidationError as exc:
        return unprocessable(field_errors(exc)), None
    except ops.IntakeError as exc:
        return unprocessable({exc.field: [str(exc)]}), None


@api.post("/messages")
@token_required
def create_message():
    refused, result = _intake(ops.receive_message)
    if refused:
        return refused
    get_session().commit()
    made = {"assignment": result.assignment, "deadline": result.deadline} if result.created else {}
    response = jsonify(message_public(get_session(), g.config, result.message, **made))
    response.status_code = 201 if result.created else 200
    response.headers["Location"] = url_for(".get_message", message_id=result.message.id)
    return response


@api.post("/intake")
@token_required
def queue_message():
    """The queued intake: checked now, taken through the pipeline by the worker (202)."""
    refused, accepted = _intake(intake_queue.accept)
    if refused:
        return refused
    item_id, created = accepted
    get_session().commit()
    location = url_for(".get_intake_item", item_id=item_id)
    response = jsonify(
        id=str(item_id), status="queued" if created else "accepted earlier", status_url=location
    )
    response.status_code = 202 if created else 200
    response.headers["Location"] = location
    return response


@api.get("/intake/<uuid:item_id>")
@token_required
def get_intake_item(item_id: uuid.UUID):
    item = intake_queue.item_by_id(get_session(), g.tenant.id, item_id)
    if item is None:
        abort(404)
    out = intake_queue.item_public(item)
    if item.message_id:
        out["message_url"] = url_for(".get_message", message_id=item.message_id)
    return jsonify(out)


@api.get("/messages")
@token_required
def get_messages():
    try:
        limit = min(max(int(request.args.get("limit", 50)), 1), 500)
        offset = max(int(request.args.get("offset", 0)), 0)
    except ValueError:
        return unprocessable({"limit": ["ожидается целое число"]})
    messages = public_messages(
        get_session(),
        g.config,
        status=request.args.get("status"),
        block=request.args.get("block"),
        limit=limit,
        offset=offset,
    )
    return jsonify(messages=messages, limit=limit, offset=offset)


@api.get("/messages/<uuid:message_id>")
@token_required
def get_message(message_id: uuid.UUID):
    found = public_message(get_session(), g.config, message_id)
    if found is None:
        abort(404)
    return jsonify(found)


@api.get("/messages/<uuid:message_id>/decisions")
@token_required
def get_message_decisions(message_id: uuid.UUID):
    """Every rule that fired for the message, with its decree clause, facts and actions."""
    from mcu.rules.queries import decisions_for_message, decisions_public

    message = _message_or_404(message_id)
    return jsonify(decisions=decisions_public(decisions_for_message(get_session(), message)))


@api.post("/messages/<uuid:message_id>/actions")
@token_required
def message_action(message_id: uuid.UUID):
    message = _message_or_404(message_id)
    try:
        apply_action(
            get_session(),
            g.config,
            ActionIn.model_validate(json_body()),
            message,
            actor=f"token:{g.api_token.name}",
        )
    except ValidationError as exc:
        return unprocessable(field_errors(exc))
    except ops.IntakeError as exc:
        return unprocessable({exc.field: [str(exc)]})
    except TransitionError as exc:
        return jsonify(error="Conflict", status=409, detail=str(exc)), 409
    get_session().commit()
    return jsonify(message_public(get_session(), g.config, message, with_events=True))


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


@api.post("/messages/<uuid:message_id>/rating")
@token_required
def rate_message(message_id: uuid.UUID):
    message = _message_or_404(message_id)
    try:
        rating = RatingIn.model_validate(json_body())
        reopened = ops.rate(
            session=get_session(),
            config=g.config,
            message=message,
            score=rating.score,
            comment=rating.comment,
            actor=f"token:{g.api_token.name}",
        )
    except ValidationError as exc:
        return unprocessable(field_errors(exc))
    except ops.IntakeError as exc:
        return unprocessable({exc.field: [str(exc)]})
    get_session().commit()
    return jsonify(reopened=reopened, message=message_public(get_session(), g.config, message))
