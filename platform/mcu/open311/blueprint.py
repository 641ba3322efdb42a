"""Open311 GeoReport v2 endpoints under /open311/v2/ (jurisdiction_id = tenant slug).

JSON only: a `.xml` resource is a 400 that says so. Every error is a GeoReport error array
`[{"code": …, "description": …}]`, also for unknown paths and methods under the prefix.

- GET discovery.json, services.json, services/<code>.json — public.
- POST requests.json — form-encoded (as the spec says) or JSON; `api_key` must be a token of the
  jurisdiction's tenant (403 otherwise). The message goes in on the token's channel, else on the
  tenant's site-reception channel, with the block the app chose (service_code).
- GET requests.json, requests/<id>.json — public, so they show only requests submitted through
  Open311 and never the citizen's personal data (see queries.py and georeport.py).
- GET tokens/<token>.json — 404: requests get their id at once, we never hand out tokens.

GeoReport has no client id for a request, so a repeated POST is a new request: each one gets a
fresh external id (which also marks it as an Open311 request).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from mcu.auth.api import authenticated_token, presented_token
from mcu.auth.models import ApiToken
from mcu.db import get_session
from mcu.ids import uuid7
from mcu.messages import operations as ops
from mcu.messages.reception import reception_channel
from mcu.open311 import georeport as geo
from mcu.open311 import queries
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.queries import current_config, tenant_by_slug

log = logging.getLogger(__name__)

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

# A description is at most 20 000 characters: ~120 KB form-encoded in Cyrillic.
MAX_REQUEST_BODY = 512 * 1024


def _render(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


@bp.errorhandler(geo.Open311Error)
def _open311_error(exc: geo.Open311Error) -> Response:
    return _render(exc.body(), exc.code)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    response = _render([{"code": exc.code, "description": exc.description or exc.name}], exc.code or 500)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


# ---------------------------------------------------------------- request parsing
def _json_only(fmt: str) -> None:
    if fmt == "xml":
        raise geo.Open311Error(
            400, "Формат XML не поддерживается, используйте .json (XML format is not supported, use .json)"
        )
    if fmt != "json":
        raise geo.Open311Error(400, f"формат «{fmt}» не поддерживается, используйте .json")


def _params() -> dict[str, Any]:
    """Query string and body (form or JSON) as one dict; the body wins."""
    params: dict[str, Any] = request.args.to_dict()
    if request.method != "POST":
        return params
    if request.content_length and request.content_length > MAX_REQUEST_BODY:
        raise geo.Open311Error(413, f"тело запроса больше {MAX_REQUEST_BODY // 1024} КБ")
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise geo.Open311Error(400, "ожидается JSON-объект в кодировке UTF-8")
        params.update(body)
    else:
        params.update(request.form.to_dict())
    return params


def _jurisdiction(params: dict[str, Any]) -> TenantConfig:
    slug = params.get("jurisdiction_id")
    if not isinstance(slug, str) or not slug.strip():
        raise geo.Open311Error(
            400, "jurisdiction_id: обязательный параметр — код района (список: /api/v1/tenants)"
        )
    session = get_session()
    tenant = tenant_by_slug(session, slug.strip())
    config = current_config(session, tenant) if tenant else None
    if config is None:
        raise geo.Open311Error(404, f"район «{slug}» не найден (список: /api/v1/tenants)")
    return config


def _api_token(config: TenantConfig, params: dict[str, Any]) -> ApiToken:
    plain = params.get("api_key") or presented_token()
    if not plain:
        raise geo.Open311Error(
            403, f"нужен api_key района {config.slug} (mcu tokens create --tenant {config.slug})"
        )
    token = authenticated_token(config.tenant_id, str(plain))
    if token is None:
        raise geo.Open311Error(403, f"api_key недействителен для района {config.slug}")
    return token


def _channel(config: TenantConfig, token: ApiToken) -> str:
    if token.channel_id:
        return token.channel_id
    channel = reception_channel(config)
    if channel is None:
        raise geo.Open311Error(
            400,
            f"у района {config.slug} нет действующего канала «виртуальная приёмная», а у ключа не задан канал: "
            f"выпустите ключ с каналом — mcu tokens create --tenant {config.slug} --channel <id канала>",
        )
    return channel["id"]


def _public_requests(config: TenantConfig, messages: list) -> list[dict[str, Any]]:
    session, ids = get_session(), [m.id for m in messages]
    executors = queries.executors(session, config.tenant_id, ids)
    events = queries.latest_events(session, config.tenant_id, ids)
    return [
        geo.public_request(config, m, position_id=executors.get(m.id), event=events.get(m.id))
        for m in messages
    ]


# ---------------------------------------------------------------- services
@bp.get("/discovery.<fmt>")
def discovery(fmt: str):
    _json_only(fmt)
    return _render(geo.discovery(request.url_root.rstrip("/") + (bp.url_prefix or "")))


@bp.get("/services.<fmt>")
def services(fmt: str):
    _json_only(fmt)
    return _render(geo.services(_jurisdiction(_params())))


@bp.get("/services/<service_code>.<fmt>")
def service_definition(service_code: str, fmt: str):
    _json_only(fmt)
    return _render(geo.service_definition(_jurisdiction(_params()), service_code))


# ---------------------------------------------------------------- service requests
@bp.post("/requests.<fmt>")
def create_request(fmt: str):
    _json_only(fmt)
    params = _params()
    config = _jurisdiction(params)
    token = _api_token(config, params)
    data = geo.message_in(
        config,
        params,
        channel=_channel(config, token),
        external_id=f"{queries.EXTERNAL_ID_PREFIX}{uuid7()}",
    )
    try:
        result = ops.receive_message(
            session=get_session(), config=config, data=data, actor=f"token:{token.name}"
        )
    except ops.IntakeError as exc:
        raise geo.Open311Error(400, f"{exc.field}: {exc}") from None
    get_session().commit()
    message = result.message
    response = _render(
        [
            {
                "service_request_id": str(message.id),
                "service_notice": geo.service_notice(config, message),
                "account_id": None,
            }
        ],
        201 if result.created else 200,
    )
    response.headers["Location"] = url_for(
        ".get_request", request_id=str(message.id), fmt="json", jurisdiction_id=config.slug
    )
    return response


@bp.get("/requests.<fmt>")
def list_requests(fmt: str):
    _json_only(fmt)
    params = _params()
    config = _jurisdiction(params)
    wanted = geo.comma_list(params.get("service_request_id"))
    if len(wanted) > geo.MAX_REQUESTS:
        raise geo.Open311Error(400, f"service_request_id: не больше {geo.MAX_REQUESTS} номеров за запрос")
    if wanted:
        ids = {_uuid(value) for value in wanted} - {None}
        messages = queries.service_requests(get_session(), config.tenant_id, ids=ids, limit=geo.MAX_REQUESTS)
    else:
        start, end = geo.date_range(config, params.get("start_date"), params.get("end_date"), utcnow())
        messages = queries.service_requests(
            get_session(),
            config.tenant_id,
            codes=geo.comma_list(params.get("service_code")),
            statuses=geo.statuses(params.get("status")),
            start=start,
            end=end,
            limit=geo.MAX_REQUESTS,
        )
    return _render(_public_requests(config, messages))


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@bp.get("/requests/<request_id>.<fmt>")
def get_request(request_id: str, fmt: str):
    _json_only(fmt)
    config = _jurisdiction(_params())
    message_id = _uuid(request_id)
    message = queries.service_request(get_session(), config.tenant_id, message_id) if message_id else None
    if message is None:
        raise geo.Open311Error(404, f"заявка «{request_id}» не найдена в районе {config.slug}")
    return _render(_public_requests(config, [message]))


@bp.get("/tokens/<token>.<fmt>")
def get_token(token: str, fmt: str):
    _json_only(fmt)
    raise geo.Open311Error(
        404,
        "токены заявок не выдаются: POST requests.json сразу возвращает service_request_id — "
        "по нему и запрашивайте requests/<service_request_id>.json",
    )


# ---------------------------------------------------------------- anything else under the prefix
@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    # Routing errors never reach a blueprint's error handlers, so this rule catches what no other
    # Open311 rule takes — and tells a wrong method (405) from a wrong path (404).
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST"):
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != request.endpoint:
            allowed.append(method)
    if allowed:
        response = _render(
            [
                {
                    "code": 405,
                    "description": f"метод {request.method} не поддерживается (допустимо: {', '.join(allowed)})",
                }
            ],
            405,
        )
        response.headers["Allow"] = ", ".join(allowed)
        return response
    raise geo.Open311Error(404, f"ресурс Open311 «{rest}» не найден (см. /open311/v2/discovery.json)")
