"""The JSON intake API: every channel of every founding tenant, the lifecycle, bad input."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from openapi_spec_validator import validate as validate_openapi
from sqlmodel import Session, select

from mcu.db import engine
from mcu.demo.seed import texts
from mcu.messages.models import Event, Message
from mcu.tenancy.models import Tenant
from mcu.tenancy.queries import current_config

FOUNDING = ("kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky")


def _token(app, slug: str, channel: str | None = None) -> dict[str, str]:
    args = ["tokens", "create", "--tenant", slug, "--name", "test"] + (
        ["--channel", channel] if channel else []
    )
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return {"Authorization": f"Bearer {result.stdout.splitlines()[0]}"}


def _config(app, slug):
    with app.app_context(), Session(engine()) as s:
        return current_config(s, s.exec(select(Tenant).where(Tenant.slug == slug)).one())


def _text_for(config) -> tuple[str, str]:
    """A realistic resident's text for one of the tenant's blocks, and that block's topic."""
    corpus = texts()["topics"]
    for block in config.blocks.values():
        if block["topic"] in corpus and block["topic"] != "other":
            template = next(
                t["text"] for t in corpus[block["topic"]]["templates"] if "{settlement}" not in t["text"]
            )
            return template.replace("{street}", "ул. Ленина").replace("{house}", "5"), block["topic"]
    raise AssertionError("no block with demo texts")


@pytest.mark.parametrize("slug", FOUNDING)
def test_every_channel_classifies_routes_and_explains_the_due_date(loaded_app, slug):
    client, config = loaded_app.test_client(), _config(loaded_app, slug)
    headers = _token(loaded_app, slug)
    text, _topic = _text_for(config)
    today = datetime.now(UTC).astimezone(config.tz).date().isoformat()
    for channel in config.channels.values():
        if not channel.get("valid_from", "0") <= today <= channel.get("valid_to", "9"):
            continue
        response = client.post(
            f"/api/v1/{slug}/messages",
            headers=headers,
            json={"channel": channel["id"], "external_id": f"t-{channel['id']}", "text": text},
        )
        assert response.status_code == 201, (channel["id"], response.get_json())
        body = response.get_json()
        assert body["status"] == "assigned", body
        assert body["regime"] == channel["regime"]
        assert body["executor"]["position"] == config.roster[body["executor"]["position_id"]]["position"]
        assert body["due_at"] and "до " in body["due_explanation"]
        unit = "календарных дней" if channel["regime"] == "appeal" else ""
        assert unit in body["due_explanation"]
        assert body["classification"]["matched"], body["classification"]


def test_replay_returns_the_same_record(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "kondinsky")
    payload = {"channel": "pos", "external_id": "pos-42", "text": "Не вывозят мусор с контейнерной площадки"}
    first = client.post("/api/v1/kondinsky/messages", headers=headers, json=payload)
    second = client.post("/api/v1/kondinsky/messages", headers=headers, json=payload)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    with loaded_app.app_context(), Session(engine()) as s:
        assert len(list(s.exec(select(Message).where(Message.external_id == "pos-42")))) == 1


def test_appeal_answer_term_is_30_calendar_days_from_registration(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "kondinsky")
    config = _config(loaded_app, "kondinsky")
    written = next(c["id"] for c in config.channels.values() if c["kind"] == "appeal_written")
    received = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # +30 days = 01.04.2026, a Wednesday
    body = client.post(
        "/api/v1/kondinsky/messages",
        headers=headers,
        json={
            "channel": written,
            "text": "Прошу отремонтировать дорогу, ямы на проезжей части",
            "received_at": received.isoformat(),
        },
    ).get_json()
    assert datetime.fromisoformat(body["due_at"]).astimezone(config.tz).date().isoformat() == "2026-04-01"
    assert "30 календарных дней с момента регистрации 02.03.2026" in body["due_explanation"]
    assert "59-ФЗ, ст. 12 ч. 1" in body["due_explanation"]


def test_email_is_not_a_59fz_channel_after_29_march_2025(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "kondinsky")
    config = _config(loaded_app, "kondinsky")
    email = next(c for c in config.channels.values() if c["kind"] == "email")
    assert email["valid_to"] == "2025-03-29"
    before = client.post(
        "/api/v1/kondinsky/messages",
        headers=headers,
        json={
            "channel": email["id"],
            "text": "Прошу отремонтировать крышу дома",
            "received_at": "2025-03-20T10:00:00+05:00",
        },
    )
    after = client.post(
        "/api/v1/kondinsky/messages",
        headers=headers,
        json={
            "channel": email["id"],
            "text": "Прошу отремонтировать крышу дома",
            "received_at": "2025-04-01T10:00:00+05:00",
        },
    )
    assert before.status_code == 201
    assert after.status_code == 422 and "channel" in after.get_json()["fields"]


