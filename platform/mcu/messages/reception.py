"""The district site's virtual reception (виртуальная приёмная): a public form per tenant, and
the citizen's rating page reached by a signed link.

The form feeds `receive_message` on the tenant's `site_reception` channel, like any other
channel. What it adds is what a public HTML form needs:

- CSRF: a per-session token (Flask's signed session cookie) in a hidden field, checked on POST;
- a submission id: a random UUID put in a hidden field when the form is shown and used as the
  message's external id, so a double submit (back + resubmit, a double click) finds the record
  the first submit made instead of registering a second обращение;
- a honeypot field hidden from people: a bot that fills it is told "accepted" and nothing is
  stored;
- errors re-render the form with everything the citizen typed, messages next to the fields.

Rating: `rating_url` signs (tenant slug, message id) with the app's secret; the link is valid for
60 days. A citizen may rate again while the message stays answered — every rating is an event and
the message keeps the latest. A poor rating reopens the message (`ops.rate`); once it is answered
anew, the same link rates the new answer.

The executor (position) is never shown on these public pages.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import abort, current_app, g, has_request_context, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from mcu.auth.web import public
from mcu.db import get_session
from mcu.messages import lifecycle
from mcu.messages import operations as ops
from mcu.messages.models import Message
from mcu.messages.queries import message_by_id, message_public
from mcu.messages.schemas import MAX_TEXT, MessageIn, field_errors
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig
from mcu.web.csrf import csrf_ok
from mcu.web.tenant_scope import tenant_blueprint

log = logging.getLogger(__name__)

pages = tenant_blueprint("reception", __name__, "/t/<tenant>", template_folder="templates")

RATING_SALT = "mcu-rating"
RATING_MAX_AGE = 60 * 24 * 3600  # seconds: the link in the answer stays usable for 60 days
MAX_RATING_COMMENT = 2000
# 20 000 Cyrillic characters are ~120 KB url-encoded; the rest of the form is small.
MAX_FORM_BODY = 512 * 1024

HONEYPOT = "homepage"
# Namespaced so that a crafted form cannot name an external id an integration (a CMS posting to
# the API on the same channel) gave its own record, and so get that record shown back.
SUBMISSION_PREFIX = "site-form:"
FORM_ACTOR = "citizen:site-reception-form"
RATING_ACTOR = "citizen:rating-link"

INTERNAL_CHANNEL_KINDS = frozenset({"sed"})

# ops.rate accepts exactly the statuses a poor rating can reopen from.
RATEABLE = lifecycle.TRANSITIONS["reopen"][0]

FORM_FIELDS = ("full_name", "email", "postal_address", "phone", "block", "address", "settlement", "text")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# MessageIn error path → the form field the message is shown next to.
_FIELD_OF = {
    "citizen.full_name": "full_name",
    "citizen.email": "email",
    "citizen.postal_address": "postal_address",
    "citizen.phone": "phone",
    "text": "text",
    "address": "address",
    "settlement": "settlement",
    "block": "block",
}


# ---------------------------------------------------------------- form protections
def _bad_request() -> tuple[str, int]:
    """The form did not come from our page in this browser session (or the session ended)."""
    return render_template("messages/bad_request.html", district=g.config, back=request.path), 400


def _not_found() -> Response:
    return Response(render_template("messages/link_not_found.html", district=g.config), status=404)


def _local(config: TenantConfig, moment: datetime | None) -> str | None:
    return moment.astimezone(config.tz).strftime("%d.%m.%Y %H:%M") if moment else None


# ---------------------------------------------------------------- the reception form
def _channels_open_today(config: TenantConfig) -> list[dict[str, Any]]:
    today = utcnow().astimezone(config.tz).date().isoformat()
    return [
        c
        for c in config.channels.values()
        if c.get("valid_from", "0000-01-01") <= today <= c.get("valid_to", "9999-12-31")
    ]


def reception_channel(config: TenantConfig) -> dict[str, Any] | None:
    """The tenant's site-reception channel that accepts messages today, if any."""
    return next((c for c in _channels_open_today(config) if c["kind"] == "site_reception"), None)


