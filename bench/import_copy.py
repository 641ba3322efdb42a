"""Bulk import of a ПОС export against a raw COPY of the same rows into the same PostgreSQL
database, in the same run:
- the ceiling for storing the queue's own rows: COPY of the same rows, as the import makes
  them (id, key, JSON payload …), into a table of intake_item's shape: its indexes and its
  foreign key to tenant (checked per row: a third of what the import's INSERT costs the server);
- queued import (`mcu import --queue`): parse, map, check every row as intake does, store the
  good ones in the intake queue — all MCU_BENCH_IMPORT_ROWS rows (default 100,000);
- the worker's drain of the queue (classify, route, deadlines, rules, events) and the inline
  import (all of that per row, in the import): each timed on a sample (MCU_BENCH_SAMPLE_ROWS,
  default 2,000), as the whole file would take many minutes at their rate.

Goal (issue: message lifecycle): throughput ratio ≥ 0.25 for 100,000 messages. The last lines
say, computed from row counts before and after the drain, what a processed message adds to
which tables: why the whole pipeline is far from a COPY of one row.
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
QUEUE_COLUMNS = "tenant_id, id, channel_id, external_id, payload, actor, accepted_at, status"
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


def _queue_rows_csv(data: bytes, config, actor: str) -> bytes:
    """The rows the queued import stores for `data`, made by the import's own steps, as a CSV
    for COPY into intake_item's shape (untimed: only the COPY is measured)."""
    from mcu.ids import uuid7
    from mcu.messages import imports
    from mcu.messages.bulk_intake import payload
    from mcu.messages.operations import check_intake
    from mcu.sqltypes import utcnow

    mapping = imports.mapping_for_channel(ROOT / "rules", config.channels["pos"])
    parsed = imports.parse_file(data, "csv")
    binding, tz, now = imports._bind(mapping, parsed.headers), mapping.tz(config), utcnow()
    out = io.StringIO()
    writer = csv.writer(out)
    for row in parsed.rows:
        message = imports.build_message(row, binding, mapping, channel_id="pos", tz=tz).data
        channel, received, external_id = check_intake(config, message, now)
        writer.writerow(
            [
                config.tenant_id,
                uuid7(),
                channel["id"],
                external_id,
                payload(message, received, external_id),
                actor,
                now.isoformat(),
                "queued",
            ]
        )
    return out.getvalue().encode("utf-8")


def _row_counts(conn) -> dict[str, int]:
    tables = conn.execute(
        text("select tablename from pg_tables where schemaname = current_schema() order by 1")
    ).scalars()
    return {t: conn.execute(text(f'select count(*) from "{t}"')).scalar_one() for t in list(tables)}


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
            from mcu.tenancy.queries import current_config, enter_tenant

            # The ceiling: the queue's own rows COPYed into intake_item's shape — its indexes, the
            # JSONB payload and the foreign key to tenant; not the tenant wall, which the bench's
            # superuser passes anyway, in the import as here.
            with session_scope() as session:
                config = current_config(session, enter_tenant(session, "kondinsky"))
            shaped = _queue_rows_csv(data, config, "bench")
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE bench_intake (LIKE intake_item INCLUDING ALL)"))
                conn.execute(
                    text("ALTER TABLE bench_intake ADD FOREIGN KEY (tenant_id) REFERENCES tenant (id)")
                )
            raw = engine.raw_connection()
            started = time.perf_counter()
            with (
                raw.cursor() as cur,
                cur.copy(f"COPY bench_intake ({QUEUE_COLUMNS}) FROM STDIN WITH (FORMAT csv)") as copy,
            ):
                copy.write(shaped)
            raw.commit()
            shaped_s = time.perf_counter() - started
            raw.close()

            def run(source: bytes, queued: bool):
                with session_scope() as session:
                    # Scoped as the CLI and the API scope it (the bench connects as a superuser,
                    # whom the tenant wall does not stop: production does not).
                    config = current_config(session, enter_tenant(session, "kondinsky"))
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
            with engine.connect() as conn:
                before = _row_counts(conn)
            started, drained = time.perf_counter(), 0
            while drained < SAMPLE:
                taken = queue.process(app_engine(), batch=min(500, SAMPLE - drained))
                if not taken:
                    break
                drained += taken
            drain_s = time.perf_counter() - started
            with engine.connect() as conn:
                after = _row_counts(conn)
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
            f"  COPY of the queue's own rows into intake_item's shape (indexes, JSONB, FK): {shaped_s:8.2f} s"
            f"  {ROWS / shaped_s:10.0f} rows/s  (ceiling of storing them: {copy_s / shaped_s:.4f} of raw COPY)"
        )
        print(f"  ratio queued import / COPY into intake_item's shape: {shaped_s / queued_s:.4f}")
        print(
            f"  worker drain, {drained} of them (1 process): {drain_s:8.2f} s  {drained / drain_s:10.1f} msg/s"
            f"  → all {queued.created} in ≈{queued.created / (drained / drain_s) / 60:.0f} min"
        )
        print(
            f"  inline import of {SAMPLE} more rows (whole pipeline per row): {inline_s:8.2f} s"
            f"  {SAMPLE / inline_s:10.1f} rows/s  (created {inline.created});"
            f" ratio inline / COPY: {(SAMPLE / inline_s) / (ROWS / copy_s):.4f}"
        )
        added = {t: after[t] - before[t] for t in after if after[t] != before[t]}
        print(
            f"  computed from row counts before and after the drain of {drained}: a processed message adds"
            f" {sum(added.values()) / max(drained, 1):.1f} rows"
            " (and updates its intake_item row; updates elsewhere not counted):"
        )
        for table, rows in sorted(added.items(), key=lambda kv: -kv[1]):
            print(f"    {table:32s} {rows / max(drained, 1):6.2f} per message")
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
