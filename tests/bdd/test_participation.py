"""Мониторинг сроков проведения: specs/participation/*.feature, through the JSON API and the page.

Events are entered with their terms and marked held through the district's API; the state of
each term is read back for the day the scenario names (`?on=`), as the list and as the page a
member of the МЦУ opens. The KPI is computed by the shared step in the conftest.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from mcu.participation.schemas import KINDS
from tests.bdd.conftest import DATE, Api, District, Reply
from tests.helpers import staff_client

scenarios("../../specs/participation")

KIND_IDS = {name: kind for kind, name in KINDS.items()}


def _iso(day: str) -> str:
    return datetime.strptime(day, "%d.%m.%Y").date().isoformat()


def _titles(text: str) -> list[str]:
    return [t.strip().strip("«»") for t in text.split(",")]


@pytest.fixture
def events() -> dict[str, str]:
    """Title → id of the events the scenario entered."""
    return {}


@given(parsers.parse("в журнал МЦУ внесены мероприятия со сроками проведения:"))
def planned(api: Api, district: District, events: dict[str, str], datatable: list[list[str]]) -> None:
    """Each row: the event, its kind as the decree names it, its term (с, по), through ПОС or not."""
    head, *rows = datatable
    for row in rows:
        r = dict(zip(head, row, strict=True))
        payload = {
            "kind": KIND_IDS[r["вид"]],
            "title": r["мероприятие"],
            "via_pos": r.get("через ПОС") == "да",
            "starts_on": _iso(r["с"]),
            "ends_on": _iso(r["по"]),
        }
        events[r["мероприятие"]] = api.post(district, "/participation", payload).id


@given(parsers.re(rf"мероприятие «(?P<title>[^»]+)» проведено (?P<day>{DATE})"))
@when(parsers.re(rf"мероприятие «(?P<title>[^»]+)» проведено (?P<day>{DATE})"))
def held(api: Api, district: District, events: dict[str, str], title: str, day: str) -> None:
    """The planned event is marked held, at noon of that local day."""
    at = district.local(day, "12:00").isoformat()
    outcome = api.post(district, f"/participation/{events[title]}/held", {"held_at": at})
    assert outcome.status == 200, outcome.body


@when(
    parsers.re(rf"сотрудник МЦУ смотрит сроки проведения мероприятий на (?P<day>{DATE})"),
    target_fixture="listed",
)
def looked(api: Api, district: District, day: str) -> dict[str, Any]:
    return api.get(district, f"/participation?on={_iso(day)}")


@when(
    parsers.re(
        rf"в журнал МЦУ вносят «(?P<title>[^»]+)» со сроком проведения с (?P<start>{DATE}) по (?P<end>{DATE})"
    ),
    target_fixture="outcome",
)
def entered_with_term(api: Api, district: District, title: str, start: str, end: str) -> Reply:
    payload = {
        "kind": "vote",
        "title": title,
        "via_pos": True,
        "starts_on": _iso(start),
        "ends_on": _iso(end),
    }
    return api.post(district, "/participation", payload)


@when(
    parsers.re(r"в журнал МЦУ вносят «(?P<title>[^»]+)» без срока проведения и даты проведения"),
    target_fixture="outcome",
)
def entered_without_dates(api: Api, district: District, title: str) -> Reply:
    return api.post(district, "/participation", {"kind": "vote", "title": title, "via_pos": True})


@then(parsers.parse("сроки проведения мероприятий:"))
def terms_are(listed: dict[str, Any], datatable: list[list[str]]) -> None:
    """Exactly these events, in this order (not held first, by the end of their term), each with
    the state of its term in the words staff read."""
    got = [[e["title"], e["term"]["text"]] for e in listed["participation"]]
    assert got == [row for row in datatable[1:]]


@then(parsers.re(r"не проведены в срок только: (?P<titles>.+)"))
def only_overdue(api: Api, district: District, listed: dict[str, Any], titles: str) -> None:
    found = api.get(district, f"/participation?term=overdue&on={listed['on']}")["participation"]
    assert [e["title"] for e in found] == _titles(titles)


@then(parsers.re(r"предстоят только: (?P<titles>.+)"))
def only_upcoming(api: Api, district: District, listed: dict[str, Any], titles: str) -> None:
    found = api.get(district, f"/participation?term=upcoming&on={listed['on']}")["participation"]
    assert [e["title"] for e in found] == _titles(titles)


@then(parsers.re(rf"на странице мероприятий района на (?P<day>{DATE}) показаны те же сроки проведения"))
def page_shows(loaded_app, district: District, listed: dict[str, Any], day: str) -> None:
    """A member of the МЦУ (the head of the Центр) opens the district's participation page."""
    assert "mcu_head" in {r["kind"] for r in district.config.roles.values()}
    with loaded_app.app_context():
        client = staff_client(loaded_app, grants=((district.slug, "mcu_head"),))
        page = client.get(f"/t/{district.slug}/participation?on={_iso(day)}")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    for event in listed["participation"]:
        assert event["title"] in text and event["term"]["text"] in text, event


@then(parsers.re(r"мероприятие не принято: «(?P<fragment>[^»]+)»"))
def refused(api: Api, district: District, outcome: Reply, fragment: str) -> None:
    """Refused with the reason; nothing stored."""
    assert outcome.status == 422, outcome.body
    assert fragment in outcome.errors(), outcome.body
    assert api.get(district, "/participation")["participation"] == []
