"""`mcu worker`: fires durable deadlines on time, exactly once, and delivers the mail outbox.

Deadlines are rows. A batch is claimed in one transaction (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so workers take disjoint rows; `BEGIN IMMEDIATE` on SQLite, so they take turns),
each row is evaluated through its tenant's *current* rules, and its decisions, notifications and
next reminder are written in that same transaction with the row marked fired. A worker killed
mid-batch rolls the whole batch back: nothing is lost, and nothing was half-done, so nothing
fires twice. Rows that came due while everything was down are simply due: they fire on start.
"""

from __future__ import annotations

import logging
import signal
import smtplib
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import or_, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mcu.analytics.heatmap import rolling_dynamics
from mcu.analytics.rollup import catch_up_all
from mcu.db import writer_bind
from mcu.emergencies.models import Emergency
from mcu.eventlog import log_event
from mcu.messages import lifecycle
from mcu.messages import queue as intake_queue
from mcu.messages.models import Deadline, Message
from mcu.notifications.models import MailOutbox
from mcu.reports.schedule import run as scheduled_reports
from mcu.roadmaps.models import Roadmap
from mcu.rules.facts import emergency_facts, message_facts
from mcu.rules.operations import handle, rulebook
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.models import Tenant
from mcu.tenancy.queries import Configs, current_config

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # a row whose evaluation keeps failing is set aside as failed, with an event
TICK_NAMESPACE = uuid.UUID("5b0c7a52-2f7e-4e0a-9a40-6d0f2f1f7c11")


def _is_pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _session(engine: Engine) -> Session:
    # On SQLite the claim must take the write lock at BEGIN, or two workers could both read a
    # row as pending before either marks it.
    return Session(writer_bind(engine), expire_on_commit=False)


def fire_due(engine: Engine, *, now: datetime | None = None, batch: int = 200) -> int:
    """Claim and fire up to `batch` due deadlines in one transaction. Returns how many.

    The batch is written in one flush (the INSERTs go out together); if that fails, the batch is
    redone row by row, each in a savepoint, so one bad row cannot stop the others."""
    clock = (lambda: now) if now is not None else utcnow
    with _session(engine) as session:
        rows = _claim(session, engine, clock(), batch)
        if not rows:
            session.commit()
            return 0
        ids = [(r.tenant_id, r.id) for r in rows]
        at = clock()  # after the claim: on SQLite the claim may have waited for the write lock
        try:
            _fire_batch(session, rows, at)
            session.commit()
            return len(rows)
        except Exception:
            log.exception("a batch of %s deadlines failed; firing them one by one", len(rows))
            session.rollback()
    with _session(engine) as session:
        rows = _claim(session, engine, clock(), batch, ids=ids)
        at = clock()
        configs = Configs(session)
        for row in rows:
            try:
                with session.begin_nested():
                    _fire(session, configs, row, at)
            except Exception as exc:
                log.exception("deadline %s of tenant %s failed", row.id, row.tenant_id)
                row.attempts += 1
                row.claimed_until = at + timedelta(minutes=2**row.attempts)
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                    row.explanation = {**row.explanation, "error": str(exc)[:500]}
        session.commit()
        return len(rows)


def _claim(
    session: Session,
    engine: Engine,
    now: datetime,
    batch: int,
    *,
    ids: list[tuple[int, uuid.UUID]] | None = None,
) -> list[Deadline]:
    query = select(Deadline).where(
        Deadline.status == "pending",
        Deadline.due_at <= now,
        or_(Deadline.claimed_until.is_(None), Deadline.claimed_until <= now),
    )
    if ids is not None:
        query = query.where(tuple_(Deadline.tenant_id, Deadline.id).in_(ids))
    query = query.order_by(Deadline.due_at).limit(batch)
    if _is_pg(engine):
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query))


def _fire_batch(session: Session, rows: list[Deadline], now: datetime) -> None:
    # Load what the rows watch in two queries; the list keeps them in the identity map, where
    # `session.get` finds them without a round trip each.
    keep = [
        *_load(session, Message, {(r.tenant_id, r.message_id) for r in rows if r.message_id}),
        *_load(session, Emergency, {(r.tenant_id, r.emergency_id) for r in rows if r.emergency_id}),
    ]
    configs = Configs(session)
    with session.no_autoflush:
        for row in rows:
            _fire(session, configs, row, now, flush=False)
    session.flush()
    del keep


def _load(session: Session, model: Any, keys: set[tuple[int, uuid.UUID]]) -> list[Any]:
    if not keys:
        return []
    return list(session.exec(select(model).where(tuple_(model.tenant_id, model.id).in_(list(keys)))))


