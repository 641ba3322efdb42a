"""`mcu rules replay`: what a proposed rules version would have done with past messages.

Reads history, writes nothing. For each message received in the period, the events it had are
rebuilt as facts — intake, the answer deadline, every timer a rule would have started (checked
against when the executor really replied), ratings, refusals, the long-term registry — and
evaluated under the current and the proposed rule books side by side. Emergency cadences (2-hour
reports) are not simulated beyond the declaration: they depend on when staff closed the
emergency, which a different rule version would have changed.
"""

from __future__ import annotations

import heapq
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from mcu.analytics.growth import block_growth
from mcu.messages.models import Deadline, Event, Message
from mcu.rules import engine
from mcu.rules.compile import RuleBook, compile_rules
from mcu.rules.facts import GROWTH_FIELDS, message_facts
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.loader import read_tenants

FEEDBACK_KINDS = {"start", "answer_preliminary", "answer", "answered"}
FINAL_KINDS = {"answer", "answered"}
END_KINDS = {"forward", "mark_duplicate", "register_long_term", "closed", "close"}
FEEDBACK_TIMERS = {"no_feedback", "first_response"}
MAX_CHAIN = 5


@dataclass
class Outcome:
    rules: Counter = field(default_factory=Counter)
    by_message: dict[uuid.UUID, list[str]] = field(default_factory=dict)


@dataclass
class ReplayReport:
    messages: int
    current: Outcome
    proposed: Outcome
    numbers: dict[uuid.UUID, str]

    def changed(self) -> list[tuple[str, list[str], list[str]]]:
        out = []
        for mid, number in self.numbers.items():
            before = self.current.by_message.get(mid, [])
            after = self.proposed.by_message.get(mid, [])
            if Counter(before) != Counter(after):
                out.append((number, before, after))
        return out


def proposed_config(current: TenantConfig, file: Path, *, tenants_dir: Path, rules_dir: Path) -> TenantConfig:
    """The district file as it would load — validated, merged over its region — not stored."""
    result = read_tenants([file], tenants_dir=tenants_dir, rules_dir=rules_dir)
    if not result.ok:
        raise ValueError("\n".join(str(p) for p in result.problems))
    src = result.tenants.get(current.slug)
    if src is None:
        raise ValueError(f"в файле {file} нет района «{current.slug}»")
    return src.as_config(current.tenant_id)


def _history(session: Session, tenant_id: int, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Event]]:
    out: dict[uuid.UUID, list[Event]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for event in session.exec(
            select(Event)
            .where(Event.tenant_id == tenant_id, Event.subject_kind == "message", Event.subject_id.in_(chunk))
            .order_by(Event.at)
        ):
            out.setdefault(event.subject_id, []).append(event)
    return out


def _answer_terms(session: Session, tenant_id: int, ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """Each message's first answer term (before any extension), in one query per 500 messages."""
    out: dict[uuid.UUID, datetime] = {}
    for i in range(0, len(ids), 500):
        for row in session.exec(
            select(Deadline)
            .where(
                Deadline.tenant_id == tenant_id,
                Deadline.timer == "answer",
                Deadline.message_id.in_(ids[i : i + 500]),
            )
            .order_by(Deadline.created_at)
        ):
            out.setdefault(row.message_id, row.due_at)
    return out


class _Simulator:
    def __init__(self, session: Session, book: RuleBook, until: datetime) -> None:
        self.session, self.book, self.until = session, book, until
        self.growth_cache: dict[tuple[Any, ...], dict[str, Any]] = {}

    def _growth(self, message: Message) -> dict[str, Any]:
        window = float(self.book.param("emergency", "window_hours", 24))
        days = float(self.book.param("emergency", "baseline_days", 28))
        key = (message.block_id, message.received_at, window, days)
        if key not in self.growth_cache:
            g = block_growth(
                self.session,
                message.tenant_id,
                message.block_id,
                at=message.received_at,
                window_hours=window,
                baseline_days=days,
            )
            self.growth_cache[key] = g.as_facts()
        return self.growth_cache[key]

    def run(self, message: Message, events: list[Event], answer_due: datetime | None) -> list[str]:
        fired: list[str] = []
        kinds_at = [(e.kind, e.at) for e in events]
        feedback_at = min((at for k, at in kinds_at if k in FEEDBACK_KINDS), default=None)
        final_at = min((at for k, at in kinds_at if k in FINAL_KINDS), default=message.answered_at)
        end_at = min((at for k, at in kinds_at if k in END_KINDS), default=None)
        base = {**message_facts(message, message.received_at), "status": "assigned"}
        assigned = any(k in ("routed", "assigned") for k, _ in kinds_at)
        timers: list[tuple[datetime, str]] = []  # (due, timer) a rule would have started
        chain = 0  # deadline_due evaluations so far: a runaway chain of follow-ups stops

        def evaluate(event: str, facts: dict[str, Any], at: datetime) -> None:
            for rule in engine.evaluate(
                self.book, {"event": event, **{k: v for k, v in facts.items() if v is not None}}
            ):
                fired.append(rule.id)
                for action in rule.then:
                    if action["do"] == "set_deadline" and chain < MAX_CHAIN:
                        hours = float(action.get("hours") or 0) + 24 * float(action.get("days") or 0)
                        heapq.heappush(timers, (at + timedelta(hours=hours), action.get("timer", "rule")))

        facts = {**base, "assigned": assigned, "age_hours": 0.0}
        if GROWTH_FIELDS & self.book.fields and message.block_id:
            facts.update(self._growth(message))
        evaluate("message_received", facts, message.received_at)
        if answer_due is not None:
            heapq.heappush(timers, (answer_due, "answer"))
        while timers:
            due, timer = heapq.heappop(timers)
            closed_by = feedback_at if timer in FEEDBACK_TIMERS else final_at
            if (
                due > self.until
                or (closed_by is not None and closed_by <= due)
                or (end_at is not None and end_at <= due)
            ):
                continue
            chain += 1
            evaluate("deadline_due", {**base, "timer": timer}, due)
        for event in events:
            if event.kind == "rated":
                evaluate("answer_rated", {**base, "score": (event.data or {}).get("score")}, event.at)
            elif event.kind == "executor_refused":
                evaluate("executor_refused", base, event.at)
            elif event.kind == "register_long_term":
                evaluate("message_classified", {**base, "long_term": True}, event.at)
        return fired


def replay(
    session: Session,
    current: TenantConfig,
    proposed: TenantConfig,
    *,
    start: datetime,
    end: datetime,
    until: datetime,
    progress: Any = None,
) -> ReplayReport:
    messages = list(
        session.exec(
            select(Message)
            .where(
                Message.tenant_id == current.tenant_id,
                Message.received_at >= start,
                Message.received_at < end,
            )
            .order_by(Message.received_at)
        )
    )
    history = _history(session, current.tenant_id, [m.id for m in messages])
    terms = _answer_terms(session, current.tenant_id, [m.id for m in messages])
    books = {"current": compile_rules(current), "proposed": compile_rules(proposed)}
    sims = {name: _Simulator(session, book, until) for name, book in books.items()}
    report = ReplayReport(len(messages), Outcome(), Outcome(), {m.id: m.number for m in messages})
    for i, message in enumerate(messages):
        due = terms.get(message.id, message.due_at)
        events = history.get(message.id, [])
        for name, sim in sims.items():
            fired = sim.run(message, events, due)
            outcome: Outcome = getattr(report, name)
            outcome.rules.update(fired)
            outcome.by_message[message.id] = fired
        if progress is not None:
            progress(i + 1, len(messages))
    session.rollback()  # read-only: make sure nothing it touched is kept
    return report
