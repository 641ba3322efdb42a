"""Generated data for the analytics benchmark (`bench/analytics.py`): a dedicated PostgreSQL
database with the platform schema, 100 synthetic districts and N messages over the two years
ending today, with the event log the KPI methodology reads.

    python -m bench.analytics_data --messages 1000000 --fresh
    python -m bench.analytics_data --messages 10000000 --fresh
    python -m bench.analytics_data --refresh-rollup      # after a migration or a rollup change

The database is MCU_BENCH_ANALYTICS_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/mcu_bench_analytics), created when missing and
dropped and made again with --fresh. Its state is kept in the database's comment: a complete
database with the same parameters is left as it is (re-running prints its figures), a different
or half-made one needs --fresh.

How the data is made:
- Schema: the Alembic migrations, as `mcu db upgrade` runs them.
- Districts: the five founding district files cloned under new slugs (`kondinsky-007` …) into a
  temporary tree with the same region layout (34 ХМАО, 33 Ростов, 33 Ярославль), each with its
  population scaled by a random factor, validated and loaded by the platform's own loader, as
  `mcu tenants load` does.
- Messages: volume follows population, weekday, the topics' seasons, a slight growth and a few
  spikes per district (as `mcu demo seed` does); each message gets a channel of its district, a
  block with the block head as executor, a settlement, a text from the demo corpus. The due date
  is the channel's answer term taken as plain hours or days from registration, not computed on
  the working calendar (`compute_due` per row would take hours for 10 million rows).
- Outcomes: ~1 % duplicates, ~2 % forwarded, ~5 % extended (appeals only, as ст. 12 ч. 2 of
  59-ФЗ allows), 86 % of answers within the term, most answered messages closed, a third rated;
  recent messages still open. Events carry the kinds and data keys the live operations write:
  received, routed (85 %, automatic) or assigned, answer_preliminary, answer {final, on_time},
  close, rated {score}, control_recorded {kind} (~40 % of answers), extended, forward,
  mark_duplicate; decisions (decision_taken {via_pos}, implementation_published) and hearings
  (hearing_held {via_pos}) a few per district and month.
- Loading: the three tables' keys, indexes and foreign keys are dropped, the rows streamed with
  COPY … FREEZE on three connections at once, then the keys and indexes built again from the
  definitions read back from the catalogue (the schema ends as the migrations made it), and the
  tables vacuumed and analysed.
- Analytics rollup: rebuilt for every district at the end (`rebuild_rollups`), as
  `mcu analytics rebuild` does — the COPY bypasses the session hook that keeps it current.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import tempfile
import time
from bisect import bisect
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from mcu.demo.seed import poisson

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "MCU_BENCH_ANALYTICS_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/mcu_bench_analytics"
)
TENANTS = 100
YEARS = 2
# Synthetic districts per region and the founding files they are cloned from.
REGIONS = {
    "khmao": (34, ["kondinsky", "khanty-mansiysky", "sovetsky"]),
    "rostov": (33, ["konstantinovsky"]),
    "yaroslavl": (33, ["nekrasovsky"]),
}
TABLES = ("message", "event", "assignment")
MESSAGE_COLUMNS = (
    "tenant_id, id, number, regime, channel_id, channel_kind, external_id, text, address, settlement_id, "
    "block_id, topic, classification, threat_to_life, status, received_at, registered_at, due_at, "
    "answered_at, closed_at, rating, config_version_id, created_at, updated_at"
)
EVENT_COLUMNS = "tenant_id, id, subject_kind, subject_id, kind, at, actor_kind, actor_id, reason, data"
ASSIGNMENT_COLUMNS = "tenant_id, id, message_id, position_id, automatic, active, assigned_at"

# Shares of outcomes (see the module docstring).
DUPLICATE = 0.01
FORWARDED = 0.02
EXTENDED = 0.05  # of all messages; only appeals can be extended, so appeals get a larger share
AUTOMATIC = 0.85
ON_TIME = 0.86
CLOSED = 0.92
RATED = 0.35
CONTROL = 0.40
PRELIMINARY = {"incident_management": 0.5}  # other channels 5 %
DECISIONS_PER_MONTH = 3.0
HEARINGS_PER_MONTH = 0.6
GROWTH = 0.2  # volume grows by a fifth over the two years
HOUR = 3600
DAY = 86400
NULL = "\\N"
VARIANT = 0x8000000000000000  # RFC 9562 variant bits over the low 62 random bits
LOW62 = (1 << 62) - 1


def _psycopg_url(url: str, database: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def _escape(value: str) -> str:
    """A value for COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _json(data: dict[str, Any]) -> str:
    return _escape(json.dumps(data, ensure_ascii=False, separators=(", ", ": ")))


