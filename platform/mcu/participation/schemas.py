"""Input of the participation API."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

KINDS = {
    "poll": "опрос",
    "vote": "голосование",
    "discussion": "общественное обсуждение",
    "hearing": "публичные слушания",
}
# What the KPI «доля публичных слушаний, проведённых с использованием ПОС» counts.
HEARING_KINDS = ("hearing", "discussion")


class ParticipationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: str = Field(
        pattern="^(poll|vote|discussion|hearing)$", description="poll, vote, discussion или hearing"
    )
    title: str = Field(min_length=3, max_length=500, description="Тема")
    via_pos: bool = Field(description="Проведено на платформе обратной связи (ПОС)")
    block: str | None = Field(default=None, description="Id отраслевого блока")
    held_at: AwareDatetime = Field(description="Когда проведено (ISO 8601 с часовым поясом)")
    decision_taken: bool = Field(default=False, description="По итогам принято решение")
    decision: str | None = Field(default=None, max_length=5000, description="Принятое решение")


class InformedIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    informed_at: AwareDatetime = Field(description="Когда опубликована информация о реализации решения")
    link: str = Field(min_length=5, max_length=1000, description="Ссылка на публикацию в социальной сети")


__all__ = ["HEARING_KINDS", "KINDS", "InformedIn", "ParticipationIn"]
