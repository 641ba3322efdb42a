"""Input of the roadmaps and information-campaigns API."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

KINDS = {
    "plan": "План мероприятий («дорожная карта») по снижению количества сообщений",
    "operational": "Оперативная «дорожная карта» по ликвидации ситуации, угрожающей жизни и здоровью граждан",
}
STATUS_NAMES = {
    "draft": "проект",
    "agreed": "согласована",
    "approved": "утверждена",
    "done": "выполнена",
    "superseded": "заменена новой редакцией",
    "cancelled": "отменена",
}
EFFECT_NAMES = {"fell": "снизилось", "not_fell": "не снизилось", "pending": "оценка впереди"}

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonIn(BaseModel):
    model_config = _STRICT

    name: str | None = Field(default=None, max_length=300, description="Ф.И.О.")
    position: str | None = Field(default=None, max_length=500, description="Должность")
    phone: str | None = Field(default=None, max_length=40, description="Сотовый телефон")
    email: str | None = Field(default=None, max_length=300, pattern=r"^[^@\s]+@[^@\s]+$", description="email")


class PeopleIn(BaseModel):
    model_config = _STRICT

    curator: PersonIn | None = Field(default=None, description="Ответственный куратор отраслевого блока")
    block_head: PersonIn | None = Field(
        default=None, description="Ответственный за отраслевой блок (руководитель)"
    )
    coordinator: PersonIn | None = Field(
        default=None, description="Сотрудник, осуществляющий организационную поддержку и координацию работ"
    )


class RoadmapIn(BaseModel):
    """A plan roadmap for a block and a reporting period (from the heat map), or the operational
    roadmap of an emergency."""

    model_config = _STRICT

    kind: str = Field(pattern="^(plan|operational)$", description="plan или operational")
    block: str | None = Field(default=None, description="Id отраслевого блока (для plan)")
    period: str | None = Field(
        default=None, description="Отчётный период прироста: месяц 2026-11 или квартал 2026-Q4 (для plan)"
    )
    emergency: uuid.UUID | None = Field(default=None, description="Id аварийной ситуации (для operational)")
    problem: str | None = Field(
        default=None, min_length=3, max_length=500, description="Наименование проблемы"
    )
    root_causes: str | None = Field(default=None, max_length=10000, description="Первопричины")
    period_start: date | None = Field(default=None, description="Начало действия карты")
    period_end: date | None = Field(default=None, description="Окончание действия карты")
    people: PeopleIn | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> RoadmapIn:
        if self.kind == "plan" and (not self.block or not self.period):
            raise ValueError("для плана мероприятий укажите block и period")
        if self.kind == "operational" and self.emergency is None:
            raise ValueError("для оперативной дорожной карты укажите emergency")
        return self


class RoadmapUpdate(BaseModel):
    model_config = _STRICT

    problem: str | None = Field(default=None, min_length=3, max_length=500)
    root_causes: str | None = Field(default=None, max_length=10000)
    period_start: date | None = None
    period_end: date | None = None
    people: PeopleIn | None = None


class MeasureIn(BaseModel):
    model_config = _STRICT

    title: str = Field(min_length=3, max_length=1000, description="Мероприятие")
    root_cause: str | None = Field(
        default=None, max_length=1000, description="Первопричина, которую оно устраняет"
    )
    expected_result: str | None = Field(default=None, max_length=1000, description="Результат выполнения")
    indicator: str | None = Field(default=None, max_length=500, description="Показатель выполнения")
    executor: str | None = Field(default=None, max_length=300, description="Ответственный исполнитель")
    start_date: date | None = Field(default=None, description="Дата начала работ")
    end_date: date | None = Field(default=None, description="Дата завершения работ")


class MeasureUpdate(BaseModel):
    model_config = _STRICT

    title: str | None = Field(default=None, min_length=3, max_length=1000)
    root_cause: str | None = Field(default=None, max_length=1000)
    expected_result: str | None = Field(default=None, max_length=1000)
    indicator: str | None = Field(default=None, max_length=500)
    executor: str | None = Field(default=None, max_length=300)
    start_date: date | None = None
    end_date: date | None = None


class MeasureDoneIn(BaseModel):
    model_config = _STRICT

    evidence: str = Field(
        min_length=3, max_length=10000, description="Подтверждение выполнения (акт, ссылка, фото)"
    )
    done_at: AwareDatetime | None = Field(default=None, description="Когда выполнено (по умолчанию — сейчас)")


class SignIn(BaseModel):
    """«СОГЛАСОВАНО» or «УТВЕРЖДАЮ»: who signs (a roster position holding the configured role)."""

    model_config = _STRICT

    position: str | None = Field(
        default=None, description="Id должности по Составу (если роль занимают несколько должностей)"
    )
    name: str | None = Field(default=None, max_length=300, description="Ф.И.О. подписавшего")
    at: AwareDatetime | None = Field(default=None, description="Дата подписи (по умолчанию — сейчас)")


class CampaignIn(BaseModel):
    model_config = _STRICT

    title: str = Field(min_length=3, max_length=500, description="Тема кампании")
    blocks: list[str] = Field(
        min_length=1, description="Id отраслевых блоков (категорий), на которые она направлена"
    )
    start_date: date
    end_date: date
    channel: str = Field(min_length=2, max_length=300, description="Где проводилась: сайт, соцсети, СМИ …")
    description: str | None = Field(default=None, max_length=10000, description="Разъяснения, что сделано")

    @model_validator(mode="after")
    def _dates(self) -> CampaignIn:
        if self.end_date < self.start_date:
            raise ValueError("дата окончания раньше даты начала")
        return self
