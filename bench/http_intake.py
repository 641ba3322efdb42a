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
import statistics
import threading
import time
import uuid

from bench.harness import TEXTS, Platform

CONNECTIONS = 32
SECONDS = float(os.environ.get("MCU_BENCH_SECONDS", 10))


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


def _drain(platform: Platform) -> tuple[int, float]:
    """Run `mcu worker --once` until the intake queue is empty; (messages made, seconds)."""

    def count(status: str) -> int:
        return platform.scalar("select count(*) from intake_item where status = :s", s=status)

    before = count("done")
    started = time.perf_counter()
    platform.mcu("worker", "--once", "--batch", "500")
    seconds = time.perf_counter() - started
    assert count("queued") == 0
    return count("done") - before, seconds


def main() -> None:
    with Platform("bench") as platform:
        token = platform.token("kondinsky", "bench")
        full = platform.serve("mcu.wsgi:app", workers=2, threads=8)
        bare = platform.serve("bench.bare_app:app", workers=2, threads=8)
        run = uuid.uuid4().hex[:6]

        def body(wid: int, i: int) -> dict:
            return {
                "channel": "pos",
                "external_id": f"b{run}-{wid}-{i}",
                "text": random.choice(TEXTS).format(n=i % 90 + 1),
            }

        print(
            f"HTTP intake under gunicorn (2 workers × 8 threads), {CONNECTIONS} connections, {SECONDS:.0f} s each, {platform.database}"
        )
        base = _report("bare Flask JSON endpoint", *_load(bare.port, "/echo", {}, body))
        full_rate = _report(
            "full intake pipeline",
            *_load(full.port, "/api/v1/kondinsky/messages", {"Authorization": f"Bearer {token}"}, body),
        )
        print(f"  ratio inline / bare: {full_rate / base:.2f}  (goal ≥ 0.4)")
        queued = _report(
            "queued intake (accept)",
            *_load(full.port, "/api/v1/kondinsky/intake", {"Authorization": f"Bearer {token}"}, body),
        )
        print(f"  ratio queued / bare: {queued / base:.2f}  (goal ≥ 0.4)")
        drained, seconds = _drain(platform)
        print(
            f"  worker drain of the accepted messages (1 process): {drained} in {seconds:.1f} s = "
            f"{drained / seconds:.1f} msg/s  (end to end: {min(queued, drained / seconds):.1f} msg/s, "
            f"ratio {min(queued, drained / seconds) / base:.2f})"
        )


if __name__ == "__main__":
    main()
