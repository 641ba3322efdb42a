"""Steps of the executable legal specs (specs/**/*.feature), shared by every feature.

The steps drive the real application: the five founding districts are loaded into a fresh
database, messages arrive through the JSON API with a district's token, and results are read
back through the API. A scenario names things as the decrees do (a channel by the words of its
clause, an executor by the position in the Состав), so a broken configuration or rule fails it.

Every tag of the feature files is registered as a marker here, so `--strict-markers` passes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when
from pytest_bdd.scenario import scenario_wrapper_template_registry
from sqlmodel import Session, select

from mcu.analytics import kpi
from mcu.analytics.periods import month, year
from mcu.db import engine
from mcu.messages import operations as ops
from mcu.messages.models import Deadline, Message
from mcu.messages.schemas import MessageIn
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.queries import current_config, tenant_by_slug

SPECS = Path(__file__).resolve().parents[2] / "specs"
FOUNDING = ("kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky")
FOUNDING_NAMES = (
    "Кондинский район",
    "Ханты-Мансийский район",
    "Советский район",
    "Некрасовский район",
    "Константиновский район",
)
KINDS = {"обращение": "appeal", "сообщение": "message"}
# Event names as a lawyer reads them → the event kinds the API reports.
EVENTS = {
    "регистрация": "registered",
    "продление срока": "extended",
    "уведомление гражданина": "citizen_notified",
    "перенаправление по компетенции": "forward",
    "возобновление": "reopen",
    "внесение в реестр": "register_long_term",
    "переклассификация": "classify",
}
DATE = r"\d\d\.\d\d\.\d{4}"
TIME = r"\d\d:\d\d"


SPEC_TAGS: set[str] = set()


def pytest_configure(config: pytest.Config) -> None:
    for path in sorted(SPECS.rglob("*.feature")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("@"):
                for tag in line.split():
                    SPEC_TAGS.add(tag.lstrip("@"))
                    config.addinivalue_line("markers", f"{tag.lstrip('@')}: тег спецификации {path.name}")


# ---------------------------------------------------------------- results for the spec book
# Each executed scenario (each example of an outline) is recorded with its tags and outcome; the
# spec book (`mcu specs report`, the page /t/<district>/specs) shows them as the last result.
_CASES: list[dict[str, Any]] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    template = scenario_wrapper_template_registry.get(getattr(item, "function", None))
    if template is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _CASES.append(
            {
                "scenario": template.name,
                "tags": sorted({m.name for m in item.iter_markers()} & SPEC_TAGS),
                "outcome": report.outcome,
                "test": item.nodeid,
            }
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _CASES or hasattr(session.config, "workerinput"):
        return
    import json
    import os

    database = os.environ.get("MCU_TEST_DB") or "sqlite"
    folder = Path(os.environ.get("MCU_ARTIFACTS_DIR", SPECS.parent / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    data = {"database": database, "finished_at": datetime.now(UTC).isoformat(), "cases": _CASES}
    target = folder / f"spec-results-{database}.json"
    partial = target.with_suffix(".tmp")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(target)  # readers never see a half-written file


# ---------------------------------------------------------------- the application as districts see it
@dataclass(frozen=True)
class District:
    slug: str
    config: TenantConfig

    def local(self, day: str, time: str = "00:00") -> datetime:
        """A moment written in the district's local time (dd.mm.yyyy, hh:mm)."""
        return datetime.strptime(f"{day} {time}", "%d.%m.%Y %H:%M").replace(tzinfo=self.config.tz)

    def day_of(self, stamp: str) -> str:
        return datetime.fromisoformat(stamp).astimezone(self.config.tz).strftime("%d.%m.%Y")

    def channel(self, words: str) -> str:
        """The one channel whose name contains the decree's words."""
        found = [c["id"] for c in self.config.channels.values() if words.casefold() in c["name"].casefold()]
        assert len(found) == 1, (
            f"канал «{words}» в {self.slug}: найдено {found} среди {self._names('channels')}"
        )
        return found[0]

    def block(self, name: str) -> str:
        found = [b["id"] for b in self.config.blocks.values() if b["name"] == name]
        assert len(found) == 1, f"блок «{name}» в {self.slug}: найдено {found} среди {self._names('blocks')}"
        return found[0]

    def _names(self, section: str) -> list[str]:
        return [item["name"] for item in getattr(self.config, section).values()]


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]

    @property
    def id(self) -> str:
        assert self.status in (200, 201), f"поступление не принято: {self.status} {self.body}"
        return self.body["id"]

    def errors(self) -> str:
        fields = self.body.get("fields") or {}
        return " ".join([self.body.get("detail") or "", *(m for ms in fields.values() for m in ms)])


