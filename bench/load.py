"""Open-loop load (issue 9: «500 requests/s of mixed intake and reads for 5 minutes»): requests
are started on a fixed schedule — request i at t0 + i / rate — whatever the server answers, so a
slow server shows as latency and a backlog, not as a politely lower offered rate.

The mix (default intake 25 %, message list 30 %, one message 30 %, dashboard 15 %) goes to the five
founding districts, each with its own token: intake POSTs a new message (received now) to the
district's ПОС channel — through the queued intake (POST …/intake, with `mcu worker` running
beside the server, as `make run` has it) or, with --intake inline, POST …/messages; the reads are GET /api/v1/<d>/messages?limit=20, GET …/messages/<id> of a
message made before the run, and GET …/analytics/dashboard.

Latency is measured from the scheduled start (it includes any wait for a free client thread —
no coordinated omission); «service» is from the moment the request was sent. An error is any
answer other than 200/201/202 or a failed connection. PASS needs the achieved rate within 5 % of the
target and zero errors. The load client runs on the same machine as the server.

The database is made on a PostgreSQL cluster of the run's own, with PostgreSQL's defaults
(bench/private_pg.py: the shared server here runs with autovacuum off, which no district's server
does); --pg shared uses MCU_BENCH_PG_URL instead (SQLite when that does not answer).

  python -m bench.load [--rate 500] [--duration 300] [--workers 2] [--threads 8] [--clients 128]
                       [--pg private|shared]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import ExitStack

from sqlalchemy import text

from bench import private_pg
from bench.harness import TEXTS, Client, Platform, quantile, verdict

DISTRICTS = ("kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky")
CHANNEL = "pos"


def _mix(spec: str) -> list[tuple[str, float]]:
    parts = [(k.strip(), float(v)) for k, v in (p.split("=") for p in spec.split(","))]
    unknown = {k for k, _ in parts} - {"intake", "list", "one", "dashboard"}
    if unknown:
        raise SystemExit(f"unknown request kinds in --mix: {', '.join(sorted(unknown))}")
    total = sum(w for _, w in parts)
    return [(k, w / total) for k, w in parts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500, help="requests per second to start")
    parser.add_argument("--duration", type=float, default=300, help="seconds")
    parser.add_argument("--mix", default="intake=25,list=30,one=30,dashboard=15")
    # 2 × 8 rather than 4 × 4 on the 2-core machine this runs on (5 December 2026, 150/s, back to
    # back): 149 vs 145 requests/s, p99 1.7 vs 2.8 s, and less CPU a request — gunicorn 7.2 vs
    # 8.0 ms, PostgreSQL 2.1 vs 4.0 ms (half the processes, half the pooled backends). 3 × 4 did
    # worse (111/s). More processes than cores only add switching; threads cover the I/O waits.
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--clients", type=int, default=128, help="client threads (concurrency cap)")
    parser.add_argument("--timeout", type=float, default=30, help="per request, seconds")
    parser.add_argument(
        "--intake",
        choices=("queued", "inline"),
        default="queued",
        help="queued: POST …/intake (202), `mcu worker` beside the server takes the pipeline;"
        " inline: POST …/messages, the whole pipeline in the request",
    )
    parser.add_argument(
        "--pg",
        choices=("private", "shared"),
        default="private" if private_pg.available() else "shared",
        help="private: a throw-away cluster with PostgreSQL's defaults (needs initdb);"
        " shared: the server at MCU_BENCH_PG_URL as it is set up",
    )
    args = parser.parse_args(argv)
    intake_path = "intake" if args.intake == "queued" else "messages"
    mix = _mix(args.mix)

    with ExitStack() as stack:
        pg_url = stack.enter_context(private_pg.private_cluster()) if args.pg == "private" else None
        p = stack.enter_context(Platform("load", pg_url=pg_url))
        return _run(args, p, mix, intake_path)


def _run(args: argparse.Namespace, p: Platform, mix: list[tuple[str, float]], intake_path: str) -> int:
    tokens = {d: p.token(d, "load") for d in DISTRICTS}
    server = p.serve(workers=args.workers, threads=args.threads, production_conf=True)
    # As `make run` does: the worker beside the server (it drains the queued intake).
    worker = p.spawn("worker", "--poll", "1", log="worker.log")
    run = uuid.uuid4().hex[:8]
    ids: dict[str, list[str]] = {}
    for d in DISTRICTS:
        c = Client(server.port, {"Authorization": f"Bearer {tokens[d]}"})
        ids[d] = []
        for i in range(20):
            status, body = c.request(
                "POST",
                f"/api/v1/{d}/messages",
                {"channel": CHANNEL, "external_id": f"seed-{run}-{i}", "text": TEXTS[i % 5].format(n=i)},
            )
            if status not in (200, 201):
                return verdict(False, f"could not seed {d}: HTTP {status} {body[:200]!r}")
            ids[d].append(json.loads(body)["id"])
        c.close()
    print(
        f"load: {args.rate:.0f} requests/s open loop for {args.duration:.0f} s, mix {args.mix},"
        f" 5 districts; gunicorn {args.workers} workers × {args.threads} threads (platform gunicorn_conf.py),"
        f" {_server(p, args.pg)}; client: {args.clients} threads on the same machine ({os.cpu_count()} CPUs,"
        f" load average {os.getloadavg()[0]:.1f} at start)",
        flush=True,
    )

    total = int(args.rate * args.duration)
    kinds = random.Random(1).choices([k for k, _ in mix], weights=[w for _, w in mix], k=total)
    lock = threading.Condition()
    next_i = 0
    cpu_before = _cpu_seconds(server.proc.pid, worker.pid, p.pg_db)
    t0 = time.monotonic() + 0.5
    results: list[tuple[str, int, float, float]] = []  # kind, status, latency, service
    late_starts = 0
    unsent = 0

    def client() -> None:
        nonlocal next_i, late_starts, unsent
        conns = {
            d: Client(server.port, {"Authorization": f"Bearer {tokens[d]}"}, args.timeout, reconnect=True)
            for d in DISTRICTS
        }
        mine: list[tuple[str, int, float, float]] = []
        rng = random.Random()
        while True:
            with lock:
                i = next_i
                next_i += 1
            if i >= total:
                break
            scheduled = t0 + i / args.rate
            if time.monotonic() > t0 + args.duration:
                # Bounded: what the client has not started by the end is counted, not sent.
                with lock:
                    unsent += total - i
                    next_i = total
                break
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.05:
                with lock:
                    late_starts += 1  # every client thread was busy: the server is behind
            kind, d = kinds[i], DISTRICTS[i % len(DISTRICTS)]
            c = conns[d]
            sent = time.monotonic()
            if kind == "intake":
                status, _ = c.request(
                    "POST",
                    f"/api/v1/{d}/{intake_path}",
                    {
                        "channel": CHANNEL,
                        "external_id": f"{run}-{i}",
                        "text": TEXTS[i % 5].format(n=i % 90 + 1),
                    },
                )
            elif kind == "list":
                status, _ = c.request("GET", f"/api/v1/{d}/messages?limit=20")
            elif kind == "one":
                status, _ = c.request("GET", f"/api/v1/{d}/messages/{rng.choice(ids[d])}")
            else:
                status, _ = c.request("GET", f"/api/v1/{d}/analytics/dashboard")
            done = time.monotonic()
            mine.append((kind, status, done - scheduled, done - sent))
        for c in conns.values():
            c.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    for t in threads:
        t.start()
    reporter_stop = threading.Event()

    def reporter() -> None:
        while not reporter_stop.wait(10):
            elapsed = time.monotonic() - t0
            print(
                f"    {elapsed:6.0f} s  started {min(next_i, total)} ({min(next_i, total) / elapsed:.0f}/s)",
                flush=True,
            )

    threading.Thread(target=reporter, daemon=True).start()
    stop_at = t0 + args.duration + args.timeout + 10
    for t in threads:
        t.join(timeout=max(0.0, stop_at - time.monotonic()))
    reporter_stop.set()
    wall = time.monotonic() - t0
    cpu = {
        k: v - cpu_before.get(k, 0.0) for k, v in _cpu_seconds(server.proc.pid, worker.pid, p.pg_db).items()
    }
    ended_in_time = not any(t.is_alive() for t in threads)

    ok = [r for r in results if r[1] in (200, 201, 202)]
    errors = Counter(str(r[1]) if r[1] else "connection" for r in results if r[1] not in (200, 201, 202))
    achieved = len(ok) / min(wall, args.duration)
    lat = [r[2] for r in results]
    svc = [r[3] for r in results]
    print(
        f"  {len(results)} requests in {wall:.1f} s: achieved {achieved:.1f} successful requests/s"
        f" (target {args.rate:.0f}), errors {sum(errors.values())} {dict(errors) or ''};"
        f" scheduled but not started when the time was up (the client fell behind the server): {unsent}"
    )
    print(
        f"  latency from scheduled start p50 {quantile(lat, 50) * 1000:.0f} ms  p99 {quantile(lat, 99) * 1000:.0f} ms;"
        f" service time p50 {quantile(svc, 50) * 1000:.0f} ms  p99 {quantile(svc, 99) * 1000:.0f} ms;"
        f" started late (no free client thread, > 50 ms): {late_starts}"
    )
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, _, _, service in results:
        by_kind[kind].append(service)
    for kind, values in sorted(by_kind.items()):
        print(
            f"    {kind:<10} {len(values):7d}  service p50 {quantile(values, 50) * 1000:7.0f} ms"
            f"  p99 {quantile(values, 99) * 1000:7.0f} ms"
        )
    n = max(len(results), 1)
    print(
        f"  CPU during the run, ms a request: gunicorn {cpu['gunicorn'] / n * 1000:.1f},"
        f" mcu worker {cpu['worker'] / n * 1000:.1f}, PostgreSQL (this database) {cpu['postgres'] / n * 1000:.1f},"
        f" load client {cpu['client'] / n * 1000:.1f}; the machine's {os.cpu_count()} CPUs give"
        f" {os.cpu_count() * wall / n * 1000:.1f}; load average {os.getloadavg()[0]:.1f} at the end"
    )
    for line, count in server.errors():
        print(f"  server log: {count} × {line}")
    if args.intake == "queued":
        done = p.scalar("select count(*) from intake_item where status = 'done'")
        waiting = p.scalar("select count(*) from intake_item where status = 'queued'")
        print(
            f"  queued intake: {done} taken through the pipeline by the worker during the run, {waiting} waiting"
        )
    if p.database == "PostgreSQL":
        print(f"  dead rows at the end (updated or deleted, not yet vacuumed): {_dead_rows(p)}")
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(timeout=60)
    passed = ended_in_time and not errors and not unsent and achieved >= 0.95 * args.rate
    return verdict(
        passed,
        f"{achieved:.0f} requests/s sustained with no errors (target {args.rate:.0f})"
        if passed
        else f"target {args.rate:.0f} requests/s not sustained: achieved {achieved:.1f}/s, "
        f"{sum(errors.values())} errors, p99 {quantile(lat, 99) * 1000:.0f} ms from scheduled start",
    )


def _dead_rows(p: Platform, top: int = 5) -> str:
    """The tables with most dead rows: what the run's updates leave for VACUUM (all of it, with
    autovacuum off), and how many times each was vacuumed during the run."""
    with p.engine().connect() as conn:
        rows = conn.execute(
            text(
                "select relname, n_dead_tup, n_live_tup, autovacuum_count + vacuum_count"
                " from pg_stat_user_tables order by n_dead_tup desc limit :top"
            ),
            {"top": top},
        ).all()
    return "; ".join(
        f"{name} {dead:,} (live {live:,}, vacuumed {times}×)" for name, dead, live, times in rows
    )


def _server(p: Platform, which: str) -> str:
    """What the database runs on, with the one setting that decides a long run (see --pg)."""
    if p.database != "PostgreSQL":
        return p.database
    where = "a private cluster" if which == "private" else "the shared server"
    return f"PostgreSQL ({where}, autovacuum {p.scalar('show autovacuum')})"


def _cpu_seconds(master: int, worker: int, database: str | None) -> dict[str, float]:
    """CPU seconds (user + system) so far: gunicorn (the master, its live workers and the workers
    it has reaped — restarted after max_requests), the `mcu worker`, the PostgreSQL backends of
    this run's database (their process titles name it) and this process. Linux /proc only."""
    tick = os.sysconf("SC_CLK_TCK")

    def stat(pid: int | str) -> list[str]:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()
        except OSError:
            return []

    def own(fields: list[str]) -> float:
        return (int(fields[11]) + int(fields[12])) / tick if fields else 0.0

    out = {"gunicorn": 0.0, "worker": own(stat(worker)), "postgres": 0.0}
    master_stat = stat(master)
    if master_stat:
        out["gunicorn"] = own(master_stat) + (int(master_stat[13]) + int(master_stat[14])) / tick
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fields = stat(pid)
        if not fields:
            continue
        if int(fields[1]) == master:
            out["gunicorn"] += own(fields)
        elif database:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    title = f.read().decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres:") and f" {database} " in title:
                out["postgres"] += own(fields)
    times = os.times()
    out["client"] = times.user + times.system
    return out


if __name__ == "__main__":
    sys.exit(main())
