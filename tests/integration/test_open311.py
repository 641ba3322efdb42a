"""Open311 GeoReport v2: discovery, services from the tenants' blocks, submitting and tracking
requests, keys per tenant, isolation between tenants and no personal data in public reads."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlmodel import Session, select

from mcu.db import engine, get_session
from mcu.messages import operations as ops
from mcu.messages.models import Citizen, Message
from mcu.messages.queries import message_by_id
from mcu.tenancy.models import Tenant
from mcu.tenancy.queries import current_config, tenant_by_slug

FOUNDING = ("kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky")
PERSON = {"first_name": "Иван", "last_name": "Петров", "email": "petrov@example.ru", "phone": "+79001234567"}
POTHOLE = "Глубокая яма на дороге у дома 5, машины объезжают по встречной"


def _config(app, slug):
    with app.app_context(), Session(engine()) as s:
        return current_config(s, s.exec(select(Tenant).where(Tenant.slug == slug)).one())


def _key(app, slug: str, channel: str | None = None) -> str:
    args = ["tokens", "create", "--tenant", slug, "--name", "311-app"] + (
        ["--channel", channel] if channel else []
    )
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0]


def _road_block(config) -> str:
    return next(b["id"] for b in config.blocks.values() if b["topic"] == "roads")


def _submit(client, slug, key, **fields):
    form = {"jurisdiction_id": slug, "api_key": key, "description": POTHOLE, "lat": "60.1", "long": "65.2"}
    form.update(fields)
    return client.post("/open311/v2/requests.json", data={k: v for k, v in form.items() if v is not None})


def _errors(response, code):
    assert response.status_code == code, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, list) and body and all(e["code"] == code and e["description"] for e in body), body
    return " ".join(e["description"] for e in body)


def test_discovery(loaded_app):
    body = loaded_app.test_client().get("/open311/v2/discovery.json").get_json()
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and endpoint["formats"] == ["application/json"]
    assert body["changeset"] and "mcu tokens create" in body["key_service"]


@pytest.mark.parametrize("slug", FOUNDING)
def test_services_are_the_tenants_blocks(loaded_app, slug):
    config = _config(loaded_app, slug)
    services = loaded_app.test_client().get(f"/open311/v2/services.json?jurisdiction_id={slug}").get_json()
    assert [s["service_code"] for s in services] == list(config.blocks)
    topics = config.resolved["topics"]
    for service in services:
        block = config.blocks[service["service_code"]]
        assert service["service_name"] == block["name"]
        assert service["description"] == service["group"] == topics[block["topic"]]["name"]
        assert (service["metadata"], service["type"]) == (False, "realtime")
        assert service["keywords"] == ", ".join((block.get("lexicon") or {}).get("lemmas") or [])


def test_keywords_come_from_the_blocks_lexicon(loaded_app):
    services = (
        loaded_app.test_client().get("/open311/v2/services.json?jurisdiction_id=konstantinovsky").get_json()
    )
    gas = next(s for s in services if s["service_code"] == "energetika")
    assert "газоснабжение" in gas["keywords"].split(", ")


def test_service_definition(loaded_app):
    client = loaded_app.test_client()
    code = _road_block(_config(loaded_app, "kondinsky"))
    assert client.get(f"/open311/v2/services/{code}.json?jurisdiction_id=kondinsky").get_json() == {
        "service_code": code,
        "attributes": [],
    }
    _errors(client.get("/open311/v2/services/nonexistent.json?jurisdiction_id=kondinsky"), 404)


def test_post_creates_a_routed_message_visible_in_get(loaded_app):
    client, config = loaded_app.test_client(), _config(loaded_app, "kondinsky")
    code = _road_block(config)
    response = _submit(
        client,
        "kondinsky",
        _key(loaded_app, "kondinsky"),
        service_code=code,
        address_string="ул. Ленина, 5",
        media_url="https://example.org/pothole.jpg",
        **PERSON,
    )
    assert response.status_code == 201, response.get_json()
    (created,) = response.get_json()
    assert created["account_id"] is None and "срок ответа" in created["service_notice"]
    request_id = created["service_request_id"]

    with loaded_app.app_context():
        session = get_session()
        message = message_by_id(session, tenant_by_slug(session, "kondinsky").id, uuid.UUID(request_id))
        assert message.channel_id == "site-reception" and message.block_id == code
        assert message.status == "assigned" and message.due_at is not None
        assert message.text == f"{POTHOLE}\n\nФото: https://example.org/pothole.jpg"
        citizen = session.get(Citizen, (message.tenant_id, message.citizen_id))
        assert (citizen.full_name, citizen.email, citizen.phone) == (
            "Петров Иван",
            PERSON["email"],
            PERSON["phone"],
        )

    (shown,) = client.get(f"/open311/v2/requests/{request_id}.json?jurisdiction_id=kondinsky").get_json()
    head = config.roster[config.blocks[code]["head"]]["position"]
    assert shown["agency_responsible"] == head
    assert shown["expected_datetime"] and shown["expected_datetime"].endswith("+05:00")  # ХМАО time
    assert (shown["status"], shown["service_code"], shown["service_name"]) == (
        "open",
        code,
        config.blocks[code]["name"],
    )
    assert shown["status_notes"].startswith("назначен исполнитель")
    assert (shown["address"], shown["lat"], shown["long"]) == ("ул. Ленина, 5", 60.1, 65.2)
    assert shown["address_id"] is None and shown["zipcode"] is None and shown["media_url"] is None
    assert shown["requested_datetime"] and shown["updated_datetime"]
    listed = client.get("/open311/v2/requests.json?jurisdiction_id=kondinsky").get_json()
    assert [r["service_request_id"] for r in listed] == [request_id]


def test_json_body_and_a_channel_set_on_the_key(loaded_app):
    """Советский has no site reception: the key names the channel the 311 app submits to."""
    client = loaded_app.test_client()
    code = _road_block(_config(loaded_app, "sovetsky"))
    payload = {
        "jurisdiction_id": "sovetsky",
        "service_code": code,
        "description": POTHOLE,
        "lat": 61.3,
        "long": 63.6,
    }

    no_channel = client.post(
        "/open311/v2/requests.json", json={**payload, "api_key": _key(loaded_app, "sovetsky")}
    )
    assert "--channel" in _errors(no_channel, 400)

    key = _key(loaded_app, "sovetsky", channel="pos")
    response = client.post("/open311/v2/requests.json", json={**payload, "api_key": key})
    assert response.status_code == 201, response.get_json()
    with loaded_app.app_context():
        message = get_session().exec(select(Message).where(Message.block_id == code)).one()
        assert (message.channel_id, message.regime, message.status) == ("pos", "message", "assigned")


def test_the_key_must_belong_to_the_jurisdiction(loaded_app):
    client = loaded_app.test_client()
    code = _road_block(_config(loaded_app, "kondinsky"))
    assert "api_key" in _errors(_submit(client, "kondinsky", None, service_code=code), 403)
    assert "api_key" in _errors(_submit(client, "kondinsky", "mcu_forged", service_code=code), 403)
    other = _key(loaded_app, "nekrasovsky")
    _errors(_submit(client, "kondinsky", other, service_code=code), 403)
    with loaded_app.app_context():
        assert get_session().exec(select(Message)).first() is None


def test_unknown_or_missing_jurisdiction(loaded_app):
    client = loaded_app.test_client()
    key = _key(loaded_app, "kondinsky")
    _errors(_submit(client, "atlantis", key, service_code="roads"), 404)
    _errors(client.get("/open311/v2/services.json?jurisdiction_id=atlantis"), 404)
    _errors(client.get("/open311/v2/requests.json?jurisdiction_id=atlantis"), 404)
    assert "jurisdiction_id" in _errors(client.get("/open311/v2/services.json"), 400)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"service_code": "no-such-block"}, "service_code"),
        ({"service_code": None}, "service_code"),
        ({"lat": None, "long": None}, "lat и long или address_string"),
        ({"long": None}, "lat и long или address_string"),
        ({"lat": "north"}, "lat"),
        ({"description": None}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "я" * 20_001}, "description"),
    ],
)
def test_bad_requests_are_400_arrays(loaded_app, fields, expected):
    client = loaded_app.test_client()
    code = _road_block(_config(loaded_app, "kondinsky"))
    response = _submit(client, "kondinsky", _key(loaded_app, "kondinsky"), **{"service_code": code, **fields})
    assert expected in _errors(response, 400)


def test_an_address_alone_is_a_location(loaded_app):
    client = loaded_app.test_client()
    code = _road_block(_config(loaded_app, "kondinsky"))
    response = _submit(
        client,
        "kondinsky",
        _key(loaded_app, "kondinsky"),
        service_code=code,
        lat=None,
        long=None,
        address_string="ул. Мира, 1",
    )
    assert response.status_code == 201, response.get_json()


def test_a_request_of_another_tenant_is_404(loaded_app):
    client = loaded_app.test_client()
    code = _road_block(_config(loaded_app, "kondinsky"))
    (created,) = _submit(client, "kondinsky", _key(loaded_app, "kondinsky"), service_code=code).get_json()
    request_id = created["service_request_id"]
    assert client.get(f"/open311/v2/requests/{request_id}.json?jurisdiction_id=kondinsky").status_code == 200
    _errors(client.get(f"/open311/v2/requests/{request_id}.json?jurisdiction_id=nekrasovsky"), 404)
    listed = client.get(
        f"/open311/v2/requests.json?jurisdiction_id=nekrasovsky&service_request_id={request_id}"
    )
    assert listed.get_json() == []
    _errors(client.get("/open311/v2/requests/not-a-uuid.json?jurisdiction_id=kondinsky"), 404)


def test_messages_from_other_channels_are_not_published(loaded_app):
    """A 59-ФЗ обращение is confidential (ст. 6 ч. 2): the public feed shows Open311 requests only."""
    client = loaded_app.test_client()
    bearer = {"Authorization": f"Bearer {_key(loaded_app, 'kondinsky')}"}
    api = client.post(
        "/api/v1/kondinsky/messages", headers=bearer, json={"channel": "appeal-written", "text": POTHOLE}
    ).get_json()
    assert client.get("/open311/v2/requests.json?jurisdiction_id=kondinsky").get_json() == []
    _errors(client.get(f"/open311/v2/requests/{api['id']}.json?jurisdiction_id=kondinsky"), 404)


def test_public_reads_carry_no_personal_data(loaded_app):
    client = loaded_app.test_client()
    code = _road_block(_config(loaded_app, "kondinsky"))
    (created,) = _submit(
        client, "kondinsky", _key(loaded_app, "kondinsky"), service_code=code, **PERSON
    ).get_json()
    single = client.get(
        f"/open311/v2/requests/{created['service_request_id']}.json?jurisdiction_id=kondinsky"
    )
    listed = client.get("/open311/v2/requests.json?jurisdiction_id=kondinsky")
    for response in (single, listed):
        text = json.dumps(response.get_json(), ensure_ascii=False)
        for value in (*PERSON.values(), "Петров Иван", "9001234567"):
            assert value not in text, value
        assert "person" not in text  # the roster's holder of the position is not published either


def _answer(app, slug, request_id, text):
    with app.app_context():
        session = get_session()
        message = message_by_id(session, tenant_by_slug(session, slug).id, uuid.UUID(request_id))
        ops.answer(session=session, message=message, text=text, final=True, actor="user:test")
        session.commit()


def test_status_is_closed_after_an_answer(loaded_app):
    client = loaded_app.test_client()
    config = _config(loaded_app, "kondinsky")
    code, key = _road_block(config), _key(loaded_app, "kondinsky")
    (first,) = _submit(client, "kondinsky", key, service_code=code).get_json()
    (second,) = _submit(
        client, "kondinsky", key, service_code=code, description="Второй случай: яма у школы"
    ).get_json()
    answer = "Уважаемый Иван Петрович! Яма заделана 20.11."
    _answer(loaded_app, "kondinsky", first["service_request_id"], answer)

    (shown,) = client.get(
        f"/open311/v2/requests/{first['service_request_id']}.json?jurisdiction_id=kondinsky"
    ).get_json()
    assert shown["status"] == "closed"
    assert shown["status_notes"] == "дан ответ: ответ направлен заявителю"
    assert "Иван Петрович" not in json.dumps(shown, ensure_ascii=False)

    def ids(query):
        rows = client.get(f"/open311/v2/requests.json?jurisdiction_id=kondinsky&{query}").get_json()
        return {r["service_request_id"] for r in rows}

    assert ids("status=closed") == {first["service_request_id"]}
    assert ids("status=open") == {second["service_request_id"]}
    assert ids("status=open,closed") == ids("") == {first["service_request_id"], second["service_request_id"]}
    assert ids(f"service_request_id={first['service_request_id']},{uuid.uuid4()}") == {
        first["service_request_id"]
    }
    assert ids("service_code=no-such-block") == set()
    assert ids(f"service_code={code}&start_date=2020-01-01T00:00:00Z&end_date=2020-02-01") == set()


def test_list_parameters_are_checked(loaded_app):
    client = loaded_app.test_client()
    base = "/open311/v2/requests.json?jurisdiction_id=kondinsky"
    assert "90" in _errors(client.get(f"{base}&start_date=2020-01-01&end_date=2020-12-31"), 400)
    assert "start_date" in _errors(client.get(f"{base}&start_date=yesterday"), 400)
    assert "status" in _errors(client.get(f"{base}&status=pending"), 400)
    # An unencoded «+05:00» arrives as « 05:00» and is still understood.
    assert client.get(f"{base}&start_date=2026-01-01T00:00:00+05:00").status_code == 200


def test_json_only_tokens_and_unknown_resources(loaded_app):
    client = loaded_app.test_client()
    for path in ("/open311/v2/discovery.xml", "/open311/v2/services.xml?jurisdiction_id=kondinsky"):
        assert "XML" in _errors(client.get(path), 400)
    key = _key(loaded_app, "kondinsky")
    response = client.post("/open311/v2/requests.xml", data={"jurisdiction_id": "kondinsky", "api_key": key})
    assert "XML" in _errors(response, 400)
    assert "service_request_id" in _errors(
        client.get("/open311/v2/tokens/abc.json?jurisdiction_id=kondinsky"), 404
    )
    _errors(client.get("/open311/v2/nothing-here.json"), 404)
    response = client.put("/open311/v2/requests.json")
    _errors(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}
