"""Эскалации и аварийные ситуации: specs/escalation/*.feature, on a clock the scenario controls.

Each scenario loads only its district (the repository's tenants/; a scenario that changes a
parameter edits a private copy and reloads it with `mcu tenants load`). Messages are taken in by
the intake operation at the moment the scenario names, and «наступает …» runs the deadline
worker as a worker that never sleeps would: every pending deadline fires at its own due moment,
in order, until the named moment. Nothing reads the wall clock: every operation is given the
scenario's `now`.

The intake step uses the words of the conftest step («дд.мм.гггг в чч:мм по каналу … поступает
текст …»); pytest-bdd prefers this module's definition, which takes the text in at that moment
of the scenario's clock instead of through the API at wall-clock time.

Addressees are named as the decree names them: a notification matches a name if it is the name
of the role it was addressed to or the position in the district's Состав that holds the role.
"""

from __future__ import annotations

import functools
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from flask import Flask
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import func
from sqlmodel import Session, select

from mcu.db import engine
from mcu.emergencies.models import Emergency
from mcu.emergencies.operations import close
from mcu.messages import operations as message_ops
from mcu.messages.models import Deadline, Message
from mcu.messages.schemas import MessageIn
from mcu.notifications.models import Notification
from mcu.roadmaps.models import Roadmap
from mcu.rules.models import RuleDecision
from mcu.rules.worker import ensure_ticks, fire_due
from mcu.tenancy.loader import ReadResult, read_tenants
from mcu.tenancy.operations import load_tenants
from mcu.tenancy.queries import current_config, tenant_by_slug
from tests.bdd.conftest import DATE, FOUNDING, FOUNDING_NAMES, TIME, District
from tests.conftest import REPO

scenarios("../../specs/escalation")

SLUGS = dict(zip(FOUNDING_NAMES, FOUNDING, strict=True))
TOLD_KINDS = {
    "оповещение": "notify",
    "эскалацию": "escalation",
    "оповещений": "notify",
    "эскалаций": "escalation",
}
EMERGENCY_KINDS = {"угроза жизни и здоровью": "threat", "резкий рост сообщений": "spike"}
TIMERS = {"срок ответа": "answer", "срок обратной связи от исполнителя": "no_feedback"}
RULE_SETS = {  # a shared rule set's name, as a lawyer reads it → its id
    data["name"]: data["id"]
    for data in (
        yaml.safe_load(p.read_text(encoding="utf-8")) for p in (REPO / "rules" / "escalation").glob("*.yaml")
    )
}
MAX_FIRINGS = 5000  # a runaway repeat is a failure, not a hang


def _norm(text: str) -> str:
    return " ".join(text.split())


def _minute(scene: Scene, moment: datetime | None) -> str | None:
    """A moment as the decree's reader writes it: local «дд.мм.гггг чч:мм»."""
    return None if moment is None else scene.local(moment).strftime("%d.%m.%Y %H:%M")


def _number(text: str) -> float:
    return float(text.replace(",", "."))


