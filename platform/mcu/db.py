"""Database engine and sessions: SQLite by default, PostgreSQL via DATABASE_URL.

One session per request or job; operations flush, the request (or CLI command) commits once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            # pysqlite starts and ends transactions on its own and so breaks SAVEPOINT: releasing
            # the first savepoint of a transaction commits it. We send BEGIN ourselves instead
            # (the fix SQLAlchemy documents), so a savepoint per imported row behaves as on
            # PostgreSQL and a failed batch leaves nothing behind.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            # The worker asks for BEGIN IMMEDIATE: the write lock at once, so two workers never
            # both read a deadline as pending.
            conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', '')}".strip())

        return engine
    # A server that does not answer at all (host down, packets dropped) would hold a request for
    # the kernel's TCP timeout, minutes; ten seconds, then a 503 (mcu.web.unavailable).
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args)


CONNECT_TIMEOUT = 10


def server_warnings(bind: Engine) -> list[str]:
    """What in the PostgreSQL server's settings will hurt the platform, in words for whoever runs
    `mcu db upgrade` or `mcu worker`. Autovacuum off: the intake queue and the rollup's day rows
    are updated all day, their dead rows are never cleared nor the growing tables analysed, and
    every read slows minute by minute (measured: 100 requests/s for 5 minutes — 54.5/s served,
    PostgreSQL 11.4 ms of CPU a request, against 100/s and 1.1 ms with autovacuum on; README,
    «Надёжность»). SQLite: nothing to say."""
    if bind.dialect.name != "postgresql":
        return []
    with bind.connect() as conn:
        autovacuum = conn.exec_driver_sql("show autovacuum").scalar()
    if autovacuum == "on":
        return []
    return [
        "PostgreSQL работает с autovacuum = off: очередь приёма и суточные строки аналитики копят"
        " мёртвые строки, и под нагрузкой сервер замедляется с каждой минутой. Включите autovacuum"
        " (значение PostgreSQL по умолчанию) или выполняйте VACUUM ANALYZE по расписанию."
    ]


def init_app(app: Flask) -> None:
    # Every area's tables must be known before the first query: foreign keys cross areas.
    import mcu.models  # noqa: F401

    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app.extensions["mcu.engine"] = make_engine(url)
    app.teardown_appcontext(_close_session)


def scope_to_tenant(session: Session, tenant_id: int, *, set_in_transaction: bool = False) -> None:
    """From now on every transaction of this session on PostgreSQL carries `mcu.tenant_id`, and
    the row-level security policies (migration 0008) hide every other district's rows.
    `set_in_transaction`: the caller's own statement has set it for the open transaction."""
    session.info["tenant_id"] = tenant_id
    if session.in_transaction() and not set_in_transaction:
        _set_tenant(session.connection(), tenant_id)


def _set_tenant(connection, tenant_id: int) -> None:
    if connection.dialect.name == "postgresql":
        # Transaction-local (`true`): a pooled connection carries nothing over to the next user.
        connection.exec_driver_sql("select set_config('mcu.tenant_id', %s, true)", (str(tenant_id),))


@event.listens_for(Session, "after_begin")
def _tenant_on_begin(session: Session, _transaction, connection) -> None:
    tenant_id = session.info.get("tenant_id")
    if tenant_id is not None:
        _set_tenant(connection, tenant_id)


def engine() -> Engine:
    return current_app.extensions["mcu.engine"]


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        # Outside a request (a test's app context) the BEGIN stays deferred, as before: code
        # that writes there in units of work uses session_scope.
        writes = has_request_context() and request.method not in SAFE_METHODS
        g.db_session = Session(writer_bind(engine(), writes), expire_on_commit=False)
    return g.db_session


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def writer_bind(bind: Engine, writes: bool = True) -> Engine:
    """The bind for a unit of work that writes. On SQLite a transaction that has read and then
    writes fails at once ("database is locked", no waiting) when another writer committed in
    between; taking the write lock at BEGIN makes concurrent writers queue instead (busy_timeout).
    PostgreSQL needs nothing."""
    if writes and bind.dialect.name == "sqlite":
        return bind.execution_options(sqlite_begin="IMMEDIATE")
    return bind


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work for CLI commands and jobs: commit on success, roll back on error."""
    with Session(writer_bind(engine()), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
