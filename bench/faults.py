"""Fault scripts (issue 9, «load and faults»): each one builds a throw-away platform on loopback
(bench.harness: a PostgreSQL database made and dropped for the run, SQLite when the server does
not answer), breaks something on purpose, checks in SQL that nothing was lost or doubled, prints
what it did and a PASS/FAIL line, and exits 1 on failure. Every run is bounded by --timeout.

  python -m bench.faults import      kill -9 gunicorn workers during a 10,000-message import over
                                     HTTP; the client retries what failed; every message stored
                                     exactly once, by (tenant, channel, external_id)
  python -m bench.faults worker      kill -9 `mcu worker` during 10,000 due deadlines and restart
                                     it; every deadline fired exactly once
  python -m bench.faults pg-restart  restart PostgreSQL under intake and reads; requests succeed
                                     again within --recover-within seconds, gunicorn untouched

Nothing assumes a throughput: kills happen when the database shows a share of the work done,
and progress is measured and printed.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import worker_fire
from bench.harness import TEXTS, Client, Platform, verdict

TENANT = "kondinsky"
CHANNEL = "pos"  # a сообщение channel; its import mapping is rules/import/pos.yaml


def _text(i: int) -> str:
    return TEXTS[i % len(TEXTS)].format(n=i % 90 + 1)


def _fractions(spec: str) -> list[float]:
    return sorted(float(x) for x in spec.split(",") if x.strip())


class _Progress:
    """Prints `count()` every few seconds with the rate since the start."""

    def __init__(self, label: str, total: int, count: Callable[[], int], every: float = 5.0) -> None:
        self.label, self.total, self.count, self.every = label, total, count, every
        self.started = time.monotonic()
        self.last = self.started

    def tick(self, value: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            elapsed = now - self.started
            print(
                f"    {elapsed:6.1f} s  {self.label} {value}/{self.total}  ({value / elapsed:.0f}/s)",
                flush=True,
            )


# ================================================================ import
def fault_import(args: argparse.Namespace) -> int:
    with Platform("fault_import") as p:
        token = p.token(TENANT, "faults")
        server = p.serve(workers=args.workers, threads=args.threads, production_conf=True)
        master = server.proc.pid
        tenant_id = p.scalar("SELECT id FROM tenant WHERE slug = :s", s=TENANT)
        prefix = f"fi-{uuid.uuid4().hex[:8]}-"
        # An export spans months: received dates spread over 300 days.
        now = datetime.now(UTC)

        def received(i: int) -> str:
            return (now - timedelta(days=1 + i % 300, minutes=i % 600)).strftime("%Y-%m-%dT%H:%M:%S+00:00")

        n = args.messages
        if args.via == "imports":
            rows = [
                {
                    "ID сообщения": f"{prefix}{i:06d}",
                    "Дата поступления": received(i),
                    "Текст сообщения": _text(i),
                }
                for i in range(n)
            ]
            units: list[list[dict[str, Any]]] = [rows[i : i + args.chunk] for i in range(0, n, args.chunk)]
            unit_word = f"import files of {args.chunk} rows (POST /api/v1/{TENANT}/imports?channel={CHANNEL})"
        else:
            units = [
                [
                    {
                        "channel": CHANNEL,
                        "external_id": f"{prefix}{i:06d}",
                        "text": _text(i),
                        "received_at": received(i),
                    }
                ]
                for i in range(n)
            ]
            unit_word = f"single messages (POST /api/v1/{TENANT}/messages)"
        print(
            f"fault: kill -9 of a gunicorn worker during a {n}-message import; {p.database};"
            f" gunicorn {args.workers} workers × {args.threads} threads (platform gunicorn_conf.py);"
            f" {len(units)} {unit_word}, {args.clients} clients; kills when {args.kill_at} of the messages are stored"
        )

        def stored() -> int:
            return p.scalar(
                "SELECT count(*) FROM message WHERE tenant_id = :t AND external_id LIKE :p",
                t=tenant_id,
                p=f"{prefix}%",
            )

        work: queue.Queue[tuple[int, int]] = queue.Queue()
        for i in range(len(units)):
            work.put((i, 1))
        lock = threading.Lock()
        done: set[int] = set()
        failures: list[str] = []  # attempts that failed and were retried
        found_on_retry = 0
        gave_up: list[int] = []
        stop = threading.Event()
        deadline = time.monotonic() + args.timeout

        def client() -> None:
            nonlocal found_on_retry
            c = Client(server.port, {"Authorization": f"Bearer {token}"}, timeout=args.request_timeout)
            while not stop.is_set():
                try:
                    index, attempt = work.get(timeout=0.2)
                except queue.Empty:
                    with lock:
                        if len(done) + len(gave_up) == len(units):
                            return
                    continue
                unit = units[index]
                if args.via == "imports":
                    status, body = c.request(
                        "POST", f"/api/v1/{TENANT}/imports?channel={CHANNEL}", json.dumps(unit).encode()
                    )
                    report = json.loads(body) if status == 200 else {}
                    ok = (
                        status == 200
                        and not report.get("rejected")
                        and report.get("created", 0) + report.get("existing", 0) == len(unit)
                    )
                    existing = report.get("existing", 0)
                else:
                    status, _ = c.request("POST", f"/api/v1/{TENANT}/messages", unit[0])
                    ok = status in (200, 201)
                    existing = int(status == 200)
                with lock:
                    if ok:
                        done.add(index)
                        if attempt > 1:
                            found_on_retry += existing
                    elif attempt >= args.attempts:
                        gave_up.append(index)
                        failures.append(f"unit {index} attempt {attempt}: HTTP {status or 'connection lost'}")
                    else:
                        failures.append(f"unit {index} attempt {attempt}: HTTP {status or 'connection lost'}")
                if not ok and attempt < args.attempts:
                    time.sleep(min(0.1 * 2**attempt, 2.0))
                    work.put((index, attempt + 1))
            c.close()

        kills: list[str] = []
        progress = _Progress("messages stored", n, stored)
        started = time.monotonic()
        threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
        for t in threads:
            t.start()
        points = _fractions(args.kill_at)
        try:
            while any(t.is_alive() for t in threads):
                if time.monotonic() > deadline:
                    print(f"  timed out after {args.timeout:.0f} s")
                    break
                count = stored()
                progress.tick(count)
                if points and count >= points[0] * n:
                    points.pop(0)
                    busy = server.worker_pids()
                    victim = random.choice(busy)
                    os.kill(victim, signal.SIGKILL)
                    kills.append(f"pid {victim} at {count}/{n} stored ({time.monotonic() - started:.1f} s)")
                    print(f"  kill -9 gunicorn worker {kills[-1]}", flush=True)
                time.sleep(0.2)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=args.request_timeout + 5)
        elapsed = time.monotonic() - started

        checks = _stored_once(p, tenant_id, prefix)
        master_alive = server.proc.poll() is None
        print(
            f"  {elapsed:.1f} s: {len(done)}/{len(units)} requests answered in full"
            f" ({n / elapsed:.0f} messages/s over the run, kills and retries included)"
        )
        print(
            f"  failed attempts retried: {len(failures)}"
            f" ({'; '.join(failures[:5])}{' …' if len(failures) > 5 else ''}); given up: {len(gave_up)};"
            f" messages found already stored by a retry: {found_on_retry}"
        )
        print(
            "  checks: stored {stored}/{n}, distinct (tenant, channel, external_id) {distinct},"
            " keys stored twice {twice}, numbers used twice {numbers_twice},"
            " 'received' events {received} (messages with two: {received_twice})".format(n=n, **checks)
        )
        print(
            f"  gunicorn master {master} {'still up' if master_alive else 'DIED'}; workers now {server.worker_pids()}"
        )
        ok = (
            len(done) == len(units)
            and len(kills) == len(_fractions(args.kill_at))
            and checks["stored"] == n
            and checks["distinct"] == n
            and checks["twice"] == 0
            and checks["numbers_twice"] == 0
            and checks["received"] == n
            and checks["received_twice"] == 0
            and master_alive
        )
        if not failures:
            print("  note: no request was in flight in a killed worker (nothing had to be retried)")
        _print_errors(server)
        return verdict(
            ok,
            f"{n} messages imported through {len(kills)} worker kill(s); every one stored exactly once"
            if ok
            else "messages lost, doubled or not all imported (see above)",
        )


def _print_errors(server) -> None:
    for line, count in server.errors():
        print(f"  server log: {count} × {line}")


def _stored_once(p: Platform, tenant_id: int, prefix: str) -> dict[str, int]:
    q = {
        "stored": "SELECT count(*) FROM message WHERE tenant_id = :t AND external_id LIKE :p",
        "distinct": """SELECT count(*) FROM (SELECT DISTINCT tenant_id, channel_id, external_id FROM message
                       WHERE tenant_id = :t AND external_id LIKE :p) d""",
        "twice": """SELECT count(*) FROM (SELECT 1 FROM message WHERE tenant_id = :t AND external_id LIKE :p
                    GROUP BY tenant_id, channel_id, external_id HAVING count(*) > 1) d""",
        "numbers_twice": """SELECT count(*) FROM (SELECT 1 FROM message WHERE tenant_id = :t
                            GROUP BY tenant_id, number HAVING count(*) > 1) d""",
        "received": """SELECT count(*) FROM event e JOIN message m ON m.tenant_id = e.tenant_id AND m.id = e.subject_id
                       WHERE e.tenant_id = :t AND e.kind = 'received' AND m.external_id LIKE :p""",
        "received_twice": """SELECT count(*) FROM (SELECT 1 FROM event e JOIN message m
                             ON m.tenant_id = e.tenant_id AND m.id = e.subject_id
                             WHERE e.tenant_id = :t AND e.kind = 'received' AND m.external_id LIKE :p
                             GROUP BY e.tenant_id, e.subject_id HAVING count(*) > 1) d""",
    }
    return {k: int(p.scalar(v, t=tenant_id, p=f"{prefix}%")) for k, v in q.items()}


# ================================================================ worker
def fault_worker(args: argparse.Namespace) -> int:
    with Platform("fault_worker") as p:
        engine = p.engine()
        districts = worker_fire.targets(engine)
        n = args.deadlines
        worker_fire.seed(engine, districts, n, "fault")
        print(
            f"fault: kill -9 of `mcu worker --batch {args.batch}` during {n} due answer deadlines"
            f" ({len(districts)} districts), restarted after each kill; {p.database};"
            f" kills when {args.kill_at} of them have fired"
        )

        def fired() -> int:
            return p.scalar("SELECT count(*) FROM deadline WHERE timer = 'answer' AND status = 'fired'")

        def start() -> subprocess.Popen:
            return p.spawn("worker", "--batch", str(args.batch), "--poll", "0.2", log="worker.log")

        worker = start()
        kills: list[str] = []
        points = _fractions(args.kill_at)
        progress = _Progress("deadlines fired", n, fired)
        started = time.monotonic()
        deadline = started + args.timeout
        count = 0
        try:
            while time.monotonic() < deadline:
                count = fired()
                progress.tick(count)
                if count >= n:
                    break
                if worker.poll() is not None:
                    print(f"  the worker exited by itself with {worker.returncode}")
                    break
                if points and count >= points[0] * n:
                    points.pop(0)
                    worker.send_signal(signal.SIGKILL)
                    worker.wait(timeout=30)
                    kills.append(
                        f"pid {worker.pid} at {count}/{n} fired ({time.monotonic() - started:.1f} s)"
                    )
                    print(f"  kill -9 mcu worker {kills[-1]}; restarting it", flush=True)
                    worker = start()
                time.sleep(0.1)
            else:
                print(f"  timed out after {args.timeout:.0f} s")
            # Let the last batch's follow-ups settle, then stop the worker the ordinary way.
            time.sleep(1)
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
        elapsed = time.monotonic() - started
        c = worker_fire.exactly_once(engine, n)
        notes_twice = int(
            p.scalar(
                f"""SELECT count(*) FROM (SELECT 1 FROM notification WHERE rule_id = '{worker_fire.RULE}'
                    GROUP BY tenant_id, message_id, rule_id, kind, position_id, user_id HAVING count(*) > 1) d"""
            )
        )
        notes = int(p.scalar(f"SELECT count(*) FROM notification WHERE rule_id = '{worker_fire.RULE}'"))
        noted = int(
            p.scalar(
                f"""SELECT count(DISTINCT message_id) FROM notification WHERE rule_id = '{worker_fire.RULE}'"""
            )
        )
        print(
            f"  {elapsed:.1f} s ({c['fired'] / elapsed:.0f} deadlines/s over the run, kills and restarts included)"
        )
        print(f"  checks: {worker_fire.checks_line(c, n)}")
        print(
            f"  notifications of {worker_fire.RULE}: {notes} for {noted} messages,"
            f" the same notification twice: {notes_twice}"
        )
        ok = (
            len(kills) == len(_fractions(args.kill_at))
            and c["fired"] == n
            and c["decisions"] == n
            and c["duplicates"] == 0
            and c["lost"] == 0
            and c["failed"] == 0
            and noted == n
            and notes_twice == 0
        )
        if not ok:
            print((p.tmp / "worker.log").read_text(errors="replace")[-3000:])
        return verdict(
            ok,
            f"{n} deadlines through {len(kills)} worker kill(s): each fired exactly once, one decision each"
            if ok
            else "deadlines lost, doubled or not all fired (see above)",
        )


# ================================================================ PostgreSQL restart
def fault_pg_restart(args: argparse.Namespace) -> int:
    try:
        platform = Platform("fault_pg", require_pg=True)
        p = platform.__enter__()
    except RuntimeError as exc:
        return verdict(False, f"PostgreSQL restart needs PostgreSQL: {exc}")
    try:
        return _pg_restart(p, args)
    finally:
        platform.__exit__(None, None, None)


def _pg_restart(p: Platform, args: argparse.Namespace) -> int:
    token = p.token(TENANT, "faults")
    server = p.serve(workers=args.workers, threads=args.threads, production_conf=True)
    master, workers_before = server.proc.pid, server.worker_pids()
    headers = {"Authorization": f"Bearer {token}"}
    prefix = f"pg-{uuid.uuid4().hex[:8]}-"
    seeder = Client(server.port, headers)
    ids: list[str] = []
    for i in range(20):
        status, body = seeder.request(
            "POST",
            f"/api/v1/{TENANT}/messages",
            {"channel": CHANNEL, "external_id": f"{prefix}seed-{i}", "text": _text(i)},
        )
        if status not in (200, 201):
            return verdict(False, f"could not seed messages: HTTP {status} {body[:200]!r}")
        ids.append(json.loads(body)["id"])
    print(
        f"fault: PostgreSQL restarted (`{args.restart_cmd}`) under load; gunicorn {args.workers} workers ×"
        f" {args.threads} threads (platform gunicorn_conf.py); {args.rate:.0f} requests/s for {args.before:.0f} s"
        f" before and {args.after:.0f} s after the restart; intake POSTs, message list and single reads"
    )

    results: list[tuple[float, str, int]] = []  # (time, kind, status)
    sent: dict[str, bool] = {}  # external_id → answered 200/201
    lock = threading.Lock()
    stop = threading.Event()
    counter = iter(range(10**9))

    def one(c: Client) -> None:
        i = next(counter)
        kind = ("intake", "list", "one")[i % 3]
        if kind == "intake":
            ext = f"{prefix}{i:07d}"
            status, _ = c.request(
                "POST",
                f"/api/v1/{TENANT}/messages",
                {"channel": CHANNEL, "external_id": ext, "text": _text(i)},
            )
            with lock:
                sent[ext] = sent.get(ext, False) or status in (200, 201)
        elif kind == "list":
            status, _ = c.request("GET", f"/api/v1/{TENANT}/messages?limit=20")
        else:
            status, _ = c.request("GET", f"/api/v1/{TENANT}/messages/{random.choice(ids)}")
        with lock:
            results.append((time.monotonic(), kind, status))

    def client(offset: float) -> None:
        c = Client(server.port, headers, timeout=10)
        interval = args.clients / args.rate
        next_at = time.monotonic() + offset
        while not stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            one(c)
            next_at = max(next_at + interval, time.monotonic() - interval)
        c.close()

    threads = [
        threading.Thread(target=client, args=(i / args.rate,), daemon=True) for i in range(args.clients)
    ]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(args.before)
    restart_began = time.monotonic()
    restart = subprocess.run(shlex.split(args.restart_cmd), capture_output=True, text=True)
    restart_ended = time.monotonic()
    print(
        f"  restart at {restart_began - t0:.1f} s took {restart_ended - restart_began:.1f} s"
        f" (exit {restart.returncode}{': ' + restart.stderr.strip() if restart.returncode else ''})",
        flush=True,
    )
    time.sleep(args.after)
    stop.set()
    ended = time.monotonic()
    for t in threads:
        t.join(timeout=15)

    before = [r for r in results if r[0] < restart_began]
    after = [r for r in results if r[0] >= restart_began]
    failed_after = [r for r in after if not 200 <= r[2] < 300]
    last_failure = max((r[0] for r in failed_after), default=restart_began)
    recovery = last_failure - restart_began
    tail = [r for r in results if r[0] >= ended - args.after / 2]
    statuses: dict[str, int] = {}
    for _, _, status in failed_after:
        key = str(status) if status else "connection lost"
        statuses[key] = statuses.get(key, 0) + 1
    # What failed is retried (as a client would): every intake must end up stored exactly once.
    retry = Client(server.port, headers)
    retried = 0
    for ext, ok in list(sent.items()):
        if not ok:
            status, _ = retry.request(
                "POST",
                f"/api/v1/{TENANT}/messages",
                {"channel": CHANNEL, "external_id": ext, "text": "повтор"},
            )
            retried += 1
            sent[ext] = status in (200, 201)
    tenant_id = p.scalar("SELECT id FROM tenant WHERE slug = :s", s=TENANT)
    stored = _stored_once(p, tenant_id, prefix)
    expected = len(sent) + len(ids)
    ready, _ = Client(server.port).request("GET", "/readyz")
    master_alive = server.proc.poll() is None
    workers_after = server.worker_pids()
    achieved = len(results) / (ended - t0)
    print(
        f"  before the restart: {len(before)} requests, {sum(1 for r in before if not 200 <= r[2] < 300)} failed;"
        f" from the restart on: {len(after)} requests, {len(failed_after)} failed ({statuses or 'none'})"
    )
    print(
        f"  recovered {recovery:.1f} s after the restart began (last failed request);"
        f" last {args.after / 2:.0f} s: {len(tail)} requests, {sum(1 for r in tail if not 200 <= r[2] < 300)} failed;"
        f" achieved {achieved:.0f} requests/s"
    )
    for kind in ("intake", "list", "one"):
        mine = [r for r in after if r[1] == kind]
        bad = [r for r in mine if not 200 <= r[2] < 300]
        last = max((r[0] for r in bad), default=restart_began) - restart_began
        print(
            f"    {kind:<7} from the restart on: {len(mine)} requests, {len(bad)} failed, last failure at +{last:.1f} s"
        )
    ok_latency = [r for r in results if 200 <= r[2] < 300]
    print(
        f"  intakes that failed and were retried afterwards: {retried}; stored {stored['stored']}/{expected},"
        f" keys stored twice {stored['twice']}; /readyz {ready};"
        f" gunicorn master {master} {'still up' if master_alive else 'DIED'},"
        f" workers {workers_before} → {workers_after}; successful requests {len(ok_latency)}"
    )
    ok = (
        restart.returncode == 0
        and recovery <= args.recover_within
        and all(200 <= r[2] < 300 for r in tail)
        and len(tail) > 0
        and all(sent.values())
        and stored["stored"] == expected
        and stored["twice"] == 0
        and ready == 200
        and master_alive
    )
    _print_errors(server)
    return verdict(
        ok,
        f"the platform recovered by itself {recovery:.1f} s after PostgreSQL restarted (limit {args.recover_within:.0f} s),"
        " without restarting gunicorn; nothing lost or doubled"
        if ok
        else f"no recovery within {args.recover_within:.0f} s, or messages lost/doubled (see above)",
    )


# ================================================================ CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="fault", required=True)

    imp = sub.add_parser("import", help="kill -9 gunicorn workers during a bulk import over HTTP")
    imp.add_argument("--messages", type=int, default=10_000)
    imp.add_argument(
        "--via",
        choices=("imports", "messages"),
        default="messages",
        help="import files to POST …/imports, or single messages to POST …/messages",
    )
    imp.add_argument("--chunk", type=int, default=1000, help="rows per import file (imports only)")
    imp.add_argument("--clients", type=int, default=16, help="parallel HTTP clients")
    imp.add_argument("--workers", type=int, default=2)
    imp.add_argument("--threads", type=int, default=4)
    imp.add_argument("--kill-at", default="0.2,0.6", help="kill a worker when these shares are stored")
    imp.add_argument("--attempts", type=int, default=10, help="tries per request before giving up")
    imp.add_argument("--request-timeout", type=float, default=300)
    imp.add_argument("--timeout", type=float, default=3600, help="the whole run's limit, seconds")
    imp.set_defaults(run=fault_import)

    wrk = sub.add_parser("worker", help="kill -9 `mcu worker` during due deadlines, restart it")
    wrk.add_argument("--deadlines", type=int, default=10_000)
    wrk.add_argument("--batch", type=int, default=200)
    wrk.add_argument("--kill-at", default="0.2,0.6", help="kill the worker when these shares have fired")
    wrk.add_argument("--timeout", type=float, default=1200, help="the whole run's limit, seconds")
    wrk.set_defaults(run=fault_worker)

    pg = sub.add_parser("pg-restart", help="restart PostgreSQL under load")
    pg.add_argument("--restart-cmd", default="pg_ctlcluster 15 main restart")
    pg.add_argument("--rate", type=float, default=40, help="requests/s, open loop")
    pg.add_argument("--clients", type=int, default=8)
    pg.add_argument("--workers", type=int, default=2)
    pg.add_argument("--threads", type=int, default=4)
    pg.add_argument("--before", type=float, default=10, help="seconds of load before the restart")
    pg.add_argument("--after", type=float, default=30, help="seconds of load after it")
    pg.add_argument("--recover-within", type=float, default=15, help="seconds")
    pg.set_defaults(run=fault_pg_restart)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