def test_lifecycle_over_the_api(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "kondinsky")
    config = _config(loaded_app, "kondinsky")
    written = next(c["id"] for c in config.channels.values() if c["kind"] == "appeal_written")
    msg = client.post(
        "/api/v1/kondinsky/messages",
        headers=headers,
        json={"channel": written, "text": "Во дворе не вывозят мусор уже неделю, контейнеры переполнены"},
    ).get_json()
    url = f"/api/v1/kondinsky/messages/{msg['id']}"

    def act(**body):
        return client.post(f"{url}/actions", headers=headers, json=body)

    other_block = next(b for b in config.blocks if b != msg["block"]["id"])
    moved = act(action="classify", block=other_block, reason="ошибка классификации").get_json()
    assert (
        moved["block"]["id"] == other_block
        and moved["executor"]["position_id"] == config.blocks[other_block]["head"]
    )
    due = datetime.fromisoformat(moved["due_at"])
    extended = act(action="extend", days=30, reason="запрошены документы").get_json()
    new_due = datetime.fromisoformat(extended["due_at"]).astimezone(config.tz)
    # 30 days later, or the working day the district's day-off rule moves it to
    assert timedelta(days=27) <= new_due - due <= timedelta(days=33)
    from mcu.deadlines.calendar import is_working_day

    assert is_working_day(new_due.date())
    assert {"extended", "citizen_notified"} <= {e["kind"] for e in extended["events"]}
    again = act(action="extend", days=10, reason="ещё")
    assert again.status_code == 422 and "один раз" in again.get_json()["fields"]["days"][0]
    assert act(action="answer", text="Мусор вывезен").get_json()["status"] == "answered"
    assert act(action="answer", text="ещё раз").status_code == 409
    rated = client.post(
        f"{url}/rating", headers=headers, json={"score": 1, "comment": "не вывезли"}
    ).get_json()
    assert rated["reopened"] is True and rated["message"]["status"] == "reopened"
    assert (
        act(
            action="register_long_term", ground="no_legal_ground", reason="нет законных оснований"
        ).status_code
        == 422  # Кондинский does not keep the 6-month registry (ХМ Регламент п.4.2.8 is not its rule)
    )
    history = [e["kind"] for e in client.get(url, headers=headers).get_json()["events"]]
    assert history[0] == "received"
    assert [
        k
        for k in history
        if k
        in (
            "classified",
            "deadline_set",
            "routed",
            "classify",
            "extended",
            "answer",
            "rated",
            "reopen",
            "register_long_term",
        )
    ] == [
        "classified",
        "deadline_set",
        "routed",
        "classify",
        "routed",
        "extended",
        "answer",
        "rated",
        "reopen",
    ]
    with loaded_app.app_context(), Session(engine()) as s:
        assert all(
            e.at is not None for e in s.exec(select(Event).where(Event.subject_id == uuid.UUID(msg["id"])))
        )


def test_bad_input_is_a_clear_error_and_nothing_is_stored(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "sovetsky")
    base = "/api/v1/sovetsky/messages"
    cases = [
        ({"channel": "nope", "text": "x"}, "channel"),
        ({"text": "без канала"}, "channel"),
        ({"channel": "pos", "text": ""}, "text"),
        ({"channel": "pos", "text": "x", "latitude": 123}, "latitude"),
        ({"channel": "pos", "text": "x", "received_at": "2025-01-01T10:00:00"}, "received_at"),
        ({"channel": "pos", "text": "x", "unknown": 1}, "unknown"),
        ({"channel": "pos", "text": "x", "citizen": {"phone": 5}}, "citizen.phone"),
        ({"channel": "pos", "text": "x", "block": "rivers"}, "block"),
    ]
    config = _config(loaded_app, "sovetsky")
    pos = next(c["id"] for c in config.channels.values() if c["kind"] == "pos")
    for payload, field in cases:
        payload = {**payload, "channel": pos if payload.get("channel") == "pos" else payload.get("channel")}
        payload = {k: v for k, v in payload.items() if v is not None}
        response = client.post(base, headers=headers, json=payload)
        assert response.status_code == 422, (payload, response.get_json())
        assert field in response.get_json()["fields"], (field, response.get_json())
    assert (
        client.post(base, headers=headers, data="not json", content_type="application/json").status_code
        == 400
    )
    big = client.post(base, headers=headers, json={"channel": pos, "text": "я" * 2_000_000})
    assert big.status_code == 413
    with loaded_app.app_context(), Session(engine()) as s:
        assert list(s.exec(select(Message.id))) == []


