"""Public participation through the API, and the KPIs it feeds."""

from __future__ import annotations

import pytest

HEARING = {
    "kind": "hearing",
    "title": "Публичные слушания по проекту благоустройства сквера",
    "via_pos": True,
    "block": "construction",
    "held_at": "2026-03-10T15:00:00+05:00",
    "decision_taken": True,
    "decision": "Проект благоустройства одобрен с учётом предложений жителей",
}


@pytest.fixture
def api(loaded_app):
    runner, client = loaded_app.test_cli_runner(), loaded_app.test_client()
    plain = runner.invoke(args=["tokens", "create", "--tenant", "kondinsky"]).stdout.split()[0]
    headers = {"Authorization": f"Bearer {plain}"}
    return client, headers


def test_a_hearing_with_a_decision_and_its_informing_feed_the_kpis(api):
    client, headers = api
    made = client.post("/api/v1/kondinsky/participation", headers=headers, json=HEARING)
    assert made.status_code == 201, made.get_json()
    offline = client.post(
        "/api/v1/kondinsky/participation",
        headers=headers,
        json={
            **HEARING,
            "via_pos": False,
            "decision_taken": False,
            "decision": None,
            "held_at": "2026-03-20T15:00:00+05:00",
        },
    )
    assert offline.status_code == 201
    url = f"/api/v1/kondinsky/participation/{made.get_json()['id']}/informed"
    told = client.post(
        url,
        headers=headers,
        json={"informed_at": "2026-04-01T10:00:00+05:00", "link": "https://vk.com/wall-1_7"},
    )
    assert told.status_code == 200 and told.get_json()["informed_at"].startswith("2026-04-01")
    again = client.post(
        url,
        headers=headers,
        json={"informed_at": "2026-04-02T10:00:00+05:00", "link": "https://vk.com/wall-1_8"},
    )
    assert again.status_code == 422 and "informed_at" in again.get_json()["fields"]
    kpi = {
        k["indicator"]: k
        for k in client.get("/api/v1/kondinsky/analytics/kpi?period=2026-03", headers=headers).get_json()[
            "indicators"
        ]
    }
    assert (kpi["pos_hearings_share"]["numerator"], kpi["pos_hearings_share"]["denominator"]) == (1, 2)
    assert (kpi["pos_decisions_share"]["numerator"], kpi["pos_decisions_share"]["denominator"]) == (1, 1)
    listed = client.get("/api/v1/kondinsky/participation?kind=hearing", headers=headers).get_json()[
        "participation"
    ]
    assert len(listed) == 2 and listed[0]["kind_name"] == "публичные слушания"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "rally"}, "kind"),
        ({"block": "space"}, "block"),
        ({"held_at": "2099-01-01T10:00:00+05:00"}, "held_at"),
        ({"held_at": "2026-03-10T15:00:00"}, "held_at"),
        ({"decision": None}, "decision"),
        ({"via_pos": None}, "via_pos"),
        ({"held_at": None}, "held_at"),
        ({"held_at": None, "starts_on": "2026-04-01", "ends_on": "2026-04-10"}, "decision"),
        ({"starts_on": "2026-04-01"}, "ends_on"),
        ({"ends_on": "2026-04-01"}, "starts_on"),
        ({"starts_on": "2026-04-10", "ends_on": "2026-04-01"}, "ends_on"),
        ({"starts_on": "2026-04-31", "ends_on": "2026-05-01"}, "starts_on"),
    ],
)
def test_a_bad_record_is_refused_field_by_field_and_nothing_is_stored(api, change, field):
    client, headers = api
    bad = client.post("/api/v1/kondinsky/participation", headers=headers, json={**HEARING, **change})
    assert bad.status_code == 422 and field in bad.get_json()["fields"], bad.get_json()
    assert client.get("/api/v1/kondinsky/participation", headers=headers).get_json()["participation"] == []


def test_informing_needs_a_decision(api):
    client, headers = api
    poll = client.post(
        "/api/v1/kondinsky/participation",
        headers=headers,
        json={**HEARING, "kind": "poll", "decision_taken": False},
    ).get_json()
    told = client.post(
        f"/api/v1/kondinsky/participation/{poll['id']}/informed",
        headers=headers,
        json={"informed_at": "2026-04-01T10:00:00+05:00", "link": "https://vk.com/wall-1_9"},
    )
    assert told.status_code == 422 and "decision" in told.get_json()["fields"]


