"""The message lifecycle as a table: which status may follow which, and by what action.

new → classified → assigned → in progress → answered (preliminary / final) → resolved / closed;
reopened when the citizen is dissatisfied; forwarded (not our competence, 59-ФЗ ст. 8 ч. 3);
duplicate / merged; long_term — the registry of problems not solvable within 6 months or
without legal ground (Ханты-Мансийский Регламент п.4.2.8). Nothing is ever deleted.
"""

from __future__ import annotations

OPEN = {"new", "classified", "assigned", "in_progress", "answered_preliminary", "reopened"}
DONE = {"answered", "resolved", "closed", "forwarded", "duplicate", "long_term"}

# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "classify": (frozenset({"new", "classified", "assigned", "in_progress", "reopened"}), "classified"),
    "assign": (frozenset({"new", "classified", "assigned", "in_progress", "reopened"}), "assigned"),
    "start": (frozenset({"assigned", "reopened"}), "in_progress"),
    "answer_preliminary": (
        frozenset({"assigned", "in_progress", "reopened", "answered_preliminary"}),
        "answered_preliminary",
    ),
    "answer": (frozenset({"assigned", "in_progress", "reopened", "answered_preliminary"}), "answered"),
    "resolve": (frozenset({"answered"}), "resolved"),
    "close": (frozenset({"answered", "resolved"}), "closed"),
    "reopen": (frozenset({"answered", "resolved", "closed"}), "reopened"),
    "forward": (frozenset(OPEN), "forwarded"),
    "mark_duplicate": (frozenset(OPEN), "duplicate"),
    "register_long_term": (frozenset(OPEN | {"answered"}), "long_term"),
}

STATUS_NAMES = {
    "new": "новое (на сортировке)",
    "classified": "классифицировано",
    "assigned": "назначен исполнитель",
    "in_progress": "в работе",
    "answered_preliminary": "дан промежуточный ответ",
    "answered": "дан ответ",
    "resolved": "решено",
    "closed": "закрыто",
    "reopened": "возобновлено",
    "forwarded": "перенаправлено по компетенции",
    "duplicate": "дубликат",
    "long_term": "в реестре нерешаемых в срок до 6 месяцев",
}


class TransitionError(ValueError):
    """An action not allowed from the message's current status."""


def next_status(current: str, action: str) -> str:
    if action not in TRANSITIONS:
        raise TransitionError(f"неизвестное действие «{action}»")
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise TransitionError(
            f"действие «{action}» невозможно для сообщения в статусе «{STATUS_NAMES.get(current, current)}»"
        )
    return target
