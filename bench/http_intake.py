"""HTTP intake of single messages under gunicorn, against a bare Flask JSON endpoint served the
same way, loaded by the same client in the same run:
- inline (POST /messages): the whole pipeline in the request (validation, idempotency check,
  classification, threat detection, routing, deadlines, rules, events);
- queued (POST /intake): checked and stored in the request, the pipeline in the worker — then
  the worker's drain of everything the load accepted is timed too (one `mcu worker` process), so
  the end-to-end rate is printed beside the acceptance rate.

Goals (issue: message lifecycle): throughput ratio ≥ 0.4, p99 < 50 ms at 32 connections.
Uses PostgreSQL when MCU_BENCH_PG_URL (default: the local server) answers, else SQLite.
The load client runs on the same 2-core machine and takes CPU from the servers; both sides
pay that equally, so the ratio is fair even if absolute numbers are low.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mcu.testing.pg_probe import reachable

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONNECTIONS = 32
SECONDS = float(os.environ.get("MCU_BENCH_SECONDS", 10))
PG_URL = os.environ.get("MCU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TEXTS = [
    "Во дворе дома {n} по ул. Ленина огромная яма, машины не проедут",
    "Не вывозят мусор с контейнерной площадки на ул. Мира уже неделю",
    "В квартире холодные батареи, управляющая компания не отвечает",
    "Не работает уличное освещение на ул. Советской, темно и опасно",
    "Автобус по маршруту 3 не пришёл утром, дети опоздали в школу",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, path: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server on {port} did not start")


def _serve(app: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            "2",
            "--threads",
            "8",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )


def _load(port: int, path: str, headers: dict[str, str], body_for) -> tuple[int, int, list[float]]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.time() + SECONDS

    def worker(wid: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        i = 0
        while time.time() < stop:
            i += 1
            payload = json.dumps(body_for(wid, i)).encode()
            start = time.perf_counter()
            try:
                conn.request(
                    "POST", path, body=payload, headers={"Content-Type": "application/json", **headers}
                )
                response = conn.getresponse()
                response.read()
                ok = response.status in (200, 201, 202)
            except OSError:
                ok = False
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - start)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), errors, latencies


def _report(name: str, count: int, errors: int, latencies: list[float]) -> float:
    rate = count / SECONDS
    q = statistics.quantiles(latencies, n=100)
    print(
        f"  {name:<34} {rate:8.1f} req/s  p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms  errors {errors}"
    )
    return rate


def _drain(env: dict[str, str]) -> tuple[int, float]:
    """Run `mcu worker --once` until the intake queue is empty; (messages made, seconds)."""
    engine = create_engine(env["DATABASE_URL"])

    def count(status: str) -> int:
        with engine.connect() as c:
            return c.execute(
                text("select count(*) from intake_item where status = :s"), {"s": status}
            ).scalar()

    before = count("done")
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "mcu"), "worker", "--once", "--batch", "500"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    assert count("queued") == 0
    done = count("done") - before
    engine.dispose()
    return done, seconds


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="mcu-bench-"))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MCU_")}, "MCU_INSTANCE_DIR": str(tmp)}
    pg_db = None
    if reachable(PG_URL):
        pg_db = f"mcu_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{pg_db}"'))
        env["DATABASE_URL"] = make_url(PG_URL).set(database=pg_db).render_as_string(hide_password=False)
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    servers: list[subprocess.Popen] = []
    try:
        mcu = [str(BIN / "mcu")]
        for args in (["db", "upgrade"], ["tenants", "load"]):
            subprocess.run(mcu + args, env=env, cwd=ROOT, check=True, capture_output=True)
        token = subprocess.run(
            [*mcu, "tokens", "create", "--tenant", "kondinsky", "--name", "bench"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[0]
        full_port, bare_port = _free_port(), _free_port()
        servers.append(_serve("mcu.wsgi:app", full_port, env))
        servers.append(_serve("bench.bare_app:app", bare_port, {**env, "PYTHONPATH": str(ROOT)}))
        _wait(full_port, "/healthz")
        _wait(bare_port, "/echo")
        run = uuid.uuid4().hex[:6]

        def body(wid: int, i: int) -> dict:
            return {
                "channel": "pos",
                "external_id": f"b{run}-{wid}-{i}",
                "text": random.choice(TEXTS).format(n=i % 90 + 1),
            }

        db = "PostgreSQL" if pg_db else "SQLite"
        print(
            f"HTTP intake under gunicorn (2 workers × 8 threads), {CONNECTIONS} connections, {SECONDS:.0f} s each, {db}"
        )
        base = _report("bare Flask JSON endpoint", *_load(bare_port, "/echo", {}, body))
        full = _report(
            "full intake pipeline",
            *_load(full_port, "/api/v1/kondinsky/messages", {"Authorization": f"Bearer {token}"}, body),
        )
        print(f"  ratio inline / bare: {full / base:.2f}  (goal ≥ 0.4)")
        queued = _report(
            "queued intake (accept)",
            *_load(full_port, "/api/v1/kondinsky/intake", {"Authorization": f"Bearer {token}"}, body),
        )
        print(f"  ratio queued / bare: {queued / base:.2f}  (goal ≥ 0.4)")
        drained, seconds = _drain(env)
        print(
            f"  worker drain of the accepted messages (1 process): {drained} in {seconds:.1f} s = "
            f"{drained / seconds:.1f} msg/s  (end to end: {min(queued, drained / seconds):.1f} msg/s, "
            f"ratio {min(queued, drained / seconds) / base:.2f})"
        )
    finally:
        for p in servers:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=30)
        if pg_db:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)'))
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
