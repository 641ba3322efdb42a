"""Дорожные карты: specs/roadmaps/*.feature, through the JSON API.

Messages arrive with the moment and block their source gives (the shared intake steps); plans are
proposed by the heat map, signed with the dates the scenario names, carried out, and read back
through the API and the DOCX document. The KPI is computed by the shared step in the conftest.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import docx
from pytest_bdd import given, parsers, scenarios, then, when
from sqlmodel import Session

from mcu.messages import operations as message_ops
from mcu.messages.schemas import MessageIn
from tests.bdd.conftest import ARRIVES, DATE, MONTHS, TIME, Api, District, Reply, arrive, config_of

scenarios("../../specs/roadmaps")

SIGNED = {"СОГЛАСОВАНО": "agreed", "УТВЕРЖДАЮ": "approved"}


def _period(name: str, y: str) -> str:
    return f"{y}-{MONTHS[name]:02d}"


def _read(api: Api, district: District, roadmap: dict[str, Any]) -> dict[str, Any]:
    return api.get(district, f"/roadmaps/{roadmap['id']}")


def _sign(api: Api, district: District, roadmap: dict[str, Any], step: str, day: str, **extra: Any) -> Reply:
    at = district.local(day, "12:00").isoformat()
    return api.call(district, "POST", f"/roadmaps/{roadmap['id']}/{step}", {"at": at, **extra})


def _plan(api: Api, district: District, block: str, name: str, y: str, title: str) -> dict[str, Any]:
    made = api.post(
        district, "/roadmaps", {"kind": "plan", "block": district.block(block), "period": _period(name, y)}
    )
    assert made.status == 201, made.body
    added = api.post(district, f"/roadmaps/{made.id}/measures", {"title": title})
    assert added.status == 201, added.body
    return made.body


# ---------------------------------------------------------------- given
@given(parsers.re(r"по каналу «(?P<channel>[^»]+)» поступили сообщения по блокам:"))
def messages_by_block(api: Api, district: District, channel: str, datatable: list[list[str]]) -> None:
    """Rows: block, local arrival moment, how many; the source has put each into its block."""
    head, *rows = datatable
    for row in rows:
        r = dict(zip(head, row, strict=True))
        day, time = r["поступило"].split()
        for i in range(int(r["сколько"])):
            reply = arrive(
                api,
                district,
                day,
                time,
                channel,
                f"Проблема по блоку «{r['блок']}» от {day}, № {i + 1}",
                block=district.block(r["блок"]),
            )
            assert reply.status == 201, reply.body


PLAN = r"план мероприятий по блоку «(?P<block>[^»]+)» за (?P<name>\w+) (?P<y>\d{4}) года"


@given(parsers.re(rf"составлен {PLAN} с мероприятием «(?P<title>[^»]+)»"), target_fixture="roadmap")
def plan_drafted(api: Api, district: District, block: str, name: str, y: str, title: str) -> dict[str, Any]:
    return _plan(api, district, block, name, y, title)


@given(parsers.re(rf"утверждён {PLAN} с мероприятием «(?P<title>[^»]+)»"), target_fixture="roadmap")
def plan_approved(api: Api, district: District, block: str, name: str, y: str, title: str) -> dict[str, Any]:
    """Drafted, then signed in the district's order (agreed first where it has that step)."""
    roadmap = _plan(api, district, block, name, y, title)
    if roadmap["approval"]["agree"]:
        assert _sign(api, district, roadmap, "agree", "30.10.2025").status == 200
    assert _sign(api, district, roadmap, "approve", "31.10.2025").status == 200
    return roadmap


# ---------------------------------------------------------------- when
@when(parsers.re(ARRIVES), target_fixture="message")
def text_arrives_at_scene_time(
    session: Session, district: District, day: str, time: str, channel: str, text: str
) -> Reply:
    """As in the escalation specs, the text is taken in by the intake operation at the scene's
    moment, so the rules see that moment as «now» (a backdated post through the API is history,
    not an alarm). pytest-bdd prefers this definition to the conftest's."""
    moment = district.local(day, time)
    data = MessageIn(channel=district.channel(channel), text=text, received_at=moment)
    message = message_ops.receive_message(
        session=session, config=config_of(session, district), data=data, actor="test", now=moment
    ).message
    session.commit()
    return Reply(
        201, {"id": str(message.id), "emergency": str(message.emergency_id) if message.emergency_id else None}
    )


