"""The PostgreSQL engine survives a server restart: a pooled connection the server closed is
noticed at checkout (pre-ping) and replaced, instead of failing the request that drew it.
`python -m bench.faults pg-restart` checks the whole platform recovering under load."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from mcu.db import make_engine


def test_postgresql_pool_pings_connections_before_use():
    engine = make_engine("postgresql+psycopg://mcu@127.0.0.1:1/mcu")  # never connects
    try:
        assert engine.pool._pre_ping is True
        assert engine.pool.size() == 5
    finally:
        engine.dispose()


def _connect_params(url: str) -> dict:
    """What psycopg would be handed; nothing connects."""
    engine, seen = make_engine(url), {}

    @event.listens_for(engine, "do_connect")
    def _capture(_dialect, _record, _args, params):
        seen.update(params)
        raise _Stop

    try:
        with pytest.raises(_Stop):
            engine.connect()
    finally:
        engine.dispose()
    return seen


class _Stop(Exception):
    pass


def test_postgresql_connect_gives_up_after_ten_seconds_unless_the_url_says():
    assert int(_connect_params("postgresql+psycopg://mcu@127.0.0.1:1/mcu")["connect_timeout"]) == 10
    given = _connect_params("postgresql+psycopg://mcu@127.0.0.1:1/mcu?connect_timeout=3")
    assert int(given["connect_timeout"]) == 3