class Api:
    """The real application through its JSON API, with one token per district."""

    def __init__(self, app) -> None:
        self.app, self.client, self._tokens = app, app.test_client(), {}

    def district(self, name: str) -> District:
        with self.app.app_context(), Session(engine()) as session:
            for slug in FOUNDING:
                tenant = tenant_by_slug(session, slug)
                config = current_config(session, tenant) if tenant else None
                if config is not None and config.name == name:
                    return District(slug, config)
        raise AssertionError(f"район «{name}» не загружен")

    def _headers(self, slug: str) -> dict[str, str]:
        if slug not in self._tokens:
            result = self.app.test_cli_runner().invoke(
                args=["tokens", "create", "--tenant", slug, "--name", "bdd"]
            )
            assert result.exit_code == 0, result.output
            self._tokens[slug] = result.stdout.splitlines()[0]
        return {"Authorization": f"Bearer {self._tokens[slug]}"}

    def post(self, district: District, path: str, payload: dict[str, Any]) -> Reply:
        response = self.client.post(
            f"/api/v1/{district.slug}{path}", headers=self._headers(district.slug), json=payload
        )
        return Reply(response.status_code, response.get_json())

    def get(self, district: District, path: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/{district.slug}{path}", headers=self._headers(district.slug))
        assert response.status_code == 200, (path, response.status_code, response.get_json())
        return response.get_json()

    def call(
        self, district: District, method: str, path: str, payload: dict[str, Any] | None = None
    ) -> Reply:
        """Any method; the reply whatever its status (a refusal is what some scenarios check)."""
        response = self.client.open(
            f"/api/v1/{district.slug}{path}",
            method=method,
            headers=self._headers(district.slug),
            json=payload if payload is not None else {},
        )
        return Reply(response.status_code, response.get_json(silent=True) or {"data": response.data})

    def message(self, district: District, reply: Reply) -> dict[str, Any]:
        return self.get(district, f"/messages/{reply.id}")

    def act(self, district: District, reply: Reply, **action: Any) -> Reply:
        return self.post(district, f"/messages/{reply.id}/actions", action)

    def deadlines(self, district: District, reply: Reply, timer: str) -> list[Deadline]:
        """Deadline rows the API does not show (the forwarding term), read without writing."""
        with self.app.app_context(), Session(engine()) as session:
            return list(
                session.exec(
                    select(Deadline).where(
                        Deadline.tenant_id == district.config.tenant_id,
                        Deadline.message_id == uuid.UUID(reply.id),
                        Deadline.timer == timer,
                    )
                )
            )


@pytest.fixture
def api(loaded_app) -> Api:
    return Api(loaded_app)


def arrive(api: Api, district: District, day: str, time: str, channel: str, text: str, **extra: Any) -> Reply:
    """A text arriving by a channel at a local moment, as the channel's system posts it."""
    payload = {
        "channel": district.channel(channel),
        "text": text,
        "received_at": district.local(day, time).isoformat(),
    }
    return api.post(district, "/messages", {**payload, **extra})


# ---------------------------------------------------------------- given
@given("на платформе загружены районы-основатели")
def founding_districts_loaded(api: Api) -> None:
    """The five founding districts' configurations are in force, under the decrees' names."""
    assert [api.district(name).slug for name in FOUNDING_NAMES] == list(FOUNDING)


@given(parsers.parse("район «{name}»"), target_fixture="district")
def the_district(api: Api, name: str) -> District:
    """The district by its name as the decree gives it."""
    return api.district(name)


@given("в районе последний день срока, выпавший на выходной, переносится на предшествующий рабочий день")
def day_off_moves_back(district: District) -> None:
    """The district's setting for a term ending on a day off (regional practice differs)."""
    assert district.config.settings.get("deadline_on_day_off") == "preceding_working_day", (
        district.config.settings
    )


@given(parsers.re(r"в районе включён реестр проблем, не решаемых в срок не более (?P<months>\d+) месяцев"))
def six_month_registry_enabled(district: District, months: str) -> None:
    """The district's rule set of the registry is on, with the decree's number of months."""
    used = {r["use"]: r for r in (district.config.data.get("escalation") or {}).get("rule_sets") or []}
    registry = used.get("six-month-registry") or {}
    assert registry.get("enabled", True) and registry, used.keys()
    assert (registry.get("params") or {})["months"]["value"] == int(months)


@given(parsers.re(r"в районе ответ с оценкой жителя (?P<score>\d) и ниже считается некачественным"))
def poor_rating_threshold(district: District, score: str) -> None:
    """The poor-answer rule set is on in the district, with this rating threshold."""
    used = {r["use"]: r for r in (district.config.data.get("escalation") or {}).get("rule_sets") or []}
    assert used.get("poor-answer", {"enabled": False}).get("enabled", True), used.keys()
    assert ops.poor_rating_limit(district.config) == int(score)


# ---------------------------------------------------------------- intake (given and when)
ARRIVES = rf"(?P<day>{DATE}) в (?P<time>{TIME}) по каналу «(?P<channel>[^»]+)» поступ(?:ает|ил) текст «(?P<text>[^«»]+)»"


@given(parsers.re(ARRIVES), target_fixture="message")
@when(parsers.re(ARRIVES), target_fixture="message")
def text_arrives(api: Api, district: District, day: str, time: str, channel: str, text: str) -> Reply:
    """A resident's text arrives by a channel of the district at a local moment."""
    return arrive(api, district, day, time, channel, text)


REGISTERED = ARRIVES + rf", зарегистрированный (?P<reg_day>{DATE}) в (?P<reg_time>{TIME})"


@given(parsers.re(REGISTERED), target_fixture="message")
@when(parsers.re(REGISTERED), target_fixture="message")
def text_arrives_registered(
    api: Api, district: District, day: str, time: str, channel: str, text: str, reg_day: str, reg_time: str
) -> Reply:
    """An обращение whose registration date comes from the source registry (СЭД)."""
    registered = district.local(reg_day, reg_time).isoformat()
    return arrive(api, district, day, time, channel, text, registered_at=registered)


WITH_BLOCK = ARRIVES + r" с блоком «(?P<block>[^»]+)», определённым источником"


@when(parsers.re(WITH_BLOCK), target_fixture="message")
def text_arrives_with_block(
    api: Api, district: District, day: str, time: str, channel: str, text: str, block: str
) -> Reply:
    """The source (e.g. a ПОС auto-rule) has already put the message into a block."""
    return arrive(api, district, day, time, channel, text, block=district.block(block))


WITH_ADDRESS = ARRIVES + r" с адресом «(?P<address>[^»]+)»"


@when(parsers.re(WITH_ADDRESS), target_fixture="message")
def text_arrives_with_address(
    api: Api, district: District, day: str, time: str, channel: str, text: str, address: str
) -> Reply:
    """The source gives the problem's address, from which the settlement is recognised."""
    return arrive(api, district, day, time, channel, text, address=address)


# ---------------------------------------------------------------- lifecycle actions
@given(parsers.re(r"на него дан ответ по существу «(?P<text>.+)»"))
@when(parsers.re(r"исполнитель даёт ответ по существу «(?P<text>.+)»"))
def answered(api: Api, district: District, message: Reply, text: str) -> None:
    """The executor's final answer on the merits."""
    outcome = api.act(district, message, action="answer", text=text)
    assert outcome.status == 200, outcome.body


@given("работа по нему закрыта")
def closed(api: Api, district: District, message: Reply) -> None:
    """The answered message is closed."""
    outcome = api.act(district, message, action="close", reason="проблема решена")
    assert outcome.status == 200, outcome.body


EXTENDS = r"срок рассмотрения (?:продлевается|уже продлевался) на (?P<days>\d+) (?:дней|дня|день) по причине «(?P<reason>.+)»"


@given(parsers.re(EXTENDS), target_fixture="outcome")
@when(parsers.re(EXTENDS), target_fixture="outcome")
def extended(api: Api, district: District, message: Reply, days: str, reason: str) -> Reply:
    """59-ФЗ ст. 12 ч. 2: the head extends the term, notifying the citizen."""
    return api.act(district, message, action="extend", days=int(days), reason=reason)


@when(
    parsers.re(r"обращение перенаправляется в «(?P<body>.+)» как не относящееся к компетенции района"),
    target_fixture="outcome",
)
def forwarded(api: Api, district: District, message: Reply, body: str) -> Reply:
    """59-ФЗ ст. 8 ч. 3: forwarded to the competent body."""
    return api.act(
        district, message, action="forward", to_body=body, reason="не относится к компетенции района"
    )


@when(
    parsers.re(r"ответственный за отраслевой блок вносит проблему в реестр: «(?P<reason>.+)»"),
    target_fixture="outcome",
)
def registered_long_term(api: Api, district: District, message: Reply, reason: str) -> Reply:
    """Ханты-Мансийский Регламент п.4.2.8: the problem goes to the registry for analysis; the
    ground is the clause's own wording (no legal ground, or not solvable within 6 months)."""
    ground = "no_legal_ground" if "законных оснований" in reason else "over_6_months"
    return api.act(district, message, action="register_long_term", reason=reason, ground=ground)


@when(parsers.parse("житель оценивает ответ на {score:d}"), target_fixture="outcome")
def rated(api: Api, district: District, message: Reply, score: int) -> Reply:
    """The resident rates the answer from 1 to 5."""
    return api.post(district, f"/messages/{message.id}/rating", {"score": score})


@when(
    parsers.re(r"сотрудник МЦУ относит сообщение к блоку «(?P<block>[^»]+)»: «(?P<reason>.+)»"),
    target_fixture="outcome",
)
def reclassified(api: Api, district: District, message: Reply, block: str, reason: str) -> Reply:
    """Staff correct the block; the message is routed again."""
    return api.act(district, message, action="classify", block=district.block(block), reason=reason)


# ---------------------------------------------------------------- then: intake
@then("поступление принято и зарегистрировано")
def accepted(message: Reply) -> None:
    """Stored with the district's registration number «ГГГГ-NNNNNN»."""
    assert message.status == 201, message.body
    assert re.fullmatch(r"\d{4}-\d{6}", message.body["number"]), message.body["number"]


@then(parsers.re(r"поступление не принято: «(?P<fragment>.+)»"))
def refused(message: Reply, fragment: str) -> None:
    """Rejected with the reason, nothing stored."""
    assert message.status == 422, message.body
    assert fragment in message.errors(), message.errors()


@then(parsers.re(r"оно учтено как (?P<kind>обращение|сообщение)"))
def counted_as(api: Api, district: District, message: Reply, kind: str) -> None:
    """обращение = 59-ФЗ regime; сообщение = a way not provided by 59-ФЗ."""
    assert api.message(district, message)["regime"] == KINDS[kind]


@then(parsers.re(rf"(?:обращение|оно) зарегистрировано (?P<day>{DATE})"))
def registered_on(api: Api, district: District, message: Reply, day: str) -> None:
    """The registration date, in the district's local time."""
    assert district.day_of(api.message(district, message)["registered_at"]) == day


@then(parsers.parse("район принимает поступления только по каналам:"))
def only_channels(district: District, datatable: list[list[str]]) -> None:
    """Every channel of the district is one the decree (or the law) names, with its regime."""
    expected = {district.channel(words): KINDS[kind] for words, kind in datatable[1:]}
    actual = {c["id"]: c["regime"] for c in district.config.channels.values()}
    assert actual == expected, {"лишние": actual.keys() - expected.keys()}


# ---------------------------------------------------------------- then: classification and routing
@then(parsers.re(r"оно отнесено к отраслевому блоку «(?P<block>.+)»"))
def in_block(api: Api, district: District, message: Reply, block: str) -> None:
    """The block as named in the decree."""
    shown = api.message(district, message)
    assert (shown["block"] or {}).get("name") == block, shown["classification"]


@then("оно направлено на ручную сортировку без исполнителя")
def in_triage(api: Api, district: District, message: Reply) -> None:
    """No block could be recognised: staff sort it by hand."""
    shown = api.message(district, message)
    assert (shown["status"], shown["block"], shown["executor"]) == ("new", None, None), shown


@then(parsers.re(r"исполнителем назначен «(?P<position>.+)»"))
def executor_is(api: Api, district: District, message: Reply, position: str) -> None:
    """The position from the district's Состав (spacing as printed is not significant)."""
    executor = api.message(district, message)["executor"] or {}
    assert " ".join((executor.get("position") or "").split()) == " ".join(position.split()), executor


@then(parsers.re(r"поселение определено как «(?P<name>.+)»"))
def settlement_is(api: Api, district: District, message: Reply, name: str) -> None:
    """The settlement recognised in the text."""
    settlement = api.message(district, message)["settlement"]
    assert district.config.settlements.get(settlement, {}).get("name") == name, settlement


# ---------------------------------------------------------------- then: deadlines
@then(parsers.re(rf"ответ по существу должен быть дан не позднее (?P<day>{DATE})"))
def answer_due(api: Api, district: District, message: Reply, day: str) -> None:
    """The answer term ends at the end of that day, local time."""
    due = datetime.fromisoformat(api.message(district, message)["due_at"]).astimezone(district.config.tz)
    assert (due.strftime("%d.%m.%Y"), due.strftime("%H:%M")) == (day, "23:59"), due


@then(parsers.re(r"в пояснении срока указано «(?P<fragment>.+)»"))
def due_explained(api: Api, district: District, message: Reply, fragment: str) -> None:
    """The due date explains itself with the act and clause it applies."""
    explanation = api.message(district, message)["due_explanation"] or ""
    assert fragment in explanation, explanation


@then("срок ответа установлен не по 59-ФЗ")
def due_not_fz59(api: Api, district: District, message: Reply) -> None:
    """A сообщение's term is its channel's, not the 59-ФЗ term."""
    explanation = api.message(district, message)["due_explanation"] or ""
    assert explanation and "fz59" not in explanation and "ст. 12" not in explanation, explanation


@then("срок не перенесён")
def due_not_moved(api: Api, district: District, message: Reply) -> None:
    """The last day is a working day: nothing to move."""
    explanation = api.message(district, message)["due_explanation"] or ""
    assert "выходной" not in explanation and "перенесён" not in explanation, explanation


@then("срок ответа района по нему больше не течёт")
def answer_term_stopped(api: Api, district: District, message: Reply) -> None:
    """The district's own answer term was cancelled."""
    pending = [d for d in api.deadlines(district, message, "answer") if d.status == "pending"]
    assert not pending and api.message(district, message)["due_explanation"] is None, pending


@then(parsers.re(rf"срок переадресации истёк (?P<day>{DATE}), и его нарушение отмечено"))
def forwarding_missed(api: Api, district: District, message: Reply, day: str) -> None:
    """59-ФЗ ст. 8 ч. 3: the 7-day forwarding term is recorded as missed."""
    rows = api.deadlines(district, message, "forwarding")
    assert [(r.due_at.astimezone(district.config.tz).strftime("%d.%m.%Y"), r.status) for r in rows] == [
        (day, "missed")
    ]


@then(parsers.re(r"назначен новый срок ответа: «(?P<fragment>.+)»"))
def new_answer_term(api: Api, district: District, message: Reply, fragment: str) -> None:
    """Reopened: a fresh answer term runs from now."""
    shown = api.message(district, message)
    assert datetime.fromisoformat(shown["due_at"]) > datetime.now(UTC), shown["due_at"]
    assert (shown["due_explanation"] or "").startswith(fragment), shown["due_explanation"]


# ---------------------------------------------------------------- then: lifecycle
@then(parsers.re(r"состояние — «(?P<status>.+)»"))
def status_is(api: Api, district: District, message: Reply, status: str) -> None:
    """The message's status as staff see it."""
    assert api.message(district, message)["status_name"] == status


@then(parsers.re(r"в истории есть запись «(?P<event>[^»]+)»: «(?P<fragment>.+)»"))
def history_has(api: Api, district: District, message: Reply, event: str, fragment: str) -> None:
    """The event log keeps who did what and why."""
    events = api.message(district, message)["events"]
    reasons = [e["reason"] or "" for e in events if e["kind"] == EVENTS[event]]
    assert any(fragment in r for r in reasons), (event, reasons)


@then(parsers.re(r"действие отклонено: «(?P<fragment>.+)»"))
def action_refused(outcome: Reply, fragment: str) -> None:
    """Not allowed: a 422 (bad input) or 409 (status) with the reason."""
    assert outcome.status in (409, 422), outcome.body
    assert fragment in outcome.errors(), outcome.errors()


@then("проблема значится в реестре района")
def in_registry(api: Api, district: District, message: Reply) -> None:
    """The registry is the district's list of long-term problems."""
    listed = api.get(district, "/messages?status=long_term&limit=500")["messages"]
    assert message.id in {m["id"] for m in listed}


@then(parsers.parse("оценка жителя {score:d} сохранена"))
def rating_kept(api: Api, district: District, message: Reply, score: int) -> None:
    """Satisfaction is collected for analysis."""
    assert api.message(district, message)["rating"] == score


# ---------------------------------------------------------------- the database and the KPIs
# Shared by specs/analytics and specs/roadmaps: a session on the test database, and the KPI facts
# of a district for a month or a year, computed the way the platform computes them.
MONTHS = {
    name: i
    for i, names in enumerate(
        (
            ("январь", "января"),
            ("февраль", "февраля"),
            ("март", "марта"),
            ("апрель", "апреля"),
            ("май", "мая"),
            ("июнь", "июня"),
            ("июль", "июля"),
            ("август", "августа"),
            ("сентябрь", "сентября"),
            ("октябрь", "октября"),
            ("ноябрь", "ноября"),
            ("декабрь", "декабря"),
        ),
        start=1,
    )
    for name in names
}


@pytest.fixture
def session(loaded_app) -> Iterator[Session]:
    with loaded_app.app_context(), Session(engine()) as s:
        yield s


def config_of(session: Session, district: District) -> TenantConfig:
    config = current_config(session, tenant_by_slug(session, district.slug))
    assert config is not None
    return config


@when(parsers.re(r"считаются показатели за (?P<name>\w+) (?P<y>\d{4}) года"), target_fixture="facts")
def facts_for_month(session: Session, district: District, name: str, y: str) -> dict[str, kpi.KpiFact]:
    """The district's KPI facts for a month («за ноябрь 2026 года»)."""
    config = config_of(session, district)
    found = kpi.compute(session, [config], month(int(y), MONTHS[name]))[config.tenant_id]
    return {f.number or f.indicator_id: f for f in found}


@when(parsers.re(r"считаются показатели за (?P<y>\d{4}) год$"), target_fixture="facts")
def facts_for_year(session: Session, district: District, y: str) -> dict[str, kpi.KpiFact]:
    """The district's KPI facts for a year."""
    config = config_of(session, district)
    found = kpi.compute(session, [config], year(int(y)))[config.tenant_id]
    return {f.number or f.indicator_id: f for f in found}


@then(parsers.parse("по показателю {number} числитель {n:d}, знаменатель {d:d}"))
def one_indicator(facts: dict[str, kpi.KpiFact], number: str, n: int, d: int) -> None:
    assert (facts[number].numerator, facts[number].denominator) == (n, d)


# ---------------------------------------------------------------- messages on a controlled clock
# Shared by specs/analytics and specs/reports: messages taken in and worked through the real
# operations at the moments the scenario names.
@pytest.fixture
def messages() -> dict[str, Message]:
    return {}


@given(parsers.parse("поступили сообщения:"))
def messages_arrive(session: Session, district: District, messages: dict, datatable: list[list[str]]) -> None:
    """Each row: arrival, channel, block; delivery by the router or by a clerk from the sorting
    queue («доставка», automatic if absent); the answer in time, late, at a given moment, or none;
    evidence of the solution («контроль»); the problem's address («адрес», optional); the
    resident's rating of the answer an hour after it («оценка», optional)."""
    config = config_of(session, district)
    head, *rows = datatable
    for row in rows:
        r = {"доставка": "автоматически", "контроль": "нет", **dict(zip(head, row, strict=True))}
        day, time = r["поступило"].split()
        received = district.local(day, time)
        block = district.block(r["блок"])
        manual = r["доставка"] == "вручную"
        data = MessageIn(
            channel=district.channel(r["канал"]),
            text="Прошу принять меры" if manual else f"Сообщение № {r['№']}",
            block=None if manual else block,
            received_at=received,
            address=r.get("адрес") or None,
        )
        message = ops.receive_message(
            session=session, config=config, data=data, actor="test", now=received
        ).message
        if manual:
            assert message.status == "new", "сообщение без блока должно попасть на сортировку"
            ops.assign(
                session=session,
                config=config,
                message=message,
                position_id=config.blocks[block]["head"],
                actor="user:clerk",
                reason="назначено вручную с сортировки",
                now=received + timedelta(hours=1),
            )
        answer = r["ответ"]
        if answer.endswith("после продления"):
            ops.extend(
                session=session,
                config=config,
                message=message,
                days=10,
                actor="user:head",
                reason="проверка",
                now=received + timedelta(days=3),
            )
        if answer.startswith("в срок"):
            at = received + timedelta(hours=2)
        elif answer == "с опозданием":
            at = message.due_at + timedelta(days=1)
        elif answer == "нет":
            at = None
        else:
            at = district.local(*answer.split())
        if at is not None:
            ops.answer(
                session=session, message=message, text="Сделано", final=True, actor="user:executor", now=at
            )
            if r["контроль"] in ("фото", "видео"):
                kind = {"фото": "photo", "видео": "video"}[r["контроль"]]
                ops.record_control(
                    session=session,
                    message=message,
                    kind=kind,
                    reference=f"https://x/{r['№']}",
                    actor="test",
                    now=at,
                )
            if r.get("оценка"):
                ops.rate(
                    session=session,
                    config=config,
                    message=message,
                    score=int(r["оценка"]),
                    comment=None,
                    actor="citizen",
                    now=at + timedelta(hours=1),
                )
        messages[r["№"]] = message
    session.commit()


@given(parsers.parse("сообщение {copy} признано дубликатом сообщения {original}"))
def duplicate(session: Session, messages: dict, copy: str, original: str) -> None:
    ops.mark_duplicate(
        session=session, message=messages[copy], original=messages[original], actor="user:clerk"
    )
    session.commit()