# ---------------------------------------------------------------- database and its state
def read_state(url: str) -> dict[str, Any] | None:
    """The database's comment as JSON; None when the database does not exist."""
    name = make_url(url).database
    with psycopg.connect(_psycopg_url(url, "postgres"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    if row is None:
        return None
    try:
        return json.loads(row[0]) if row[0] else {}
    except ValueError:
        return {}


def write_state(url: str, state: dict[str, Any]) -> None:
    name = make_url(url).database
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        literal = json.dumps(state, ensure_ascii=False).replace("'", "''")
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{literal}'")


def create_database(url: str, *, fresh: bool) -> None:
    name = make_url(url).database
    with psycopg.connect(_psycopg_url(url, "postgres"), autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"  database {name} created")


# ---------------------------------------------------------------- districts
def write_tenants(dest: Path, rng: random.Random) -> None:
    """Clone the founding district files under new slugs into `dest` (region layout kept)."""
    number = 0
    for region, (count, templates) in REGIONS.items():
        folder = dest / region
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "_region.yaml").write_text(
            (ROOT / "tenants" / region / "_region.yaml").read_text(encoding="utf-8"), encoding="utf-8"
        )
        for i in range(count):
            number += 1
            template = templates[i % len(templates)]
            source = (ROOT / "tenants" / region / f"{template}.yaml").read_text(encoding="utf-8")
            slug = f"{template}-{number:03d}"
            factor = min(4.0, max(0.3, rng.lognormvariate(0.0, 0.6)))
            text = re.sub(r"^slug: .*$", f"slug: {slug}", source, count=1, flags=re.M)
            mark = f"№ {number:03d}"
            text = re.sub(
                r"^(name:\n  full: .*)\n(  short: .*)$",
                rf"\1 (синтетический {mark})\n\2 {mark}",
                text,
                count=1,
                flags=re.M,
            )
            population = re.search(r"^population:\n  value: (\d+)", text, re.M)
            text = re.sub(
                r"^(population:\n  value: )\d+",
                rf"\g<1>{round(int(population[1]) * factor)}",
                text,
                count=1,
                flags=re.M,
            )
            (folder / f"{slug}.yaml").write_text(text, encoding="utf-8")


def migrate_and_load(url: str, tenants_dir: Path) -> list[Any]:
    """Schema as `mcu db upgrade` makes it, districts as `mcu tenants load` loads them; returns
    the districts' current configurations."""
    from mcu.app import create_app

    app = create_app(
        {
            "TESTING": True,
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": url,
            "TENANTS_DIR": str(tenants_dir),
            "INSTANCE_DIR": tempfile.mkdtemp(prefix="mcu-bench-"),
        }
    )
    with app.app_context():
        from mcu.db import engine, session_scope
        from mcu.migrate import upgrade
        from mcu.tenancy.loader import read_tenants
        from mcu.tenancy.operations import load_tenants
        from mcu.tenancy.queries import current_config, list_tenants

        upgrade("head")
        result = read_tenants(None, tenants_dir=tenants_dir, rules_dir=Path(app.config["RULES_DIR"]))
        if not result.ok:
            for problem in result.problems[:20]:
                print(problem, file=sys.stderr)
            sys.exit(f"the synthetic districts do not validate: {len(result.problems)} problem(s)")
        with session_scope() as session:
            outcomes = load_tenants(result, session=session, actor="system:bench-analytics")
        with session_scope() as session:
            configs = [current_config(session, t) for t in list_tenants(session)]
        engine().dispose()
    changes = {o.change for o in outcomes}
    print(f"  districts loaded: {len(outcomes)} ({', '.join(sorted(changes))})")
    return [c for c in configs if c is not None]


def rebuild_rollups(url: str, configs: list[Any], workers: int = 2) -> None:
    """The analytics rollup of every district, as `mcu analytics rebuild` builds it (the rows
    went in by COPY, which its session hook does not see): a district per transaction, on
    `workers` connections at once."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlmodel import Session, create_engine

    from mcu.analytics import rollup

    engine = create_engine(url, pool_size=workers)

    def one(config: Any) -> tuple[str, float]:
        started = time.perf_counter()
        with Session(engine) as session:
            rollup.rebuild(session, config)
            session.commit()
        return config.slug, time.perf_counter() - started

    print("  analytics rollup:")
    with ThreadPoolExecutor(workers) as pool:
        for i, (slug, took) in enumerate(pool.map(one, configs), start=1):
            if i % 10 == 0 or i == len(configs):
                print(f"    {i}/{len(configs)} districts (last {slug}: {took:.1f} s)", flush=True)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    engine.dispose()


def refresh_rollups(url: str) -> None:
    """An existing database brought to the current schema and rollup (after either changed):
    migrations as `mcu db upgrade` runs them, then every district's rollup rebuilt."""
    from mcu.app import create_app

    state = read_state(url) or {}
    if not state.get("complete"):
        sys.exit(f"{make_url(url).database}: no complete benchmark data to refresh")
    app = create_app(
        {
            "TESTING": True,
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": url,
            "INSTANCE_DIR": tempfile.mkdtemp(prefix="mcu-bench-"),
        }
    )
    with app.app_context():
        from mcu.db import engine, session_scope
        from mcu.migrate import upgrade
        from mcu.tenancy.queries import current_config, list_tenants

        upgrade("head")
        with session_scope() as session:
            configs = [c for c in (current_config(session, t) for t in list_tenants(session)) if c]
        engine().dispose()
    started = time.perf_counter()
    rebuild_rollups(url, configs)
    state.setdefault("seconds", {})["analytics rollup"] = round(time.perf_counter() - started, 1)
    # The rebuild deleted every old row: without a vacuum the summary's scans read them too.
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'kpi_rollup%%'"
        ).fetchall()
        for (table,) in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")
    state["sizes"] = sizes(url)
    write_state(url, state)
    print_state(state)


