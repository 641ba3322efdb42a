"""Prometheus metrics.

Counters and the latency histogram live in each process; under gunicorn (several workers) they
are shared through prometheus_client's multiprocess mode — `gunicorn_conf.py` sets
PROMETHEUS_MULTIPROC_DIR before the workers fork. Figures that are state, not events (deadlines
due and overdue, the mail outbox backlog), are read from the database at scrape time, so every
node reports the same truth.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

# `*_created` series double every counter and tell an operator nothing here.
disable_created_metrics()

INTAKE = Counter(
    "mcu_intake_messages_total", "Messages taken in, by district and channel", ["tenant", "channel"]
)
INTAKE_QUEUED = Counter(
    "mcu_intake_queued_total",
    "Messages accepted by the queued intake, by district and channel",
    ["tenant", "channel"],
)
RULE_EVALUATIONS = Counter(
    "mcu_rule_evaluations_total", "Events handed to a district's rules", ["tenant", "event"]
)
LATENCY = Histogram(
    "mcu_http_request_duration_seconds",
    "HTTP request latency by route",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class DatabaseCollector:
    """State read from the database at each scrape."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):
        from mcu.db import engine

        due = GaugeMetricFamily(
            "mcu_deadlines_pending", "Pending deadlines: due later / overdue", labels=["state"]
        )
        outbox = GaugeMetricFamily("mcu_mail_outbox_backlog", "E-mails waiting in the outbox")
        queue = GaugeMetricFamily("mcu_intake_queue_backlog", "Accepted messages waiting for the worker")
        with self.app.app_context(), engine().connect() as conn:
            overdue, later = conn.execute(
                text(
                    "select count(*) filter (where due_at <= :now), count(*) filter (where due_at > :now) "
                    "from deadline where status = 'pending'"
                ),
                {"now": _now()},
            ).one()
            waiting = conn.execute(text("select count(*) from mail_outbox where status = 'pending'")).scalar()
            queued = conn.execute(text("select count(*) from intake_item where status = 'queued'")).scalar()
        due.add_metric(["overdue"], overdue)
        due.add_metric(["due"], later)
        outbox.add_metric([], waiting or 0)
        queue.add_metric([], queued or 0)
        yield due
        yield outbox
        yield queue


def _now():
    from mcu.sqltypes import utcnow

    return utcnow()


def _registry(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (INTAKE, INTAKE_QUEUED, RULE_EVALUATIONS, LATENCY):
            registry.register(collector)
    registry.register(DatabaseCollector(app))
    return registry


def init_app(app: Flask) -> None:
    state: dict[str, CollectorRegistry] = {}

    # The request's start is stamped once, by observability.logs (registered first).
    @app.after_request
    def _observe(response):
        started = g.get("request_t0")
        if started is not None and request.url_rule is not None:
            LATENCY.labels(request.method, request.url_rule.rule, str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response

    @app.get("/metrics")
    def metrics():
        if "registry" not in state:
            state["registry"] = _registry(app)
        return Response(generate_latest(state["registry"]), mimetype=CONTENT_TYPE_LATEST)

    metrics.public = True  # type: ignore[attr-defined]
