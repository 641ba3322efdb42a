"""`mcu worker` firing due answer deadlines (claim, evaluate through the tenant's current rules,
write the decision, the escalation notifications and mails, the events and the follow-up
deadline, all in the batch's transaction) against a raw SQL claim loop that only marks the same
rows fired (`UPDATE … WHERE (tenant_id, id) IN (SELECT … LIMIT 500 FOR UPDATE SKIP LOCKED)`),
in the same run on the same database.

  (a) one worker: fire_due(batch=500) with the real clock until nothing is due — rate, and the
      lateness fired_at − due_at. Every deadline came due within the two minutes before the
      run, so lateness is mostly the time the backlog takes to drain; fired_at is the batch's
      clock when it began, «at commit» adds the time until its batch committed.
  (b) two worker processes (spawn, an engine each) on a fresh set of rows at once, then SQL
      checks: every answer deadline fired, exactly one overdue decision per message —
      duplicates and lost must both be 0.

PostgreSQL when MCU_BENCH_PG_URL (default: the local server) answers — in a database
`mcu_bench_worker`, dropped and made anew each run — else a SQLite file in a temp directory.
The deadline count is --count or MCU_BENCH_WORKER_COUNT (default 100000, tens of minutes at the
current rate); `python -m bench` runs 20,000 (`--quick`), the full figure is
`python -m bench.worker_fire --count 100000`.
"""

from __future__ import annotations

import argparse
import bisect
import multiprocessing
import os
import queue
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text, tuple_
from sqlalchemy.engine import Engine, make_url

from mcu.testing.pg_probe import reachable

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("MCU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DB = "mcu_bench_worker"
FULL = 100_000
QUICK = 5_000  # what `python -m bench` runs: a minute or two on a busy machine
BATCH = 500
SPREAD = timedelta(minutes=2)  # due_at spread evenly over the two minutes before seeding ends
RULE = "overdue/overdue-block-head"  # what an `answer` deadline fires in every founding district
CHUNK = 5_000
# Everything a firing writes, and the rows it fires: emptied before each phase.
TABLES = ("mail_outbox", "notification", "rule_decision", "event", "deadline", "assignment", "message")


# ---------------------------------------------------------------- setup
def targets(engine: Engine) -> list[dict[str, Any]]:
    """Each active district whose current rules escalate an overdue answer, with its blocks and
    channels to give the messages."""
    from sqlmodel import Session

    from mcu.rules.operations import rulebook
    from mcu.tenancy.models import Tenant
    from mcu.tenancy.queries import current_config

    out = []
    with Session(engine) as session:
        for tenant in session.execute(select(Tenant).where(Tenant.active).order_by(Tenant.id)).scalars():
            config = current_config(session, tenant)
            if config is None or RULE not in {r.id for r in rulebook(config).rules}:
                continue
            out.append(
                {
                    "tenant_id": tenant.id,
                    "slug": tenant.slug,
                    "version_id": config.version_id,
                    "blocks": list(config.blocks),
                    "channels": [(c["id"], c.get("kind", c["id"])) for c in config.channels.values()],
                }
            )
    return out


def seed(engine: Engine, targets: list[dict[str, Any]], count: int, phase: str) -> None:
    """A clean slate, then `count` assigned messages, each with an answer deadline that came
    due within the last SPREAD (oldest first), spread evenly over the districts."""
    from mcu.ids import uuid7
    from mcu.messages.models import Deadline, Message
    from mcu.sqltypes import utcnow

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
        else:
            for table in TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
    now = utcnow()
    first_due = now - SPREAD
    step = SPREAD / count
    for start in range(0, count, CHUNK):
        messages, deadlines = [], []
        for i in range(start, min(start + CHUNK, count)):
            t = targets[i % len(targets)]
            channel, kind = t["channels"][i % len(t["channels"])]
            due = first_due + step * i
            mid = uuid7()
            messages.append(
                {
                    "tenant_id": t["tenant_id"],
                    "id": mid,
                    "number": f"B{phase}-{i:07d}",
                    "regime": "appeal" if i % 3 else "message",
                    "channel_id": channel,
                    "channel_kind": kind,
                    "external_id": f"bench-{phase}-{i}",
                    "subject": "Не вывозят мусор с контейнерной площадки",
                    "text": "Не вывозят мусор с контейнерной площадки на ул. Мира уже неделю",
                    "address": f"ул. Мира, {i % 90 + 1}",
                    "block_id": t["blocks"][i % len(t["blocks"])],
                    "topic": "waste",
                    "classification": {"topic": "waste", "score": 0.9},
                    "threat_to_life": False,
                    "status": "assigned",
                    "received_at": due - timedelta(days=30),
                    "registered_at": due - timedelta(days=30),
                    "due_at": due,
                    "config_version_id": t["version_id"],
                    "created_at": due - timedelta(days=30),
                    "updated_at": due - timedelta(days=30),
                }
            )
            deadlines.append(
                {
                    "tenant_id": t["tenant_id"],
                    "id": uuid7(),
                    "message_id": mid,
                    "emergency_id": None,
                    "timer": "answer",
                    "due_at": due,
                    "status": "pending",
                    "explanation": {"text": f"30 дней с момента поступления: до {due:%d.%m.%Y %H:%M}"},
                    "claimed_by": None,
                    "claimed_until": None,
                    "attempts": 0,
                    "fired_at": None,
                    "created_at": due - timedelta(days=30),
                }
            )
        with engine.begin() as conn:
            conn.execute(Message.__table__.insert(), messages)
            conn.execute(Deadline.__table__.insert(), deadlines)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


# ---------------------------------------------------------------- the runs
def _baseline(engine: Engine) -> tuple[int, float]:
    """Claim-and-mark in batches of BATCH, nothing evaluated or written besides the row."""
    from mcu.messages.models import Deadline
    from mcu.sqltypes import utcnow

    t = Deadline.__table__
    claiming = engine.execution_options(sqlite_begin="IMMEDIATE")
    total = 0
    started = time.perf_counter()
    while True:
        now = utcnow()
        due = (
            select(t.c.tenant_id, t.c.id)
            .where(t.c.status == "pending", t.c.due_at <= now)
            .order_by(t.c.due_at)
            .limit(BATCH)
        )
        if engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        with claiming.begin() as conn:
            n = conn.execute(
                t.update().where(tuple_(t.c.tenant_id, t.c.id).in_(due)).values(status="fired", fired_at=now)
            ).rowcount
        total += n
        if n == 0:
            return total, time.perf_counter() - started


def _pending_due(engine: Engine) -> int:
    from mcu.messages.models import Deadline
    from mcu.sqltypes import utcnow

    with engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(Deadline)
            .where(Deadline.status == "pending", Deadline.due_at <= utcnow())
        ).scalar_one()