# ---------------------------------------------------------------- keys and indexes
@dataclass
class Ddl:
    constraints: list[tuple[str, str, str, str]] = field(default_factory=list)  # table, name, type, def
    indexes: list[tuple[str, str]] = field(default_factory=list)  # name, definition


def read_ddl(conn: psycopg.Connection) -> Ddl:
    """Keys, unique constraints, indexes of the bulk tables and every foreign key into them."""
    ddl = Ddl()
    oids = "(SELECT oid FROM pg_class WHERE relname = ANY(%(t)s) AND relnamespace = 'public'::regnamespace)"
    ddl.constraints = conn.execute(
        f"""SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid)
            FROM pg_constraint
            WHERE (conrelid IN {oids} AND contype IN ('p', 'u', 'f'))
               OR (confrelid IN {oids} AND contype = 'f')
            ORDER BY conrelid::regclass::text, conname""",
        {"t": list(TABLES)},
    ).fetchall()
    ddl.indexes = conn.execute(
        f"""SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
            WHERE indrelid IN {oids}
              AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))
            ORDER BY 1""",
        {"t": list(TABLES)},
    ).fetchall()
    return ddl


def drop_ddl(conn: psycopg.Connection, ddl: Ddl) -> None:
    for table, name, kind, _ in ddl.constraints:
        if kind == "f":
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, name, kind, _ in ddl.constraints:
        if kind != "f":
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in ddl.indexes:
        conn.execute(f"DROP INDEX {name}")


def restore_ddl(conn: psycopg.Connection, ddl: Ddl) -> None:
    conn.execute("SET maintenance_work_mem = '1GB'")
    for kinds in (("p", "u"), ("f",)):
        for table, name, kind, definition in ddl.constraints:
            if kind in kinds:
                started = time.perf_counter()
                conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                print(f"    {name}: {time.perf_counter() - started:.0f} s", flush=True)
        if kinds == ("p", "u"):
            for name, definition in ddl.indexes:
                started = time.perf_counter()
                conn.execute(definition)
                print(f"    {name}: {time.perf_counter() - started:.0f} s", flush=True)


