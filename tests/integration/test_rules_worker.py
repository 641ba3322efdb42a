"""The worker: exactly-once firing with two workers, a killed worker, mail through the outbox,
a rule change on reload, and replay of a proposed rules version."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from sqlalchemy import func, insert
from sqlmodel import Session, select

from mcu.auth.models import RoleAssignment, User
from mcu.db import engine
from mcu.ids import uuid7
from mcu.messages.models import Deadline, Message
from mcu.messages.operations import receive_message
from mcu.messages.schemas import MessageIn
from mcu.notifications.models import MailOutbox, Notification
from mcu.rules.models import RuleDecision
from mcu.rules.worker import deliver_mail, fire_due
from mcu.tenancy.queries import current_config, tenant_by_slug

REPO = Path(__file__).resolve().parents[2]
THREAT = "Сильный запах газа в подъезде дома 5 по ул. Ленина, дети дома"


def _config(slug: str):
    with Session(engine()) as s:
        return current_config(s, tenant_by_slug(s, slug))


def _overdue_messages(slug: str, count: int, due: datetime) -> list:
    """`count` assigned messages whose answer term ran out at `due`, written in bulk."""
    config = _config(slug)
    block = next(iter(config.blocks))
    ids = [uuid7() for _ in range(count)]
    with Session(engine()) as s:
        s.execute(
            insert(Message),
            [
                {
                    "tenant_id": config.tenant_id,
                    "id": mid,
                    "number": f"T-{i:06d}",
                    "regime": "message",
                    "channel_id": next(iter(config.channels)),
                    "channel_kind": "pos",
                    "external_id": f"w-{i}",
                    "text": "Яма на дороге",
                    "block_id": block,
                    "topic": config.blocks[block]["topic"],
                    "classification": {},
                    "status": "assigned",
                    "received_at": due - timedelta(days=8),
                    "registered_at": due - timedelta(days=8),
                    "due_at": due,
                    "created_at": due - timedelta(days=8),
                    "updated_at": due - timedelta(days=8),
                }
                for i, mid in enumerate(ids)
            ],
        )
        s.execute(
            insert(Deadline),
            [
                {
                    "tenant_id": config.tenant_id,
                    "id": uuid7(),
                    "message_id": mid,
                    "timer": "answer",
                    "due_at": due,
                    "status": "pending",
                    "explanation": {"text": "срок ответа"},
                    "attempts": 0,
                    "created_at": due - timedelta(days=8),
                }
                for mid in ids
            ],
        )
        s.commit()
    return ids


def _block_head_decisions_per_message(tenant_id: int) -> dict:
    with Session(engine()) as s:
        rows = s.exec(
            select(RuleDecision.message_id, func.count())
            .where(RuleDecision.tenant_id == tenant_id, RuleDecision.rule_id == "overdue/overdue-block-head")
            .group_by(RuleDecision.message_id)
        )
        return dict(rows.all())


def test_two_workers_fire_every_deadline_exactly_once(loaded_app):
    with loaded_app.app_context():
        now = datetime.now(UTC)
        ids = _overdue_messages("khanty-mansiysky", 400, now - timedelta(minutes=5))
        errors: list[BaseException] = []
        db = engine()

        def work() -> None:
            try:
                while fire_due(db, now=now, batch=25):
                    pass
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        per_message = _block_head_decisions_per_message(_config("khanty-mansiysky").tenant_id)
        assert set(per_message) == set(ids)
        assert set(per_message.values()) == {1}
        with Session(engine()) as s:
            statuses = s.exec(
                select(Deadline.status, func.count())
                .where(Deadline.timer == "answer")
                .group_by(Deadline.status)
            ).all()
            assert dict(statuses) == {"fired": 400}
            # Each firing also started the follow-up timer, once.
            followups = s.exec(
                select(func.count()).select_from(Deadline).where(Deadline.timer == "overdue_followup")
            ).one()
            assert followups == 400


def test_a_killed_worker_loses_nothing_and_repeats_nothing(loaded_app, tmp_path):
    app = loaded_app
    with app.app_context():
        now = datetime.now(UTC)
        ids = _overdue_messages("khanty-mansiysky", 3000, now - timedelta(minutes=5))
        tenant_id = _config("khanty-mansiysky").tenant_id
    env = {
        **os.environ,
        "MCU_DATABASE_URL": app.config["DATABASE_URL"],
        "MCU_INSTANCE_DIR": app.config["INSTANCE_DIR"],
        "MCU_TENANTS_DIR": app.config["TENANTS_DIR"],
        "MCU_RULES_DIR": app.config["RULES_DIR"],
    }
    env.pop("DATABASE_URL", None)
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "mcu"), "worker", "--batch", "50", "--poll", "0.2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with app.app_context():
            deadline = time.monotonic() + 120
            fired = 0
            while time.monotonic() < deadline:
                with Session(engine()) as s:
                    fired = s.exec(
                        select(func.count()).select_from(Deadline).where(Deadline.status == "fired")
                    ).one()
                if fired >= 100:
                    break
                assert worker.poll() is None, log.read_text()
                time.sleep(0.05)
            assert 0 < fired < 3000, "the worker must be stopped mid-run"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    with app.app_context():
        # Restart: what the killed worker had not committed is still due, and fires now.
        while fire_due(engine(), now=now + timedelta(seconds=1), batch=500):
            pass
        per_message = _block_head_decisions_per_message(tenant_id)
        assert set(per_message) == set(ids)
        assert set(per_message.values()) == {1}
        with Session(engine()) as s:
            notes = s.exec(
                select(Notification.message_id, func.count())
                .where(
                    Notification.tenant_id == tenant_id, Notification.rule_id == "overdue/overdue-block-head"
                )
                .group_by(Notification.message_id)
            ).all()
        assert len(notes) == 3000 and {n for _, n in notes} == {1}


class _Sink:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_mail_waits_in_the_outbox_while_the_server_fails_and_then_goes_once(loaded_app):
    with loaded_app.app_context():
        config = _config("khanty-mansiysky")
        mcu_head_role = next(r["id"] for r in config.roles.values() if r["kind"] == "mcu_head")
        with Session(engine()) as s:
            user = User(login="head", full_name="Руководитель МЦУ", email="head@example.test")
            s.add(user)
            s.flush()
            s.add(
                RoleAssignment(
                    tenant_id=config.tenant_id, user_id=user.id, role_kind="mcu_head", role_id=mcu_head_role
                )
            )
            receive_message(
                session=s,
                config=config,
                data=MessageIn(channel=next(iter(config.channels)), text=THREAT),
                actor="test",
            )
            s.commit()
            queued = s.exec(select(MailOutbox)).all()
        assert [m.to_address for m in queued] == ["head@example.test"]

        dead_port = _free_port()
        settings = {**loaded_app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": dead_port}
        assert deliver_mail(engine(), settings) == 0
        with Session(engine()) as s:
            row = s.exec(select(MailOutbox)).one()
            assert (row.status, row.attempts) == ("pending", 1)
            assert "Connection" in row.last_error or "refused" in row.last_error
            retry_at = row.next_attempt_at

        sink = _Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
        controller.start()
        try:
            settings["SMTP_PORT"] = controller.port
            assert deliver_mail(engine(), settings) == 0  # not before its retry time
            assert deliver_mail(engine(), settings, now=retry_at + timedelta(seconds=1)) == 1
            assert deliver_mail(engine(), settings, now=retry_at + timedelta(minutes=5)) == 0
        finally:
            controller.stop()
        assert len(sink.messages) == 1
        letter = sink.messages[0].content.decode()
        assert "head@example.test" in sink.messages[0].rcpt_tos
        assert "Message-ID: <" in letter
        # No citizen text or personal data in mail: the number and block only.
        assert "Ленина" not in letter


def _copy_tree(tmp_path: Path) -> Path:
    import shutil

    dest = tmp_path / "tenants"
    shutil.copytree(REPO / "tenants", dest)
    return dest


def _set_param(tree: Path, rule_set: str, name: str, value, *, to: Path | None = None) -> Path:
    """Change a parameter of the district's file, in place or in a proposal saved at `to`."""
    path = tree / "khmao" / "khanty-mansiysky.yaml"
    data = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(data)
    entry = next(r for r in doc["escalation"]["rule_sets"] if r["use"] == rule_set)
    entry.setdefault("params", {})[name] = value
    if to is not None:
        to.mkdir(parents=True, exist_ok=True)
        path = to / path.name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_a_rule_change_takes_effect_on_reload(make_app, tmp_path):
    tree = _copy_tree(tmp_path)
    app = make_app(TENANTS_DIR=str(tree))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tenants", "load"]).exit_code == 0
    with app.app_context():

        def no_feedback_after(text: str) -> timedelta:
            config = _config("khanty-mansiysky")
            now = datetime.now(UTC)
            with Session(engine()) as s:
                message = receive_message(
                    session=s,
                    config=config,
                    data=MessageIn(channel=next(iter(config.channels)), text=text, block="zhkh"),
                    actor="test",
                    now=now,
                ).message
                s.commit()
                row = s.exec(
                    select(Deadline).where(Deadline.message_id == message.id, Deadline.timer == "no_feedback")
                ).one()
                return row.due_at - now

        assert no_feedback_after("Нет горячей воды") == timedelta(hours=24)
        _set_param(tree, "no-feedback", "no_feedback_hours", 4)
        assert runner.invoke(args=["tenants", "load"]).exit_code == 0
        assert no_feedback_after("Нет холодной воды") == timedelta(hours=4)


