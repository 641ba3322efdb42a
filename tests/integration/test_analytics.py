"""Analytics: the heat map and the messages behind each figure, growth, red zone and forecast,
the flow analysis, ratings, the region console, and the pages and API on demo data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from mcu.analytics import flow, ratings
from mcu.analytics.dashboard import dashboard
from mcu.analytics.periods import month
from mcu.analytics.region import console
from mcu.db import engine
from mcu.messages import operations as ops
from mcu.messages.schemas import CitizenIn, MessageIn
from mcu.tenancy.queries import current_config, tenant_by_slug
from tests.helpers import staff_client

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
NOV = month(2026, 11)


@pytest.fixture
def token(loaded_app):
    """A district's API token, as `mcu tokens create` prints it, in a request header."""
    runner = loaded_app.test_cli_runner()

    def make(slug: str) -> dict[str, str]:
        plain = runner.invoke(args=["tokens", "create", "--tenant", slug]).stdout.split()[0]
        return {"Authorization": f"Bearer {plain}"}

    return make


@pytest.fixture
def kond(loaded_app):
    with loaded_app.app_context(), Session(engine()) as s:
        yield s, current_config(s, tenant_by_slug(s, "kondinsky"))


def _arrive(s, config, when, block, settlement=None, *, channel="pos", citizen=None, address=None):
    data = MessageIn(
        channel=channel,
        text=f"Сообщение {when.isoformat()} ({block}, {address or citizen or settlement})",
        block=block,
        settlement=settlement,
        received_at=when,
        address=address,
        citizen=CitizenIn(full_name=citizen, phone="+79990000000") if citizen else None,
    )
    return ops.receive_message(session=s, config=config, data=data, actor="test", now=when).message


def _nov(day, hour=10):
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_heat_map_cells_add_up_and_link_to_the_messages_behind_them(kond, loaded_app, token):
    s, config = kond
    for day in (2, 3):
        _arrive(s, config, _nov(day), "roads", "mezhdurechensky")
    _arrive(s, config, _nov(4), "roads", "kondinskoe")
    _arrive(s, config, _nov(5), "education", "mezhdurechensky")
    _arrive(s, config, datetime(2026, 10, 31, 20, tzinfo=UTC), "roads", "mezhdurechensky")  # 1 Nov local
    s.commit()
    hm = dashboard(s, config, NOV, now=NOW)["heat_map"]
    roads = next(b for b in hm["blocks"] if b["id"] == "roads")
    assert roads["by_settlement"]["mezhdurechensky"] == 3  # 31.10 20:00 UTC is 1 November in Кондинский
    assert roads["by_settlement"]["kondinskoe"] == 1
    assert roads["total"] == 4 and hm["total"] == 5
    assert sum(roads["series"]) == 4 and roads["series"][0] == 1  # the bucket of 1 November
    client = staff_client(loaded_app)
    headers = token("kondinsky")
    behind = client.get(
        "/api/v1/kondinsky/analytics/messages?period=2026-11&block=roads&settlement=mezhdurechensky",
        headers=headers,
    ).get_json()
    assert behind["total"] == 3 and len(behind["messages"]) == 3
    assert "text" not in behind["messages"][0] and "citizen" not in behind["messages"][0]
    page = client.get("/t/kondinsky/figures?period=2026-11&block=roads&settlement=mezhdurechensky")
    assert page.status_code == 200 and "Всего: <b>3</b>" in page.get_data(as_text=True)
    assert client.get("/t/kondinsky/figures?block=nope").status_code == 400


def test_growth_through_one_system_counts_only_its_messages(kond, loaded_app, token):
    """Некрасовский Положение п.2.5 «в», п.2.6 «в» (and the same in every district): the growth by
    block among the messages that came through «Инцидент менеджмент» or ПОС only, and the messages
    behind it."""
    s, config = kond
    im = next(c["id"] for c in config.channels.values() if c["kind"] == "incident_management")
    _arrive(s, config, datetime(2026, 10, 15, 10, tzinfo=UTC), "roads", channel=im)
    for day in (3, 4, 5):
        _arrive(s, config, _nov(day), "roads", channel=im)
    for day in (6, 7, 8, 9):
        _arrive(s, config, datetime(2026, 10, day, 10, tzinfo=UTC), "roads")  # ПОС
    s.commit()
    client, headers = loaded_app.test_client(), token("kondinsky")
    url = "/api/v1/kondinsky/analytics"

    def roads(query: str) -> dict:
        found = client.get(f"{url}/heatmap?period=2026-11{query}", headers=headers).get_json()
        return next(b for b in found["blocks"] if b["id"] == "roads")

    everything, through_im, through_pos = (
        roads(""),
        roads("&channel=incident_management"),
        roads("&channel=pos"),
    )
    assert (everything["total"], everything["previous"], everything["negative_dynamics"]) == (3, 5, False)
    assert (through_im["total"], through_im["previous"], through_im["growth_index"]) == (3, 1, 3.0)
    top = client.get(f"{url}/heatmap?period=2026-11&channel=incident_management", headers=headers).get_json()
    assert through_im["negative_dynamics"] and [t["block"] for t in top["top_problems"]] == ["roads"]
    assert top["channel"] == "incident_management"
    assert (through_pos["total"], through_pos["previous"]) == (0, 4)
    behind = client.get(
        f"{url}/messages?period=2026-11&block=roads&channel=incident_management", headers=headers
    ).get_json()
    assert behind["total"] == 3 and any("Инцидент" in said for said in behind["filter"]), behind["filter"]
    for bad in ("heatmap?channel=fax", "messages?channel=fax", "ratings?channel=fax"):
        refused = client.get(f"{url}/{bad}", headers=headers)
        assert refused.status_code == 422 and "channel" in refused.get_json()["fields"], bad


