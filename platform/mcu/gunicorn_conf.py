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
# One JSON line a request, the app's (method, path, status, duration, district, request id:
# mcu.observability.logs): gunicorn's own access log would add a second, plain-text line for
# each request — twice the log volume and ≈ 0.5 ms a request for what the app's line says.
accesslog = None
# gunicorn's own lines (start, worker boots and timeouts) as JSON objects too, so a log
# collector reads every line of the server's output the same way.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "mcu.observability.logs.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    # no level: gunicorn's --log-level still decides
    "loggers": {"gunicorn.error": {"handlers": ["console"], "propagate": False}},
}


# Prometheus multiprocess mode: every worker writes its counters to files here and /metrics adds
# them up, whichever worker answers the scrape. Set before the workers fork and import the app.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mcu-metrics-")


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