def test_replay_shows_what_a_proposed_version_would_change_and_writes_nothing(make_app, tmp_path):
    tree = _copy_tree(tmp_path)
    app = make_app(TENANTS_DIR=str(tree))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tenants", "load"]).exit_code == 0
    until = (datetime.now(UTC) - timedelta(days=1)).date()
    seeded = runner.invoke(
        args=["demo", "seed", "--tenant", "khanty-mansiysky", "--months", "3", "--until", until.isoformat()]
    )
    assert seeded.exit_code == 0, seeded.output
    proposed = _set_param(tree, "overdue", "escalate_to_mcu_head_after_hours", 1, to=tmp_path / "proposal")
    with app.app_context(), Session(engine()) as s:
        before = s.exec(select(func.count()).select_from(RuleDecision)).one()
    start = (until - timedelta(days=60)).isoformat()
    args = ["rules", "replay", "--tenant", "khanty-mansiysky", "--from", start, "--to", until.isoformat()]
    result = runner.invoke(args=[*args, "--config", str(proposed)])
    assert result.exit_code == 0, result.output
    lines = {
        line.split()[0]: line.split()[1:]
        for line in result.stdout.splitlines()
        if line.startswith("overdue/")
    }
    now_block, new_block, _ = lines["overdue/overdue-block-head"]
    assert now_block == new_block and int(now_block) > 0  # late answers escalate to the block head either way
    now_head, new_head, diff = lines["overdue/overdue-mcu-head"]
    # Messages answered between 1 and 24 hours after the term now also reach the МЦУ head.
    assert int(new_head) > int(now_head) and int(diff) > 0
    assert "Сообщений, по которым решения изменились бы:" in result.stdout
    with app.app_context(), Session(engine()) as s:
        assert s.exec(select(func.count()).select_from(RuleDecision)).one() == before

    unchanged = runner.invoke(args=args)  # the district's own file: nothing would change
    assert unchanged.exit_code == 0
    assert "изменились бы: 0" in unchanged.stdout


