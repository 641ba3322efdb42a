"""Lifecycle actions on a message as staff and machines ask for them — one vocabulary for the JSON
API and the web card, so both validate and act the same way."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from mcu.messages import operations as ops
from mcu.messages.models import Message
from mcu.messages.queries import message_by_id
from mcu.tenancy.config import TenantConfig

# What district staff call each action (the card's buttons, the audit log).
ACTION_NAMES = {
    "classify": "Классифицировать (отраслевой блок)",
    "assign": "Назначить исполнителя",
    "start": "Взять в работу",
    "answer_preliminary": "Промежуточный ответ",
    "answer": "Ответить по существу",
    "extend": "Продлить срок (59-ФЗ ст. 12 ч. 2)",
    "forward": "Переадресовать по компетенции",
    "mark_duplicate": "Объединить с исходным (дубликат)",
    "register_long_term": "Внести в реестр долгосрочных",
    "refuse": "Отказаться (не мой вопрос)",
    "record_control": "Контроль исполнения (фото, видео, ГЛОНАСС)",
    "resolve": "Решено",
    "close": "Закрыть",
    "reopen": "Вернуть в работу",
}


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: str = Field(
        pattern="^(classify|assign|start|answer|answer_preliminary|close|resolve|extend|forward|mark_duplicate|register_long_term|reopen|refuse|record_control)$"
    )
    reason: str = Field(default="", max_length=2000)
    block: str | None = None
    position: str | None = None
    text: str | None = Field(default=None, max_length=20_000)
    days: int | None = None
    to_body: str | None = Field(default=None, max_length=500)
    original: uuid.UUID | None = None
    ground: str | None = Field(
        default=None, description="Основание внесения в реестр: over_6_months или no_legal_ground"
    )
    control: str | None = Field(default=None, description="Вид контроля решения: photo, video или glonass")
    reference: str | None = Field(default=None, max_length=1000, description="Ссылка на фото, видео или трек")


def apply_action(
    session: Session, config: TenantConfig, action: ActionIn, message: Message, actor: str
) -> None:
    """Do one lifecycle action on a message; raises IntakeError (a field is wrong) or
    TransitionError (the status does not allow it). The caller commits."""
    need = {
        "classify": "block",
        "assign": "position",
        "answer": "text",
        "answer_preliminary": "text",
        "extend": "days",
        "forward": "to_body",
        "mark_duplicate": "original",
        "record_control": "control",
    }
    field = need.get(action.action)
    if field and getattr(action, field) in (None, ""):
        raise ops.IntakeError(field, "обязательное поле для этого действия")
    if action.action == "classify":
        ops.reclassify(
            session=session,
            config=config,
            message=message,
            block_id=action.block,
            actor=actor,
            reason=action.reason or "переклассификация",
        )
    elif action.action == "assign":
        ops.assign(
            session=session,
            config=config,
            message=message,
            position_id=action.position,
            actor=actor,
            reason=action.reason or "назначение исполнителя",
        )
    elif action.action in ("answer", "answer_preliminary"):
        ops.answer(
            session=session, message=message, text=action.text, final=action.action == "answer", actor=actor
        )
    elif action.action == "extend":
        ops.extend(
            session=session,
            config=config,
            message=message,
            days=action.days,
            actor=actor,
            reason=action.reason or "продление срока",
        )
    elif action.action == "forward":
        ops.forward(
            session=session,
            config=config,
            message=message,
            to_body=action.to_body,
            actor=actor,
            reason=action.reason or "не относится к компетенции",
        )
    elif action.action == "mark_duplicate":
        original = message_by_id(session, message.tenant_id, action.original)
        if original is None:
            raise ops.IntakeError("original", "исходное сообщение не найдено в этом районе")
        ops.mark_duplicate(session=session, message=message, original=original, actor=actor)
    elif action.action == "register_long_term":
        ops.register_long_term(
            session=session,
            config=config,
            message=message,
            ground=action.ground or "",
            actor=actor,
            reason=action.reason,
        )
    elif action.action == "start":
        ops.start(session=session, message=message, actor=actor, reason=action.reason or None)
    elif action.action == "refuse":
        ops.refuse(session=session, config=config, message=message, actor=actor, reason=action.reason)
    elif action.action == "record_control":
        ops.record_control(
            session=session,
            message=message,
            kind=action.control,
            reference=action.reference or "",
            actor=actor,
        )
    else:
        ops.transition(session, message, action.action, actor=actor, reason=action.reason)
