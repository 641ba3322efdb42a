"""What intake accepts: one message from any channel, validated before anything is stored.

The same model validates the JSON API, import rows, the reception form and Open311 requests
(each maps its own fields onto it), and its JSON Schema is the one published in the OpenAPI
document, so the documentation cannot drift from the check.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_TEXT = 20_000


class CitizenIn(BaseModel):
    """Personal data of the author; stored apart from the message and shown only to roles that
    need it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    full_name: str | None = Field(default=None, max_length=300, description="Фамилия, имя, отчество")
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=300)
    postal_address: str | None = Field(default=None, max_length=500, description="Почтовый адрес для ответа")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: str = Field(min_length=1, max_length=64, description="Id канала из конфигурации района")
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Id сообщения в системе-источнике; повторная отправка с тем же id возвращает уже созданную запись",
    )
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="Текст обращения или сообщения")
    subject: str | None = Field(default=None, max_length=500)
    received_at: datetime | None = Field(
        default=None,
        description="Когда поступило в источник (ISO 8601 с часовым поясом); по умолчанию — сейчас",
    )
    registered_at: datetime | None = Field(
        default=None,
        description="Дата регистрации обращения в системе-источнике (СЭД); срок ответа по 59-ФЗ считается от неё. "
        "По умолчанию — момент поступления",
    )
    address: str | None = Field(default=None, max_length=500, description="Адрес проблемы")
    settlement: str | None = Field(default=None, max_length=200, description="Поселение: id или название")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    block: str | None = Field(
        default=None,
        max_length=64,
        description="Отраслевой блок, если источник уже определил его (иначе — автоматически)",
    )
    citizen: CitizenIn | None = None

    @field_validator("received_at", "registered_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("укажите часовой пояс, например 2025-03-01T10:00:00+05:00")
        return value

    @field_validator("text")
    @classmethod
    def _no_control_chars(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("текст содержит нулевой символ")
        return value


_RU = {
    "missing": "обязательное поле",
    "string_too_short": "не может быть пустым",
    "string_too_long": "слишком длинное значение (не более {max_length} знаков)",
    "extra_forbidden": "неизвестное поле",
    "string_type": "ожидается текст",
    "float_parsing": "ожидается число",
    "float_type": "ожидается число",
    "datetime_parsing": "ожидается дата и время ISO 8601",
    "datetime_from_date_parsing": "ожидается дата и время ISO 8601",
    "datetime_type": "ожидается дата и время ISO 8601",
    "greater_than_equal": "значение должно быть не меньше {ge}",
    "less_than_equal": "значение должно быть не больше {le}",
    "model_type": "ожидается объект",
    "dict_type": "ожидается объект",
}


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Pydantic errors as {"citizen.phone": ["…"]}, in Russian."""
    out: dict[str, list[str]] = {}
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "body"
        template = _RU.get(err["type"])
        if template:
            message = template.format(**(err.get("ctx") or {}))
        else:
            message = str(err.get("ctx", {}).get("error", err["msg"])).removeprefix("Value error, ")
        out.setdefault(path, []).append(message)
    return out


__all__ = ["CitizenIn", "MessageIn", "field_errors"]
