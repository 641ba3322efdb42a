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