@when(
    parsers.re(r"тепловая карта за (?P<name>\w+) (?P<y>\d{4}) года предлагает дорожные карты"),
    target_fixture="proposed",
)
def heat_map_proposes(api: Api, district: District, name: str, y: str) -> list[dict[str, Any]]:
    return api.get(district, f"/roadmaps/proposals?period={_period(name, y)}")["proposals"]


@when(parsers.re(rf"по предложению составлен {PLAN}"), target_fixture="roadmap")
def plan_from_proposal(api: Api, district: District, block: str, name: str, y: str) -> dict[str, Any]:
    made = api.post(
        district, "/roadmaps", {"kind": "plan", "block": district.block(block), "period": _period(name, y)}
    )
    assert made.status == 201, made.body
    return made.body


@when(parsers.re(rf"план (?P<step>согласовывают|утверждают) (?P<day>{DATE})"), target_fixture="outcome")
def plan_signed(api: Api, district: District, roadmap: dict[str, Any], step: str, day: str) -> Reply:
    return _sign(api, district, roadmap, "agree" if step == "согласовывают" else "approve", day)


@when(parsers.re(rf"план утверждает «(?P<position>[^»]+)» (?P<day>{DATE})"), target_fixture="outcome")
def plan_approved_by(api: Api, district: District, roadmap: dict[str, Any], position: str, day: str) -> Reply:
    found = [p["id"] for p in district.config.roster.values() if p["position"] == position]
    assert len(found) == 1, f"должность «{position}»: {found}"
    return _sign(api, district, roadmap, "approve", day, position=found[0])


@when("в план вносят изменение", target_fixture="outcome")
def plan_edited(api: Api, district: District, roadmap: dict[str, Any]) -> Reply:
    return api.call(
        district, "PATCH", f"/roadmaps/{roadmap['id']}", {"problem": "Другая формулировка проблемы"}
    )


@when("к плану составляют новую редакцию", target_fixture="amended")
def plan_amended(api: Api, district: District, roadmap: dict[str, Any]) -> dict[str, Any]:
    made = api.post(district, f"/roadmaps/{roadmap['id']}/versions", {})
    assert made.status == 201, made.body
    return made.body


@when("новую редакцию согласовывают и утверждают")
def amendment_signed(api: Api, district: District, amended: dict[str, Any]) -> None:
    assert _sign(api, district, amended, "agree", "01.11.2025").status == 200
    assert _sign(api, district, amended, "approve", "02.11.2025").status == 200


@when(
    parsers.re(
        rf"мероприятие «(?P<title>[^»]+)» выполнено (?P<day>{DATE}) с подтверждением «(?P<evidence>[^»]+)»"
    ),
    target_fixture="done",
)
def measure_done(
    api: Api, district: District, roadmap: dict[str, Any], title: str, day: str, evidence: str
) -> Reply:
    measure = next(m for m in _read(api, district, roadmap)["measures"] if m["title"] == title)
    payload = {"evidence": evidence, "done_at": district.local(day, "12:00").isoformat()}
    return api.call(district, "POST", f"/roadmaps/{roadmap['id']}/measures/{measure['id']}/done", payload)


# ---------------------------------------------------------------- then
@then(
    parsers.re(
        r"первым предложен блок «(?P<block>[^»]+)»: (?P<a>\d+) → (?P<b>\d+) сообщений, индекс (?P<index>[\d,]+)"
    )
)
def first_proposed(
    district: District, proposed: list[dict[str, Any]], block: str, a: str, b: str, index: str
) -> None:
    first = proposed[0]
    assert first["block"] == district.block(block), proposed
    assert (first["previous_count"], first["count"]) == (int(a), int(b))
    assert first["growth_index"] == float(index.replace(",", "."))


@then(parsers.re(r"блок «(?P<block>[^»]+)» не предложен"))
def not_proposed(district: District, proposed: list[dict[str, Any]], block: str) -> None:
    assert district.block(block) not in [p["block"] for p in proposed]


@then(parsers.re(r"в плане указан прирост «(?P<text>[^»]+)»"))
def growth_shown(roadmap: dict[str, Any], text: str) -> None:
    assert text in roadmap["growth_text"], roadmap["growth_text"]


@then(parsers.re(rf"план действует с (?P<start>{DATE}) по (?P<end>{DATE})"))
def plan_runs(roadmap: dict[str, Any], start: str, end: str) -> None:
    def iso(d: str) -> str:
        return datetime.strptime(d, "%d.%m.%Y").date().isoformat()

    assert (roadmap["period_start"], roadmap["period_end"]) == (iso(start), iso(end))


