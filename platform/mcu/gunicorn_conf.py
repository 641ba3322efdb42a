"""gunicorn settings for `make run`; production overrides them with GUNICORN_CMD_ARGS or its own
file. The app is not preloaded: each worker builds its own engine (and, later, its own rules
host) after the fork."""

import multiprocessing
import os

# The server logs JSON lines with the request id (a console user of the CLI reads text).
os.environ.setdefault("MCU_LOG_FORMAT", "json")

bind = os.environ.get("MCU_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MCU_WEB_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("MCU_WEB_THREADS", 4))
timeout = 60
graceful_timeout = 30
max_requests = 5000
max_requests_jitter = 500
preload_app = False
accesslog = "-"


# Prometheus multiprocess mode: every worker writes its counters to files here and /metrics adds
# them up, whichever worker answers the scrape. Set before the workers fork and import the app.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mcu-metrics-")


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
