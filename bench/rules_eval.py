"""Rule evaluation per fact: durable-rules (`mcu.rules.engine.evaluate`) against the plain Python
matcher (`RuleBook.match_python`) doing the same matching on the same facts, in the same run.

Synthetic books of 10 and 200 single-pattern rules (an event and 1–3 conditions: `eq` on
timer/block, `gt` on growth_index, `lte` on score, `in` on block …), then the five founding
districts' real books compiled from YAML (no database). The fact stream is MCU_BENCH_RULES_FACTS
(default 20000) mixed events; as `handle` does, a book only sees events some rule listens to.
Every fact's matched rules must be the same from both matchers: mismatches must be 0.

Also printed: the same Python matching with the rules grouped by event first (what a Python
matcher would really do), durable-rules' cost for facts that fire a rule against facts that fire
none (one more pass, each fact timed alone), and the one-off ruleset registration.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FACTS = int(os.environ.get("MCU_BENCH_RULES_FACTS", 20_000))
ROUNDS = 3
SIZES = (10, 200)

BLOCKS = [f"block-{i:02d}" for i in range(40)]
TOPICS = ["housing", "roads", "waste", "heating", "lighting", "transport", "education", "social"]
TIMERS = [  # (timer, weight): most due deadlines are answer terms
    ("answer", 40),
    ("no_feedback", 15),
    ("overdue_followup", 10),
    ("reminder", 15),
    ("liquidation", 4),
    ("roadmap_due", 4),
    ("report", 6),
    ("preliminary", 6),
]
EVENTS = [  # (event, weight)
    ("message_received", 38),
    ("deadline_due", 25),
    ("answer_rated", 10),
    ("message_classified", 10),
    ("heatmap_updated", 9),
    ("emergency_report_due", 4),
    ("executor_refused", 2),
    ("emergency_declared", 1),
    ("emergency_closed", 1),
]
RULE_EVENTS = [  # (event, weight) of the synthetic books' rules
    ("deadline_due", 20),
    ("message_received", 25),
    ("answer_rated", 15),
    ("heatmap_updated", 15),
    ("message_classified", 10),
    ("emergency_report_due", 5),
]


def _pick(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _block(rng: random.Random) -> str:
    # A few blocks (housing, roads …) get most of the messages.
    return BLOCKS[min(int(rng.expovariate(1 / 8)), len(BLOCKS) - 1)]


def facts(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """What the platform builds: message facts, plus each event's own fields and aggregates."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        event = _pick(rng, EVENTS)
        fact: dict[str, Any] = {
            "event": event,
            "block": _block(rng),
            "topic": rng.choice(TOPICS),
            "channel": rng.choice(["pos", "edds", "im", "sed"]),
            "channel_kind": rng.choice(["pos", "phone", "web"]),
            "regime": rng.choice(["appeal", "message"]),
            "settlement": f"s{rng.randrange(12)}",
            "status": rng.choice(["new", "assigned", "in_progress"]),
            "threat_to_life": rng.random() < 0.004,
            "age_hours": round(rng.uniform(0, 96), 3),
            "in_emergency": rng.random() < 0.02,
        }
        if event == "message_received":
            fact["assigned"] = rng.random() < 0.7
            if fact["age_hours"] <= 24:
                fact["growth_index"] = round(rng.lognormvariate(0, 0.35), 4)
                fact["window_count"] = rng.randrange(0, 12)
                fact["baseline"] = round(rng.uniform(0.5, 3), 3)
        elif event == "deadline_due":
            fact["timer"] = _pick(rng, TIMERS)
            fact["late_minutes"] = round(rng.uniform(0, 5), 1)
        elif event == "answer_rated":
            fact["score"] = rng.choices([1, 2, 3, 4, 5], weights=[3, 4, 13, 30, 50])[0]
        elif event == "message_classified":
            fact["long_term"] = rng.random() < 0.01
        elif event == "heatmap_updated":
            fact["growth_index"] = round(rng.lognormvariate(0, 0.45), 4)
            fact["window_count"] = rng.randrange(0, 40)
            fact["rank"] = rng.randrange(1, 41)
            fact["negative_dynamics"] = rng.random() < 0.4
            fact["red_zone"] = rng.random() < 0.03
        elif event == "emergency_report_due":
            fact["timer"] = rng.choice(["emergency_report", "emergency_monitoring"])
            fact["emergency_age_hours"] = round(rng.uniform(0, 72), 3)
        out.append(fact)
    return out