def _drain(engine: Engine) -> tuple[int, list[tuple[float, float]]]:
    """fire_due with the real clock until nothing is due; the wall-clock span of each batch."""
    from mcu.rules.worker import fire_due

    total, spans = 0, []
    while True:
        began = time.time()
        n = fire_due(engine, batch=BATCH)
        if n:
            total += n
            spans.append((began, time.time()))
        elif _pending_due(engine) == 0:  # the rest may be locked by the other worker for a moment
            return total, spans
        else:
            time.sleep(0.01)


def _worker(url: str, ready, results) -> None:
    """One worker process: its own engine, as `mcu worker` has."""
    import mcu.models  # noqa: F401  every table, for the foreign keys
    from mcu.db import make_engine

    engine = make_engine(url)
    engine.connect().close()
    ready.wait()  # both workers and the parent: start together
    began, cpu = time.time(), time.process_time()
    total, spans = _drain(engine)
    results.put(
        {
            "fired": total,
            "spans": spans,
            "began": began,
            "ended": time.time(),
            "cpu": time.process_time() - cpu,
        }
    )
    engine.dispose()


# ---------------------------------------------------------------- checks
def _fired(engine: Engine) -> list[tuple[datetime, datetime]]:
    """(fired_at, due_at) of every fired answer deadline."""
    from mcu.messages.models import Deadline

    with engine.connect() as conn:
        return [
            (r[0], r[1])
            for r in conn.execute(
                select(Deadline.fired_at, Deadline.due_at).where(
                    Deadline.timer == "answer", Deadline.status == "fired"
                )
            )
        ]


def _late(rows: list[tuple[datetime, datetime]]) -> list[float]:
    return [(fired - due).total_seconds() for fired, due in rows]