@then(
    parsers.re(
        r"(?P<who>куратор отраслевого блока|ответственный за отраслевой блок) в плане — «(?P<position>[^»]+)»"
    )
)
def person_in_plan(roadmap: dict[str, Any], who: str, position: str) -> None:
    slot = "curator" if who.startswith("куратор") else "block_head"
    person = next(p for p in roadmap["people"] if p["slot"] == slot)
    assert person["position"] == position, person


@then(parsers.re(r"отказано: «(?P<fragment>[^»]+)»"))
def refused(outcome: Reply, fragment: str) -> None:
    assert outcome.status in (409, 422), outcome.body
    assert fragment in outcome.errors(), outcome.body


@then(
    parsers.re(
        rf"гриф «(?P<stamp>[^»]+)» (?P<day>{DATE}) поставила должность «(?P<position>[^»]+)»(?: \((?P<name>[^)]+)\))?"
    )
)
def stamped(
    api: Api,
    district: District,
    roadmap: dict[str, Any],
    stamp: str,
    day: str,
    position: str,
    name: str | None,
) -> None:
    signed = _read(api, district, roadmap)[SIGNED[stamp]]
    assert signed["position"] == position, signed
    assert district.day_of(signed["at"]) == day
    if name:
        assert signed["by"] == name


@then(parsers.re(r"в документе плана грифы: (?P<stamps>.+)"))
def document_stamps(api: Api, district: District, roadmap: dict[str, Any], stamps: str) -> None:
    response = api.client.get(
        f"/api/v1/{district.slug}/roadmaps/{roadmap['id']}/document.docx", headers=api._headers(district.slug)
    )
    assert response.status_code == 200
    table = docx.Document(io.BytesIO(response.data)).tables[0]
    found = [c.paragraphs[0].text for c in table.rows[0].cells if c.paragraphs[0].text]
    assert found == [s.strip("«»") for s in stamps.split(", ")]


@then("редакция 2 — проект, связанный с утверждённой")
def second_version(roadmap: dict[str, Any], amended: dict[str, Any]) -> None:
    assert (amended["version"], amended["status"], amended["supersedes"]) == (2, "draft", roadmap["id"])


@then("прежняя редакция заменена новой")
def superseded(api: Api, district: District, roadmap: dict[str, Any], amended: dict[str, Any]) -> None:
    old = _read(api, district, roadmap)
    assert old["status"] == "superseded" and old["newer_versions"] == [amended["id"]]


@then("открыта оперативная дорожная карта аварийной ситуации", target_fixture="roadmap")
def operational_opened(api: Api, district: District, message: Reply) -> dict[str, Any]:
    emergency = message.body["emergency"]
    assert emergency, "аварийная ситуация не объявлена"
    found = [
        r for r in api.get(district, "/roadmaps?kind=operational")["roadmaps"] if r["emergency"] == emergency
    ]
    assert len(found) == 1, found
    return _read(api, district, found[0])


@then(parsers.re(rf"срок её подготовки — (?P<day>{DATE}) (?P<time>{TIME})"))
def operational_due(district: District, roadmap: dict[str, Any], day: str, time: str) -> None:
    assert datetime.fromisoformat(roadmap["due_at"]) == district.local(day, time)


@then(parsers.re(r"первое мероприятие карты — «(?P<title>[^»]+)»"))
def first_measure(roadmap: dict[str, Any], title: str) -> None:
    assert roadmap["measures"][0]["title"] == title


@then("открытие оперативной карты из аварийной ситуации возвращает ту же карту")
def reopened(api: Api, district: District, roadmap: dict[str, Any]) -> None:
    again = api.post(district, "/roadmaps", {"kind": "operational", "emergency": roadmap["emergency"]})
    assert (again.status, again.id) == (200, roadmap["id"])


@then(parsers.parse("мероприятием охвачено сообщений: {n:d}"))
def covered(done: Reply, n: int) -> None:
    assert done.status == 200, done.body
    assert done.body["messages_covered"] == n


@then("план выполнен")
def plan_done(api: Api, district: District, roadmap: dict[str, Any]) -> None:
    assert _read(api, district, roadmap)["status"] == "done"


@then(parsers.re(r"о результате плана сказано: «(?P<fragment>[^»]+)»"))
def effect_said(api: Api, district: District, roadmap: dict[str, Any], fragment: str) -> None:
    effect = _read(api, district, roadmap)["effect"]
    assert fragment in effect["text"], effect


