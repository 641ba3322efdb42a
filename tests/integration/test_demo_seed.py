"""`mcu demo seed`: deterministic, idempotent, seasonal, with spikes, every message routed."""

from __future__ import annotations

import statistics
from collections import Counter

from sqlmodel import Session, select

from mcu.db import engine
from mcu.demo.seed import texts
from mcu.messages.models import Assignment, Message
from mcu.tenancy.models import Tenant
from mcu.tenancy.queries import current_config

ARGS = ["demo", "seed", "--tenant", "sovetsky", "--until", "2025-12-31"]


def _seed(app, months: int = 12) -> list[Message]:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tenants", "load"]).exit_code == 0
    result = runner.invoke(args=[*ARGS, "--months", str(months)])
    assert result.exit_code == 0, result.output
    with app.app_context(), Session(engine()) as s:
        return list(s.exec(select(Message).order_by(Message.external_id)))


def test_same_arguments_give_the_same_history(make_app):
    # A quarter is enough to show it: the generator draws every day alike.
    first = _seed(make_app(), months=3)
    second = _seed(make_app(), months=3)
    assert len(first) > 1000

    def key(m: Message):
        return (m.external_id, m.text, m.received_at, m.block_id, m.channel_id, m.due_at, m.status)

    assert [key(m) for m in first] == [key(m) for m in second]


def test_seeding_twice_adds_nothing(app):
    messages = _seed(app, months=1)
    again = app.test_cli_runner().invoke(args=[*ARGS, "--months", "1"])
    assert again.exit_code == 0 and "уже есть демо-данные" in again.output
    with app.app_context(), Session(engine()) as s:
        assert len(list(s.exec(select(Message.id)))) == len(messages)


def test_history_is_seasonal_has_spikes_and_is_routed(app):
    messages = _seed(app)
    # the topic whose season varies most peaks in its peak month
    corpus = texts()["topics"]
    topics = {m.topic for m in messages}
    topic = max(topics, key=lambda t: max(corpus[t]["season"]) / min(corpus[t]["season"]))
    season = corpus[topic]["season"]
    peak, trough = season.index(max(season)) + 1, season.index(min(season)) + 1
    by_month = Counter(m.received_at.month for m in messages if m.topic == topic)
    assert by_month[peak] > 1.5 * by_month[trough], (topic, by_month)

    # a spike: some day carries far more of one topic than its typical day
    per_day = Counter((m.received_at.date(), m.topic) for m in messages)
    for t in topics:
        typical = statistics.median(c for (d, tt), c in per_day.items() if tt == t)
        if max(c for (d, tt), c in per_day.items() if tt == t) >= 4 * max(typical, 1):
            break
    else:
        raise AssertionError("no spike in any topic")

    with app.app_context(), Session(engine()) as s:
        tenant = s.exec(select(Tenant).where(Tenant.slug == "sovetsky")).one()
        config = current_config(s, tenant)
        assignments = {a.message_id: a for a in s.exec(select(Assignment))}
    for m in messages:
        assert m.block_id in config.blocks and m.due_at is not None and m.due_at > m.received_at
        assert assignments[m.id].position_id == config.blocks[m.block_id]["head"]
        assert m.channel_id in config.channels
        channel = config.channels[m.channel_id]
        assert m.regime == channel["regime"]
        assert channel.get("valid_to", "9999") >= m.received_at.date().isoformat()


def test_unknown_tenant_is_a_clear_error(app):
    app.test_cli_runner().invoke(args=["tenants", "load"])
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--tenant", "atlantis"])
    assert result.exit_code != 0
    assert "atlantis" in str(result.exception) or "atlantis" in result.output


def test_a_live_message_after_the_demo_takes_the_next_number_of_its_year(app):
    """The demo numbers per year as intake does and moves the counters past its numbers."""
    messages = _seed(app, months=1)
    runner, client = app.test_cli_runner(), app.test_client()
    token = runner.invoke(args=["tokens", "create", "--tenant", "sovetsky"]).stdout.split()[0]
    last_2025 = max(int(m.number.split("-")[1]) for m in messages if m.number.startswith("2025-"))
    reply = client.post(
        "/api/v1/sovetsky/messages",
        headers={"Authorization": f"Bearer {token}"},
        json={"channel": "pos", "text": "Не убран снег во дворе", "received_at": "2025-12-31T20:00:00+05:00"},
    )
    assert reply.status_code == 201, reply.get_json()
    assert reply.get_json()["number"] == f"2025-{last_2025 + 1:06d}"


def test_seed_prints_demo_users_whose_password_works_and_changes_every_run(app):
    import re

    from tests.helpers import csrf

    runner = app.test_cli_runner()
    assert runner.invoke(args=["tenants", "load"]).exit_code == 0
    first = runner.invoke(args=[*ARGS, "--months", "1"])
    password = re.search(r"Пароль этого запуска для всех демо-пользователей: (\S+)", first.output).group(1)
    logins = re.findall(r"^  (\S+)\s", first.output, re.M)
    # every tenant has its staff; the region's analyst, the lawyer and the admin are there too
    for slug in ("kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky"):
        assert any(login.startswith(f"{slug}.") for login in logins), slug
    assert {"demo.admin", "demo.legal", "demo.analyst.khmao"} <= set(logins)
    client = app.test_client()

    def login(who: str, secret: str) -> int:
        token = csrf(client, "/login")
        return client.post("/login", data={"login": who, "password": secret, "csrf_token": token}).status_code

    assert login("sovetsky.mcu_head", password) == 302
    assert client.get("/t/sovetsky/messages").status_code == 200
    second = runner.invoke(args=[*ARGS, "--months", "1"])
    renewed = re.search(r"Пароль этого запуска для всех демо-пользователей: (\S+)", second.output).group(1)
    assert renewed != password
    assert login("sovetsky.mcu_head", password) == 401
    assert login("sovetsky.mcu_head", renewed) == 302
