"""The ceiling of an intake that stores a row: a Flask endpoint doing one INSERT of a row shaped
like intake_item, and its commit, per request — served and loaded exactly as
`bench.http_intake` serves and loads the platform, beside the bare Flask JSON endpoint, in the
same run.

No tenant, no token, no validation, no pool pre-ping: two statements (the INSERT, which psycopg
opens with its BEGIN, and the COMMIT), so whatever the queued intake does beyond storing its row
is the gap between this figure and its own. The scratch table `bench_insert_ceiling` is
intake_item's shape (`LIKE intake_item INCLUDING ALL`: its key, unique key, partial index,
JSONB payload) and its foreign key to tenant, in the bench's throw-away database.

    python -m bench.insert_app      # MCU_BENCH_SECONDS a run (default 10)

`create_app` is what gunicorn serves (`bench.insert_app:create_app()`); it reads DATABASE_URL.
"""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import UTC, datetime

from flask import Flask, jsonify, request

TABLE = "bench_insert_ceiling"


def create_app() -> Flask:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    app = Flask(__name__)
    # The platform's pool size (mcu/db.py), without its pre-ping: the floor, not the platform.
    engine = sa.create_engine(os.environ["DATABASE_URL"], pool_size=5, max_overflow=10)
    table = sa.Table(TABLE, sa.MetaData(), autoload_with=engine)
    insert = postgresql.insert(table).on_conflict_do_nothing(
        index_elements=["tenant_id", "channel_id", "external_id"]
    )
    tenant_id = int(os.environ.get("MCU_BENCH_TENANT_ID", "1"))
    serial = itertools.count()

    @app.post("/intake")
    def intake():
        body = request.get_json()
        now = datetime.now(UTC)
        row = {
            "tenant_id": tenant_id,
            "id": uuid.uuid4(),
            "channel_id": body.get("channel", "pos"),
            "external_id": f"{body.get('external_id', '')}-{os.getpid()}-{next(serial)}",
            "payload": {**body, "received_at": now.isoformat()},
            "actor": "token:bench",
            "accepted_at": now,
            "status": "queued",
        }
        with engine.begin() as conn:
            conn.execute(insert, row)
        return jsonify(id=str(row["id"]), status="queued"), 202

    @app.get("/echo")  # what the harness polls to see the server up
    def ready():
        return jsonify(ok=True)

    return app


def make_table(platform) -> int:
    """The scratch table in the bench database; the id of the district the rows belong to."""
    from sqlalchemy import text

    with platform.engine().begin() as conn:
        conn.execute(text(f"CREATE TABLE {TABLE} (LIKE intake_item INCLUDING ALL)"))
        conn.execute(text(f"ALTER TABLE {TABLE} ADD FOREIGN KEY (tenant_id) REFERENCES tenant (id)"))
        return conn.execute(text("select id from tenant where slug = 'kondinsky'")).scalar_one()


def main() -> int:
    from bench import http_intake
    from bench.harness import PG_URL, Platform
    from mcu.testing.pg_probe import reachable

    if not reachable(PG_URL):
        print(f"one-INSERT ceiling: PostgreSQL does not answer at {PG_URL} — skipped")
        return 0
    with Platform("insert", require_pg=True) as platform:
        platform.env["MCU_BENCH_TENANT_ID"] = str(make_table(platform))
        bare = platform.serve("bench.bare_app:app", workers=2, threads=8)
        ceiling = platform.serve("bench.insert_app:create_app()", workers=2, threads=8)
        run = uuid.uuid4().hex[:6]

        def body(wid: int, i: int) -> dict:
            return {"channel": "pos", "external_id": f"c{run}-{wid}-{i}", "text": "Яма во дворе"}

        print(
            f"One-INSERT ceiling under gunicorn (2 workers × 8 threads), {http_intake.CONNECTIONS} "
            f"connections, {http_intake.SECONDS:.0f} s each, {platform.database}"
        )
        base = http_intake._report(
            "bare Flask JSON endpoint", *http_intake._load(bare.port, "/echo", {}, body)
        )
        top = http_intake._report(
            "one INSERT + COMMIT (ceiling)", *http_intake._load(ceiling.port, "/intake", {}, body)
        )
        stored = platform.scalar(f"select count(*) from {TABLE}")
        print(f"  ratio ceiling / bare: {top / base:.2f}  (rows stored: {stored})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