# ---------------------------------------------------------------- fast values
def clock(first: date, last: date) -> Any:
    """Timestamps are integer UTC seconds, written as COPY text from two tables (days and times
    of day) without a datetime object per value: a tenth of the time `isoformat` takes."""
    epoch = date(1970, 1, 1)
    base = (first - epoch).days
    days = [(first + timedelta(days=i)).isoformat() + " " for i in range((last - first).days + 1)]
    times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(DAY)]

    def text(sec: int) -> str:
        return days[sec // DAY - base] + times[sec % DAY]

    return text


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _span_seconds(timer: dict[str, Any]) -> int:
    """An answer term as plain seconds: working days as calendar days × 7/5 (no calendar)."""
    amount = float(timer.get("amount", 1))
    unit = timer.get("unit", "calendar_days")
    if unit == "hours":
        return int(amount * HOUR)
    if unit == "working_days":
        return int(amount * DAY * 7 / 5)
    return int(amount * DAY)


# ---------------------------------------------------------------- one district's plan
HOUR_CUM = _cumulative([1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 11, 12, 13, 12, 11, 10, 10, 9, 8, 6, 4, 2])
WEEKDAY_FACTOR = (1.15, 1.1, 1.05, 1.05, 1.0, 0.6, 0.55)
RATING_CUM = _cumulative([6, 6, 12, 30, 46])
CONTROL_KINDS = (("photo", 0.7), ("video", 0.15), ("glonass", 0.15))


class DistrictPlan:
    """Everything about one district that does not change from message to message."""

    def __init__(self, config: Any, rng: random.Random, start: date, days: int) -> None:
        from mcu.deadlines.compute import answer_timer
        from mcu.demo.seed import CHANNEL_WEIGHTS, texts

        corpus = texts()["topics"]
        self.config = config
        self.tid = config.tenant_id
        self.version = str(config.version_id)
        self.rng = rng
        self.population = (config.data.get("population") or {}).get("value", 20000)
        self.offset = int(datetime.combine(start, datetime.min.time(), config.tz).utcoffset().total_seconds())
        self.topics = sorted({b["topic"] for b in config.blocks.values() if b["topic"] in corpus})
        roster = list(config.roster)
        # topic → (block, head, data of the routed event, data of the assigned event)
        self.routed: dict[str, tuple[str, str, str, str]] = {}
        for topic in self.topics:
            block = sorted(b["id"] for b in config.blocks.values() if b["topic"] == topic)[0]
            head = config.blocks[block].get("head") or roster[0]
            name = config.roster.get(head, {}).get("position")
            self.routed[topic] = (
                block,
                _escape(head),
                _json({"position": head, "automatic": True, "position_name": name}),
                _json({"position": head, "automatic": False, "position_name": name}),
            )
        # Topic weights per month (season) without spikes; spikes multiply a topic on their days.
        self.month_weights = [
            [corpus[t]["share"] * corpus[t]["season"][m] for t in self.topics] for m in range(12)
        ]
        mean_month = sum(sum(w) for w in self.month_weights) / 12
        self.season = [sum(w) / mean_month for w in self.month_weights]
        self.spikes: dict[int, tuple[int, float]] = {}  # day index → (topic index, factor)
        for _ in range(3 * YEARS):
            first = rng.randrange(days)
            topic, factor = rng.randrange(len(self.topics)), rng.uniform(4.0, 7.0)
            for d in range(first, min(days, first + rng.randint(2, 4))):
                self.spikes[d] = (topic, factor)
        self.channels = list(config.channels.values())
        self.channel_weights = [CHANNEL_WEIGHTS.get(ch["kind"], 0.02) for ch in self.channels]
        appeal_share = sum(
            w for ch, w in zip(self.channels, self.channel_weights, strict=True) if ch["regime"] == "appeal"
        )
        self.extend_share = min(0.5, EXTENDED * sum(self.channel_weights) / max(appeal_share, 1e-9))
        self.spans = {
            (ch["id"], t): _span_seconds(
                answer_timer(config.resolved["deadline_profiles"][ch["deadline_profile"]], t)
            )
            for ch in self.channels
            for t in self.topics
        }
        self.channel_text = {
            ch["id"]: (
                _escape(ch["id"]),
                _escape(ch["kind"]),
                ch["regime"],
                PRELIMINARY.get(ch["kind"], 0.05),
            )
            for ch in self.channels
        }
        # Settlements: the first (the district centre) is the busiest.
        self.settlements = sorted(config.settlements) or [None]
        self.settlement_cum = _cumulative([1 / (i + 1) ** 0.7 for i in range(len(self.settlements))])
        self._texts: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
        self.numbers: dict[int, int] = {}  # local year → last number
        self.external = 0

    def channels_on(self, day: date) -> tuple[list[dict[str, Any]], list[float]]:
        iso = day.isoformat()
        pairs = [
            (ch, w)
            for ch, w in zip(self.channels, self.channel_weights, strict=True)
            if ch.get("valid_from", "0000") <= iso <= ch.get("valid_to", "9999")
        ]
        return [p[0] for p in pairs], _cumulative([p[1] for p in pairs])

    def texts(self, topic: str, settlement: str | None) -> list[tuple[str, str]]:
        """A few rendered (text, address) pairs per topic and settlement, made once."""
        key = (topic, settlement)
        got = self._texts.get(key)
        if got is None:
            from mcu.demo.seed import texts

            lists = texts()
            templates = lists["topics"][topic]["templates"]
            if settlement is None:
                templates = [t for t in templates if "{settlement}" not in t["text"]] or templates
            place = self.config.settlements.get(settlement, {}).get("name", "") if settlement else ""
            got = []
            for _ in range(8):
                street, house = self.rng.choice(lists["streets"]), str(self.rng.randint(1, 60))
                body = self.rng.choice(templates)["text"]
                body = (
                    body.replace("{street}", street).replace("{house}", house).replace("{settlement}", place)
                )
                got.append((_escape(body), _escape(f"{place}, {street}, д. {house}".strip(", "))))
            self._texts[key] = got
        return got


# ---------------------------------------------------------------- the rows
class Writer:
    """Streams the three tables with COPY … FREEZE, one connection each."""

    def __init__(self, stack: ExitStack, url: str) -> None:
        self.copies = {}
        for table, columns in (
            ("message", MESSAGE_COLUMNS),
            ("event", EVENT_COLUMNS),
            ("assignment", ASSIGNMENT_COLUMNS),
        ):
            conn = stack.enter_context(psycopg.connect(_psycopg_url(url)))
            conn.execute(f"TRUNCATE {table}")  # FREEZE needs the table emptied in this transaction
            cur = stack.enter_context(conn.cursor())
            self.copies[table] = stack.enter_context(
                cur.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FREEZE)")
            )
        self.buffers: dict[str, list[str]] = {t: [] for t in self.copies}

    def flush(self) -> None:
        for table, lines in self.buffers.items():
            if lines:
                self.copies[table].write("".join(lines))
                lines.clear()


