"""The queued intake: checked at once (the same 422s as the inline intake), stored once per
(channel, external id), taken through the whole pipeline by the worker — classified, routed to a
roster position, with a due date that explains itself — and never twice, even when a worker is
stopped mid-batch."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mcu.db import engine
from mcu.messages import operations as ops
from mcu.messages import queue as intake_queue
from mcu.messages.models import Deadline, Event, IntakeItem, Message
from tests.integration.test_messages_api import FOUNDING, _config, _text_for, _token


def _process(app) -> int:
    with app.app_context():
        return intake_queue.process(engine())


@pytest.mark.parametrize("slug", FOUNDING)
def test_an_accepted_message_is_classified_routed_and_given_a_due_date_by_the_worker(loaded_app, slug):
    client = loaded_app.test_client()
    headers = _token(loaded_app, slug)
    config = _config(loaded_app, slug)
    text, topic = _text_for(config)
    channel = next(c for c, v in config.channels.items() if v["regime"] == "message")
    response = client.post(
        f"/api/v1/{slug}/intake",
        headers=headers,
        json={"channel": channel, "external_id": "q-1", "text": text},
    )
    assert response.status_code == 202, response.get_json()
    accepted = response.get_json()
    status_url = response.headers["Location"]
    assert accepted["status"] == "queued" and status_url == accepted["status_url"]
    assert client.get(status_url, headers=headers).get_json()["status"] == "queued"

    assert _process(loaded_app) == 1
    item = client.get(status_url, headers=headers).get_json()
    assert item["status"] == "done", item
    message = client.get(item["message_url"], headers=headers).get_json()
    assert message["status"] == "assigned" and message["classification"]["topic"] == topic
    assert message["executor"]["position"] == config.roster[message["executor"]["position_id"]]["position"]
    assert message["due_at"] and "до " in message["due_explanation"]
    assert message["number"] and message["received_at"] == item["accepted_at"]
    # Nothing left to take.
    assert _process(loaded_app) == 0


def test_a_replay_is_stored_once_before_and_after_processing(loaded_app):
    client = loaded_app.test_client()
    headers = _token(loaded_app, "kondinsky")
    body = {"channel": "pos", "external_id": "POS-77", "text": "Не вывозят мусор на ул. Мира"}
    first = client.post("/api/v1/kondinsky/intake", headers=headers, json=body)
    again = client.post("/api/v1/kondinsky/intake", headers=headers, json=body)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    _process(loaded_app)
    third = client.post("/api/v1/kondinsky/intake", headers=headers, json=body)
    assert third.status_code == 200 and third.get_json()["id"] == first.get_json()["id"]
    # The inline intake of the same delivery finds the message the worker made.
    inline = client.post("/api/v1/kondinsky/messages", headers=headers, json=body)
    assert inline.status_code == 200
    with loaded_app.app_context(), Session(engine()) as s:
        assert len(s.exec(select(Message).where(Message.external_id == "POS-77")).all()) == 1
        assert len(s.exec(select(IntakeItem)).all()) == 1


def test_bad_input_is_refused_at_once_and_nothing_is_queued(loaded_app):
    client = loaded_app.test_client()
    headers = _token(loaded_app, "kondinsky")
    for body, field in (
        ({"channel": "pos"}, "text"),
        ({"channel": "telegraph", "text": "Яма"}, "channel"),
        ({"channel": "pos", "text": "Яма", "block": "nope"}, "block"),
        ({"channel": "pos", "text": "Яма", "received_at": "2999-01-01T00:00:00Z"}, "received_at"),
    ):
        response = client.post("/api/v1/kondinsky/intake", headers=headers, json=body)
        assert response.status_code == 422, body
        assert field in response.get_json()["fields"], response.get_json()
    assert client.post("/api/v1/kondinsky/intake", headers=headers, data="{").status_code == 400
    assert client.post("/api/v1/kondinsky/intake", json={"channel": "pos", "text": "Яма"}).status_code == 401
    with loaded_app.app_context(), Session(engine()) as s:
        assert s.exec(select(IntakeItem)).all() == []


def test_an_item_intake_refuses_later_is_kept_with_the_reason(loaded_app):
    client = loaded_app.test_client()
    headers = _token(loaded_app, "kondinsky")
    response = client.post(
        "/api/v1/kondinsky/intake", headers=headers, json={"channel": "pos", "text": "Яма"}
    )
    # The district's configuration changed meanwhile: the block named in the payload is gone.
    with loaded_app.app_context(), Session(engine()) as s:
        item = s.exec(select(IntakeItem)).one()
        item.payload = {**item.payload, "block": "removed-block"}
        s.add(item)
        s.commit()
    assert _process(loaded_app) == 1
    item = client.get(response.headers["Location"], headers=headers).get_json()
    assert item["status"] == "refused"
    assert item["error"]["field"] == "block" and "не настроен" in item["error"]["message"]
    with loaded_app.app_context(), Session(engine()) as s:
        assert s.exec(select(Message)).all() == []


def test_a_batch_interrupted_before_its_commit_leaves_its_items_queued(loaded_app, monkeypatch):
    """A worker killed mid-batch: its transaction never commits, so every item is still queued
    and the next round makes each message exactly once."""
    client = loaded_app.test_client()
    headers = _token(loaded_app, "kondinsky")
    for n in range(5):
        client.post(
            "/api/v1/kondinsky/intake",
            headers=headers,
            json={"channel": "pos", "external_id": f"k-{n}", "text": f"Яма на дороге у дома {n}"},
        )
    real = ops._message_trail
    calls = []

    def dies_on_the_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt  # what a kill looks like from inside: nothing after it runs
        return real(*args, **kwargs)

    monkeypatch.setattr(ops, "_message_trail", dies_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        _process(loaded_app)
    monkeypatch.setattr(ops, "_message_trail", real)
    with loaded_app.app_context(), Session(engine()) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Message)).scalar() == 0
        assert {i.status for i in s.exec(select(IntakeItem))} == {"queued"}
    assert _process(loaded_app) == 5
    with loaded_app.app_context(), Session(engine()) as s:
        numbers = s.exec(select(Message.external_id)).all()
        assert sorted(numbers) == [f"k-{n}" for n in range(5)]
        assert {i.status for i in s.exec(select(IntakeItem))} == {"done"}


def _queue_five(app) -> None:
    client = app.test_client()
    headers = _token(app, "kondinsky")
    for n in range(5):
        response = client.post(
            "/api/v1/kondinsky/intake",
            headers=headers,
            json={"channel": "pos", "external_id": f"k-{n}", "text": f"Яма на дороге у дома {n}"},
        )
        assert response.status_code == 202


def test_a_batch_is_written_together_with_the_same_result_as_one_by_one(loaded_app):
    """The worker writes a batch table by table; each message gets what the inline intake gives
    it: its own number, events, deadlines and routing."""
    _queue_five(loaded_app)
    assert _process(loaded_app) == 5
    with loaded_app.app_context(), Session(engine()) as s:
        messages = s.exec(select(Message).order_by(Message.number)).all()
        assert [m.external_id for m in messages] == [f"k-{n}" for n in range(5)]
        assert len({m.number for m in messages}) == 5
        for m in messages:
            kinds = [e.kind for e in s.exec(select(Event).where(Event.subject_id == m.id).order_by(Event.id))]
            assert kinds[0] == "received" and "deadline_set" in kinds and "classified" in kinds, kinds
            assert m.due_at is not None and m.block_id == "roads"
            assert s.exec(
                select(Deadline).where(Deadline.message_id == m.id, Deadline.timer == "answer")
            ).one()
        items = s.exec(select(IntakeItem)).all()
        assert {i.status for i in items} == {"done"}
        assert {i.message_id for i in items} == {m.id for m in messages}


def test_a_delivery_the_inline_intake_stored_first_is_not_made_twice_by_the_worker(loaded_app):
    client = loaded_app.test_client()
    headers = _token(loaded_app, "kondinsky")
    body = {"channel": "pos", "external_id": "POS-5", "text": "Не вывозят мусор на ул. Мира"}
    inline = client.post("/api/v1/kondinsky/messages", headers=headers, json=body)
    queued = client.post("/api/v1/kondinsky/intake", headers=headers, json=body)
    assert (inline.status_code, queued.status_code) == (201, 202)
    _queue_five(loaded_app)
    assert _process(loaded_app) == 6
    item = client.get(queued.headers["Location"], headers=headers).get_json()
    assert item["status"] == "done" and item["message_id"] == inline.get_json()["id"]
    with loaded_app.app_context(), Session(engine()) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Message)).scalar() == 6


def test_a_batch_that_cannot_be_written_together_is_taken_one_by_one(loaded_app, monkeypatch, caplog):
    """A defect in one message's writes fails the batch's joint write; the batch is then taken
    again message by message: the faulty one is refused with a reason, the others go in once."""
    _queue_five(loaded_app)
    real = ops._message_trail

    def breaks_on_k2(session, plan, message):
        if message.external_id == "k-2":
            raise RuntimeError("defect")
        return real(session, plan, message)

    monkeypatch.setattr(ops, "_message_trail", breaks_on_k2)
    assert _process(loaded_app) == 5
    assert "taking it one by one" in caplog.text
    with loaded_app.app_context(), Session(engine()) as s:
        items = {i.external_id: i for i in s.exec(select(IntakeItem))}
        assert items["k-2"].status == "refused" and items["k-2"].error["field"] is None
        assert {k for k, i in items.items() if i.status == "done"} == {"k-0", "k-1", "k-3", "k-4"}
        stored = s.exec(select(Message.external_id)).all()
        assert sorted(stored) == ["k-0", "k-1", "k-3", "k-4"]


# ---------------------------------------------------------------- queued import
def test_a_queued_import_checks_every_row_now_and_the_worker_makes_each_message_once(loaded_app):
    from tests.integration.test_imports import FIXTURES, _assert_processed, _channel, _import, _messages

    report = _import(loaded_app, FIXTURES / "malformed.csv", "csv", kind="pos", queued=True)
    # Rejected at once, with the same reasons as the inline import; the rest queued.
    assert (report.total, report.created, report.existing) == (7, 3, 0)
    assert {r.row for r in report.rejected} == {3, 4, 5, 7}
    assert _messages(loaded_app) == []
    again = _import(loaded_app, FIXTURES / "malformed.csv", "csv", kind="pos", queued=True)
    assert (again.created, again.existing) == (0, 3)
    assert _process(loaded_app) == 3
    messages = _messages(loaded_app, _channel(loaded_app, "pos"))
    assert [m.external_id for m in messages] == ["M-1", "M-5", "M-7"]
    _assert_processed(loaded_app, messages)


def test_a_row_repeated_in_the_file_is_queued_once(loaded_app):
    from tests.integration.test_imports import _import

    body = (
        "ID сообщения;Дата поступления;Текст сообщения\nR-1;01.03.2025 10:00;Яма на дороге\n"
        "R-2;01.03.2025 11:00;Не вывозят мусор\nR-1;01.03.2025 10:00;Яма на дороге\n"
    )
    report = _import(loaded_app, body.encode(), "csv", kind="pos", queued=True)
    assert (report.created, report.existing) == (2, 1)
    assert "повторяет строка 2" in report.warnings[0].reasons[0]
    assert _process(loaded_app) == 2


def test_cli_and_api_queue_an_import(loaded_app):
    from tests.integration.test_imports import FIXTURES, _channel

    runner = loaded_app.test_cli_runner()
    pos = _channel(loaded_app, "pos")
    result = runner.invoke(
        args=["import", str(FIXTURES / "pos.csv"), "--tenant", "kondinsky", "--channel", pos, "--queue"]
    )
    assert result.exit_code == 0, result.output
    assert "Принято в очередь приёма: 8" in result.stdout
    headers = _token(loaded_app, "kondinsky")
    with open(FIXTURES / "pos.csv", "rb") as upload:
        response = loaded_app.test_client().post(
            f"/api/v1/kondinsky/imports?channel={pos}&queue=1",
            headers=headers,
            data={"file": (upload, "pos.csv")},
        )
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["created"], response.get_json()["existing"]) == (0, 8)
    assert _process(loaded_app) == 8
