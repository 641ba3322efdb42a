"""A realistic, deterministic demo history for every tenant.

Deterministic: the same (seed, until, months, per_day) gives the same messages, texts, dates and
routes — the random generator is seeded per tenant, and nothing depends on the clock except the
default `until`. Realistic: volume scales with population; topics follow their share and their
season (heating in winter, potholes in spring, yards in summer); weekends are quieter; each
tenant gets a few sharp spikes in one category; channels are the tenant's own, e-mail only while
it was a legal channel. Messages are routed to the block head from the roster, with due dates
from the channel's deadline profile on the working calendar.

Idempotent: demo messages carry external ids `demo-…`; a tenant that has them is skipped.
"""

from __future__ import annotations

import logging
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import func, insert
from sqlmodel import Session, select

from mcu.analytics import rollup
from mcu.deadlines.compute import answer_timer, compute_due
from mcu.ids import uuid7
from mcu.messages.models import Assignment, Citizen, Deadline, Event, Message
from mcu.rules.facts import received_facts
from mcu.rules.operations import handle, rulebook
from mcu.sqltypes import utcnow
from mcu.tenancy.config import TenantConfig
from mcu.tenancy.models import TenantCounter
from mcu.tenancy.queries import current_config, list_tenants

log = logging.getLogger(__name__)

DEMO_PREFIX = "demo-"
CHUNK = 2000
# How residents reach a district, by channel kind (relative weights).
CHANNEL_WEIGHTS = {
    "incident_management": 0.34,
    "pos": 0.28,
    "appeal_written": 0.08,
    "appeal_electronic": 0.05,
    "site_reception": 0.06,
    "email": 0.03,
    "edds": 0.10,
    "sed": 0.04,
    "appeal_oral": 0.01,
    "phone_hotline": 0.01,
    "personal_reception": 0.01,
}
WEEKDAY_FACTOR = (1.15, 1.1, 1.05, 1.05, 1.0, 0.6, 0.55)
# Share of answers with photo evidence of the solution, by channel kind (ЕДДС crews photograph
# their work; social posts are answered with a photo more often than letters are).
CONTROL_SHARE = {"edds": 0.7, "incident_management": 0.5, "pos": 0.45}
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 11, 12, 13, 12, 11, 10, 10, 9, 8, 6, 4, 2]


