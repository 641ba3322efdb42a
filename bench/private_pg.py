"""A throw-away PostgreSQL cluster for a benchmark run: `initdb` into a temporary folder, started
on a free loopback port with PostgreSQL's own defaults (autovacuum on), stopped and deleted on
exit.

Why: the shared server on this machine kind is set up for test suites — its conf.d/90-ci.conf
turns autovacuum off. Under minutes of intake the queue's and the rollup marks' updated rows are
then never vacuumed nor the growing tables analysed, and the server slows with every minute of
load (100 requests/s for 5 minutes: 54.5/s achieved, PostgreSQL's CPU 11.4 ms a request on 5
December 2026; the same run on a cluster of PostgreSQL's defaults on 6 December: 100/s, 1.1 ms). A district runs on a
server with the defaults, so the load run measures on one; the shared server is not changed.

    with private_cluster() as url: ...   # postgresql+psycopg://postgres@127.0.0.1:<port>/postgres
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import free_port

# Equal to the shared server's (so the two compare); everything else is PostgreSQL's default.
SETTINGS = {"shared_buffers": "128MB", "autovacuum": "on"}


def bindir() -> Path | None:
    """PostgreSQL's server programs (initdb, pg_ctl): pg_config's answer, else Debian's folder."""
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
        found = Path(out.stdout.strip())
        if (found / "initdb").exists():
            return found
    except (OSError, subprocess.CalledProcessError):
        pass
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def available() -> bool:
    return bindir() is not None


def _as_owner(args: list[str]) -> list[str]:
    # initdb refuses to run as root: as root (CI, containers) the cluster belongs to `postgres`.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def private_cluster() -> Iterator[str]:
    bin_ = bindir()
    if bin_ is None:
        raise RuntimeError("initdb not found (install PostgreSQL's server package) — no private cluster")
    folder = Path(tempfile.mkdtemp(prefix="mcu-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = free_port()
    options = " ".join(f"-c {k}={v}" for k, v in SETTINGS.items())
    options += f" -c listen_addresses=127.0.0.1 -p {port} -k {folder}"
    started = False
    try:
        try:
            for args in (
                [str(bin_ / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                [
                    str(bin_ / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(folder / "log"),
                    "-w",
                    "start",
                ],
            ):
                subprocess.run(_as_owner(args), check=True, capture_output=True)
        except subprocess.CalledProcessError as e:
            log = (folder / "log").read_text(errors="replace")[-2000:] if (folder / "log").exists() else ""
            raise RuntimeError(f"private PostgreSQL: {e.cmd[-1]} failed:\n{e.stderr.decode()}{log}") from None
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            stop = [str(bin_ / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            subprocess.run(_as_owner(stop), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