def _public_channels(config: TenantConfig) -> list[dict[str, Any]]:
    """Channels a resident can use today: the СЭД is the administration's own document flow."""
    return [c for c in _channels_open_today(config) if c["kind"] not in INTERNAL_CHANNEL_KINDS]


def _form_values(form: MultiDict[str, str]) -> dict[str, str]:
    values = {name: form.get(name, "").strip() for name in FORM_FIELDS}
    # Browsers submit a textarea's line breaks as CRLF; count them as one character, as the
    # textarea's maxlength did, so a text the browser allowed is not rejected as too long.
    values["text"] = values["text"].replace("\r\n", "\n")
    values["consent"] = "yes" if form.get("consent") == "yes" else ""
    return values


def parse_reception_form(
    values: dict[str, str], config: TenantConfig, channel_id: str, submission_id: str
) -> tuple[MessageIn | None, dict[str, list[str]]]:
    """The form's values as a MessageIn, or the errors to show next to each field."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not values["full_name"]:
        error(
            "full_name",
            "Укажите фамилию, имя и отчество: на обращение без фамилии ответ не даётся (59-ФЗ, ст. 11).",
        )
    if not values["email"] and not values["postal_address"]:
        error(
            "contact",
            "Укажите адрес электронной почты или почтовый адрес: без адреса ответ направить некуда (59-ФЗ, ст. 11).",
        )
    if values["email"] and not _EMAIL.fullmatch(values["email"]):
        error("email", "Проверьте адрес электронной почты: он должен выглядеть как name@example.ru.")
    if not values["text"]:
        error("text", "Напишите текст обращения.")
    if values["block"] and values["block"] not in config.blocks:
        error("block", "Выберите тему из списка.")
    if values["settlement"] and values["settlement"] not in config.settlements:
        error("settlement", "Выберите поселение из списка.")
    if not values["consent"]:
        error(
            "consent",
            "Без согласия на обработку персональных данных обращение не может быть принято (152-ФЗ).",
        )

    def given(name: str) -> str | None:
        return values[name] or None

    try:
        data = MessageIn.model_validate(
            {
                "channel": channel_id,
                "external_id": SUBMISSION_PREFIX + submission_id,
                "text": values["text"],
                "address": given("address"),
                "settlement": given("settlement"),
                "block": given("block"),
                "citizen": {
                    "full_name": given("full_name"),
                    "email": given("email"),
                    "postal_address": given("postal_address"),
                    "phone": given("phone"),
                },
            }
        )
    except ValidationError as exc:
        for path, messages in field_errors(exc).items():
            field = _FIELD_OF.get(path, "form")
            if field not in errors:  # the form's own, plainer message wins
                errors[field] = messages
        return None, errors
    return (None, errors) if errors else (data, errors)


def _valid_submission_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _render_form(
    channel: dict[str, Any], values: dict[str, str], errors: dict[str, list[str]], submission_id: str
) -> str:
    config = g.config
    return render_template(
        "messages/reception_form.html",
        district=config,
        channel=channel,
        values=values,
        errors=errors,
        submission_id=submission_id,
        honeypot=HONEYPOT,
        max_text=MAX_TEXT,
        blocks=list(config.blocks.values()),
        settlements=list(config.settlements.values()),
    )


def _receipt(message: Message, values: dict[str, str], created: bool) -> dict[str, Any]:
    """What the citizen is shown: no executor, no internal classification details."""
    public = message_public(get_session(), g.config, message)
    return {
        "number": message.number,
        "registered_at": _local(g.config, message.registered_at or message.received_at),
        "due_at": _local(g.config, message.due_at),
        "due_explanation": public["due_explanation"],
        "block": public["block"]["name"] if public["block"] else None,
        "text": message.text,
        "email": values["email"],
        "postal_address": values["postal_address"],
        "created": created,
    }


@pages.get("/reception")
@public
def reception_form():
    channel = reception_channel(g.config)
    if channel is None:
        return render_template(
            "messages/reception_unavailable.html", district=g.config, channels=_public_channels(g.config)
        )
    return _render_form(channel, values={}, errors={}, submission_id=str(uuid.uuid4()))


@pages.post("/reception")
@public
def reception_submit():
    channel = reception_channel(g.config)
    if channel is None:
        abort(404)
    request.max_content_length = MAX_FORM_BODY
    submission_id = request.form.get("submission_id", "")
    if not csrf_ok() or not _valid_submission_id(submission_id):
        return _bad_request()
    values = _form_values(request.form)
    if request.form.get(HONEYPOT):
        log.info("reception form of %s: honeypot filled, nothing stored", g.tenant.slug)
        return render_template("messages/reception_received.html", district=g.config, receipt=None)
    data, errors = parse_reception_form(values, g.config, channel["id"], submission_id)
    if data is not None:
        try:
            result = ops.receive_message(session=get_session(), config=g.config, data=data, actor=FORM_ACTOR)
        except ops.IntakeError as exc:
            errors = {_FIELD_OF.get(exc.field, "form"): [str(exc)]}
    if errors:
        return _render_form(channel, values, errors, submission_id)
    get_session().commit()
    return render_template(
        "messages/reception_received.html",
        district=g.config,
        receipt=_receipt(result.message, values, result.created),
    )


# ---------------------------------------------------------------- the rating link
def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RATING_SALT)


def rating_url(tenant_slug: str, message_id: uuid.UUID | str) -> str:
    """The citizen's link to rate the answer: /t/<tenant>/rate/<token>, signed, valid 60 days.

    A path: whoever sends it (the answer e-mail) prefixes the site's address.
    """
    token = _serializer().dumps({"tenant": tenant_slug, "message": str(message_id)})
    if has_request_context():  # respects the mount point (SCRIPT_NAME)
        return url_for("reception.rate_form", tenant=tenant_slug, token=token)
    return f"/t/{quote(tenant_slug, safe='')}/rate/{token}"


def _rated_message(token: str) -> Message:
    """The message a rating link names; a bad, expired or other tenant's link is a 404."""
    try:
        payload = _serializer().loads(token, max_age=RATING_MAX_AGE)
        message_id = uuid.UUID(str(payload["message"]))
        slug = payload["tenant"]
    except (BadSignature, KeyError, TypeError, ValueError):
        abort(_not_found())
    if slug != g.tenant.slug:
        abort(_not_found())
    message = message_by_id(get_session(), g.tenant.id, message_id)
    if message is None:
        abort(_not_found())
    return message


