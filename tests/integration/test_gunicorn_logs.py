"""The server as deployed (gunicorn with platform/mcu/gunicorn_conf.py): every line it writes is
one JSON object — gunicorn's own lines included — and each request is logged once, with its
request id (README, «Observability»)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from bench.harness import Client, free_port, wait_http

REPO = Path(__file__).resolve().parents[2]


def test_every_line_of_the_server_is_json_and_a_request_is_logged_once(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCU_") and k != "DATABASE_URL"}
    env.update(
        MCU_INSTANCE_DIR=str(tmp_path),
        MCU_BIND=f"127.0.0.1:{port}",
        MCU_WEB_WORKERS="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'mcu.sqlite3'}",
        PYTHONPATH=str(REPO / "platform"),
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "--config", str(REPO / "platform/mcu/gunicorn_conf.py"), "mcu.wsgi:app"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_http(port, "/healthz")
        for request_id, path, status in (("probe-1", "/healthz", 200), ("probe-2", "/no-such-page", 404)):
            client = Client(port, {"X-Request-ID": request_id})
            assert client.request("GET", path)[0] == status
            client.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    lines = [line for line in output.splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}\n{output}") from None
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records), output
    for request_id, path, status in (("probe-1", "/healthz", 200), ("probe-2", "/no-such-page", 404)):
        mine = [r for r in records if r.get("request_id") == request_id]
        assert [(r["path"], r["status"]) for r in mine] == [(path, status)], output
