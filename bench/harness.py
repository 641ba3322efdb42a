"""What the HTTP benchmarks and the fault scripts share: a throw-away platform (a PostgreSQL
database made and dropped for the run — SQLite when the server does not answer — migrated, the
districts loaded), the `mcu` CLI against it, gunicorn serving it on a loopback port, and a small
HTTP client.

Everything runs on 127.0.0.1 and is torn down on exit, also when a script fails.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from mcu.testing.pg_probe import reachable

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("MCU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
GUNICORN_CONF = ROOT / "platform" / "mcu" / "gunicorn_conf.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.3)
    raise RuntimeError(f"server on {port} did not start")


class Server:
    """A gunicorn master on a loopback port; its workers are its children."""

    def __init__(self, proc: subprocess.Popen, port: int, log: Path | None) -> None:
        self.proc, self.port, self.log = proc, port, log

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return sorted(int(p) for p in out.stdout.split())

    def log_tail(self, lines: int = 20) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def errors(self, top: int = 8) -> list[tuple[str, int]]:
        """The most frequent exception lines in the server's log (tracebacks' last lines and the
        `exc` of JSON log lines), to say why requests failed."""
        import re
        from collections import Counter

        if self.log is None or not self.log.exists():
            return []
        found: Counter[str] = Counter()
        pattern = re.compile(r"([A-Za-z_.]+(?:Error|Exception|Detected|Violation|Shutdown)): ([^\n]{0,150})")
        # JSON log lines carry the traceback escaped: unescape to see its lines.
        text = self.log.read_text(errors="replace").replace("\\n", "\n").replace('\\"', '"')
        for line in text.splitlines():
            for name, detail in pattern.findall(line):
                found[f"{name}: {detail.strip()}"] += 1
        return found.most_common(top)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


class Platform:
    """`with Platform("faults") as p:` — a migrated database with the five districts loaded.

    `require_pg` fails instead of falling back to SQLite (the PostgreSQL restart needs the server);
    `pg_url` is the server to make the database on (default MCU_BENCH_PG_URL).
    """

    def __init__(
        self, prefix: str, *, require_pg: bool = False, load_tenants: bool = True, pg_url: str | None = None
    ) -> None:
        self.prefix, self.require_pg, self.load_tenants = prefix, require_pg, load_tenants
        self.pg_url = pg_url or PG_URL
        self.tmp = Path(tempfile.mkdtemp(prefix=f"mcu-{prefix}-"))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MCU_") and k != "DATABASE_URL"}
        self.env["MCU_INSTANCE_DIR"] = str(self.tmp)
        self.env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "platform"), str(ROOT)])
        self.pg_db: str | None = None
        self.servers: list[Server] = []
        self.spawned: list[subprocess.Popen] = []
        self._admin: Engine | None = None
        self._engine: Engine | None = None

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> Platform:
        # A `timeout` or Ctrl+C still tears everything down (servers, database, files).
        signal.signal(signal.SIGTERM, _exit_on_signal)
        try:
            if reachable(self.pg_url):
                self.pg_db = f"mcu_{self.prefix}_{uuid.uuid4().hex[:8]}"
                # pre-ping: the PostgreSQL restart fault leaves this pooled connection dead
                self._admin = create_engine(self.pg_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
                with self._admin.connect() as c:
                    c.execute(text(f'CREATE DATABASE "{self.pg_db}"'))
                self.url = (
                    make_url(self.pg_url).set(database=self.pg_db).render_as_string(hide_password=False)
                )
            elif self.require_pg:
                raise RuntimeError(f"PostgreSQL does not answer at {self.pg_url} (MCU_BENCH_PG_URL)")
            else:
                self.url = f"sqlite:///{self.tmp / 'bench.sqlite3'}"
            self.env["DATABASE_URL"] = self.url
            self.mcu("db", "upgrade")
            if self.load_tenants:
                self.mcu("tenants", "load")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the teardown short
        for server in self.servers:
            server.stop()
        for proc in self.spawned:  # a script that failed half-way leaves its worker running
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if self._engine is not None:
            self._engine.dispose()
        if self.pg_db and self._admin is not None:
            with self._admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)'))
            self._admin.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def database(self) -> str:
        return "PostgreSQL" if self.pg_db else "SQLite"

    # ------------------------------------------------------------ tools
    def engine(self) -> Engine:
        """An engine of our own for checks (the platform's engine settings: WAL, busy timeout)."""
        if self._engine is None:
            import mcu.models  # noqa: F401  every table, for the foreign keys
            from mcu.db import make_engine

            self._engine = make_engine(self.url)
        return self._engine

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine().connect() as conn:
            return conn.execute(text(sql), params).scalar_one()

    def mcu(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "mcu"), *args], env=self.env, cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"mcu {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def token(self, tenant: str = "kondinsky", name: str = "bench") -> str:
        return self.mcu("tokens", "create", "--tenant", tenant, "--name", name).split()[0]

    def spawn(self, *args: str, log: str) -> subprocess.Popen:
        """A long-running `mcu …` (the worker) in its own session, output to a log file."""
        with (self.tmp / log).open("ab") as out:
            proc = subprocess.Popen(
                [str(BIN / "mcu"), *args],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.spawned.append(proc)
        return proc

    def serve(
        self,
        app: str = "mcu.wsgi:app",
        *,
        workers: int = 2,
        threads: int = 8,
        production_conf: bool = False,
        extra: tuple[str, ...] = (),
    ) -> Server:
        """gunicorn on a free loopback port. With `production_conf` it reads the platform's
        gunicorn_conf.py (timeouts, max-requests, JSON logs) and only the bind and the worker
        count are overridden; its output goes to a log file."""
        port = free_port()
        args = [str(BIN / "gunicorn")]
        if production_conf:
            args += ["--config", str(GUNICORN_CONF)]
        args += ["--workers", str(workers), "--threads", str(threads), "--bind", f"127.0.0.1:{port}"]
        args += ["--log-level", "warning", *extra, app]
        log = self.tmp / f"gunicorn-{port}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                args, env=self.env, cwd=ROOT, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
            )
        server = Server(proc, port, log)
        self.servers.append(server)
        try:
            wait_http(port, "/healthz" if app == "mcu.wsgi:app" else "/echo")
        except RuntimeError:
            raise RuntimeError(f"gunicorn did not start:\n{server.log_tail()}") from None
        return server


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


