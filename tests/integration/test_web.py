"""Pages and JSON of the tenancy area, and tenant isolation of every tenant-scoped route."""

from __future__ import annotations

import re

import pytest


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
    client = loaded_app.test_client()
    for slug in ("kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky"):
        for path in (f"/t/{slug}/", f"/t/{slug}/config"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert '<html lang="ru">' in response.get_data(as_text=True)


def test_sovetsky_page_says_blocks_come_from_region(loaded_app):
    html = loaded_app.test_client().get("/t/sovetsky/").get_data(as_text=True)
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
        if "tenant" in rule.arguments and "GET" in rule.methods:
            yield rule


def test_every_tenant_route_is_404_for_an_unknown_tenant(loaded_app):
    client = loaded_app.test_client()
    routes = list(_tenant_routes(loaded_app))
    assert routes, "no tenant-scoped routes found"
    for rule in routes:
        path = re.sub(r"<(?:[^:>]+:)?tenant>", "atlantis", rule.rule)
        assert "<" not in path, f"route {rule.rule} has other arguments: extend this walk"
        response = client.get(path)
        assert response.status_code == 404, path
        if path.startswith("/api/"):
            assert response.get_json()["status"] == 404


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
def test_config_text_is_escaped(loaded_app, payload):
    from mcu.tenancy import queries

    client = loaded_app.test_client()
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