@when(
    parsers.re(
        rf"записана информационная кампания «(?P<title>[^»]+)» по блоку «(?P<block>[^»]+)» "
        rf"с (?P<start>{DATE}) по (?P<end>{DATE}), канал «(?P<channel>[^»]+)»"
    ),
    target_fixture="campaign",
)
def campaign_recorded(
    api: Api, district: District, title: str, block: str, start: str, end: str, channel: str
) -> dict[str, Any]:
    def iso(d: str) -> str:
        return datetime.strptime(d, "%d.%m.%Y").date().isoformat()

    made = api.post(
        district,
        "/campaigns",
        {
            "title": title,
            "blocks": [district.block(block)],
            "start_date": iso(start),
            "end_date": iso(end),
            "channel": channel,
        },
    )
    assert made.status == 201, made.body
    return made.body


@then(parsers.re(r"о результате кампании сказано: «(?P<fragment>[^»]+)»"))
def campaign_effect(api: Api, district: District, campaign: dict[str, Any], fragment: str) -> None:
    effect = api.get(district, f"/campaigns/{campaign['id']}")["effect"]
    assert fragment in effect["text"], effect


# ---------------------------------------------------------------- the measures' fields
MEASURE_FIELDS = {
    "мероприятие": "title",
    "первопричина": "root_cause",
    "результат": "expected_result",
    "показатель выполнения": "indicator",
    "ответственный": "executor",
    "начало": "start_date",
    "окончание": "end_date",
}


@when(parsers.parse("в план добавлено мероприятие:"))
def measure_added(api: Api, district: District, roadmap: dict[str, Any], datatable: list[list[str]]) -> None:
    """A measure with every field the decree lists; dates written dd.mm.yyyy."""
    head, *rows = datatable
    for row in rows:
        payload = {}
        for title, value in zip(head, row, strict=True):
            field = MEASURE_FIELDS[title]
            if field.endswith("_date"):
                value = datetime.strptime(value, "%d.%m.%Y").date().isoformat()
            payload[field] = value
        added = api.post(district, f"/roadmaps/{roadmap['id']}/measures", payload)
        assert added.status == 201, added.body


@then(parsers.parse("в документе плана мероприятия:"))
def document_measures(
    api: Api, district: District, roadmap: dict[str, Any], datatable: list[list[str]]
) -> None:
    """The measures' table of the DOCX, row by row, as the signed document shows it."""
    response = api.client.get(
        f"/api/v1/{district.slug}/roadmaps/{roadmap['id']}/document.docx", headers=api._headers(district.slug)
    )
    assert response.status_code == 200
    tables = docx.Document(io.BytesIO(response.data)).tables
    found = [t for t in tables if [c.text for c in t.rows[0].cells] == datatable[0]]
    assert len(found) == 1, [[c.text for c in t.rows[0].cells] for t in tables]
    assert [[c.text for c in r.cells] for r in found[0].rows] == datatable


@when(parsers.re(r"в плане записаны первопричины «(?P<causes>[^»]+)»"))
def causes_written(api: Api, district: District, roadmap: dict[str, Any], causes: str) -> None:
    """The root causes of the problem the plan is to remove."""
    outcome = api.call(district, "PATCH", f"/roadmaps/{roadmap['id']}", {"root_causes": causes})
    assert outcome.status == 200, outcome.body


def _document(api: Api, district: District, roadmap: dict[str, Any]) -> docx.document.Document:
    response = api.client.get(
        f"/api/v1/{district.slug}/roadmaps/{roadmap['id']}/document.docx", headers=api._headers(district.slug)
    )
    assert response.status_code == 200
    return docx.Document(io.BytesIO(response.data))


@then(parsers.re(r"в документе плана первопричины «(?P<causes>[^»]+)»"))
def document_causes(api: Api, district: District, roadmap: dict[str, Any], causes: str) -> None:
    rows = [[c.text for c in r.cells] for t in _document(api, district, roadmap).tables for r in t.rows]
    assert any(r[0] == "Первопричины" and r[-1] == causes for r in rows), rows


@then(parsers.parse("в документе плана мероприятия сгруппированы по первопричинам:"))
def document_grouped(
    api: Api, district: District, roadmap: dict[str, Any], datatable: list[list[str]]
) -> None:
    """Each measure under the root cause it removes («N. Описание первопричины: …»)."""
    cause, found = None, []
    for table in _document(api, district, roadmap).tables:
        for row in table.rows:
            first = row.cells[0].text
            if "Описание первопричины: " in first:
                cause = first.split("Описание первопричины: ", 1)[1]
            elif cause and len(row.cells) > 1 and first[:1].isdigit():
                found.append([cause, row.cells[1].text])
    assert found == datatable[1:]
