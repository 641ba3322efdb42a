"""What one read of the load mix costs the server, without HTTP or the client in the way: the app
in-process (Flask's test client), each kind of read — message list, one message, dashboard — run
N times against a database with the five districts and a demo history; per request the CPU time
of this process (the server's share: the database's own CPU is not in it), the wall time and the
SQL statements sent, and with --profile the functions that take the time (cProfile).

    python -m bench.read_costs [--requests 200] [--profile list,one,dashboard] [--url URL]

Without --url a throw-away PostgreSQL database is made (bench/harness.py) and filled by
`mcu demo seed --months 2 --per-day 4` (≈3,500 messages over the five districts).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text

from bench.harness import Platform, verdict

DISTRICTS = ("kondinsky", "khanty-mansiysky", "sovetsky", "nekrasovsky", "konstantinovsky")


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with Platform("reads") as p:
        p.mcu("demo", "seed", "--months", "2", "--per-day", "4")
        yield p.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.read_costs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="per kind, after 20 of warm-up")
    parser.add_argument("--profile", default="", help="kinds to profile (comma-separated)")
    parser.add_argument("--top", type=int, default=30, help="functions shown per profile")
    parser.add_argument("--url", help="an existing database with districts and messages")
    args = parser.parse_args(argv)

    with _database(args.url) as url:
        os.environ.setdefault("MCU_LOG_LEVEL", "WARNING")
        from mcu.app import create_app

        app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": tempfile.mkdtemp(prefix="mcu-reads-")})
        statements = 0

        @event.listens_for(app.extensions["mcu.engine"], "before_cursor_execute")
        def _count(*_a: object) -> None:
            nonlocal statements
            statements += 1

        from sqlmodel import Session

        from mcu.auth.tokens import create_token
        from mcu.db import engine
        from mcu.tenancy.queries import tenant_by_slug

        headers, ids = {}, {}
        with app.app_context(), Session(engine()) as s:
            for d in DISTRICTS:
                tenant = tenant_by_slug(s, d)
                _, plain = create_token(
                    session=s, tenant_id=tenant.id, name="reads", channel_id=None, actor="bench"
                )
                headers[d] = {"Authorization": f"Bearer {plain}"}
                ids[d] = [
                    str(r[0])
                    for r in s.execute(
                        text(
                            "select id from message where tenant_id = :t order by received_at desc limit 50"
                        ),
                        {"t": tenant.id},
                    )
                ]
            s.commit()
        kinds = {
            "list": lambda d, i: f"/api/v1/{d}/messages?limit=20",
            "one": lambda d, i: f"/api/v1/{d}/messages/{ids[d][i % len(ids[d])]}",
            "dashboard": lambda d, i: f"/api/v1/{d}/analytics/dashboard",
        }
        client = app.test_client()
        profiled = {k for k in args.profile.split(",") if k}
        print(
            f"read costs, in-process, {app.extensions['mcu.engine'].dialect.name}, {args.requests} requests a kind;"
            f" load average {os.getloadavg()[0]:.2f}"
        )
        for kind, path in kinds.items():
            for i in range(20):
                d = DISTRICTS[i % 5]
                assert client.get(path(d, i), headers=headers[d]).status_code == 200
            profile = cProfile.Profile() if kind in profiled else None
            statements = 0
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if profile:
                profile.enable()
            for i in range(args.requests):
                d = DISTRICTS[i % 5]
                response = client.get(path(d, i), headers=headers[d])
                if response.status_code != 200:
                    return verdict(
                        False, f"{kind}: HTTP {response.status_code} {response.get_data()[:200]!r}"
                    )
            if profile:
                profile.disable()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            n = args.requests
            print(
                f"  {kind:<10} CPU {cpu / n * 1000:7.2f} ms  wall {wall / n * 1000:7.2f} ms"
                f"  statements {statements / n:5.1f} a request"
            )
            if profile:
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
                print(out.getvalue())
        app.extensions["mcu.engine"].dispose()
    return verdict(True, "every read answered 200")


if __name__ == "__main__":
    sys.exit(main())