def exactly_once(engine: Engine, count: int) -> dict[str, int]:
    """Every answer deadline fired, and each message got exactly one overdue decision."""
    q = {
        "fired": "SELECT count(*) FROM deadline WHERE timer = 'answer' AND status = 'fired'",
        "not_fired": "SELECT count(*) FROM deadline WHERE timer = 'answer' AND status <> 'fired'",
        "decisions": f"SELECT count(*) FROM rule_decision WHERE rule_id = '{RULE}'",
        "duplicates": f"""SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM rule_decision
                          WHERE rule_id = '{RULE}' GROUP BY tenant_id, message_id HAVING count(*) > 1) d""",
        "messages_twice": f"""SELECT count(*) FROM (SELECT 1 FROM rule_decision WHERE rule_id = '{RULE}'
                              GROUP BY tenant_id, message_id HAVING count(*) > 1) d""",
        "lost": f"""SELECT count(*) FROM deadline d WHERE d.timer = 'answer' AND NOT EXISTS (
                    SELECT 1 FROM rule_decision r WHERE r.tenant_id = d.tenant_id
                    AND r.message_id = d.message_id AND r.rule_id = '{RULE}')""",
        "timer_events": "SELECT count(*) FROM event WHERE kind = 'timer_fired'",
        "followups": "SELECT count(*) FROM deadline WHERE timer = 'overdue_followup' AND status = 'pending'",
        "notifications": "SELECT count(*) FROM notification",
        "mails": "SELECT count(*) FROM mail_outbox",
        "events": "SELECT count(*) FROM event",
        "failed": "SELECT count(*) FROM deadline WHERE attempts > 0 OR status = 'failed'",
    }
    with engine.connect() as conn:
        out = {k: int(conn.execute(text(v)).scalar_one()) for k, v in q.items()}
    # A deadline row that vanished would escape the NOT EXISTS above.
    out["lost"] += max(0, count - out["fired"] - out["not_fired"])
    return out


