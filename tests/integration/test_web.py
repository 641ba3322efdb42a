"""Pages and JSON of the tenancy area, and tenant isolation of every tenant-scoped route."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.helpers import staff_client


def test_home_lists_the_five_districts(loaded_app):
    html = loaded_app.test_client().get("/").get_data(as_text=True)
    for name in (
        "Кондинский район",
        "Советский район",
        "Некрасовский",
        "Константиновский",
        "Ханты-Мансийский район",
    ):
        assert name in html


def test_district_pages_render(loaded_app):
    client = staff_client(loaded_app)
    for slug in ("kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky"):
        for path in (f"/t/{slug}/", f"/t/{slug}/config"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert '<html lang="ru">' in response.get_data(as_text=True)


def test_sovetsky_page_says_blocks_come_from_region(loaded_app):
    html = staff_client(loaded_app).get("/t/sovetsky/").get_data(as_text=True)
    blocks_heading = html[html.index("Отраслевые блоки") : html.index("Каналы поступления")]
    assert "из значений региона" in blocks_heading


def test_api_tenants_and_config(loaded_app):
    client = loaded_app.test_client()
    data = client.get("/api/v1/tenants").get_json()
    assert {t["slug"] for t in data["tenants"]} >= {"kondinsky", "sovetsky"}
    config = client.get("/api/v1/kondinsky/config").get_json()
    assert config["config"]["slug"] == "kondinsky" and len(config["version"]) == 64


def test_health_and_readiness(app, runner):
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 503
    runner.invoke(args=["tenants", "load"])
    assert client.get("/readyz").get_json()["status"] == "ready"


def _tenant_routes(app):
    for rule in app.url_map.iter_rules():
        if "tenant" in rule.arguments:
            yield rule


def _fill(rule, tenant: str, ids: dict[str, str] | None = None) -> str:
    """The rule's URL with every argument filled: the tenant, the id of a real object named by
    the argument (`message_id` → a message …), or a placeholder."""
    path = rule.rule
    for name, converter in rule._converters.items():
        if name == "tenant":
            value = tenant
        elif type(converter).__name__ == "UUIDConverter":
            assert ids is None or name in ids, f"{rule.rule}: no object of another tenant for <{name}>"
            value = (ids or {}).get(name) or str(uuid.uuid4())
        else:
            value = "x"
        path = re.sub(rf"<(?:[^:>]+:)?{name}>", value, path)
    return path


def _methods(rule):
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def test_every_tenant_route_is_404_for_an_unknown_tenant(loaded_app):
    client = loaded_app.test_client()
    routes = list(_tenant_routes(loaded_app))
    assert len(routes) >= 8, "tenant-scoped routes not found"
    for rule in routes:
        path = _fill(rule, "atlantis")
        for method in _methods(rule):
            response = client.open(path, method=method, json={})
            assert response.status_code == 404, (method, path, response.status_code)


def test_every_object_route_is_404_for_another_tenants_object(loaded_app):
    """Walk every route that takes an object id (message, emergency, notification) as a user
    (token, and a logged-in curator for the pages) of another tenant, with that id being a real
    object of the first tenant."""
    runner = loaded_app.test_cli_runner()
    client = staff_client(loaded_app, grants=(("sovetsky", "mcu_curator"),))

    def token(slug):
        return {
            "Authorization": "Bearer "
            + runner.invoke(args=["tokens", "create", "--tenant", slug]).stdout.split()[0]
        }

    owner, intruder = token("kondinsky"), token("sovetsky")
    message = client.post(
        "/api/v1/kondinsky/messages",
        headers=owner,
        json={"channel": "pos", "text": "Сильный запах газа в подъезде, дети дома"},
    )
    emergency = client.get("/api/v1/kondinsky/emergencies", headers=owner).get_json()["emergencies"][0]
    mcu_head = next(p for p, v in _roster(loaded_app, "kondinsky").items() if "mcu_head" in v)
    inbox = client.get(f"/api/v1/kondinsky/notifications?position={mcu_head}", headers=owner).get_json()
    hearing = client.post(
        "/api/v1/kondinsky/participation",
        headers=owner,
        json={
            "kind": "hearing",
            "title": "Публичные слушания по бюджету",
            "via_pos": True,
            "held_at": "2026-01-15T10:00:00+05:00",
            "decision_taken": True,
            "decision": "Проект бюджета одобрен",
        },
    )
    queued = client.post(
        "/api/v1/kondinsky/intake", headers=owner, json={"channel": "pos", "text": "Яма на дороге у школы"}
    )
    report = client.post("/api/v1/kondinsky/reports/rating/generate?period=2026-03", headers=owner)
    roadmap = client.post(
        "/api/v1/kondinsky/roadmaps",
        headers=owner,
        json={"kind": "operational", "emergency": emergency["id"]},
    ).get_json()
    campaign = client.post(
        "/api/v1/kondinsky/campaigns",
        headers=owner,
        json={
            "title": "Разъяснения о газовой безопасности",
            "blocks": ["housing-utilities"],
            "start_date": "2026-01-10",
            "end_date": "2026-01-20",
            "channel": "сайт администрации",
        },
    ).get_json()
    ids = {
        "roadmap_id": roadmap["id"],
        "measure_id": roadmap["measures"][0]["id"],
        "campaign_id": campaign["id"],
        "report_uuid": report.get_json()["id"],
        "participation_id": hearing.get_json()["id"],
        "message_id": message.get_json()["id"],
        "item_id": queued.get_json()["id"],
        "emergency_id": emergency["id"],
        "notification_id": inbox["notifications"][0]["id"],
    }
    walked = 0
    for rule in _tenant_routes(loaded_app):
        if not any(type(c).__name__ == "UUIDConverter" for c in rule._converters.values()):
            continue
        path = _fill(rule, "sovetsky", ids)
        for method in _methods(rule):
            response = client.open(
                path,
                method=method,
                headers=intruder,
                json={
                    "action": "start",
                    "score": 5,
                    "decisions": "меры приняты",
                    "informed_at": "2026-02-01T10:00:00+05:00",
                    "link": "https://vk.com/wall-1_2",
                    "evidence": "акт выполненных работ",
                },
            )
            assert response.status_code == 404, (method, path, response.status_code)
            walked += 1
    assert walked >= 7  # message, its actions, rating, decisions; emergency, its closing; inbox read
    # And the owner does reach them: the 404s above are the tenant boundary, not broken routes.
    assert (
        client.get(f"/api/v1/kondinsky/emergencies/{ids['emergency_id']}", headers=owner).status_code == 200
    )
    assert client.get(f"/api/v1/kondinsky/roadmaps/{ids['roadmap_id']}", headers=owner).status_code == 200
    assert client.get(f"/api/v1/kondinsky/campaigns/{ids['campaign_id']}", headers=owner).status_code == 200
    assert client.get(f"/api/v1/kondinsky/intake/{ids['item_id']}", headers=owner).status_code == 200


def _roster(app, slug):
    from sqlmodel import Session

    from mcu.db import engine
    from mcu.tenancy.queries import current_config, tenant_by_slug

    with app.app_context(), Session(engine()) as s:
        config = current_config(s, tenant_by_slug(s, slug))
        kinds = {r["id"]: r["kind"] for r in config.roles.values()}
        return {p["id"]: {kinds[r] for r in p.get("roles", [])} for p in config.roster.values()}


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
def test_config_text_is_escaped(loaded_app, payload):
    from mcu.tenancy import queries

    client = staff_client(loaded_app)
    queries._cache.clear()
    client.get("/t/kondinsky/")  # the only cached config is now kondinsky's current one
    (config,) = queries._cache.values()
    config.data["name"]["full"] = payload
    try:
        html = client.get("/t/kondinsky/").get_data(as_text=True)
    finally:
        queries._cache.clear()
    assert payload not in html
    assert "&lt;" in html and ("&lt;script&gt;" in html or "&#34;&gt;&lt;img" in html)
