"""GeoReport v2 vocabulary: our blocks as services, our messages as service requests.

What maps to what, and why:

- service = отраслевой блок: service_code is the block id, service_name its name, description and
  group its topic's name, keywords the block's own lexicon lemmas. No service has attributes
  (metadata false): our intake needs only the text, the place and the block.
- service request = a message submitted through Open311. Its status is `closed` once the message
  has left the open part of the lifecycle (lifecycle.DONE: answered, resolved, closed, forwarded,
  duplicate, long_term) and `open` otherwise (including reopened after a poor rating and a
  preliminary answer). `status_notes` carries the nuance GeoReport's two statuses cannot: the
  Russian status name and the reason of the latest event — except where that reason is text
  written to or by the citizen (an answer, a rating comment), which a public feed must not show.
- expected_datetime is the answer due date, agency_responsible the routed roster position (the
  position, never the person holding it).

The public reads carry no personal data: nothing of the Citizen record, and media_url is kept in
the text (as a «Фото: …» line) rather than as a field of its own.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from mcu.messages.lifecycle import DONE, STATUS_NAMES
from mcu.messages.models import Event, Message
from mcu.messages.schemas import MessageIn, field_errors
from mcu.tenancy.config import TenantConfig

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's behaviour last changed; clients use it to notice a new version.
CHANGESET = "2026-11-23T00:00:00Z"
MAX_REQUESTS = 1000
DEFAULT_WINDOW = timedelta(days=90)  # the spec's default and largest date range

# Event kinds whose reason is text exchanged with the citizen: shown as a neutral phrase.
PRIVATE_REASONS = {
    "answer": "ответ направлен заявителю",
    "answer_preliminary": "заявителю направлен промежуточный ответ",
    "rated": "заявитель оценил ответ",
}

# MessageIn's field → the Open311 parameter the client sent, for error messages it can act on.
_PARAM_OF = {
    "text": "description",
    "latitude": "lat",
    "longitude": "long",
    "address": "address_string",
    "block": "service_code",
    "citizen.full_name": "first_name/last_name",
    "citizen.phone": "phone",
    "citizen.email": "email",
}


class Open311Error(Exception):
    """A GeoReport error response: `code` and one description per problem."""

    def __init__(self, code: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.code = code
        self.descriptions = descriptions

    def body(self) -> list[dict[str, Any]]:
        return [{"code": self.code, "description": d} for d in self.descriptions]


# ---------------------------------------------------------------- services
def discovery(endpoint_url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": "Администрация района (МЦУ); jurisdiction_id — код района из /api/v1/tenants",
        "key_service": "api_key выдаёт администратор платформы для своего района: mcu tokens create --tenant <jurisdiction_id>",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json"],
            }
        ],
    }


def _topic_name(config: TenantConfig, topic: str | None) -> str | None:
    if topic is None:
        return None
    return ((config.resolved.get("topics") or {}).get(topic) or {}).get("name", topic)


def services(config: TenantConfig) -> list[dict[str, Any]]:
    out = []
    for block in config.blocks.values():
        topic = _topic_name(config, block.get("topic"))
        lemmas = (block.get("lexicon") or {}).get("lemmas") or []
        out.append(
            {
                "service_code": block["id"],
                "service_name": block["name"],
                "description": topic,
                "metadata": False,
                "type": "realtime",
                "keywords": ", ".join(lemmas),
                "group": topic,
            }
        )
    return out


def service_definition(config: TenantConfig, service_code: str) -> dict[str, Any]:
    if service_code not in config.blocks:
        raise Open311Error(
            404, f"услуга «{service_code}» не настроена в районе {config.slug} (см. services.json)"
        )
    return {"service_code": service_code, "attributes": []}


# ---------------------------------------------------------------- POST requests
def _float(params: dict[str, Any], name: str, problems: list[str]) -> float | None:
    raw = params.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        problems.append(f"{name}: ожидается число (WGS84, десятичные градусы)")
        return None
    return value


def _text(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def message_in(config: TenantConfig, params: dict[str, Any], *, channel: str, external_id: str) -> MessageIn:
    """An Open311 POST as our intake model; every problem found is reported at once (400)."""
    problems: list[str] = []
    code = _text(params, "service_code")
    if code is None:
        problems.append("service_code: обязательный параметр (код услуги из services.json)")
    elif code not in config.blocks:
        problems.append(
            f"service_code: услуга «{code}» не настроена в районе {config.slug} (см. services.json)"
        )
    lat, lon = _float(params, "lat", problems), _float(params, "long", problems)
    address = _text(params, "address_string")
    if address is None and (lat is None or lon is None):
        problems.append("укажите место: lat и long или address_string")
    description = _text(params, "description")
    if description is None:
        problems.append("description: обязательный параметр — опишите проблему, по тексту её рассматривают")
    if problems:
        raise Open311Error(400, *problems)

    media_url = _text(params, "media_url")
    if media_url:
        description = f"{description}\n\nФото: {media_url}"
    name = " ".join(p for p in (_text(params, "last_name"), _text(params, "first_name")) if p)
    citizen = {"full_name": name or None, "email": _text(params, "email"), "phone": _text(params, "phone")}
    try:
        return MessageIn.model_validate(
            {
                "channel": channel,
                "external_id": external_id,
                "text": description,
                "address": address,
                "latitude": lat,
                "longitude": lon,
                "block": code,
                "citizen": citizen if any(citizen.values()) else None,
            }
        )
    except ValidationError as exc:
        raise Open311Error(
            400,
            *(
                f"{_PARAM_OF.get(field, field)}: {message}"
                for field, messages in field_errors(exc).items()
                for message in messages
            ),
        ) from None


# ---------------------------------------------------------------- GET requests
def _w3c(config: TenantConfig, moment: datetime | None) -> str | None:
    return moment.astimezone(config.tz).isoformat(timespec="seconds") if moment else None


def _local_date(config: TenantConfig, moment: datetime) -> str:
    return moment.astimezone(config.tz).strftime("%d.%m.%Y %H:%M")


def status(message: Message) -> str:
    return "closed" if message.status in DONE else "open"


def service_notice(config: TenantConfig, message: Message) -> str:
    kind = "Обращение" if message.regime == "appeal" else "Сообщение"
    notice = f"{kind} № {message.number} зарегистрировано {_local_date(config, message.received_at)}"
    if message.due_at is not None:
        notice += f"; срок ответа — до {_local_date(config, message.due_at)} (время района)"
    return notice


def status_notes(message: Message, event: Event | None) -> str:
    name = STATUS_NAMES.get(message.status, message.status)
    if event is None:
        return name
    reason = PRIVATE_REASONS.get(event.kind, event.reason)
    return f"{name}: {reason}" if reason else name


def public_request(
    config: TenantConfig, message: Message, *, position_id: str | None, event: Event | None
) -> dict[str, Any]:
    """One service request as GeoReport shows it — without the citizen's personal data."""
    block = config.blocks.get(message.block_id) if message.block_id else None
    position = config.roster.get(position_id) if position_id else None
    return {
        "service_request_id": str(message.id),
        "status": status(message),
        "status_notes": status_notes(message, event),
        "service_name": block["name"] if block else None,
        "service_code": message.block_id,
        "description": message.text,
        "agency_responsible": position.get("position") if position else None,
        "service_notice": service_notice(config, message),
        "requested_datetime": _w3c(config, message.received_at),
        "updated_datetime": _w3c(config, message.updated_at),
        "expected_datetime": _w3c(config, message.due_at),
        "address": message.address,
        "address_id": None,
        "zipcode": None,
        "lat": message.latitude,
        "long": message.longitude,
        "media_url": None,
    }