def test_replay_refuses_an_invalid_proposal_with_its_line(make_app, tmp_path):
    tree = _copy_tree(tmp_path)
    app = make_app(TENANTS_DIR=str(tree))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tenants", "load"]).exit_code == 0
    proposed = _set_param(tree, "overdue", "no_such_param", 3, to=tmp_path / "proposal")
    result = runner.invoke(
        args=[
            "rules",
            "replay",
            "--tenant",
            "khanty-mansiysky",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
            "--config",
            str(proposed),
        ]
    )
    assert result.exit_code == 1
    assert "no_such_param" in result.stderr and "khanty-mansiysky.yaml" in result.stderr


@pytest.mark.parametrize("slug", ["kondinsky", "khanty-mansiysky", "sovetsky"])
def test_threat_to_life_declares_one_emergency_and_groups_the_next_message(loaded_app, slug):
    with loaded_app.app_context():
        config = _config(slug)
        channel = next(iter(config.channels))
        with Session(engine()) as s:
            first = receive_message(
                session=s, config=config, data=MessageIn(channel=channel, text=THREAT), actor="t"
            )
            second = receive_message(
                session=s,
                config=config,
                data=MessageIn(channel=channel, text="Опять пахнет газом в подъезде дома 5 по ул. Ленина"),
                actor="t",
            )
            s.commit()
            assert first.message.emergency_id is not None
            assert second.message.emergency_id == first.message.emergency_id
            declared = s.exec(
                select(func.count())
                .select_from(RuleDecision)
                .where(RuleDecision.event == "emergency_declared")
            ).one()
            assert declared > 0


