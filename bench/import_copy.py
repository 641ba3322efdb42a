"""Bulk import of a ПОС export against a raw COPY of the same rows into the same PostgreSQL
database, in the same run:
- queued import (`mcu import --queue`): parse, map, check every row as intake does, store the
  good ones in the intake queue — all MCU_BENCH_IMPORT_ROWS rows (default 100,000);
- the worker's drain of the queue (classify, route, deadlines, rules, events) and the inline
  import (all of that per row, in the import): each timed on a sample (MCU_BENCH_SAMPLE_ROWS,
  default 2,000), as the whole file would take many minutes at their rate.

Goal (issue: message lifecycle): throughput ratio ≥ 0.25 for 100,000 messages.
Needs PostgreSQL (MCU_BENCH_PG_URL, default the local server); says so and skips otherwise.
"""

from __future__ import annotations

import csv
import io
import os
import random
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mcu.testing.pg_probe import reachable

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("MCU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROWS = int(os.environ.get("MCU_BENCH_IMPORT_ROWS", 100_000))
SAMPLE = int(os.environ.get("MCU_BENCH_SAMPLE_ROWS", 2_000))
HEADERS = ["Номер сообщения", "Дата поступления", "Текст сообщения", "Адрес"]


def _csv(rows: int, first: int = 0) -> bytes:
    from mcu.demo.seed import texts

    rng = random.Random(7)
    corpus = [t["text"] for topic in texts()["topics"].values() for t in topic["templates"]]
    start = datetime(2026, 1, 12, 9, 0)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADERS)
    for i in range(first, first + rows):
        body = rng.choice(corpus).replace("{street}", "ул. Ленина").replace("{house}", str(i % 90 + 1))
        body = body.replace("{settlement}", "пгт Междуреченский")
        when = start + timedelta(minutes=3 * i)
        writer.writerow([f"POS-{i:07d}", when.strftime("%d.%m.%Y %H:%M"), body, f"ул. Ленина, {i % 90 + 1}"])
    return out.getvalue().encode("utf-8")


def main() -> None:
    if not reachable(PG_URL):
        print(f"import vs COPY: PostgreSQL not reachable at {PG_URL} — skipped")
        return
    name = f"mcu_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        from mcu.app import create_app

        app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_DIR": tempfile.mkdtemp()})
        with app.app_context():
            from mcu.migrate import upgrade

            upgrade("head")
            assert app.test_cli_runner().invoke(args=["tenants", "load"]).exit_code == 0
            data = _csv(ROWS)

            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(
                    text("CREATE TABLE bench_raw (external_id text, received text, body text, address text)")
                )
            raw = engine.raw_connection()
            started = time.perf_counter()
            with (
                raw.cursor() as cur,
                cur.copy("COPY bench_raw FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)") as copy,
            ):
                copy.write(data)
            raw.commit()
            copy_s = time.perf_counter() - started
            raw.close()

            from mcu.db import engine as app_engine
            from mcu.db import session_scope
            from mcu.messages import queue
            from mcu.messages.imports import import_file
            from mcu.tenancy.queries import current_config, tenant_by_slug

            def run(source: bytes, queued: bool):
                with session_scope() as session:
                    config = current_config(session, tenant_by_slug(session, "kondinsky"))
                    started = time.perf_counter()
                    report = import_file(
                        session=session,
                        config=config,
                        channel_id="pos",
                        source=source,
                        fmt="csv",
                        actor="bench",
                        rules_dir=ROOT / "rules",
                        queued=queued,
                    )
                    return report, time.perf_counter() - started

            queued, queued_s = run(data, True)
            started, drained = time.perf_counter(), 0
            while drained < SAMPLE:
                taken = queue.process(app_engine(), batch=min(500, SAMPLE - drained))
                if not taken:
                    break
                drained += taken
            drain_s = time.perf_counter() - started
            inline, inline_s = run(_csv(SAMPLE, first=ROWS), False)
            engine.dispose()
        print(f"bulk import of {ROWS} ПОС rows on PostgreSQL")
        print(f"  raw COPY into a text table:   {copy_s:8.2f} s  {ROWS / copy_s:10.0f} rows/s")
        print(
            f"  queued import (checked, stored for the worker): {queued_s:8.2f} s  {ROWS / queued_s:10.0f} rows/s"
            f"  (queued {queued.created}, rejected {len(queued.rejected)})"
        )
        print(f"  ratio queued import / COPY: {copy_s / queued_s:.4f}  (goal ≥ 0.25)")
        print(
            f"  worker drain, {drained} of them (1 process): {drain_s:8.2f} s  {drained / drain_s:10.1f} msg/s"
            f"  → all {queued.created} in ≈{queued.created / (drained / drain_s) / 60:.0f} min"
        )
        print(
            f"  inline import of {SAMPLE} more rows (whole pipeline per row): {inline_s:8.2f} s"
            f"  {SAMPLE / inline_s:10.1f} rows/s  (created {inline.created});"
            f" ratio inline / COPY: {(SAMPLE / inline_s) / (ROWS / copy_s):.4f}"
        )
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