def _fire(session: Session, configs: Configs, row: Deadline, now: datetime, *, flush: bool = True) -> None:
    config = configs(row.tenant_id)
    if config is None:
        row.status = "cancelled"
        return
    message = session.get(Message, (row.tenant_id, row.message_id)) if row.message_id else None
    emergency = session.get(Emergency, (row.tenant_id, row.emergency_id)) if row.emergency_id else None
    if (message is not None and message.status not in lifecycle.OPEN) or (
        emergency is not None and emergency.status != "open"
    ):
        # What the timer watched is over (answered, forwarded, closed …): nothing to escalate.
        row.status = "cancelled"
        row.fired_at = now
        return
    if row.timer == "roadmap_due" and _roadmap_ready(session, row):
        row.status = "met"
        row.fired_at = now
        return
    event = row.explanation.get("event", "deadline_due")
    row.status = "fired"
    row.fired_at = now
    if row.timer == "heatmap":
        _heatmap(session, config, row, now)
    else:
        facts: dict[str, Any] = {
            "timer": row.timer,
            "late_minutes": round((now - row.due_at).total_seconds() / 60, 1),
        }
        if message is not None:
            facts.update(message_facts(message, now))
        if emergency is not None:
            facts.update(emergency_facts(emergency, now))
        _record(session, row, message, emergency, now)
        handle(
            session,
            config,
            event,
            facts=facts,
            now=now,
            message=message,
            emergency=emergency,
            subject_kind="message"
            if message is not None
            else ("emergency" if emergency is not None else "tenant"),
            subject_id=row.message_id or row.emergency_id,
            # A follow-up counts from when this term ran out, not from when a worker got to it.
            since=row.due_at,
            flush=flush,
        )
    every = _period(config, row)
    if every:
        _repeat(session, row, every, now)


def _roadmap_ready(session: Session, row: Deadline) -> bool:
    """The roadmap the timer waits for has been agreed (or beyond): nothing to escalate."""
    roadmap_id = row.explanation.get("roadmap")
    if not roadmap_id:
        return False
    roadmap = session.get(Roadmap, (row.tenant_id, uuid.UUID(roadmap_id)))
    return roadmap is not None and roadmap.status != "draft"


def _period(config: TenantConfig, row: Deadline) -> float | None:
    """A repeating reminder's period under the district's *current* rules: a reload that changes
    the cadence (or switches it off) applies to reminders already running."""
    if "repeat_every_hours" not in row.explanation:
        return None
    book = rulebook(config)
    if row.timer == "heatmap":
        return float(book.param("red-zone", "check_every_hours", 24)) if book.enabled("red-zone") else None
    rule = next((r for r in book.rules if r.id == row.explanation.get("rule")), None)
    if rule is None:
        return None
    hours = [
        float(a.get("hours") or 0) + 24 * float(a.get("days") or 0)
        for a in rule.then
        if a["do"] == "repeat_every" and a.get("timer", "reminder") == row.timer
    ]
    return hours[0] if hours and hours[0] > 0 else None


def _record(
    session: Session, row: Deadline, message: Message | None, emergency: Emergency | None, now: datetime
) -> None:
    subject = message if message is not None else emergency
    if subject is None:
        return
    log_event(
        session,
        tenant_id=row.tenant_id,
        subject_kind="message" if message is not None else "emergency",
        subject_id=subject.id,
        kind="timer_fired",
        actor="system:worker",
        at=now,
        reason=row.explanation.get("text"),
        data={"timer": row.timer, "due_at": row.due_at.isoformat(), "deadline": str(row.id)},
    )


def _repeat(session: Session, row: Deadline, every_hours: float, now: datetime) -> None:
    """The next occurrence on the original grid (no drift); occurrences missed while nothing
    ran are not replayed one by one — the one that fired stands for them."""
    period = timedelta(hours=every_hours)
    due = row.due_at + period
    while due <= now:
        due += period
    session.add(
        Deadline(
            id=uuid.uuid5(TICK_NAMESPACE, f"{row.tenant_id}:{row.id}:next"),
            tenant_id=row.tenant_id,
            message_id=row.message_id,
            emergency_id=row.emergency_id,
            timer=row.timer,
            due_at=due,
            explanation={**row.explanation, "repeat_every_hours": every_hours},
            created_at=now,
        )
    )


# ---------------------------------------------------------------- heat map ticks
def _heatmap(session: Session, config: TenantConfig, row: Deadline, now: datetime) -> None:
    """The daily red-zone check: each block's dynamics, as the heat map computes them, handed to
    the district's rules (ХМ Регламент п.4.2.4)."""
    for block in rolling_dynamics(session, config, now):
        handle(
            session,
            config,
            "heatmap_updated",
            facts=block.as_facts(),
            now=now,
            subject_kind="tenant",
            block_id=block.block,
        )


