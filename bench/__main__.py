"""`make bench`: every benchmark in one command, each printing its figures and ratios, in sizes
that finish in a few minutes in all on a small machine — then a summary of what passed.

Quick sizes (each overridable by its variable; the full runs are in README's tables):
- HTTP intake vs a bare Flask endpoint: 5 s a run (MCU_BENCH_SECONDS; full: 10), and beside
  it the ceiling of any intake that stores a row (one INSERT and its commit a request);
- queued import vs COPY: 20,000 rows, the drain and the inline import on 500
  (MCU_BENCH_IMPORT_ROWS, MCU_BENCH_SAMPLE_ROWS; full: 100,000 and 2,000);
- worker firing: 5,000 deadlines (MCU_BENCH_WORKER_COUNT; full:
  `python -m bench.worker_fire --count 100000`);
- open-loop load: 20 requests/s for 20 s (MCU_BENCH_LOAD_RATE, MCU_BENCH_LOAD_SECONDS; full:
  `python -m bench.load --rate 500 --duration 300`);
- analytics: on a generated database of MCU_BENCH_ANALYTICS_MESSAGES (default 20,000) messages
  in 100 districts, made once and kept (`mcu_bench_analytics_quick`; drop it to make another
  size), the running year only,
  5 calls a figure (full: `python -m bench.analytics_data --messages 10000000`, then
  `python -m bench.analytics`);
- worker RSS soak: 2,000 messages (MCU_BENCH_SOAK_MESSAGES; full:
  `python -m bench.soak --messages 1000000`).

The fault scripts (`python -m bench.faults …`) are not run here: they kill processes and one
restarts PostgreSQL.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

# Before the modules read them at import.
os.environ.setdefault("MCU_BENCH_SECONDS", "5")
os.environ.setdefault("MCU_BENCH_IMPORT_ROWS", "20000")
os.environ.setdefault("MCU_BENCH_SAMPLE_ROWS", "500")

from bench import (
    analytics,
    analytics_data,
    http_intake,
    import_copy,
    insert_app,
    load,
    rules_eval,
    soak,
    tenant_loading,
    worker_fire,
)
from mcu.testing.pg_probe import reachable


def _analytics() -> None:
    from sqlalchemy.engine import make_url

    url = os.environ.get(
        "MCU_BENCH_ANALYTICS_QUICK_URL",
        make_url(analytics_data.PG_URL).set(database="mcu_bench_analytics_quick").render_as_string(False),
    )
    if not reachable(url.rsplit("/", 1)[0] + "/postgres"):
        print("analytics: PostgreSQL not reachable — skipped")
        return
    state = analytics_data.read_state(url) if reachable(url) else None
    if not (state and state.get("complete")):  # made once; any complete size is used again
        messages = os.environ.get("MCU_BENCH_ANALYTICS_MESSAGES", "20000")
        analytics_data.main(["--url", url, "--messages", messages, "--fresh"])
    analytics.main(["--url", url, "--runs", "5", "--budget", "10", "--periods", "running"])


STEPS = (
    ("tenant loading", tenant_loading.main),
    ("rules evaluation", rules_eval.main),
    ("HTTP intake vs bare Flask", http_intake.main),
    ("one-INSERT ceiling", insert_app.main),
    ("queued import vs COPY", import_copy.main),
    (
        "worker firing",
        lambda: worker_fire.main(int(os.environ.get("MCU_BENCH_WORKER_COUNT", worker_fire.QUICK))),
    ),
    (
        "open-loop load",
        lambda: load.main(
            [
                "--rate",
                os.environ.get("MCU_BENCH_LOAD_RATE", "20"),
                "--duration",
                os.environ.get("MCU_BENCH_LOAD_SECONDS", "20"),
                "--workers",
                "2",
                "--threads",
                "4",
                "--clients",
                "16",
            ]
        ),
    ),
    ("analytics", _analytics),
    (
        "worker RSS soak",
        lambda: soak.main(["--messages", os.environ.get("MCU_BENCH_SOAK_MESSAGES", str(soak.QUICK))]),
    ),
)


def main() -> int:
    summary = []
    for name, step in STEPS:
        print(f"\n== {name}", flush=True)
        started = time.perf_counter()
        try:
            status = step()
            outcome = "FAIL" if isinstance(status, int) and status else "done"
        except Exception:  # one benchmark's crash must not hide the others' figures
            traceback.print_exc()
            outcome = "ERROR"
        summary.append((name, outcome, time.perf_counter() - started))
        sys.stdout.flush()
    print("\n== summary")
    for name, outcome, seconds in summary:
        print(f"  {name:<28} {outcome:<6} {seconds:6.0f} s")
    return 1 if any(outcome != "done" for _, outcome, _ in summary) else 0


sys.exit(main())
