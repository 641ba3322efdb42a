"""Целевые показатели МЦУ: specs/analytics/*.feature, on a clock the scenario controls.

Messages are taken in and worked through the real operations at the moments the scenario names
(the answer «в срок» two hours after arrival, «с опозданием» a day after the term), so the KPI
facts are computed from the same event log the platform writes in production; decisions and
public hearings are recorded by the participation operations.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from pytest_bdd import given, parsers, scenarios, then, when
from sqlmodel import Session

from mcu.analytics import kpi
from mcu.participation import operations as participation
from mcu.participation.schemas import ParticipationIn
from tests.bdd.conftest import MONTHS, Api, District, config_of
from tests.helpers import staff_client

scenarios("../../specs/analytics")

LATER = datetime(2027, 1, 15, tzinfo=UTC)  # the scene's «now»: after everything it records


@given(parsers.parse("в журнал МЦУ внесены:"))
def journal(session: Session, district: District, datatable: list[list[str]]) -> None:
    """Decisions and hearings recorded through the participation operations, with whether
    residents took part through ПОС; the informing about a decision's implementation refers to
    the decision by its letter."""
    config = config_of(session, district)
    head, *rows = datatable
    decisions: dict[str, object] = {}
    for row in rows:
        r = dict(zip(head, row, strict=True))
        at = district.local(r["дата"], "12:00")
        if r["событие"] == "о реализации сообщено в социальных сетях":
            participation.inform(
                session=session,
                row=decisions[r["решение"]],
                informed_at=at,
                link="https://vk.com/wall-1_1",
                actor="user:media",
                now=LATER,
            )
            continue
        hearing = r["событие"] == "публичные слушания проведены"
        data = ParticipationIn(
            kind="hearing" if hearing else "vote",
            title=f"{r['событие']} {r['дата']}",
            via_pos=r["через ПОС"] == "да",
            held_at=at,
            decision_taken=not hearing,
            decision=None if hearing else "Решение по итогам голосования",
        )
        made = participation.record(
            session=session, config=config, data=data, actor="user:coordinator", now=LATER
        )
        if r.get("решение"):
            decisions[r["решение"]] = made
    session.commit()


def _shown(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",")


@then(parsers.parse("показатели района:"))
def indicators_are(facts: dict[str, kpi.KpiFact], datatable: list[list[str]]) -> None:
    head, *rows = datatable
    for row in rows:
        r = dict(zip(head, row, strict=True))
        fact = facts[r["показатель"]]
        got = {
            "числитель": str(fact.numerator),
            "знаменатель": str(fact.denominator),
            "факт": _shown(fact.value),
            "план": "—" if fact.target is None else f"{fact.target:g}",
            "оценка": kpi.STATUS_TEXT[fact.status],
        }
        want = {k: v for k, v in r.items() if k != "показатель"}
        assert {k: got[k] for k in want} == want, f"показатель {r['показатель']} «{fact.name}»"


@then(parsers.parse("показаны все {count:d} показателей каталога без плановых значений"))
def whole_catalogue(facts: dict[str, kpi.KpiFact], count: int) -> None:
    assert len(facts) == count
    assert all(f.target is None and f.methodology != "методика не описана" for f in facts.values())
    assert {f.status for f in facts.values()} <= {"no_target", "no_data"}


# ---------------------------------------------------------------- growth by block, problem points
# The heat map as the district's API and dashboard give it, for all channels or for one system.
@when(
    parsers.re(
        r"анализируется рост количества сообщений, поступивших через «(?P<words>[^»]+)», "
        r"за (?P<name>\w+) (?P<y>\d{4}) года"
    ),
    target_fixture="growth",
)
def growth_through(api: Api, district: District, words: str, name: str, y: str) -> dict[str, Any]:
    """Of the messages that came through the system the decree names only."""
    kind = district.config.channels[district.channel(words)]["kind"]
    period = f"{y}-{MONTHS[name]:02d}"
    return {
        "map": api.get(district, f"/analytics/heatmap?period={period}&channel={kind}"),
        "query": f"period={period}&channel={kind}",
    }


@when(
    parsers.re(r"анализируется рост количества сообщений по всем каналам за (?P<name>\w+) (?P<y>\d{4}) года"),
    target_fixture="growth",
)
def growth_everywhere(api: Api, district: District, name: str, y: str) -> dict[str, Any]:
    period = f"{y}-{MONTHS[name]:02d}"
    return {"map": api.get(district, f"/analytics/heatmap?period={period}"), "query": f"period={period}"}


@then(parsers.parse("рост количества по отраслевым блокам:"))
def growth_by_block(growth: dict[str, Any], datatable: list[list[str]]) -> None:
    """Every block with messages in the period or the one before, fastest-growing first."""
    rows = [b for b in growth["map"]["blocks"] if b["id"] and (b["total"] or b["previous"])]
    rows.sort(key=lambda b: (b["rank"] is None, b["rank"] or 0, b["name"]))
    got = [
        [
            b["name"],
            str(b["total"]),
            str(b["previous"]),
            "—" if b["growth_index"] is None else f"{b['growth_index']:.2f}".replace(".", ","),
            "да" if b["negative_dynamics"] else "нет",
        ]
        for b in rows
    ]
    assert got == datatable[1:]


@then(parsers.re(r"за ростом по блоку «(?P<block>[^»]+)» — сообщения (?P<numbers>.+)"))
def messages_behind_growth(
    api: Api, district: District, growth: dict[str, Any], messages: dict, block: str, numbers: str
) -> None:
    """The messages the figure is made of, where the causes of the growth are looked for."""
    query = f"{growth['query']}&block={district.block(block)}"
    found = api.get(district, f"/analytics/messages?{query}")["messages"]
    expected = [messages[n.strip()].number for n in numbers.split(",")]
    assert sorted(m["number"] for m in found) == sorted(expected)


def _points(district: District, growth: dict[str, Any]) -> list[list[str]]:
    names = {**{s: v["name"] for s, v in district.config.settlements.items()}, "": "поселение не определено"}
    return sorted(
        [b["name"], names[s], str(n)]
        for b in growth["map"]["blocks"]
        for s, n in b["by_settlement"].items()
        if n
    )


@then(parsers.parse("проблемные точки — сообщения по блокам в поселениях:"))
def problem_points(district: District, growth: dict[str, Any], datatable: list[list[str]]) -> None:
    """Every non-empty cell of the heat map: a block in a settlement, with its count."""
    assert _points(district, growth) == sorted(datatable[1:])


@then(
    parsers.re(
        r"на странице тепловой карты района за (?P<name>\w+) (?P<y>\d{4}) года "
        r"те же проблемные точки ведут к сообщениям за ними"
    )
)
def problem_points_on_page(
    loaded_app, district: District, growth: dict[str, Any], messages: dict, name: str, y: str
) -> None:
    """The head of the МЦУ opens the dashboard: each cell links to the list of its messages."""
    with loaded_app.app_context():
        client = staff_client(loaded_app, grants=((district.slug, "mcu_head"),))
        page = client.get(f"/t/{district.slug}/dashboard?period={y}-{MONTHS[name]:02d}").get_data(
            as_text=True
        )
        cells = {}
        for href, count in re.findall(r'<a href="([^"]*/figures\?[^"]*)">(\d+)</a>', page):
            args = parse_qs(urlparse(html.unescape(href)).query)
            if "block" in args and "settlement" in args:
                cells[(args["block"][0], args["settlement"][0])] = (int(count), html.unescape(href))
        listed = {k: v[0] for k, v in cells.items()}
        expected = {
            (b["id"], s): n for b in growth["map"]["blocks"] for s, n in b["by_settlement"].items() if n
        }
        assert listed == expected
        for (block, settlement), (_count, href) in cells.items():
            behind = client.get(href).get_data(as_text=True)
            numbers = {
                m.number for m in messages.values() if (m.block_id, m.settlement_id) == (block, settlement)
            }
            assert numbers and all(number in behind for number in numbers), (block, settlement)