def generate(
    plans: list[DistrictPlan], writer: Writer, *, messages: int, until: datetime, seed: int
) -> dict[str, int]:
    rng = random.Random(f"{seed}:rows")
    r, bits = rng.random, rng.getrandbits
    now = int(until.timestamp())
    days = YEARS * 365
    first_day = (until - timedelta(days=days - 1)).date()
    # Terms run past today: a year of days beyond it is more than any due date needs.
    ts = clock(first_day - timedelta(days=2), until.date() + timedelta(days=366))
    # Scale so that the expected total is the asked number of messages.
    expected = 0.0
    for d in range(days):
        day = first_day + timedelta(days=d)
        common = WEEKDAY_FACTOR[day.weekday()] * (1 + GROWTH * d / days)
        expected += sum(p.population * p.season[day.month - 1] * common for p in plans)
    scale = messages / expected

    # Rows wait in buckets by UTC day and are written in time order, all districts interleaved,
    # as live intake writes them: a district's rows spread over the pages of the whole table, and
    # a message's events over the days they happened on (the heap order the queries really meet).
    buckets: dict[str, defaultdict[int, list[tuple[int, str]]]] = {t: defaultdict(list) for t in TABLES}
    M, E, A = (buckets[t] for t in TABLES)
    count = {t: 0 for t in TABLES}

    def release(last_day: float) -> None:
        for table, by_day in buckets.items():
            out = writer.buffers[table]
            for key in sorted(k for k in by_day if k <= last_day):
                rows = by_day.pop(key)
                rows.sort(key=itemgetter(0))
                out.extend(line for _, line in rows)
                count[table] += len(rows)
        writer.flush()

    def uid(sec: int) -> str:
        """A version-7 UUID of that second (as the platform's ids are of their creation time)."""
        rand = bits(84)
        return f"{sec * 1000 + (rand >> 74):012x}7{rand >> 62 & 0xFFF:03x}{VARIANT | rand & LOW62:016x}"

    def event(tid: int, kind: str, subject: str, subject_id: str, at: int, actor: str, data: str) -> None:
        E[at // DAY].append(
            (at, f"{tid}\t{uid(at)}\t{subject}\t{subject_id}\t{kind}\t{ts(at)}\t{actor}\t{NULL}\t{data}\n")
        )

    started = time.perf_counter()
    next_report = 1_000_000
    for d in range(days):
        day = first_day + timedelta(days=d)
        common = WEEKDAY_FACTOR[day.weekday()] * (1 + GROWTH * d / days) * scale
        midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        for p in plans:
            tid = p.tid
            n = poisson(rng, p.population * p.season[day.month - 1] * common)
            weights = list(p.month_weights[day.month - 1])
            spike = p.spikes.get(d)
            if spike is not None:
                weights[spike[0]] *= spike[1]
                n = round(n * sum(weights) / sum(p.month_weights[day.month - 1]))
            topic_cum = _cumulative(weights)
            chans, chan_cum = p.channels_on(day)
            local_midnight = midnight - p.offset
            year = day.year
            # Numbered in the order they arrive, as intake numbers them.
            arrivals = sorted(
                local_midnight + bisect(HOUR_CUM, r() * HOUR_CUM[-1]) * HOUR + int(r() * HOUR)
                for _ in range(n)
            )
            for received in arrivals:
                if received > now:
                    break
                topic = p.topics[bisect(topic_cum, r() * topic_cum[-1])]
                channel = chans[bisect(chan_cum, r() * chan_cum[-1])]
                ch_id, ch_kind, regime, preliminary = p.channel_text[channel["id"]]
                block, head, routed_auto, routed_manual = p.routed[topic]
                settlement = p.settlements[bisect(p.settlement_cum, r() * p.settlement_cum[-1])]
                body, address = p.texts(topic, settlement)[int(r() * 8)]
                appeal = regime == "appeal"
                registered = min(now, received + HOUR + int(r() * 47 * HOUR)) if appeal else received
                due = registered + p.spans[(channel["id"], topic)]
                mid = uid(received)
                p.numbers[year] = number = p.numbers.get(year, 0) + 1
                p.external += 1
                event(
                    tid,
                    "received",
                    "message",
                    mid,
                    received,
                    "system\t" + NULL,
                    f'{{"channel": "{ch_id}", "regime": "{regime}", "external_id": "bench-{p.external:07d}"}}',
                )
                automatic = r() < AUTOMATIC
                routed_at = registered if automatic else min(now, registered + int(r() * 4 * HOUR))
                if automatic:
                    event(tid, "routed", "message", mid, routed_at, "system\trouter", routed_auto)
                else:
                    event(tid, "assigned", "message", mid, routed_at, "user\tbench", routed_manual)
                A[routed_at // DAY].append(
                    (
                        routed_at,
                        f"{tid}\t{uid(routed_at)}\t{mid}\t{head}\t{'t' if automatic else 'f'}\tt\t{ts(routed_at)}\n",
                    )
                )
                answered = closed = rating = None
                status = "in_progress" if now - received > DAY else "assigned"
                u = r()
                if u < DUPLICATE:
                    at = min(now, routed_at + int(r() * 8 * HOUR))
                    event(
                        tid,
                        "mark_duplicate",
                        "message",
                        mid,
                        at,
                        "user\tbench",
                        f'{{"from": "{status}", "to": "duplicate"}}',
                    )
                    status = "duplicate"
                elif u < DUPLICATE + FORWARDED:
                    at = routed_at + HOUR + int(r() * 3 * DAY)
                    if at <= now:
                        event(
                            tid,
                            "forward",
                            "message",
                            mid,
                            at,
                            "user\tbench",
                            f'{{"from": "{status}", "to": "forwarded", "to_body": "компетентный орган"}}',
                        )
                        status, due = "forwarded", None
                else:
                    if appeal and r() < p.extend_share:
                        at = registered + int((due - registered) * (0.5 + 0.4 * r()))
                        if at <= now:
                            due += 30 * DAY
                            event(
                                tid,
                                "extended",
                                "message",
                                mid,
                                at,
                                "user\tbench",
                                '{"timer": "answer", "profile": "fz59", "extended_by_days": 30, "late": false, '
                                '"text": "срок продлён на 30 дней (59-ФЗ, ст. 12 ч. 2)"}',
                            )
                    span = due - registered
                    late = r() >= ON_TIME
                    answer_at = registered + int(span * (1.05 + 0.75 * r() if late else 0.15 + 0.75 * r()))
                    if r() < preliminary:
                        at = registered + int((answer_at - registered) * 0.3)
                        if at <= now:
                            event(
                                tid,
                                "answer_preliminary",
                                "message",
                                mid,
                                at,
                                "user\tbench",
                                f'{{"from": "{status}", "to": "answered_preliminary", "final": false, '
                                f'"on_time": {"true" if at <= due else "false"}}}',
                            )
                            status = "answered_preliminary"
                    if answer_at <= now:
                        answered = answer_at
                        event(
                            tid,
                            "answer",
                            "message",
                            mid,
                            answered,
                            "user\tbench",
                            f'{{"from": "{status}", "to": "answered", "final": true, '
                            f'"on_time": {"false" if late else "true"}}}',
                        )
                        status = "answered"
                        if r() < CONTROL:
                            c = r()
                            kind = "photo" if c < 0.7 else "video" if c < 0.85 else "glonass"
                            event(
                                tid,
                                "control_recorded",
                                "message",
                                mid,
                                answered,
                                "user\tbench",
                                f'{{"kind": "{kind}", "reference": "bench://{kind}/{p.external}"}}',
                            )
                        if r() < CLOSED:
                            at = answered + HOUR + int(r() * 71 * HOUR)
                            if at <= now:
                                closed = at
                                event(
                                    tid,
                                    "close",
                                    "message",
                                    mid,
                                    closed,
                                    "user\tbench",
                                    '{"from": "answered", "to": "closed"}',
                                )
                                status = "closed"
                        if r() < RATED:
                            rating = bisect(RATING_CUM, r() * RATING_CUM[-1]) + 1
                            at = min(now, (closed or answered) + int(r() * 2 * DAY))
                            event(
                                tid, "rated", "message", mid, at, "citizen\t" + NULL, f'{{"score": {rating}}}'
                            )
                last = closed or answered or received
                M[received // DAY].append(
                    (
                        received,
                        f"{tid}\t{mid}\t{year}-{number:06d}\t{regime}\t{ch_id}\t{ch_kind}\tbench-{p.external:07d}\t"
                        f"{body}\t{address}\t{settlement or NULL}\t{block}\t{topic}\t{{}}\tf\t{status}\t"
                        f"{ts(received)}\t{ts(registered)}\t{ts(due) if due else NULL}\t"
                        f"{ts(answered) if answered else NULL}\t{ts(closed) if closed else NULL}\t"
                        f"{rating if rating else NULL}\t{p.version}\t{ts(received)}\t{ts(last)}\n",
                    )
                )
            # Decisions and hearings: drawn on each district's first day of a month.
            if day.day == 1 or d == 0:
                _decisions(p, rng, event, uid, midnight - p.offset, now)
        # Later dates start no earlier than this UTC day (districts are east of UTC): the days
        # before it are complete.
        release(midnight // DAY - 1)
        if count["message"] >= next_report:
            elapsed = time.perf_counter() - started
            print(
                f"  {count['message']:>11,} messages, {count['event']:>11,} events  "
                f"{elapsed:7.0f} s  ({count['message'] / elapsed:,.0f} messages/s)  — {day}",
                flush=True,
            )
            next_report += 1_000_000
    release(math.inf)
    return count


def _decisions(p: DistrictPlan, rng: random.Random, event: Any, uid: Any, month_start: int, now: int) -> None:
    """A month's decisions (some taken with residents on the ПОС, some with their implementation
    published in social networks) and public hearings of one district."""
    for _ in range(poisson(rng, DECISIONS_PER_MONTH)):
        at = month_start + int(rng.random() * 28 * DAY)
        if at > now:
            continue
        via_pos = rng.random() < 0.4
        subject = uid(at)
        event(
            p.tid,
            "decision_taken",
            "decision",
            subject,
            at,
            "user\tbench",
            f'{{"via_pos": {"true" if via_pos else "false"}}}',
        )
        if rng.random() < (0.6 if via_pos else 0.3):
            published = at + int((10 + 50 * rng.random()) * DAY)
            if published <= now:
                event(
                    p.tid,
                    "implementation_published",
                    "decision",
                    subject,
                    published,
                    "user\tbench",
                    '{"channel": "social"}',
                )
    for _ in range(poisson(rng, HEARINGS_PER_MONTH)):
        at = month_start + int(rng.random() * 28 * DAY)
        if at <= now:
            via_pos = rng.random() < 0.5
            event(
                p.tid,
                "hearing_held",
                "hearing",
                uid(at),
                at,
                "user\tbench",
                f'{{"via_pos": {"true" if via_pos else "false"}}}',
            )


# ---------------------------------------------------------------- the whole run
def sizes(url: str) -> dict[str, int]:
    with psycopg.connect(_psycopg_url(url)) as conn:
        out = {"database": conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]}
        for table in TABLES:
            out[table] = conn.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()[0]
        return out


