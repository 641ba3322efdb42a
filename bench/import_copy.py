"""Bulk import of a ПОС export through the full pipeline (parse, validate, classify, route,
deadlines, events, per-row savepoints, batch commits) against a raw COPY of the same rows into
the same PostgreSQL database, in the same run.

Goal (issue: message lifecycle): throughput ratio ≥ 0.25 for 100,000 messages. The row count is
MCU_BENCH_IMPORT_ROWS (default 100000; the full import takes minutes at the current rate).
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
HEADERS = ["Номер сообщения", "Дата поступления", "Текст сообщения", "Адрес"]


def _csv(rows: int) -> bytes:
    from mcu.demo.seed import texts

    rng = random.Random(7)
    corpus = [t["text"] for topic in texts()["topics"].values() for t in topic["templates"]]
    start = datetime(2026, 1, 12, 9, 0)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADERS)
    for i in range(rows):
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

            from mcu.db import session_scope
            from mcu.messages.imports import import_file
            from mcu.tenancy.queries import current_config, tenant_by_slug

            with session_scope() as session:
                config = current_config(session, tenant_by_slug(session, "kondinsky"))
                started = time.perf_counter()
                report = import_file(
                    session=session,
                    config=config,
                    channel_id="pos",
                    source=data,
                    fmt="csv",
                    actor="bench",
                    rules_dir=ROOT / "rules",
                )
                import_s = time.perf_counter() - started
            engine.dispose()
        print(f"bulk import of {ROWS} ПОС rows on PostgreSQL")
        print(f"  raw COPY into a text table:   {copy_s:8.2f} s  {ROWS / copy_s:10.0f} rows/s")
        print(
            f"  full import pipeline:         {import_s:8.2f} s  {ROWS / import_s:10.0f} rows/s"
            f"  (created {report.created}, rejected {len(report.rejected)})"
        )
        print(f"  ratio import / COPY: {copy_s / import_s:.4f}  (goal ≥ 0.25)")
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