# ---------------------------------------------------------------- the scene
@dataclass
class Scene:
    """One scenario: the app, the district, the clock and what arrived."""

    app: Flask
    tmp: Path
    district: District | None = None
    now: datetime | None = None
    messages: list[uuid.UUID] = field(default_factory=list)
    seq: int = 0

    @property
    def d(self) -> District:
        assert self.district is not None, "район не загружен"
        return self.district

    @property
    def tenant_id(self) -> int:
        return self.d.config.tenant_id

    def clock(self) -> datetime:
        assert self.now is not None, "часы не установлены: «на часах …»"
        return self.now

    def at(self, day: str | None, time: str) -> datetime:
        return self.d.local(day or self.clock().astimezone(self.d.config.tz).strftime("%d.%m.%Y"), time)

    def session(self) -> Session:
        return Session(engine())

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.d.config.tz)

    def load(self, name: str) -> None:
        """The district as committed to the repository (read once per test session)."""
        slug = SLUGS[name]
        with self.session() as s:
            load_tenants(_committed(slug), session=s, actor="test")
            s.commit()
        self.read(slug)

    def reload(self, path: Path) -> None:
        """An edited copy of the district's file, through `mcu tenants load` as an operator would."""
        result = self.app.test_cli_runner().invoke(args=["tenants", "load", str(path)])
        assert result.exit_code == 0, result.output
        self.read(self.d.slug)

    def read(self, slug: str) -> None:
        with self.session() as s:
            self.district = District(slug, current_config(s, tenant_by_slug(s, slug)))

    # -------------------------------------------------------- the worker, never asleep
    def advance(self, until: datetime) -> None:
        """Fire every deadline at its own due moment, in order, up to `until`."""
        assert until >= self.clock(), f"часы не идут назад: {self.clock()} → {until}"
        for _ in range(MAX_FIRINGS):
            with self.session() as s:
                due = s.exec(
                    select(func.min(Deadline.due_at)).where(
                        Deadline.status == "pending", Deadline.due_at <= until
                    )
                ).one()
            if due is None:
                break
            if fire_due(engine(), now=due, batch=500) == 0:
                fire_due(engine(), now=until, batch=500)  # claimed rows: give them their retry
                break
        else:
            raise AssertionError("сроки срабатывают без конца")
        self.now = until
        with self.session() as s:
            failing = s.exec(select(Deadline).where(Deadline.attempts > 0)).all()
        assert not failing, [(r.timer, r.status, r.explanation.get("error")) for r in failing]

    # -------------------------------------------------------- intake
    def arrive(
        self, channel: str, texts: list[tuple[datetime, str]], block: str | None = None
    ) -> list[uuid.UUID]:
        """Texts taken in now, in one transaction (as one delivery or one import batch)."""
        ids = []
        with self.session() as s:
            for received, text in texts:
                self.seq += 1
                data = MessageIn(
                    channel=self.d.channel(channel),
                    text=text,
                    external_id=f"bdd-{self.seq}",
                    received_at=received,
                    block=self.d.block(block) if block else None,
                )
                result = message_ops.receive_message(
                    session=s, config=self.d.config, data=data, actor="test", now=self.clock()
                )
                ids.append(result.message.id)
            s.commit()
        return ids

    def message(self, s: Session, index: int = -1) -> Message:
        assert self.messages, "сообщений не поступало"
        found = s.get(Message, (self.tenant_id, self.messages[index]))
        assert found is not None
        return found

    # -------------------------------------------------------- what happened
    def notifications(self, kind: str | None = None) -> list[Notification]:
        with self.session() as s:
            query = select(Notification).where(Notification.tenant_id == self.tenant_id)
            if kind:
                query = query.where(Notification.kind == kind)
            return list(s.exec(query.order_by(Notification.created_at)))

    def names(self, note: Notification) -> set[str]:
        role = self.d.config.roles.get(note.role_id or "", {}).get("name")
        position = self.d.config.roster.get(note.position_id or "", {}).get("position")
        return {_norm(n) for n in (role, position) if n}

    def addressed(self, who: str, kind: str | None = None, fragment: str | None = None) -> list[Notification]:
        return [
            n
            for n in self.notifications(kind)
            if _norm(who) in self.names(n) and (fragment is None or fragment in n.title)
        ]

    def emergencies(self) -> list[Emergency]:
        with self.session() as s:
            return list(s.exec(select(Emergency).where(Emergency.tenant_id == self.tenant_id)))

    def emergency(self) -> Emergency:
        found = self.emergencies()
        assert len(found) == 1, [e.title for e in found]
        return found[0]

    def decisions(self) -> list[RuleDecision]:
        with self.session() as s:
            return list(s.exec(select(RuleDecision).where(RuleDecision.tenant_id == self.tenant_id)))

    def survey(self) -> list[tuple[str, str, str, str]]:
        """For a failing assertion: who was told what, when."""
        return [
            (self.local(n.created_at).strftime("%d.%m %H:%M"), n.kind, sorted(self.names(n))[0], n.title)
            for n in self.notifications()
        ]