def _threat_emergency(config, at):
    with Session(engine()) as s:
        message = receive_message(
            session=s,
            config=config,
            data=MessageIn(channel=next(iter(config.channels)), text=THREAT, received_at=at),
            actor="t",
            now=at,
        ).message
        s.commit()
        return message.emergency_id


def test_a_roadmap_agreed_in_time_is_not_escalated_as_missing(loaded_app):
    from mcu.roadmaps.models import Roadmap

    with loaded_app.app_context():
        config = _config("khanty-mansiysky")
        at = datetime.now(UTC) - timedelta(hours=30)
        emergency_id = _threat_emergency(config, at)
        with Session(engine()) as s:
            roadmap = s.exec(select(Roadmap).where(Roadmap.emergency_id == emergency_id)).one()
            assert roadmap.kind == "operational" and roadmap.due_at == at + timedelta(hours=24)
            roadmap.status = "agreed"
            s.commit()
        while fire_due(engine(), now=at + timedelta(hours=24, minutes=1)):
            pass
        with Session(engine()) as s:
            fired = set(s.exec(select(RuleDecision.rule_id).where(RuleDecision.emergency_id == emergency_id)))
            assert "emergency/emergency-roadmap-overdue" not in fired
            assert "emergency/emergency-liquidation-overdue" in fired  # still open after 24 h
            row = s.exec(select(Deadline).where(Deadline.timer == "roadmap_due")).one()
            assert row.status == "met"


def test_a_cadence_changed_on_reload_applies_to_running_reminders(make_app, tmp_path):
    tree = _copy_tree(tmp_path)
    app = make_app(TENANTS_DIR=str(tree))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tenants", "load"]).exit_code == 0
    with app.app_context():
        at = datetime.now(UTC) - timedelta(hours=10)
        emergency_id = _threat_emergency(_config("khanty-mansiysky"), at)
        fire_due(engine(), now=at + timedelta(hours=2, minutes=1))  # the 2-hour report, next at +4 h
        _set_param(tree, "emergency", "report_every_hours", 3)
        _set_param(tree, "emergency", "monitoring_every_hours", 0)
        assert runner.invoke(args=["tenants", "load"]).exit_code == 0
        while fire_due(engine(), now=at + timedelta(hours=4, minutes=1)):
            pass
        with Session(engine()) as s:
            pending = {
                d.timer: d.due_at - at
                for d in s.exec(
                    select(Deadline).where(
                        Deadline.emergency_id == emergency_id, Deadline.status == "pending"
                    )
                )
            }
        assert pending["emergency_report"] == timedelta(hours=7)  # +4 h fired, then every 3 h
        assert "emergency_monitoring" not in pending  # switched off: the running one stopped


def test_one_bad_deadline_does_not_stop_the_batch(loaded_app):
    with loaded_app.app_context():
        now = datetime.now(UTC)
        ids = _overdue_messages("khanty-mansiysky", 20, now - timedelta(minutes=5))
        config = _config("khanty-mansiysky")
        with Session(engine()) as s:
            bad = Deadline(
                tenant_id=config.tenant_id,
                timer="roadmap_due",
                due_at=now - timedelta(minutes=6),
                explanation={"roadmap": "not-a-uuid"},  # corrupt: evaluating it raises
            )
            s.add(bad)
            s.commit()
            bad_id = bad.id
        assert fire_due(engine(), now=now, batch=50) == 21
        assert set(_block_head_decisions_per_message(config.tenant_id).values()) == {1}
        assert len(_block_head_decisions_per_message(config.tenant_id)) == len(ids)
        with Session(engine()) as s:
            row = s.get(Deadline, (config.tenant_id, bad_id))
            assert (row.status, row.attempts) == ("pending", 1)
            assert row.claimed_until > now  # retried later, with a growing pause
        assert fire_due(engine(), now=now, batch=50) == 0