class Client:
    """One keep-alive HTTP connection; a broken one is replaced on the next request."""

    def __init__(
        self,
        port: int,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
        *,
        reconnect: bool = False,
    ) -> None:
        """`reconnect`: a kept-alive connection the server closed meanwhile (gunicorn drops idle
        ones after its `keepalive` seconds) is retried once on a new connection, as HTTP client
        libraries do; only for requests that are safe to repeat (reads, intake with external_id)."""
        self.port, self.headers, self.timeout, self.reconnect = port, headers or {}, timeout, reconnect
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        """(status, body); status 0 when the connection failed (reset, refused, timed out)."""
        payload = None
        headers = dict(self.headers)
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        for _ in range(2):
            reused = self.conn is not None
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if not (self.reconnect and reused):
                    return 0, b""
            except (OSError, http.client.HTTPException):
                self.close()
                return 0, b""
        return 0, b""

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def quantile(values: list[float], p: int) -> float:
    """The p-th percentile (1…99); the single value when there is one, 0 when none."""
    import statistics

    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100)[p - 1]


def verdict(ok: bool, what: str) -> int:
    """Print the PASS/FAIL line; the exit status for sys.exit."""
    print(f"{'PASS' if ok else 'FAIL'}: {what}")
    return 0 if ok else 1


# Residents' texts the benchmarks post (each names a block of Кондинский's lexicon).
TEXTS = [
    "Во дворе дома {n} по ул. Ленина огромная яма, машины не проедут",
    "Не вывозят мусор с контейнерной площадки на ул. Мира уже неделю",
    "В квартире холодные батареи, управляющая компания не отвечает",
    "Не работает уличное освещение на ул. Советской, темно и опасно",
    "Автобус по маршруту 3 не пришёл утром, дети опоздали в школу",
]