def test_other_tenants_objects_and_tokens(loaded_app):
    client = loaded_app.test_client()
    kond, sov = _token(loaded_app, "kondinsky"), _token(loaded_app, "sovetsky")
    msg = client.post(
        "/api/v1/kondinsky/messages", headers=kond, json={"channel": "pos", "text": "Яма на дороге"}
    ).get_json()
    assert client.get(f"/api/v1/sovetsky/messages/{msg['id']}", headers=sov).status_code == 404
    assert (
        client.post(
            f"/api/v1/sovetsky/messages/{msg['id']}/actions", headers=sov, json={"action": "start"}
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/kondinsky/messages/{msg['id']}", headers=sov).status_code == 401
    assert client.get("/api/v1/kondinsky/messages").status_code == 401
    listed = client.get("/api/v1/sovetsky/messages", headers=sov).get_json()["messages"]
    assert listed == []


def test_no_personal_data_in_api_responses(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "kondinsky")
    msg = client.post(
        "/api/v1/kondinsky/messages",
        headers=headers,
        json={
            "channel": "pos",
            "text": "Яма на дороге",
            "citizen": {"full_name": "Петров Пётр Петрович", "phone": "+79990001122"},
        },
    )
    body = str(client.get(f"/api/v1/kondinsky/messages/{msg.get_json()['id']}", headers=headers).get_json())
    assert "Петров" not in body and "79990001122" not in body


def test_openapi_document_is_valid_and_served(app):
    client = app.test_client()
    validate_openapi(client.get("/api/v1/openapi.json").get_json())
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "POST /api/v1/{tenant}/messages" in page


def test_six_month_registry_needs_its_ground_where_the_district_keeps_it(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "khanty-mansiysky")
    msg = client.post(
        "/api/v1/khanty-mansiysky/messages",
        headers=headers,
        json={"channel": "pos", "text": "Нужен капитальный ремонт дороги"},
    ).get_json()
    url = f"/api/v1/khanty-mansiysky/messages/{msg['id']}/actions"
    no_ground = client.post(
        url, headers=headers, json={"action": "register_long_term", "reason": "ремонт в 2027"}
    )
    assert no_ground.status_code == 422 and "ground" in no_ground.get_json()["fields"]
    done = client.post(
        url,
        headers=headers,
        json={
            "action": "register_long_term",
            "ground": "over_6_months",
            "reason": "капитальный ремонт включён в программу 2027 года",
        },
    )
    body = done.get_json()
    assert body["status"] == "long_term"
    kinds = [e["kind"] for e in body["events"]]
    # The registry entry, then the six-month rule telling the block's responsible (п.4.2.8).
    assert kinds[-2:] == ["register_long_term", "notified"]


def test_registration_date_from_the_source_registry_starts_the_appeal_term(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "kondinsky")
    config = _config(loaded_app, "kondinsky")
    sed = next(c["id"] for c in config.channels.values() if c["kind"] == "sed")
    body = client.post(
        "/api/v1/kondinsky/messages",
        headers=headers,
        json={
            "channel": sed,
            "text": "Прошу отремонтировать дорогу к школе",
            "received_at": "2026-03-02T10:00:00+05:00",
            "registered_at": "2026-03-06T10:00:00+05:00",
        },
    ).get_json()
    # 30 days from registration on 06.03.2026 = 05.04.2026, a Sunday; ХМАО moves it to the
    # preceding working day (settings.deadline_on_day_off), Friday 03.04.2026
    assert config.settings["deadline_on_day_off"] == "preceding_working_day"
    assert datetime.fromisoformat(body["due_at"]).astimezone(config.tz).date().isoformat() == "2026-04-03"
    events = client.get(f"/api/v1/kondinsky/messages/{body['id']}", headers=headers).get_json()["events"]
    registered = next(e for e in events if e["kind"] == "registered")
    assert registered["reason"].startswith("зарегистрировано с нарушением срока")  # 4 days > 3 (ст. 8 ч. 2)
    early = client.post(
        "/api/v1/kondinsky/messages",
        headers=headers,
        json={
            "channel": sed,
            "text": "x",
            "received_at": "2026-03-02T10:00:00+05:00",
            "registered_at": "2026-03-01T10:00:00+05:00",
        },
    )
    assert early.status_code == 422 and "registered_at" in early.get_json()["fields"]


def test_forwarding_records_the_7_day_term(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "kondinsky")
    config = _config(loaded_app, "kondinsky")
    written = next(c["id"] for c in config.channels.values() if c["kind"] == "appeal_written")
    msg = client.post(
        "/api/v1/kondinsky/messages",
        headers=headers,
        json={"channel": written, "text": "Прошу разобраться с начислением пенсии"},
    ).get_json()
    done = client.post(
        f"/api/v1/kondinsky/messages/{msg['id']}/actions",
        headers=headers,
        json={
            "action": "forward",
            "to_body": "Отделение Социального фонда по ХМАО – Югре",
            "reason": "не относится к компетенции",
        },
    )
    body = done.get_json()
    assert body["status"] == "forwarded"
    forward = next(e for e in body["events"] if e["kind"] == "forward")
    assert "citizen_notified" in [e["kind"] for e in body["events"]]
    with loaded_app.app_context(), Session(engine()) as s:
        from mcu.messages.models import Deadline

        rows = {
            d.timer: d.status
            for d in s.exec(select(Deadline).where(Deadline.message_id == uuid.UUID(msg["id"])))
        }
    assert rows["forwarding"] == "met" and rows["answer"] == "cancelled", (rows, forward)


def test_every_json_route_is_in_the_openapi_document(app):
    """A route added to the API without its description fails here."""
    documented = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in ("/api/v1/openapi.json", "/api/v1/docs"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        assert path in documented, f"{path} нет в OpenAPI"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in documented[path], f"{method} {path} нет в OpenAPI"


def test_token_use_is_noted_at_most_once_a_minute(loaded_app):
    from sqlalchemy import update

    from mcu.auth.models import ApiToken

    client, headers = loaded_app.test_client(), _token(loaded_app, "kondinsky")

    def last_used():
        with loaded_app.app_context(), Session(engine()) as session:
            return session.exec(select(ApiToken.last_used_at)).one()

    assert last_used() is None
    assert client.get("/api/v1/kondinsky/messages", headers=headers).status_code == 200
    first = last_used()
    assert first is not None
    assert client.get("/api/v1/kondinsky/messages", headers=headers).status_code == 200
    assert last_used() == first
    two_minutes_ago = first - timedelta(minutes=2)
    with loaded_app.app_context(), Session(engine()) as session:
        session.exec(update(ApiToken).values(last_used_at=two_minutes_ago))
        session.commit()
    assert client.get("/api/v1/kondinsky/messages", headers=headers).status_code == 200
    assert last_used() > first


def test_a_page_of_messages_is_one_statement_whatever_its_size(loaded_app):
    """The list reads its messages with their executors and answer terms in one statement (none
    per message), one message with its log in two; and the list shows each message as its own
    page does — after a move to another block (a second assignment) and an extended term (a
    cancelled deadline and a new one)."""
    from sqlalchemy import event

    client, headers = loaded_app.test_client(), _token(loaded_app, "kondinsky")
    config = _config(loaded_app, "kondinsky")
    written = next(c["id"] for c in config.channels.values() if c["kind"] == "appeal_written")
    made = [
        client.post(
            "/api/v1/kondinsky/messages",
            headers=headers,
            json={"channel": channel, "text": f"Во дворе дома {i} не вывозят мусор, контейнеры переполнены"},
        ).get_json()
        for i, channel in enumerate(("pos", "pos", written, "pos"))
    ]
    url = "/api/v1/kondinsky/messages"
    other_block = next(b for b in config.blocks if b != made[0]["block"]["id"])
    moved = client.post(
        f"{url}/{made[0]['id']}/actions", headers=headers, json={"action": "classify", "block": other_block}
    )
    extended = client.post(
        f"{url}/{made[2]['id']}/actions",
        headers=headers,
        json={"action": "extend", "days": 30, "reason": "док."},
    )
    assert (moved.status_code, extended.status_code) == (200, 200)
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if re.search(r"\b(message|assignment|deadline|event)\b", statement):
            seen.append(statement)

    event.listen(loaded_app.extensions["mcu.engine"], "before_cursor_execute", note)
    try:
        for limit in (1, 4):
            seen.clear()
            assert len(client.get(f"{url}?limit={limit}", headers=headers).get_json()["messages"]) == limit
            assert len(seen) == 1, seen
        seen.clear()
        assert client.get(f"{url}/{made[0]['id']}", headers=headers).status_code == 200
        assert len(seen) == 2, seen
    finally:
        event.remove(loaded_app.extensions["mcu.engine"], "before_cursor_execute", note)
    listed = client.get(url, headers=headers).get_json()["messages"]
    assert [m["id"] for m in listed] == [m["id"] for m in reversed(made)]
    for shown in listed:
        alone = client.get(f"{url}/{shown['id']}", headers=headers).get_json()
        assert alone.pop("events") and alone == shown
    assert listed[-1]["block"]["id"] == other_block
    assert listed[-1]["executor"]["position_id"] == config.blocks[other_block]["head"]
    assert "продлён" in listed[1]["due_explanation"]
