"""Russian names of the event kinds shown in a message's timeline."""

from __future__ import annotations

from mcu.messages.actions import ACTION_NAMES

EVENT_NAMES = {
    "received": "Поступило",
    "registered": "Зарегистрировано",
    "threat_detected": "Признаки угрозы жизни и здоровью",
    "classified": "Классифицировано автоматически",
    "sent_to_triage": "Направлено на сортировку (низкая уверенность классификации)",
    "deadline_set": "Установлен срок",
    "routed": "Доставлено исполнителю автоматически",
    "assigned": "Назначен исполнитель",
    "routing_failed": "Исполнитель не определён",
    "extended": "Срок продлён",
    "citizen_notified": "Заявитель уведомлён",
    "executor_refused": "Исполнитель отказался",
    "rated": "Оценка заявителя",
    "control_recorded": "Контроль исполнения",
    "escalation": "Эскалация",
    "notify": "Уведомление",
    "timer_fired": "Истёк срок",
    "forwarded": "Переадресовано",
}


def event_name(kind: str) -> str:
    return EVENT_NAMES.get(kind) or ACTION_NAMES.get(kind) or kind
