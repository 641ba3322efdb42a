"""Exit 0 when the PostgreSQL server at the given URL answers within a few seconds, else 1.

`make test` runs the suite a second time on PostgreSQL only when this says it is reachable.
"""

from __future__ import annotations

import sys

from sqlalchemy import create_engine, text


def reachable(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


if __name__ == "__main__":
    sys.exit(0 if reachable(sys.argv[1]) else 1)