def synthetic_book(size: int):
    """A district's book of `size` rules, each selective the way real ones are: a timer or a flag
    plus a block, a score threshold, a spike threshold."""
    from mcu.rules.compile import Condition, Rule, RuleBook

    rng = random.Random(size)

    def block_cond() -> Condition:
        # Districts write rules for every block, not only the busy ones.
        if rng.random() < 0.7:
            return Condition("block", "eq", rng.choice(BLOCKS))
        return Condition("block", "in", sorted(rng.sample(BLOCKS, rng.randint(2, 3))))

    rules = []
    for i in range(size):
        event = _pick(rng, RULE_EVENTS) if i >= len(RULE_EVENTS) else RULE_EVENTS[i][0]
        if event == "deadline_due":
            when = [
                Condition("timer", "eq", rng.choice(TIMERS)[0]),
                Condition("block", "eq", rng.choice(BLOCKS)),
            ]
        elif event == "emergency_report_due":
            when = [Condition("timer", "eq", rng.choice(["emergency_report", "emergency_monitoring"]))]
            when += [block_cond(), Condition("emergency_age_hours", "gt", 48)]
        elif event == "message_received":
            when = rng.choice(
                [
                    [Condition("growth_index", "gt", rng.choice([2.5, 3.0, 4.0]))],
                    [Condition("threat_to_life", "eq", True), Condition("age_hours", "lte", 24)],
                    [Condition("growth_index", "gt", 2.0), block_cond(), Condition("assigned", "eq", True)],
                ]
            )
        elif event == "answer_rated":
            when = [Condition("score", "lte", rng.choice([1, 2])), block_cond()]
        elif event == "heatmap_updated":
            when = rng.choice(
                [
                    [Condition("red_zone", "eq", True)],
                    [Condition("growth_index", "gt", rng.choice([2.0, 2.5])), block_cond()],
                ]
            )
        else:  # message_classified
            when = [Condition("long_term", "eq", True), block_cond()][: rng.randint(1, 2)]
        rules.append(
            Rule(
                id=f"bench/r{i}",
                rule_set="bench",
                title=f"synthetic rule {i}",
                on=event,
                when=tuple(when),
                then=({"do": "notify", "role_kind": "block_head"},),
                source={},
            )
        )
    return RuleBook(tenant=f"bench{size}", version_hash=uuid.uuid4().hex, rules=tuple(rules))


def real_books():
    from mcu.rules.compile import compile_rules
    from mcu.tenancy.loader import read_tenants

    result = read_tenants(None, tenants_dir=ROOT / "tenants", rules_dir=ROOT / "rules")
    assert result.ok, result.problems[:3]
    return [
        compile_rules(src.as_config(i))
        for i, (_slug, src) in enumerate(sorted(result.tenants.items()), start=1)
    ]


def _by_event(book):
    """The same matching with the rules grouped by event first: what a Python matcher would do."""
    index: dict[str, list] = {}
    for rule in book.rules:
        index.setdefault(rule.on, []).append(rule)

    def match(fact: dict[str, Any]) -> list:
        return [r for r in index.get(fact["event"], ()) if all(c.holds(fact) for c in r.when)]

    return match


def measure(book, stream: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of ROUNDS passes of each matcher over the book's facts, and their agreement."""
    from mcu.rules import engine

    mine = [f for f in stream if f["event"] in book.events]  # what `handle` lets through
    started = time.perf_counter()
    engine.evaluate(book, mine[0])  # registers the ruleset (set_rulesets): timed apart
    register_s = time.perf_counter() - started
    by_event = _by_event(book)
    durable_s, python_s, indexed_s = [], [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        got_durable = [engine.evaluate(book, f) for f in mine]
        durable_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        got_python = [book.match_python(f) for f in mine]
        python_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        got_indexed = [by_event(f) for f in mine]
        indexed_s.append(time.perf_counter() - started)
    mismatches = []
    for fact, a, b, c in zip(mine, got_durable, got_python, got_indexed, strict=True):
        ids_a, ids_b, ids_c = [r.id for r in a], [r.id for r in b], [r.id for r in c]
        if not ids_a == ids_b == ids_c:
            mismatches.append((fact, ids_a, ids_b))
    # One more durable pass, each fact timed alone: does a fact that fires rules cost more?
    hit, miss = [], []
    for fact, matched in zip(mine, got_python, strict=True):
        started = time.perf_counter()
        engine.evaluate(book, fact)
        (hit if matched else miss).append(time.perf_counter() - started)
    return {
        "facts": len(mine),
        "register_ms": register_s * 1000,
        "durable_us": statistics.median(durable_s) / len(mine) * 1e6,
        "python_us": statistics.median(python_s) / len(mine) * 1e6,
        "indexed_us": statistics.median(indexed_s) / len(mine) * 1e6,
        "hit_us": statistics.fmean(hit) * 1e6 if hit else float("nan"),
        "miss_us": statistics.fmean(miss) * 1e6 if miss else float("nan"),
        "matched": len(hit) / len(mine),
        "mismatches": mismatches,
    }


def _report(label: str, m: dict[str, Any]) -> None:
    d, p, i = m["durable_us"], m["python_us"], m["indexed_us"]
    print(
        f"  {label:<28} {m['facts']:6d} facts, {m['matched'] * 100:4.1f}% match ≥1 rule,"
        f" mismatches {len(m['mismatches'])}"
    )
    print(
        f"    durable {d:6.1f} µs/fact {1e6 / d:8.0f}/s | python match_python {p:6.1f} µs/fact"
        f" {1e6 / p:8.0f}/s | ratio durable/python {d / p:5.2f}x"
    )
    print(
        f"    durable per fact: matching {m['hit_us']:6.1f} µs, not matching {m['miss_us']:6.1f} µs"
        f" | python grouped by event {i:5.1f} µs/fact (durable/that {d / i:5.1f}x)"
    )
    for fact, a, b in m["mismatches"][:5]:
        print(f"    MISMATCH durable {a} python {b} on {fact}")


def main() -> None:
    stream = facts(FACTS)
    print(
        f"rule evaluation: {FACTS} mixed facts, median of {ROUNDS} passes; durable-rules evaluate() vs "
        "plain Python match_python(), same facts, same run"
    )
    registered = []
    for size in SIZES:
        book = synthetic_book(size)
        m = measure(book, stream)
        registered.append(f"{size} rules {m['register_ms']:.1f} ms")
        _report(f"synthetic, {size} rules", m)
    for book in real_books():
        m = measure(book, stream)
        registered.append(f"{book.tenant} {m['register_ms']:.1f} ms")
        _report(f"{book.tenant} ({len(book.rules)} rules)", m)
    print(f"  ruleset registration on first use: {', '.join(registered)}")


if __name__ == "__main__":
    main()
