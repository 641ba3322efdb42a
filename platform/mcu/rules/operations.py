"""Evaluating an event through the tenant's rules and recording what was decided.

`handle` is called by the operation that caused the event (intake, rating, the worker firing a
deadline …) inside that operation's transaction: the decisions and everything their actions
write commit or roll back together with the event itself.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from mcu.emergencies.models import Emergency
from mcu.ids import uuid7
from mcu.messages.models import Message
from mcu.observability.metrics import RULE_EVALUATIONS
from mcu.rules import engine
from mcu.rules.compile import RuleBook, compile_rules
from mcu.rules.models import RuleDecision
from mcu.tenancy.config import TenantConfig

# An emergency_declared decision may declare nothing further; three levels is ample and stops a
# misconfigured district from looping.
MAX_DEPTH = 3

_books: OrderedDict[tuple[int, str], RuleBook] = OrderedDict()
_books_lock = threading.Lock()


def rulebook(config: TenantConfig) -> RuleBook:
    """The compiled rules of a config version (versions are immutable: cached by hash)."""
    key = (config.tenant_id, config.version_hash)
    with _books_lock:
        book = _books.get(key)
        if book is not None:
            return book
    book = compile_rules(config)
    with _books_lock:
        _books[key] = book
        while len(_books) > 256:
            _books.popitem(last=False)
    return book


@dataclass
class Trigger:
    """What an event is about, for the actions: the message and/or emergency, and the block
    whose people a block-level role means."""

    event: str
    facts: dict[str, Any]
    now: datetime
    # What terms count from: the moment the watched thing began (the emergency's occurrence,
    # the due time of the timer that fired), which is `now` unless the caller says otherwise.
    since: datetime | None = None
    message: Message | None = None
    emergency: Emergency | None = None
    subject_kind: str = "message"
    subject_id: Any = None
    block_id: str | None = None
    depth: int = 0
    decisions: list[RuleDecision] = field(default_factory=list)


def handle(
    session: Session,
    config: TenantConfig,
    event: str,
    *,
    facts: dict[str, Any],
    now: datetime,
    message: Message | None = None,
    emergency: Emergency | None = None,
    subject_kind: str | None = None,
    subject_id: Any = None,
    block_id: str | None = None,
    depth: int = 0,
    book: RuleBook | None = None,
    since: datetime | None = None,
    flush: bool = True,
) -> list[RuleDecision]:
    book = book or rulebook(config)
    if event not in book.events or depth > MAX_DEPTH:
        return []
    fact = {"event": event, **{k: v for k, v in facts.items() if v is not None}}
    RULE_EVALUATIONS.labels(config.slug, event).inc()
    matched = engine.evaluate(book, fact)
    if not matched:
        return []
    from mcu.rules.actions import apply  # actions write through the message and emergency operations

    trigger = Trigger(
        event=event,
        facts=fact,
        now=now,
        since=since or now,
        message=message,
        emergency=emergency,
        subject_kind=subject_kind
        or ("emergency" if emergency is not None and message is None else "message"),
        subject_id=subject_id
        or (message.id if message is not None else (emergency.id if emergency is not None else None)),
        block_id=block_id or (message.block_id if message else (emergency.block_id if emergency else None)),
        depth=depth,
    )
    out = []
    for rule in matched:
        decision_id = uuid7()
        results = [apply(session, config, book, rule, action, trigger, decision_id) for action in rule.then]
        decision = RuleDecision(
            id=decision_id,
            tenant_id=config.tenant_id,
            config_version_id=config.version_id,
            event=event,
            subject_kind=trigger.subject_kind,
            subject_id=trigger.subject_id,
            message_id=message.id if message is not None else None,
            emergency_id=(trigger.emergency.id if trigger.emergency is not None else None),
            rule_id=rule.id,
            rule_set=rule.rule_set,
            title=rule.title,
            source=rule.source,
            facts=fact,
            actions=results,
            at=now,
        )
        session.add(decision)
        out.append(decision)
    if flush:  # the worker flushes a whole batch at once instead
        session.flush()
    return out
