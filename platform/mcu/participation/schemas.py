"""Input of the participation API."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

KINDS = {
    "poll": "опрос",
    "vote": "голосование",
    "discussion": "общественное обсуждение",
    "hearing": "публичные слушания",
}
# What the KPI «доля публичных слушаний, проведённых с использованием ПОС» counts.
HEARING_KINDS = ("hearing", "discussion")
# The states of an event's term (Конд Положение п.2.4.2), as staff read them.
TERM_STATES = {
    "upcoming": "предстоит",
    "running": "проводится",
    "overdue": "срок проведения истёк",
    "held": "проведено",
}


class ParticipationIn(BaseModel):
    """An event recorded when it was held (`held_at`), or entered beforehand with its term
    (`starts_on`–`ends_on`) and marked held later; the operation checks which (field by field)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: str = Field(
        pattern="^(poll|vote|discussion|hearing)$", description="poll, vote, discussion или hearing"
    )
    title: str = Field(min_length=3, max_length=500, description="Тема")
    via_pos: bool = Field(description="Проводится на платформе обратной связи (ПОС)")
    block: str | None = Field(default=None, description="Id отраслевого блока")
    starts_on: date | None = Field(default=None, description="Срок проведения: с (дата, местная)")
    ends_on: date | None = Field(default=None, description="Срок проведения: по (дата, местная)")
    held_at: AwareDatetime | None = Field(
        default=None, description="Когда проведено (ISO 8601 с часовым поясом); пусто — ещё не проведено"
    )
    decision_taken: bool = Field(default=False, description="По итогам принято решение")
    decision: str | None = Field(default=None, max_length=5000, description="Принятое решение")


class HeldIn(BaseModel):
    """A planned event has been held."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    held_at: AwareDatetime = Field(description="Когда проведено (ISO 8601 с часовым поясом)")
    decision_taken: bool = Field(default=False, description="По итогам принято решение")
    decision: str | None = Field(default=None, max_length=5000, description="Принятое решение")


class InformedIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    informed_at: AwareDatetime = Field(description="Когда опубликована информация о реализации решения")
    link: str = Field(min_length=5, max_length=1000, description="Ссылка на публикацию в социальной сети")


__all__ = ["HEARING_KINDS", "KINDS", "TERM_STATES", "HeldIn", "InformedIn", "ParticipationIn"]