PLANNED = {
    "kind": "vote",
    "title": "Голосование по выбору территории благоустройства",
    "via_pos": True,
    "starts_on": "2026-04-01",
    "ends_on": "2026-04-10",
}


def test_a_planned_event_is_upcoming_running_overdue_and_then_held_feeding_the_kpis(api):
    client, headers = api
    made = client.post("/api/v1/kondinsky/participation", headers=headers, json=PLANNED)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["held_at"] is None
    url = "/api/v1/kondinsky/participation"

    def state(on: str) -> dict:
        (row,) = client.get(f"{url}?on={on}", headers=headers).get_json()["participation"]
        return row["term"]

    assert state("2026-03-31") == {
        "state": "upcoming",
        "state_name": "предстоит",
        "text": "предстоит с 01.04.2026 по 10.04.2026: до начала 1 день",
        "days": 1,
    }
    assert state("2026-04-01")["text"] == "проводится с 01.04.2026 по 10.04.2026: до окончания 9 дней"
    assert state("2026-04-10")["text"] == "проводится с 01.04.2026 по 10.04.2026: последний день"
    assert state("2026-04-12") == {
        "state": "overdue",
        "state_name": "срок проведения истёк",
        "text": "срок проведения истёк 10.04.2026, не проведено: просрочено на 2 дня",
        "days": 2,
    }
    for term, on, count in [
        ("overdue", "2026-04-12", 1),
        ("overdue", "2026-04-10", 0),
        ("running", "2026-04-10", 1),
    ]:
        found = client.get(f"{url}?term={term}&on={on}", headers=headers).get_json()["participation"]
        assert len(found) == count, (term, on)
    held = client.post(
        f"{url}/{made.get_json()['id']}/held",
        headers=headers,
        json={
            "held_at": "2026-04-09T18:00:00+05:00",
            "decision_taken": True,
            "decision": "Благоустроить сквер у школы",
        },
    )
    assert held.status_code == 200, held.get_json()
    assert held.get_json()["term"]["text"] == "проведено 09.04.2026"
    again = client.post(
        f"{url}/{made.get_json()['id']}/held", headers=headers, json={"held_at": "2026-04-09T18:00:00+05:00"}
    )
    assert again.status_code == 422 and "held_at" in again.get_json()["fields"]
    assert client.get(f"{url}?term=overdue&on=2026-04-12", headers=headers).get_json()["participation"] == []
    kpi = {
        k["indicator"]: k
        for k in client.get("/api/v1/kondinsky/analytics/kpi?period=2026-04", headers=headers).get_json()[
            "indicators"
        ]
    }
    assert (kpi["pos_decisions_share"]["numerator"], kpi["pos_decisions_share"]["denominator"]) == (1, 1)


@pytest.mark.parametrize(
    ("query", "field"), [("term=late", "term"), ("on=10.04.2026", "on"), ("kind=rally", "kind")]
)
def test_a_bad_list_query_is_refused(api, query, field):
    client, headers = api
    bad = client.get(f"/api/v1/kondinsky/participation?{query}", headers=headers)
    assert bad.status_code == 422 and field in bad.get_json()["fields"], bad.get_json()


def test_a_planned_event_of_another_district_is_not_found(api, loaded_app):
    client, headers = api
    made = client.post("/api/v1/kondinsky/participation", headers=headers, json=PLANNED).get_json()
    runner = loaded_app.test_cli_runner()
    other = runner.invoke(args=["tokens", "create", "--tenant", "sovetsky"]).stdout.split()[0]
    held = client.post(
        f"/api/v1/sovetsky/participation/{made['id']}/held",
        headers={"Authorization": f"Bearer {other}"},
        json={"held_at": "2026-04-09T18:00:00+05:00"},
    )
    assert held.status_code == 404


@pytest.mark.parametrize(
    ("n", "word"),
    [(1, "1 день"), (2, "2 дня"), (5, "5 дней"), (11, "11 дней"), (21, "21 день"), (104, "104 дня")],
)
def test_days_are_counted_in_russian(n, word):
    from mcu.deadlines.compute import plural

    assert plural(n, "days") == word