@cache
def texts() -> dict[str, Any]:
    return yaml.safe_load(resources.files("mcu.demo").joinpath("texts.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Spike:
    topic: str
    start: date
    days: int
    factor: float


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw: how many messages a day brings (the analytics benchmark draws the same way)."""
    if mean > 30:  # normal approximation keeps large districts fast
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _months_back(until: date, months: int) -> date:
    y, m = divmod(until.year * 12 + (until.month - 1) - months, 12)
    return date(y, m + 1, 1)


class TenantHistory:
    def __init__(
        self,
        config: TenantConfig,
        *,
        seed: int,
        until: date,
        months: int,
        per_day: float,
    ) -> None:
        self.c = config
        self.rng = random.Random(f"{seed}:{config.slug}")
        self.control_rng = random.Random(f"{seed}:{config.slug}:control")
        self.per_year: dict[int, int] = {}
        self.until = until
        self.start = _months_back(until, months)
        pop = (config.data.get("population") or {}).get("value", 20000)
        self.mean = per_day * pop / 10_000
        self.profiles = config.resolved["deadline_profiles"]
        self.settings = config.data.get("settings") or {}
        corpus = texts()["topics"]
        self.topics = sorted({b["topic"] for b in config.blocks.values() if b["topic"] in corpus})
        self.block_of = {
            t: sorted(b["id"] for b in config.blocks.values() if b["topic"] == t) for t in self.topics
        }
        self.settlements = sorted(config.settlements) or [None]
        self.unplaced = {
            t: [e for e in corpus[t]["templates"] if "{settlement}" not in e["text"]]
            or corpus[t]["templates"]
            for t in self.topics
        }
        self.spikes = self._spikes()

    def _spikes(self) -> list[Spike]:
        out = []
        days = (self.until - self.start).days
        for _ in range(3 if days > 90 else 1):
            topic = self.rng.choice(self.topics)
            start = self.start + timedelta(days=self.rng.randrange(max(1, days - 5)))
            out.append(Spike(topic, start, self.rng.randint(2, 4), self.rng.uniform(4.0, 7.0)))
        return out

    def _topic_weights(self, day: date) -> list[float]:
        corpus = texts()["topics"]
        weights = []
        for t in self.topics:
            w = corpus[t]["share"] * corpus[t]["season"][day.month - 1]
            for s in self.spikes:
                if s.topic == t and s.start <= day < s.start + timedelta(days=s.days):
                    w *= s.factor
            weights.append(w)
        return weights

    def _channels(self, day: date) -> tuple[list[dict[str, Any]], list[float]]:
        iso = day.isoformat()
        chans = [
            ch
            for ch in self.c.channels.values()
            if ch.get("valid_from", "0000") <= iso <= ch.get("valid_to", "9999")
        ]
        return chans, [CHANNEL_WEIGHTS.get(ch["kind"], 0.02) for ch in chans]

    def _fill(self, template: str, settlement: str | None) -> tuple[str, str]:
        lists = texts()
        street = self.rng.choice(lists["streets"])
        house = str(self.rng.randint(1, 60))
        place = self.c.settlements.get(settlement, {}).get("name", "") if settlement else ""
        text = template.replace("{street}", street).replace("{house}", house).replace("{settlement}", place)
        return text, f"{place}, {street}, д. {house}".strip(", ")

    def _person(self) -> str:
        lists = texts()
        female = self.rng.random() < 0.55
        surname = self.rng.choice(lists["surnames"]["female" if female else "male"])
        first = self.rng.choice(lists["first_names"]["female" if female else "male"])
        patronymic = self.rng.choice(lists["patronymics"]["female" if female else "male"])
        return f"{surname} {first} {patronymic}"

    def generate(self) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
        messages, citizens, assignments, events = [], [], [], []
        tid = self.c.tenant_id
        corpus = texts()["topics"]
        now = datetime.combine(self.until, time(23, 59), self.c.tz)
        seq = 0
        day = self.start
        while day <= self.until:
            n = poisson(self.rng, self.mean * WEEKDAY_FACTOR[day.weekday()])
            topic_w = self._topic_weights(day)
            chans, chan_w = self._channels(day)
            for _ in range(n):
                seq += 1
                topic = self.rng.choices(self.topics, topic_w)[0]
                channel = self.rng.choices(chans, chan_w)[0]
                settlement = self.rng.choice(self.settlements)
                # A district without settlements gets no template that names one.
                templates = corpus[topic]["templates"] if settlement else self.unplaced[topic]
                entry = self.rng.choice(templates)
                text, address = self._fill(entry["text"], settlement)
                hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
                received = datetime.combine(day, time(hour, self.rng.randrange(60)), self.c.tz).astimezone(
                    UTC
                )
                if received > now:
                    continue
                block = self.block_of[topic][0]
                head = self.c.blocks[block].get("head")
                appeal = channel["regime"] == "appeal"
                registered = received + timedelta(hours=self.rng.uniform(1, 48)) if appeal else received
                profile = self.profiles[channel["deadline_profile"]]
                due = compute_due(
                    timer=answer_timer(profile, topic),
                    start=registered,
                    tz=self.c.tz,
                    settings=self.settings,
                    profile_id=profile["id"],
                )
                mid = uuid7()
                citizen_id = None
                if appeal or self.rng.random() < 0.3:
                    citizen_id = uuid7()
                    citizens.append(
                        {
                            "tenant_id": tid,
                            "id": citizen_id,
                            "full_name": self._person(),
                            "phone": f"+7 9{self.rng.randrange(10**8, 10**9)}",
                            "postal_address": address,
                            "created_at": received,
                        }
                    )
                age = now - received
                span = due.at - registered
                # Most answers come in time; some late; recent messages are still open.
                answer_after = (
                    span * self.rng.uniform(0.15, 0.9)
                    if self.rng.random() < 0.86
                    else span * self.rng.uniform(1.05, 1.8)
                )
                answered_at = registered + answer_after
                status = "assigned"
                closed_at = None
                rating = None
                if answered_at <= now:
                    status = "closed" if self.rng.random() < 0.92 else "answered"
                    if status == "closed":
                        closed_at = answered_at + timedelta(hours=self.rng.uniform(1, 72))
                        if closed_at > now:
                            closed_at, status = None, "answered"
                    if self.rng.random() < 0.35:
                        rating = self.rng.choices([1, 2, 3, 4, 5], [6, 6, 12, 30, 46])[0]
                else:
                    answered_at = None
                    status = "in_progress" if age > timedelta(days=1) else "assigned"
                messages.append(
                    {
                        "tenant_id": tid,
                        "id": mid,
                        "number": self._number(received),
                        "regime": channel["regime"],
                        "channel_id": channel["id"],
                        "channel_kind": channel["kind"],
                        "external_id": f"{DEMO_PREFIX}{seq:07d}",
                        "text": text,
                        "citizen_id": citizen_id,
                        "address": address,
                        "settlement_id": settlement,
                        "block_id": block,
                        "topic": topic,
                        "classification": {"source": "demo", "block": block, "confidence": 1.0},
                        "threat_to_life": bool(entry.get("threat")),
                        "status": status,
                        "received_at": received,
                        "registered_at": registered,
                        "due_at": due.at.astimezone(UTC),
                        "answered_at": answered_at,
                        "closed_at": closed_at,
                        "rating": rating,
                        "config_version_id": self.c.version_id,
                        "created_at": received,
                        "updated_at": closed_at or answered_at or received,
                    }
                )
                if head:
                    assignments.append(
                        {
                            "tenant_id": tid,
                            "id": uuid7(),
                            "message_id": mid,
                            "position_id": head,
                            "automatic": True,
                            "reason": f"блок «{self.c.blocks[block]['name']}»",
                            "active": True,
                            "assigned_at": registered,
                        }
                    )
                events.append(self._event(mid, "received", received, {"channel": channel["id"]}))
                # The same event kinds and data the live operations write: the KPIs read them.
                events.append(
                    self._event(
                        mid,
                        "routed",
                        registered,
                        {"block": block, "position": head, "automatic": True, "due": due.explanation},
                    )
                )
                if answered_at:
                    events.append(
                        self._event(
                            mid, "answer", answered_at, {"final": True, "on_time": answered_at <= due.at}
                        )
                    )
                    # Photo evidence of the solution for a share of answers (its own generator,
                    # so the rest of the demo stays the same as before it was added).
                    if self.control_rng.random() < CONTROL_SHARE.get(channel["kind"], 0.3):
                        events.append(
                            self._event(
                                mid,
                                "control_recorded",
                                answered_at,
                                {"kind": "photo", "reference": f"demo://photo/{seq}"},
                            )
                        )
                if closed_at:
                    events.append(self._event(mid, "close", closed_at, {}))
                if rating is not None and answered_at:
                    events.append(self._event(mid, "rated", closed_at or answered_at, {"score": rating}))
            day += timedelta(days=1)
        return messages, citizens, assignments, events

    def _number(self, received: datetime) -> str:
        """«ГГГГ-NNNNNN» numbered per local year, as live intake numbers them (its counters are
        set past these when the history is stored)."""
        y = received.astimezone(self.c.tz).year
        self.per_year[y] = self.per_year.get(y, 0) + 1
        return f"{y}-{self.per_year[y]:06d}"

    def _event(self, mid: uuid.UUID, kind: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "tenant_id": self.c.tenant_id,
            "id": uuid7(),
            "subject_kind": "message",
            "subject_id": mid,
            "kind": kind,
            "at": at,
            "actor_kind": "system",
            "actor_id": "demo",
            "reason": None,
            "data": data,
        }


def _insert(session: Session, model: Any, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[i : i + CHUNK])


def seed_tenants(
    *,
    session: Session,
    slugs: list[str] | None,
    seed: int,
    until: date,
    months: int,
    per_day: float,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, int]:
    report: dict[str, int] = {}
    tenants = [t for t in list_tenants(session) if slugs is None or t.slug in slugs]
    missing = set(slugs or []) - {t.slug for t in tenants}
    if missing:
        raise ValueError(f"unknown tenant(s): {', '.join(sorted(missing))}")
    for tenant in tenants:
        config = current_config(session, tenant)
        if config is None:
            continue
        has_demo = session.exec(
            select(func.count())
            .select_from(Message)
            .where(Message.tenant_id == tenant.id, Message.external_id.startswith(DEMO_PREFIX))
        ).one()
        if has_demo:
            report[tenant.slug] = 0
            continue
        progress(f"{tenant.slug}: генерация истории с {_months_back(until, months)} по {until}…")
        messages, citizens, assignments, events = TenantHistory(
            config, seed=seed, until=until, months=months, per_day=per_day
        ).generate()
        _insert(session, Citizen, citizens)
        _insert(session, Message, messages)
        _insert(session, Assignment, assignments)
        _insert(session, Event, events)
        _insert(session, Deadline, _open_deadlines(tenant.id, messages))
        session.flush()
        _evaluate_latest(session, config, tenant.id)
        # Live intake numbers on from the last demo number of each year.
        last: dict[str, int] = {}
        for m in messages:
            y, n = m["number"].split("-")
            last[y] = max(last.get(y, 0), int(n))
        for y, n in last.items():
            counter = session.get(TenantCounter, (tenant.id, f"message_number:{y}"))
            if counter is None:
                counter = TenantCounter(tenant_id=tenant.id, name=f"message_number:{y}", value=0)
                session.add(counter)
            counter.value = max(counter.value, n)
        session.flush()
        # The history went in with Core inserts, which the rollup's session hook does not see.
        rollup.rebuild(session, config)
        report[tenant.slug] = len(messages)
        progress(f"{tenant.slug}: сообщений {len(messages)}, событий {len(events)}")
    return report


def _open_deadlines(tenant_id: int, messages: list[dict]) -> list[dict]:
    """Open demo messages keep their answer term as a durable timer: the worker escalates the
    overdue ones as it would real ones."""
    return [
        {
            "tenant_id": tenant_id,
            "id": uuid7(),
            "message_id": m["id"],
            "timer": "answer",
            "due_at": m["due_at"],
            "status": "pending",
            "explanation": {"text": "срок ответа (демонстрационные данные)"},
            "attempts": 0,
            "created_at": m["received_at"],
        }
        for m in messages
        if m["answered_at"] is None
    ]


def _evaluate_latest(session: Session, config: TenantConfig, tenant_id: int) -> None:
    """The last day's messages go through the district's rules as if they had just arrived, so
    the demo starts with today's emergencies and running timers."""
    now = utcnow()
    book = rulebook(config)
    latest = session.exec(
        select(Message)
        .where(Message.tenant_id == tenant_id, Message.received_at > now - timedelta(hours=24))
        .order_by(Message.received_at)
    )
    for message in latest:
        if message.answered_at is None:
            facts = received_facts(session, book, message, assigned=True, now=now)
            handle(session, config, "message_received", facts=facts, now=now, message=message, book=book)
