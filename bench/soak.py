"""Worker memory soak: feed N messages through the queued intake (POST …/imports?queue=1, CSV
files of --chunk rows, to gunicorn) while one `mcu worker` process takes them through the
pipeline (classify, route, deadlines, rules, events), and sample that process's resident memory
(VmRSS from /proc/<pid>/status) every K messages the worker has taken.

The verdict «RSS flat» holds when, after the warm-up (the first --warmup share of the messages:
imports, caches, the rules engine, the allocator's arenas filling), the worker's RSS never rose
more than --threshold-mb above its value at the end of the warm-up. The series, the growth, and
the slope per 100,000 messages (least squares over the samples after the warm-up) are printed, so
a slow leak shows even when it stays under the threshold in a short run.

The feeder keeps at most two files' worth of messages waiting, so the queue stays small and
what grows, if anything, is the worker — not the table it reads.

  python -m bench.soak                          # 2,000 messages (what `make bench` runs)
  python -m bench.soak --messages 1000000       # the full soak (≈ 1–1.5 h at 200–300 msg/s)

Uses PostgreSQL when MCU_BENCH_PG_URL (default: the local server) answers, else SQLite.
Linux only (/proc).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from bench.harness import Client, Platform, verdict
from bench.import_copy import HEADERS

QUICK = 2_000
# A region's day is a few thousand messages (≈ 2,900 at one every 30 s). Received one a second,
# a million would put 86,400 into every day and make each fresh message a spike (an emergency)
# counted over tens of thousands of rows — a density no region has. The last day's messages are
# fresh: they take the growth and emergency path too.
SPACING = 30.0


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (VmRSS; psutil's rss is the same number)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def csv_chunk(first: int, rows: int, total: int, spacing: float = SPACING) -> bytes:
    """ПОС export rows `first`…`first + rows - 1` of `total`, received `spacing` seconds apart up
    to now (at 30 s a million span 347 days: all in the past, none too old)."""
    from mcu.demo.seed import texts
    from mcu.sqltypes import utcnow

    rng = random.Random(first)
    corpus = [t["text"] for topic in texts()["topics"].values() for t in topic["templates"]]
    start = utcnow() - timedelta(seconds=total * spacing + 600)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADERS)
    for i in range(first, first + rows):
        house = str(i % 90 + 1)
        body = rng.choice(corpus).replace("{street}", "ул. Ленина").replace("{house}", house)
        body = body.replace("{settlement}", "пгт Междуреченский")
        # Read in the district's time zone (east of UTC): earlier still, never in the future.
        when = start + timedelta(seconds=i * spacing)
        writer.writerow([f"SOAK-{i:07d}", when.strftime("%d.%m.%Y %H:%M"), body, f"ул. Ленина, {house}"])
    return out.getvalue().encode("utf-8")


def slope_per_100k(points: list[tuple[int, float]]) -> float:
    if len(points) < 2:
        return 0.0
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den * 100_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=QUICK)
    parser.add_argument("--every", type=int, default=None, help="sample every K messages (default N/20)")
    parser.add_argument("--chunk", type=int, default=1000, help="rows per import file")
    parser.add_argument("--warmup", type=float, default=0.2, help="share of the messages that is warm-up")
    parser.add_argument("--threshold-mb", type=float, default=16.0, help="growth after warm-up allowed")
    parser.add_argument("--batch", type=int, default=500, help="the worker's batch")
    parser.add_argument("--spacing", type=float, default=SPACING, help="seconds between messages received")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="the whole run's limit, seconds")
    args = parser.parse_args(argv)
    total, chunk = args.messages, min(args.chunk, args.messages)
    every = args.every or max(total // 20, 1)
    deadline = time.time() + args.timeout

    with Platform("soak") as p:
        token = p.token("kondinsky", "soak")
        server = p.serve(workers=1, threads=4, production_conf=True)
        worker = p.spawn("worker", "--poll", "0.2", "--batch", str(args.batch), log="worker.log")
        print(
            f"worker RSS soak: {total:,} messages through the queued import ({chunk} rows a file) "
            f"and one `mcu worker` (batch {args.batch}), RSS every {every:,}, {p.database};"
            f" received {args.spacing:g} s apart up to now"
        )

        def count(where: str) -> int:
            return p.scalar(f"select count(*) from intake_item where {where}")

        failures: list[str] = []
        retried: list[str] = []
        # Rows the feeder has had stored (a file answered 200 is in the queue): what the worker has
        # taken is that minus what is still queued — a count the partial index of queued items
        # answers at once, where counting the taken ones would read the whole growing table.
        stored = [0]

        def feed() -> None:
            # reconnect: between files the connection idles past gunicorn's keep-alive (2 s) and is
            # closed; a file is safe to send again (its rows are found by their external ids).
            client = Client(server.port, {"Authorization": f"Bearer {token}"}, timeout=600, reconnect=True)
            sent = 0
            while sent < total and time.time() < deadline and not failures:
                if count("status = 'queued'") > 2 * chunk:
                    time.sleep(0.2)
                    continue
                rows = min(chunk, total - sent)
                for _attempt in range(
                    5
                ):  # a file cut off is sent again: rows already queued count as existing
                    status, body = client.request(
                        "POST",
                        "/api/v1/kondinsky/imports?channel=pos&queue=1",
                        csv_chunk(sent, rows, total, args.spacing),
                        content_type="text/csv",
                    )
                    if status == 200:
                        break
                    retried.append(f"rows {sent}…{sent + rows - 1}: HTTP {status} {body[:200]!r}")
                    time.sleep(1)
                else:
                    failures.append(f"import of rows {sent}…{sent + rows - 1} failed 5 times")
                    return
                sent += rows
                stored[0] = sent
            client.close()

        # The first sample once the worker is up (imports done, engine connected), before any message.
        while "запущен" not in (p.tmp / "worker.log").read_text(errors="replace") and worker.poll() is None:
            time.sleep(0.1)
        time.sleep(1)
        feeder = threading.Thread(target=feed, daemon=True)
        t0 = time.perf_counter()
        series: list[tuple[int, float, float]] = [(0, 0.0, rss_mb(worker.pid))]
        feeder.start()
        mark = every
        taken = 0
        while taken < total and time.time() < deadline and not failures:
            if worker.poll() is not None:
                failures.append(f"the worker exited with {worker.returncode}")
                break
            time.sleep(0.25)
            taken = stored[0] - count("status = 'queued'")
            if taken >= mark:
                series.append((taken, time.perf_counter() - t0, rss_mb(worker.pid)))
                print(f"  {taken:>9,} taken  {series[-1][1]:7.1f} s  RSS {series[-1][2]:7.1f} MB", flush=True)
                while mark <= taken:
                    mark += every
        seconds = time.perf_counter() - t0
        done, refused = count("status = 'done'"), count("status = 'refused'")
        if retried:
            print(f"  files sent again: {len(retried)} ({'; '.join(retried[:3])})")
            for line, n in server.errors():
                print(f"    server log: {n} × {line}")

    if failures or taken < total:
        print("\n".join(failures) or f"timed out: {taken:,} of {total:,} taken")
        return verdict(False, "soak did not finish")
    warm = next((s for s in series if s[0] >= args.warmup * total), series[-1])
    after = [s for s in series if s[0] >= warm[0]]
    peak = max(s[2] for s in after)
    growth = peak - warm[2]
    slope = slope_per_100k([(n, mb) for n, _, mb in after])
    print(
        f"  {taken:,} taken in {seconds:.0f} s ({taken / seconds:.1f} msg/s): {done:,} done, {refused:,} refused"
    )
    print(
        f"  RSS at start {series[0][2]:.1f} MB; after warm-up ({warm[0]:,} messages) {warm[2]:.1f} MB; "
        f"peak after {peak:.1f} MB; end {series[-1][2]:.1f} MB"
    )
    print(
        f"  growth after warm-up {growth:+.1f} MB (threshold {args.threshold_mb:g} MB); "
        f"slope {slope:+.2f} MB per 100,000 messages over {len(after)} samples (an extrapolation: "
        "a short run's noise overstates it)"
    )
    flat = growth < args.threshold_mb
    print(f"  verdict: {'RSS flat' if flat else 'RSS grows'}")
    return verdict(
        flat and refused == 0, f"worker RSS after warm-up within {args.threshold_mb:g} MB, none refused"
    )


if __name__ == "__main__":
    sys.exit(main())