def test_growth_red_zone_and_forecast_from_last_year(kond):
    s, config = kond
    _arrive(s, config, datetime(2026, 10, 6, 10, tzinfo=UTC), "roads")  # previous period: 1
    for day in (2, 3, 4, 5):  # this period: 4 → index 4,00, growth: red zone (top 5, ≥ 1.5)
        _arrive(s, config, _nov(day), "roads")
    for when in (
        datetime(2026, 10, 7, 10, tzinfo=UTC),
        datetime(2026, 10, 8, 10, tzinfo=UTC),
        _nov(6),
        _nov(7),
    ):
        _arrive(s, config, when, "education")  # 2 → 2: no negative dynamics
    for day in (3, 4):  # November 2025: 2 roads; December 2025: 3 roads
        _arrive(s, config, datetime(2025, 11, day, 10, tzinfo=UTC), "roads")
    for day in (3, 4, 5):
        _arrive(s, config, datetime(2025, 12, day, 10, tzinfo=UTC), "roads")
    s.commit()
    hm = dashboard(s, config, NOV, now=NOW)["heat_map"]
    roads = next(b for b in hm["blocks"] if b["id"] == "roads")
    education = next(b for b in hm["blocks"] if b["id"] == "education")
    assert (roads["previous"], roads["growth_index"], roads["rank"]) == (1, 4.0, 1)
    assert roads["red_zone"] and roads["negative_dynamics"]
    assert (education["growth_index"], education["negative_dynamics"], education["red_zone"]) == (
        1.0,
        False,
        False,
    )
    assert hm["red_zone"] == ["roads"]
    assert hm["top_problems"][0]["block"] == "roads"
    # Forecast for December: last December's 3 × (4 this November / 2 last November) = 6.
    assert (roads["last_year"], roads["last_year_next"], roads["forecast_next"]) == (2, 3, 6)
    assert education["forecast_next"] is None


def test_flow_counts_new_repeated_overdue_and_postponed(kond):
    s, config = kond
    first = _arrive(s, config, _nov(2), "roads", citizen="Иванов Иван Иванович", channel="site-reception")
    again = _arrive(s, config, _nov(9), "roads", citizen=None, address=None, channel="site-reception")
    again.citizen_id = first.citizen_id  # the same citizen writes again about roads
    _arrive(s, config, _nov(3), "education", address="ул. Ленина, 1")
    _arrive(s, config, _nov(20), "education", address="ул. Ленина, 1")  # same address, same block
    late = _arrive(
        s, config, datetime(2026, 10, 20, 10, tzinfo=UTC), "education"
    )  # due in November, unanswered
    ops.extend(
        session=s,
        config=config,
        message=first,
        days=10,
        actor="user:head",
        reason="нужна проверка",
        now=first.received_at + timedelta(days=3),
    )
    s.commit()
    assert late.due_at < datetime(2026, 12, 1, tzinfo=UTC)
    f = flow.flow(s, config, NOV, now=NOW)
    by = {r["block"]: r for r in f["blocks"]}
    assert (by["roads"]["new"], by["roads"]["repeated"], by["roads"]["postponed"]) == (2, 1, 1)
    assert (by["education"]["new"], by["education"]["repeated"], by["education"]["overdue"]) == (2, 1, 1)
    assert f["totals"] == {"new": 4, "repeated": 2, "overdue": 1, "postponed": 1}


def test_ratings_place_timely_complete_answers_first(kond):
    s, config = kond
    good = [_arrive(s, config, _nov(d), "education") for d in (2, 3)]
    poor = [_arrive(s, config, _nov(d), "roads") for d in (2, 3)]
    for m in good:
        ops.answer(
            session=s,
            message=m,
            text="Сделано",
            final=True,
            actor="x",
            now=m.received_at + timedelta(hours=5),
        )
    ops.answer(
        session=s,
        message=poor[0],
        text="Сделано",
        final=True,
        actor="x",
        now=poor[0].due_at + timedelta(days=2),
    )
    ops.rate(
        session=s,
        config=config,
        message=poor[0],
        score=1,
        comment=None,
        actor="citizen",
        now=NOW - timedelta(days=1),
    )
    s.commit()
    rows = ratings.ratings(s, config, NOV, by="executor", now=NOW)
    assert [r.key for r in rows] == ["education-dept-head", "investment-committee-chair"]
    first, second = rows
    assert (first.on_time_share, first.completeness, first.score, first.median_hours) == (
        100.0,
        100.0,
        100.0,
        5.0,
    )
    assert (second.answered, second.on_time_share, second.completeness, second.score) == (1, 0.0, 0.0, 0.0)
    assert second.overdue_open == 1 and second.satisfaction == 1.0
    by_settlement = ratings.ratings(s, config, NOV, by="settlement", now=NOW)
    assert sum(r.messages for r in by_settlement) == 4
    assert (
        ratings.ratings(s, config, NOV, by="executor", now=NOW, channel_kinds=["incident_management"]) == []
    )