def _gb(n: int) -> str:
    return f"{n / 1024**3:.1f} GB"


def print_state(state: dict[str, Any]) -> None:
    print(
        f"  {state['rows']['message']:,} messages, {state['rows']['event']:,} events, "
        f"{state['rows']['assignment']:,} assignments in {state['tenants']} districts, "
        f"{state['first_day']} … {state['until'][:10]}"
    )
    print(
        f"  generated in {state['seconds']['total']:.0f} s: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in state["seconds"].items() if k != "total")
    )
    print(
        f"  database size {_gb(state['sizes']['database'])}: "
        + ", ".join(f"{t} {_gb(state['sizes'][t])}" for t in TABLES)
    )


def build(url: str, *, messages: int, seed: int, fresh: bool) -> dict[str, Any]:
    name = make_url(url).database
    wanted = {"messages": messages, "tenants": TENANTS, "seed": seed}
    state = read_state(url)
    if state is not None and not fresh:
        if state.get("complete") and all(state.get(k) == v for k, v in wanted.items()):
            print(f"analytics data in {name}: already generated (--fresh to make it again)")
            print_state(state)
            return state
        if state:
            sys.exit(
                f"{name} holds other or unfinished benchmark data ({json.dumps(state.get('messages'))} "
                "messages asked then): run again with --fresh"
            )
    print(f"analytics data in {name}: {messages:,} messages, {TENANTS} districts (seed {seed})")
    total_started = started = time.perf_counter()
    seconds: dict[str, float] = {}
    create_database(url, fresh=fresh)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="mcu-bench-tenants-") as tmp:
        write_tenants(Path(tmp), rng)
        configs = migrate_and_load(url, Path(tmp))
    seconds["schema and districts"] = time.perf_counter() - started
    until = datetime.now(UTC).replace(microsecond=0)
    first_day = (until - timedelta(days=YEARS * 365 - 1)).date()
    write_state(url, {**wanted, "complete": False})

    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        if conn.execute("SELECT count(*) FROM message").fetchone()[0]:
            sys.exit(f"{name} already has messages: run again with --fresh")
        ddl = read_ddl(conn)
        drop_ddl(conn, ddl)

    started = time.perf_counter()
    plans = [DistrictPlan(c, random.Random(f"{seed}:{c.slug}"), first_day, YEARS * 365) for c in configs]
    with ExitStack() as stack:
        writer = Writer(stack, url)
        rows = generate(plans, writer, messages=messages, until=until, seed=seed)
        # Leaving the stack ends each COPY and commits its connection's transaction.
    seconds["rows (COPY)"] = time.perf_counter() - started
    print(
        f"  rows written: {rows['message']:,} messages, {rows['event']:,} events, "
        f"{rows['assignment']:,} assignments in {seconds['rows (COPY)']:.0f} s"
    )

    started = time.perf_counter()
    print("  keys and indexes:")
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        restore_ddl(conn, ddl)
        counters = [(p.tid, f"message_number:{y}", n) for p in plans for y, n in p.numbers.items()]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO tenant_counter (tenant_id, name, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (tenant_id, name) DO UPDATE SET value = GREATEST(tenant_counter.value, EXCLUDED.value)",
                counters,
            )
    seconds["keys and indexes"] = time.perf_counter() - started

    started = time.perf_counter()
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        for table in TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        conn.execute("ANALYZE")
    seconds["vacuum and analyze"] = time.perf_counter() - started

    started = time.perf_counter()
    rebuild_rollups(url, configs)
    seconds["analytics rollup"] = time.perf_counter() - started
    seconds["total"] = time.perf_counter() - total_started

    state = {
        **wanted,
        "complete": True,
        "until": until.isoformat(),
        "first_day": first_day.isoformat(),
        "rows": rows,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "sizes": sizes(url),
    }
    write_state(url, state)
    print("analytics data ready:")
    print_state(state)
    return state


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--url", default=PG_URL, help="the database to make (MCU_BENCH_ANALYTICS_PG_URL)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="drop the database and make it again")
    parser.add_argument(
        "--refresh-rollup",
        action="store_true",
        help="migrate the existing database and rebuild every district's rollup (after a rollup change)",
    )
    args = parser.parse_args(argv)
    if args.refresh_rollup:
        refresh_rollups(args.url)
        return
    build(args.url, messages=args.messages, seed=args.seed, fresh=args.fresh)


if __name__ == "__main__":
    main()