def _render_rating(message: Message, values: dict[str, str], errors: dict[str, list[str]]) -> str:
    if message.status not in RATEABLE:
        return render_template(
            "messages/rate_not_yet.html",
            district=g.config,
            number=message.number,
            received_at=_local(g.config, message.received_at),
        )
    return render_template(
        "messages/rate_form.html",
        district=g.config,
        number=message.number,
        received_at=_local(g.config, message.received_at),
        answered_at=_local(g.config, message.answered_at),
        previous=message.rating,
        values=values,
        errors=errors,
        max_comment=MAX_RATING_COMMENT,
    )


def parse_rating_form(form: MultiDict[str, str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    values = {
        "score": form.get("score", "").strip(),
        "comment": form.get("comment", "").strip().replace("\r\n", "\n"),
    }
    errors: dict[str, list[str]] = {}
    if values["score"] not in {"1", "2", "3", "4", "5"}:
        errors["score"] = ["Выберите оценку от 1 до 5."]
    if len(values["comment"]) > MAX_RATING_COMMENT:
        errors["comment"] = [f"Комментарий длиннее {MAX_RATING_COMMENT} знаков: сократите его."]
    return values, errors


@pages.get("/rate/<token>")
@public
def rate_form(token: str):
    return _render_rating(_rated_message(token), values={}, errors={})


@pages.post("/rate/<token>")
@public
def rate_submit(token: str):
    message = _rated_message(token)
    if not csrf_ok():
        return _bad_request()
    values, errors = parse_rating_form(request.form)
    if errors or message.status not in RATEABLE:
        return _render_rating(message, values, errors)
    try:
        reopened = ops.rate(
            session=get_session(),
            config=g.config,
            message=message,
            score=int(values["score"]),
            comment=values["comment"] or None,
            actor=RATING_ACTOR,
        )
    except ops.IntakeError as exc:
        return _render_rating(message, values, {"score": [str(exc)]})
    get_session().commit()
    return render_template(
        "messages/rate_done.html",
        district=g.config,
        number=message.number,
        score=int(values["score"]),
        reopened=reopened,
    )