_OFFSET_AFTER_SPACE = re.compile(r" (\d{2}:?\d{2})$")


def parse_w3c(config: TenantConfig, name: str, raw: str, *, end: bool = False) -> datetime:
    """A W3C datetime; a bare date is the district's local day (its last moment for end_date)."""
    # An unencoded «+05:00» in a query string arrives as « 05:00».
    value = _OFFSET_AFTER_SPACE.sub(r"+\1", raw.strip())
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(
            400, f"{name}: ожидается дата и время W3C, например 2026-01-31T10:00:00+05:00"
        ) from None
    if len(value) == 10:  # a bare date
        moment = datetime.combine(moment.date(), time.max if end else time.min)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=config.tz)
    return moment


def date_range(
    config: TenantConfig, start_raw: str | None, end_raw: str | None, now: datetime
) -> tuple[datetime, datetime]:
    """The requested_datetime range: by default the latest 90 days; never wider than 90 days."""
    start = parse_w3c(config, "start_date", start_raw) if start_raw else None
    end = parse_w3c(config, "end_date", end_raw, end=True) if end_raw else None
    if start is None and end is None:
        end = now
    if start is None:
        start = end - DEFAULT_WINDOW
    if end is None:
        end = start + DEFAULT_WINDOW
    if start > end:
        raise Open311Error(400, "start_date позже end_date")
    if end - start > DEFAULT_WINDOW:
        raise Open311Error(400, "диапазон start_date–end_date не может быть больше 90 дней")
    return start, end


def comma_list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def statuses(raw: str | None) -> set[str]:
    wanted = set(comma_list(raw))
    unknown = wanted - {"open", "closed"}
    if unknown:
        raise Open311Error(400, f"status: допустимы open и closed, получено: {', '.join(sorted(unknown))}")
    return wanted