def _seed(app, *slugs: str):
    only = [arg for slug in slugs for arg in ("--tenant", slug)]
    result = app.test_cli_runner().invoke(
        args=["demo", "seed", "--until", "2026-11-22", "--months", "2", "--per-day", "3", *only]
    )
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def demo(loaded_app):
    return _seed(loaded_app)


def test_region_console_puts_districts_side_by_side(demo):
    with demo.app_context(), Session(engine()) as s:
        data = console(s, "khmao", NOV, now=NOW)
        assert console(s, "atlantis", NOV, now=NOW) is None
        rows = {r["slug"]: r for r in data["districts"]}
        assert set(rows) == {"kondinsky", "khanty-mansiysky", "sovetsky"}
        kond = rows["kondinsky"]
        config = current_config(s, tenant_by_slug(s, "kondinsky"))
        own = dashboard(s, config, NOV, now=NOW)
    assert kond["received"] == own["summary"]["received"] > 0
    assert kond["per_1000"] == round(1000 * kond["received"] / 29000, 1)
    # Кондинский has 2026 targets and is judged on them; the others have none for 2026 (2021–2024).
    assert kond["kpi_judged"] > 0 and rows["sovetsky"]["kpi_judged"] == 0
    assert [r["place"] for r in data["districts"]] == [1, 2, 3] and data["districts"][0][
        "slug"
    ] == "kondinsky"
    assert kond["kpi"]["auto_delivery_share"]["fact"] == 100.0  # the demo router delivers every message


@pytest.mark.parametrize(
    "slug", ["kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky"]
)
def test_pages_and_api_on_demo_data(loaded_app, slug, token):
    demo = _seed(loaded_app, slug)  # the district's own history is what its pages show
    client = staff_client(demo)
    for path in (
        f"/t/{slug}/dashboard",
        f"/t/{slug}/dashboard?period=2026-11",
        f"/t/{slug}/dashboard?period=2026-W47",
        f"/t/{slug}/ratings?by=body",
        f"/t/{slug}/ratings?by=settlement&channel=pos",
        f"/t/{slug}/figures?period=2026-11&indicator=auto_delivery_share&part=numerator",
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert "Тепловая карта и показатели" in response.get_data(as_text=True)
    region = current_region(demo, slug)
    assert client.get(f"/region/{region}/").status_code == 200
    assert client.get(f"/api/v1/regions/{region}/console?period=2026-11").get_json()["districts"]
    headers = token(slug)
    for path in ("dashboard", "heatmap", "kpi", "ratings?by=body", "flow", "messages?period=2026-11"):
        assert client.get(f"/api/v1/{slug}/analytics/{path}", headers=headers).status_code == 200, path
        assert client.get(f"/api/v1/{slug}/analytics/{path}").status_code == 401, path
    bad = client.get(f"/api/v1/{slug}/analytics/kpi?period=2026-13", headers=headers)
    assert bad.status_code == 422 and "период" in bad.get_json()["fields"]["period"][0]
    assert client.get(f"/t/{slug}/dashboard?period=2026-13").status_code == 400


def test_another_districts_token_opens_no_analytics(loaded_app, token):
    client = loaded_app.test_client()
    intruder = token("sovetsky")
    for path in ("dashboard", "kpi", "ratings", "flow", "messages"):
        assert client.get(f"/api/v1/kondinsky/analytics/{path}", headers=intruder).status_code == 401


def current_region(app, slug):
    with app.app_context(), Session(engine()) as s:
        return tenant_by_slug(s, slug).region


def test_evidence_of_the_solution_is_recorded_through_the_api(loaded_app, token):
    client, headers = loaded_app.test_client(), token("kondinsky")
    message = client.post(
        "/api/v1/kondinsky/messages",
        headers=headers,
        json={"channel": "pos", "text": "Яма на дороге", "block": "roads"},
    ).get_json()
    url = f"/api/v1/kondinsky/messages/{message['id']}/actions"
    bad = client.post(
        url, headers=headers, json={"action": "record_control", "control": "drone", "reference": "x"}
    )
    assert bad.status_code == 422 and "control" in bad.get_json()["fields"]
    done = client.post(
        url, headers=headers, json={"action": "record_control", "control": "glonass", "reference": "трек 17"}
    ).get_json()
    event = next(e for e in done["events"] if e["kind"] == "control_recorded")
    assert "ГЛОНАСС" in event["reason"]