@functools.cache
def _committed(slug: str) -> ReadResult:
    """A district's files as committed, read and validated once (reading is the slow part)."""
    [path] = (REPO / "tenants").rglob(f"{slug}.yaml")
    result = read_tenants([path], tenants_dir=REPO / "tenants", rules_dir=REPO / "rules")
    assert result.ok, [str(p) for p in result.problems]
    return result


@pytest.fixture
def scene(make_app, tmp_path) -> Iterator[Scene]:
    """A fresh database, the scenario's clock; tenants/ is copied only when a scenario edits it."""
    tenants = tmp_path / "tenants"
    app = make_app(TENANTS_DIR=str(tenants))
    state = Scene(app=app, tmp=tmp_path)
    with app.app_context():
        yield state


# ---------------------------------------------------------------- given
@given(parsers.parse("район «{name}» загружен на платформу"))
def district_loaded(scene: Scene, name: str) -> None:
    """Only this district is loaded: its own decree's rules and its region's defaults."""
    scene.load(name)


@given(parsers.re(rf"на часах (?P<day>{DATE}) (?P<time>{TIME})"))
def clock_set(scene: Scene, day: str, time: str) -> None:
    """The scenario's clock, in the district's local time."""
    scene.now = scene.d.local(day, time)


HISTORY = (
    rf"с (?P<first>{DATE}) по (?P<last>{DATE}) по каналу «(?P<channel>[^»]+)» по блоку «(?P<block>[^»]+)» "
    r"поступило (?P<count>\d+) сообщени(?:е|я|й)"
)


