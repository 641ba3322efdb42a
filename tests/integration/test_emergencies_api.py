"""Emergencies and the inbox through the JSON API: why a message escalated, closing with the
record of decisions, the inbox of a position."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from mcu.db import engine
from mcu.messages.models import Deadline
from mcu.rules.worker import fire_due

THREAT = "Оборваны провода на улице Мира у школы, дети ходят рядом"


def _token(app, slug):
    out = app.test_cli_runner().invoke(args=["tokens", "create", "--tenant", slug, "--name", "t"])
    return {"Authorization": f"Bearer {out.stdout.split()[0]}"}


def test_a_threat_is_an_emergency_whose_decisions_explain_themselves(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "khanty-mansiysky")
    message = client.post(
        "/api/v1/khanty-mansiysky/messages", headers=headers, json={"channel": "pos", "text": THREAT}
    ).get_json()
    decisions = client.get(
        f"/api/v1/khanty-mansiysky/messages/{message['id']}/decisions", headers=headers
    ).get_json()["decisions"]
    declared = next(d for d in decisions if d["rule"] == "emergency/emergency-threat-to-life")
    assert declared["source"]["act"] == "khm-199" and declared["source"]["rule_clause"] == "п.5.1"
    assert declared["facts"]["threat_to_life"] is True
    assert declared["actions"][0]["do"] == "declare_emergency" and declared["actions"][0]["created"]

    listed = client.get("/api/v1/khanty-mansiysky/emergencies?status=open", headers=headers).get_json()
    (emergency,) = listed["emergencies"]
    assert emergency["kind"] == "threat" and emergency["messages"] == 1
    full = client.get(f"/api/v1/khanty-mansiysky/emergencies/{emergency['id']}", headers=headers).get_json()
    timers = {t["timer"]: t for t in full["timers"]}
    assert set(timers) == {"liquidation", "roadmap_due", "emergency_report", "emergency_monitoring"}
    declared_at = datetime.fromisoformat(full["declared_at"])
    assert datetime.fromisoformat(timers["liquidation"]["due_at"]) - declared_at == timedelta(hours=24)
    assert datetime.fromisoformat(timers["emergency_report"]["due_at"]) - declared_at == timedelta(hours=2)
    assert "каждые 2 часа" in timers["emergency_report"]["text"]
    assert "каждый час" in timers["emergency_monitoring"]["text"]
    rules = {d["rule"] for d in full["decisions_log"]}
    assert "emergency/emergency-notify-mcu-head" in rules


def test_closing_needs_decisions_stops_the_reminders_and_tells_the_region(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "khanty-mansiysky")
    client.post("/api/v1/khanty-mansiysky/messages", headers=headers, json={"channel": "pos", "text": THREAT})
    (emergency,) = client.get("/api/v1/khanty-mansiysky/emergencies", headers=headers).get_json()[
        "emergencies"
    ]
    url = f"/api/v1/khanty-mansiysky/emergencies/{emergency['id']}/close"

    empty = client.post(url, headers=headers, json={"decisions": "  "})
    assert empty.status_code == 422 and "decisions" in empty.get_json()["fields"]
    closed = client.post(url, headers=headers, json={"decisions": "Линия обесточена, провода восстановлены"})
    assert closed.status_code == 200
    body = closed.get_json()
    assert body["status"] == "closed" and body["decisions"].startswith("Линия обесточена")
    assert {t["status"] for t in body["timers"]} == {"cancelled"}
    assert client.post(url, headers=headers, json={"decisions": "ещё раз"}).status_code == 409

    with loaded_app.app_context():
        assert fire_due(engine(), now=datetime.now(UTC) + timedelta(days=2)) >= 0
        with Session(engine()) as s:
            pending = s.exec(
                select(Deadline).where(Deadline.emergency_id.is_not(None), Deadline.status == "pending")
            )
            assert list(pending) == []
    region_head = "pos-cur-block-head"
    inbox = client.get(
        f"/api/v1/khanty-mansiysky/notifications?position={region_head}", headers=headers
    ).get_json()["notifications"]
    closing = next(n for n in inbox if n["rule"] == "emergency/emergency-closed-report")
    assert "провода восстановлены" in closing["body"]  # п.5.7: the decisions reach the ЦУР block head


def test_inbox_of_a_position_and_marking_read(loaded_app):
    client, headers = loaded_app.test_client(), _token(loaded_app, "khanty-mansiysky")
    client.post("/api/v1/khanty-mansiysky/messages", headers=headers, json={"channel": "pos", "text": THREAT})
    url = "/api/v1/khanty-mansiysky/notifications"
    assert client.get(url, headers=headers).status_code == 422
    assert client.get(f"{url}?position=nobody", headers=headers).status_code == 422
    notes = client.get(f"{url}?position=pos-mcu-head&unread=1", headers=headers).get_json()["notifications"]
    assert notes and all(n["read_at"] is None for n in notes)
    assert "Сообщение №" in notes[0]["body"] and "Мира" not in notes[0]["body"]  # no citizen's text
    read = client.post(f"{url}/{notes[0]['id']}/read", headers=headers).get_json()
    assert read["read_at"] is not None
    after = client.get(f"{url}?position=pos-mcu-head&unread=1", headers=headers).get_json()["notifications"]
    assert len(after) == len(notes) - 1


def test_markup_in_a_post_never_reaches_notification_titles_or_bodies(loaded_app):
    """Titles come from the rules, never from the citizen: markup in a post stays out of them."""
    client, headers = loaded_app.test_client(), _token(loaded_app, "khanty-mansiysky")
    client.post(
        "/api/v1/khanty-mansiysky/messages",
        headers=headers,
        json={
            "channel": "pos",
            "subject": "<script>x</script>",
            "text": THREAT + " <img src=x onerror=alert(1)>",
        },
    )
    notes = client.get(
        "/api/v1/khanty-mansiysky/notifications?position=pos-mcu-head", headers=headers
    ).get_json()["notifications"]
    assert notes and all("<img" not in n["title"] and "onerror" not in n["body"] for n in notes)