def ensure_ticks(engine: Engine, *, now: datetime | None = None) -> int:
    """Every tenant whose rules read the heat map has a pending heat-map tick. The first tick's
    id is derived from the hour, so two workers starting together make one."""
    now = now or utcnow()
    made = 0
    with _session(engine) as session:
        for tenant in session.exec(select(Tenant).where(Tenant.active)):
            config = current_config(session, tenant)
            if config is None or "heatmap_updated" not in rulebook(config).events:
                continue
            pending = session.exec(
                select(Deadline.id).where(
                    Deadline.tenant_id == tenant.id, Deadline.timer == "heatmap", Deadline.status == "pending"
                )
            ).first()
            if pending is not None:
                continue
            every = float(rulebook(config).param("red-zone", "check_every_hours", 24))
            slot = now.replace(minute=0, second=0, microsecond=0)
            try:
                with session.begin_nested():
                    session.add(
                        Deadline(
                            id=uuid.uuid5(TICK_NAMESPACE, f"{tenant.id}:heatmap:{slot.isoformat()}"),
                            tenant_id=tenant.id,
                            timer="heatmap",
                            due_at=slot,
                            explanation={
                                "text": "Пересчёт индекса роста по блокам (красная зона)",
                                "event": "heatmap_updated",
                                "repeat_every_hours": every,
                            },
                            created_at=now,
                        )
                    )
                made += 1
            except IntegrityError:
                pass  # another worker made it
        session.commit()
    return made


# ---------------------------------------------------------------- mail
def deliver_mail(
    engine: Engine, settings: dict[str, Any], *, now: datetime | None = None, batch: int = 50
) -> int:
    """Send due outbox e-mails, one transaction each. A failure waits and retries (1, 2, 4 …
    minutes, up to MAIL_MAX_ATTEMPTS); the row is never dropped. Delivery is at-least-once: a
    worker killed between sending and committing sends again, with the same Message-ID, which
    mail clients use to drop the repeat."""
    if not settings.get("SMTP_HOST"):
        return 0
    sent = 0
    for _ in range(batch):
        now_ = now or utcnow()
        with _session(engine) as session:
            query = (
                select(MailOutbox)
                .where(MailOutbox.status == "pending", MailOutbox.next_attempt_at <= now_)
                .order_by(MailOutbox.next_attempt_at)
                .limit(1)
            )
            if _is_pg(engine):
                query = query.with_for_update(skip_locked=True)
            row = session.exec(query).first()
            if row is None:
                break
            try:
                _send(row, settings)
                row.status, row.sent_at, row.last_error = "sent", now_, None
                sent += 1
            except (OSError, smtplib.SMTPException) as exc:
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                if row.attempts >= int(settings.get("MAIL_MAX_ATTEMPTS", 8)):
                    row.status = "failed"
                else:
                    row.next_attempt_at = now_ + timedelta(minutes=2 ** (row.attempts - 1))
            session.commit()
            if row.status == "pending":
                break  # the server is failing: let the next round try again
    return sent


def _send(row: MailOutbox, settings: dict[str, Any]) -> None:
    mail = EmailMessage()
    mail["From"] = settings["MAIL_FROM"]
    mail["To"] = row.to_address
    mail["Subject"] = row.subject
    mail["Date"] = format_datetime(row.created_at)
    # Stable per outbox row: a resend after a crash is recognisably the same letter.
    mail["Message-ID"] = f"<{row.id}@mcu.local>"
    mail.set_content(row.body)
    with smtplib.SMTP(settings["SMTP_HOST"], int(settings.get("SMTP_PORT") or 25), timeout=10) as smtp:
        if settings.get("SMTP_STARTTLS"):
            smtp.starttls()
        if settings.get("SMTP_USER"):
            smtp.login(settings["SMTP_USER"], settings.get("SMTP_PASSWORD") or "")
        smtp.send_message(mail)


# ---------------------------------------------------------------- loop
def run(
    engine: Engine,
    settings: dict[str, Any],
    *,
    once: bool = False,
    poll: float = 5.0,
    batch: int = 200,
    say: Callable[[str], None] = print,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Take queued intake, fire what is due, deliver mail, bring the analytics rollup up to date,
    sleep, repeat — until SIGTERM/SIGINT (the current batch
    finishes first) or, with `once`, until nothing is due."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    total = 0
    last_ticks: datetime | None = None
    while not stop.is_set():
        now = clock()
        if last_ticks is None or now - last_ticks >= timedelta(minutes=1):
            ensure_ticks(engine, now=now)
            made = scheduled_reports(engine, now=now)
            if made:
                say(f"сформировано отчётов по графику: {made}")
            last_ticks = now
        while not stop.is_set():
            taken = intake_queue.process(engine, batch=batch, now=clock())
            if taken:
                say(f"обработано сообщений из очереди приёма: {taken}")
            if taken < batch:
                break
        while not stop.is_set():
            fired = fire_due(engine, now=clock(), batch=batch)
            total += fired
            if fired:
                say(f"сработало сроков: {fired} (всего {total})")
            if fired < batch:
                break
        mailed = deliver_mail(engine, settings)
        if mailed:
            say(f"отправлено писем: {mailed}")
        # Readers recompute what they read anyway; this keeps the marks few between readers.
        catch_up_all(engine)
        if once:
            break
        stop.wait(poll)
    return total