@given(parsers.re(HISTORY))
def history(scene: Scene, first: str, last: str, channel: str, block: str, count: str) -> None:
    """Past messages of a block, spread evenly over the days (from 12:00, two hours apart),
    imported now: a historical import is evaluated but declares nothing today."""
    start, end = scene.d.local(first, "12:00"), scene.d.local(last, "12:00")
    days = (end - start).days + 1
    texts = [
        (start + timedelta(days=i % days, hours=2 * (i // days)), f"Сообщение жителя № {i + 1} по теме блока")
        for i in range(int(count))
    ]
    scene.arrive(channel, texts, block)


@given(
    parsers.re(
        r"в конфигурации района параметр «(?P<param>[a-z_]+)» набора правил «(?P<rule_set>[a-z-]+)» "
        r"изменён на (?P<value>\d+) и конфигурация перезагружена"
    )
)
@when(
    parsers.re(
        r"в конфигурации района параметр «(?P<param>[a-z_]+)» набора правил «(?P<rule_set>[a-z-]+)» "
        r"изменён на (?P<value>\d+) и конфигурация перезагружена"
    )
)
def parameter_changed(scene: Scene, param: str, rule_set: str, value: str) -> None:
    """The district's YAML is edited and `mcu tenants load` run again: a new config version."""
    tenants = scene.tmp / "tenants"
    if not tenants.exists():
        shutil.copytree(REPO / "tenants", tenants)
    [path] = tenants.rglob(f"{scene.d.slug}.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    [used] = [u for u in data["escalation"]["rule_sets"] if u["use"] == rule_set]
    used.setdefault("params", {}).setdefault(param, {})["value"] = int(value)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = scene.d.config.version_hash
    scene.reload(path)
    assert scene.d.config.version_hash != before, "конфигурация не обновилась"


# ---------------------------------------------------------------- when: the clock and intake
@when(parsers.re(rf"наступает (?:(?P<day>{DATE}) )?(?P<time>{TIME})"))
def time_comes(scene: Scene, day: str | None, time: str) -> None:
    """The worker has run, on time, up to this moment."""
    scene.advance(scene.at(day, time))


ARRIVES = (
    rf"(?:(?P<day>{DATE}) )?в (?P<time>{TIME}) по каналу «(?P<channel>[^»]+)» поступает текст «(?P<text>[^«»]+)»"
    r"(?: с блоком «(?P<block>[^»]+)», определённым источником)?"
)


@given(parsers.re(ARRIVES))
@when(parsers.re(ARRIVES))
def arrives(scene: Scene, day: str | None, time: str, channel: str, text: str, block: str | None) -> None:
    """A resident's text arrives at this moment (the worker having run until then)."""
    moment = scene.at(day, time)
    scene.advance(moment)
    scene.messages += scene.arrive(channel, [(moment, text)], block)


@when(
    parsers.re(
        r"по каналу «(?P<channel>[^»]+)» с блоком «(?P<block>[^»]+)», определённым источником, поступают тексты:"
    )
)
def arrive_many(scene: Scene, channel: str, block: str, datatable: list[list[str]]) -> None:
    """Several texts of one block, each at its time of the clock's day."""
    header, *rows = datatable
    assert header == ["время", "текст"], header
    for time, text in rows:
        arrives(scene, None, time, channel, text, block)


# ---------------------------------------------------------------- when: people act
ACT = rf"(?:(?P<day>{DATE}) )?в (?P<time>{TIME}) "


@when(parsers.re(ACT + r"исполнитель берёт сообщение в работу"))
def taken_into_work(scene: Scene, day: str | None, time: str) -> None:
    """The executor's feedback: the message is in work."""
    scene.advance(scene.at(day, time))
    with scene.session() as s:
        message_ops.start(session=s, message=scene.message(s), actor="test:executor", now=scene.clock())
        s.commit()


@given(parsers.re(ACT + r"исполнитель даёт ответ по существу «(?P<text>.+)»"))
@when(parsers.re(ACT + r"исполнитель даёт ответ по существу «(?P<text>.+)»"))
def answered_at(scene: Scene, day: str | None, time: str, text: str) -> None:
    """The final answer, given at this moment."""
    scene.advance(scene.at(day, time))
    with scene.session() as s:
        message_ops.answer(
            session=s,
            message=scene.message(s),
            text=text,
            final=True,
            actor="test:executor",
            now=scene.clock(),
        )
        s.commit()


@when(parsers.re(ACT + r"исполнитель отказывается устранять проблему: «(?P<reason>.+)»"))
def refused_by_executor(scene: Scene, day: str | None, time: str, reason: str) -> None:
    """ХМ Регламент п.4.3.5: the executor refuses; the block specialist passes it on."""
    scene.advance(scene.at(day, time))
    with scene.session() as s:
        message_ops.refuse(
            session=s,
            config=scene.d.config,
            message=scene.message(s),
            actor="test:executor",
            reason=reason,
            now=scene.clock(),
        )
        s.commit()


@when(parsers.re(ACT + r"житель оценивает ответ на (?P<score>\d)"))
def rated_at(scene: Scene, day: str | None, time: str, score: str) -> None:
    """The resident rates the answer 1–5."""
    scene.advance(scene.at(day, time))
    with scene.session() as s:
        message_ops.rate(
            session=s,
            config=scene.d.config,
            message=scene.message(s),
            score=int(score),
            comment=None,
            actor="test:citizen",
            now=scene.clock(),
        )
        s.commit()


@when(parsers.re(ACT + r"аварийная ситуация закрывается с решениями «(?P<decisions>.+)»"))
def emergency_closed(scene: Scene, day: str | None, time: str, decisions: str) -> None:
    """ХМ Регламент п.5.7: closed with the record of the decisions and measures taken."""
    scene.advance(scene.at(day, time))
    with scene.session() as s:
        emergency = s.get(Emergency, (scene.tenant_id, scene.emergency().id))
        close(
            session=s,
            config=scene.d.config,
            emergency=emergency,
            decisions=decisions,
            actor="test:mcu-head",
            now=scene.clock(),
        )
        s.commit()


@when("обработчик пересчитывает тепловую карту")
def heat_map_recomputed(scene: Scene) -> None:
    """The worker makes the district's heat-map tick (if its rules read the heat map) and fires it."""
    ensure_ticks(engine(), now=scene.clock())
    scene.advance(scene.clock())


# ---------------------------------------------------------------- then: emergencies
@then(parsers.re(r"объявлена аварийная ситуация «(?P<kind>[^»]+)»"))
def emergency_declared(scene: Scene, kind: str) -> None:
    """One open emergency of this kind (threat to life or a spike), declared by the rules."""
    emergency = scene.emergency()
    assert (emergency.kind, emergency.status) == (EMERGENCY_KINDS[kind.casefold()], "open"), emergency
    assert emergency.title.casefold().startswith(kind.casefold()), emergency.title


@then(parsers.re(rf"она объявлена (?P<day>{DATE}) в (?P<time>{TIME})"))
def declared_at(scene: Scene, day: str, time: str) -> None:
    """The moment of declaration: the decrees' «незамедлительно» is measured from it."""
    assert _minute(scene, scene.emergency().declared_at) == f"{day} {time}"


@then("аварийная ситуация не объявлена")
def no_emergency(scene: Scene) -> None:
    assert not scene.emergencies(), [e.title for e in scene.emergencies()]


@then(parsers.re(r"индекс категории — (?P<index>\d+,\d\d)"))
def growth_index(scene: Scene, index: str) -> None:
    """The spike's growth index as the heat map figures it (count in 24 h / baseline)."""
    assert scene.emergency().growth_index == pytest.approx(_number(index)), scene.emergency().trigger


@then(parsers.re(r"к аварийной ситуации отнесено сообщений: (?P<count>\d+)"))
def grouped(scene: Scene, count: str) -> None:
    """The messages the emergency concerns are grouped under it."""
    emergency = scene.emergency()
    with scene.session() as s:
        ids = s.exec(
            select(Message.id).where(
                Message.tenant_id == scene.tenant_id, Message.emergency_id == emergency.id
            )
        ).all()
    assert len(ids) == int(count), len(ids)


@then(parsers.re(rf"срок ликвидации аварийной ситуации — (?P<day>{DATE}) (?P<time>{TIME})"))
def liquidation_due(scene: Scene, day: str, time: str) -> None:
    """п.5.3: liquidation within the district's hours, from the declaration."""
    assert _minute(scene, scene.emergency().liquidation_due_at) == f"{day} {time}"


@then(parsers.re(rf"оперативная дорожная карта должна быть подготовлена до (?P<day>{DATE}) (?P<time>{TIME})"))
def operational_roadmap_due(scene: Scene, day: str, time: str) -> None:
    """п.5.4: an operational roadmap of the emergency, due within 24 hours."""
    emergency = scene.emergency()
    with scene.session() as s:
        roadmaps = s.exec(select(Roadmap).where(Roadmap.tenant_id == scene.tenant_id)).all()
    assert [(r.kind, r.emergency_id, _minute(scene, r.due_at)) for r in roadmaps] == [
        ("operational", emergency.id, f"{day} {time}")
    ]


@then("сроки аварийной ситуации больше не текут")
def emergency_timers_stopped(scene: Scene) -> None:
    """Closed: no reminder, liquidation or roadmap term of it is pending."""
    emergency = scene.emergency()
    with scene.session() as s:
        pending = s.exec(
            select(Deadline.timer).where(
                Deadline.tenant_id == scene.tenant_id,
                Deadline.emergency_id == emergency.id,
                Deadline.status == "pending",
            )
        ).all()
    assert emergency.status == "closed" and not pending, (emergency.status, pending)


# ---------------------------------------------------------------- then: who was told
TOLD = (
    rf"(?:(?P<day>{DATE}) )?в (?P<time>{TIME}) «(?P<who>[^»]+)» получает (?P<kind>оповещение|эскалацию) "
    r"«(?P<fragment>[^»]+)»(?: по (?P<clause>п\.\S+))?"
)


@then(parsers.re(TOLD))
def told(
    scene: Scene, day: str | None, time: str, who: str, kind: str, fragment: str, clause: str | None
) -> None:
    """A notification (or escalation) to the named role or position at this moment; its
    explanation names the clause."""
    minute = _minute(scene, scene.at(day, time))
    found = [
        n for n in scene.addressed(who, TOLD_KINDS[kind], fragment) if _minute(scene, n.created_at) == minute
    ]
    assert found, scene.survey()
    if clause:
        assert all(clause in n.body.split("Основание:")[-1] for n in found), [n.body for n in found]


@then(parsers.re(r"в оповещении «(?P<who>[^»]+)» сказано «(?P<text>[^»]+)»"))
def told_text(scene: Scene, who: str, text: str) -> None:
    """The body of a notification carries the substance (e.g. the decisions taken)."""
    bodies = [n.body for n in scene.addressed(who)]
    assert any(text in b for b in bodies), bodies


@then(parsers.re(r"«(?P<who>[^»]+)» не получает (?P<kind>оповещений|эскалаций)(?: «(?P<fragment>[^»]+)»)?"))
def not_told(scene: Scene, who: str, kind: str, fragment: str | None) -> None:
    """Nothing of this kind has reached the role or position, up to the clock's moment."""
    assert not scene.addressed(who, TOLD_KINDS[kind], fragment), scene.survey()


@then(parsers.re(r"«(?P<who>[^»]+)» получает напоминания «(?P<fragment>[^»]+)» ровно в (?P<times>.+)"))
def reminded_exactly(scene: Scene, who: str, fragment: str, times: str) -> None:
    """A repeating reminder: at these local times and at no other (as «чч:мм, чч:мм и чч:мм»)."""
    expected = [t.strip() for t in times.replace(" и ", ", ").split(",")]
    actual = [scene.local(n.created_at).strftime("%H:%M") for n in scene.addressed(who, "notify", fragment)]
    assert actual == expected, scene.survey()


@then("никто не получает эскалаций")
def no_escalation(scene: Scene) -> None:
    assert not scene.notifications("escalation"), scene.survey()


@then("никто не получает ни оповещений, ни эскалаций")
def nothing_told(scene: Scene) -> None:
    assert not scene.notifications(), scene.survey()


@then(parsers.re(r"правила «(?P<name>[^»]+)» не срабатывали"))
def rule_set_silent(scene: Scene, name: str) -> None:
    """No rule of the shared rule set (by its name in rules/escalation/) decided anything."""
    fired = [d.rule_id for d in scene.decisions() if d.rule_set == RULE_SETS[name]]
    assert not fired, fired


@then(
    parsers.re(
        r"(?P<what>срок ответа|срок обратной связи от исполнителя) (?P<status>соблюдён|не устанавливался)"
    )
)
def message_timer(scene: Scene, what: str, status: str) -> None:
    """A message's timer: met (the answer or the feedback came in time), or never set."""
    with scene.session() as s:
        rows = s.exec(
            select(Deadline.status).where(
                Deadline.tenant_id == scene.tenant_id,
                Deadline.message_id == scene.messages[-1],
                Deadline.timer == TIMERS[what],
            )
        ).all()
    assert rows == (["met"] if status == "соблюдён" else []), rows


# ---------------------------------------------------------------- then: red zone
@then(
    parsers.re(r"по блоку «(?P<block>[^»]+)» создан проект дорожной карты по снижению количества сообщений")
)
def plan_roadmap(scene: Scene, block: str) -> None:
    """ХМ Регламент п.4.3.2: a roadmap (plan) for the growing category, drafted for the
    block's responsible to fill in and agree."""
    with scene.session() as s:
        roadmaps = s.exec(select(Roadmap).where(Roadmap.tenant_id == scene.tenant_id)).all()
    assert [(r.kind, r.block_id, r.status) for r in roadmaps] == [("plan", scene.d.block(block), "draft")]


@then(parsers.re(r"по блоку «(?P<block>[^»]+)» никто не получает ни оповещений, ни эскалаций"))
def block_quiet(scene: Scene, block: str) -> None:
    """A block without negative dynamics is not in the red zone."""
    about = [n.title for n in scene.notifications() if f"блок «{block}»" in n.body]
    assert not about, about
