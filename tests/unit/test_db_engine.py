"""The PostgreSQL engine survives a server restart: a pooled connection the server closed is
noticed at checkout (pre-ping) and replaced, instead of failing the request that drew it.
`python -m bench.faults pg-restart` checks the whole platform recovering under load."""

from __future__ import annotations

from mcu.db import make_engine


def test_postgresql_pool_pings_connections_before_use():
    engine = make_engine("postgresql+psycopg://mcu@127.0.0.1:1/mcu")  # never connects
    try:
        assert engine.pool._pre_ping is True
        assert engine.pool.size() == 5
    finally:
        engine.dispose()