def _q(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def _at_commit(rows: list[tuple[datetime, datetime]], spans: list[tuple[float, float]]) -> list[float]:
    """Lateness at the commit of the batch that fired each row. fired_at is fire_due's clock
    read just after the batch began (the latest span begun by then); the rows become visible
    (and the notifications readable) only when that batch commits."""
    spans = sorted(spans)
    begins = [b for b, _ in spans]
    ends: dict[datetime, float] = {}
    for fired in {f for f, _ in rows}:
        ends[fired] = spans[max(0, bisect.bisect_right(begins, fired.timestamp()) - 1)][1]
    return [ends[fired] - due.timestamp() for fired, due in rows]


def _rate_line(seconds: float, n: int, rows: list[tuple[datetime, datetime]], t0: float) -> str:
    """Rate, lateness fired_at − due_at, and the part of it spent in this run's backlog."""
    late = _late(rows)
    queued = [max(0.0, fired.timestamp() - t0) for fired, _ in rows]
    return (
        f"{seconds:7.2f} s {n / seconds:8.0f} deadlines/s"
        f"  lateness p50 {_q(late, 50):6.1f} s  p99 {_q(late, 99):6.1f} s"
        f" (of it since the run began: p50 {_q(queued, 50):6.1f} s  p99 {_q(queued, 99):6.1f} s)"
    )


def checks_line(c: dict[str, int], count: int) -> str:
    return (
        f"fired {c['fired']}/{count}, decisions {c['decisions']}, duplicates {c['duplicates']}"
        f" (messages with two: {c['messages_twice']}), lost {c['lost']}, failed rows {c['failed']},"
        f" timer_fired events {c['timer_events']}, follow-ups {c['followups']}"
    )


# ---------------------------------------------------------------- main
def main(count: int | None = None) -> None:
    count = count or int(os.environ.get("MCU_BENCH_WORKER_COUNT", FULL))
    tmp = Path(tempfile.mkdtemp(prefix="mcu-bench-worker-"))
    pg = reachable(PG_URL)
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT") if pg else None
    if admin is not None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{PG_DB}"'))
        url = make_url(PG_URL).set(database=PG_DB).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    try:
        from mcu.app import create_app
        from mcu.db import make_engine

        app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_DIR": str(tmp)})
        with app.app_context():
            from mcu.migrate import upgrade

            upgrade("head")
            loaded = app.test_cli_runner().invoke(args=["tenants", "load"])
            assert loaded.exit_code == 0, loaded.output
        engine = make_engine(url)
        districts = targets(engine)
        db = "PostgreSQL" if pg else "SQLite"
        print(
            f"worker firing {count} due answer deadlines (batches of {BATCH}), {db},"
            f" {len(districts)} districts ({', '.join(t['slug'] for t in districts)});"
            f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at start"
        )

        # baseline: the raw claim loop
        seed(engine, districts, count, "base")
        t0 = time.time()
        base_n, base_s = _baseline(engine)
        assert base_n == count, (base_n, count)
        base_rate = base_n / base_s
        claim = "raw UPDATE … SKIP LOCKED" if pg else "raw UPDATE, BEGIN IMMEDIATE"
        print(f"  baseline {claim:<31}{_rate_line(base_s, base_n, _fired(engine), t0)}")

        # (a) one worker
        seed(engine, districts, count, "one")
        t0, cpu = time.time(), time.process_time()
        fired, spans = _drain(engine)
        one_s, one_cpu = time.time() - t0, time.process_time() - cpu
        rows = _fired(engine)
        one = exactly_once(engine, count)
        one_rate = fired / one_s
        at_commit = _at_commit(rows, spans)
        print(f"  (a) one worker, fire_due                {_rate_line(one_s, fired, rows, t0)}")
        print(
            f"      lateness at commit p50 {_q(at_commit, 50):6.1f} s  p99 {_q(at_commit, 99):6.1f} s;"
            f" a batch of {BATCH} takes {statistics.median([e - b for b, e in spans]):.2f} s (median);"
            f" worker CPU {one_cpu:.1f} s of {one_s:.1f} s"
        )
        print(
            f"      ratio worker / raw claim: {one_rate / base_rate:.4f}"
            f" (evaluation + writes cost {base_rate / one_rate:.0f}x the claim alone)"
        )
        per = {k: one[k] / count for k in ("notifications", "mails", "events")}
        print(
            f"      writes per deadline: 1 decision, {per['notifications']:.2f} notifications,"
            f" {per['mails']:.2f} mails, {per['events']:.2f} events, 1 follow-up deadline"
        )
        print(f"      checks: {checks_line(one, count)}")

        # (b) two worker processes at once, on fresh rows
        seed(engine, districts, count, "two")
        ctx = multiprocessing.get_context("spawn")
        ready, results = ctx.Barrier(3), ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(url, ready, results)) for _ in range(2)]
        for p in procs:
            p.start()
        ready.wait(timeout=300)
        reports: list[dict[str, Any]] = []
        while len(reports) < len(procs):
            try:
                reports.append(results.get(timeout=5))
            except queue.Empty:
                dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
                assert not dead, f"a worker process failed: exit codes {dead}"
        for p in procs:
            p.join()
            assert p.exitcode == 0, p.exitcode
        t0 = min(r["began"] for r in reports)
        two_s = max(r["ended"] for r in reports) - t0
        two_n = sum(r["fired"] for r in reports)
        two = exactly_once(engine, count)
        two_rate = two_n / two_s
        rows = _fired(engine)
        at_commit = _at_commit(rows, [span for r in reports for span in r["spans"]])
        print(f"  (b) two worker processes                {_rate_line(two_s, two_n, rows, t0)}")
        print(f"      lateness at commit p50 {_q(at_commit, 50):6.1f} s  p99 {_q(at_commit, 99):6.1f} s")
        print(
            f"      ratio two workers / raw claim: {two_rate / base_rate:.4f}; two / one worker: {two_rate / one_rate:.2f};"
            f" fired by each: {' + '.join(str(r['fired']) for r in reports)};"
            f" worker CPU {' and '.join(format(r['cpu'], '.1f') for r in reports)} s of {two_s:.1f} s"
        )
        print(f"      checks: {checks_line(two, count)}")
        print(
            f"      exactly once: duplicates {two['duplicates']} (must be 0), lost {two['lost']} (must be 0);"
            f" load average {os.getloadavg()[0]:.1f} at the end"
        )
        engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
            admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


def _cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_fire", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=None, help=f"due deadlines to fire (default {FULL})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} deadlines, as `python -m bench` runs")
    args = parser.parse_args()
    main(args.count or (QUICK if args.quick else None))


if __name__ == "__main__":
    _cli()
