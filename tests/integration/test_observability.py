"""/metrics for Prometheus and JSON logs that carry the request id."""

from __future__ import annotations

import json
import logging
import re

from sqlalchemy import text

from mcu.db import engine
from mcu.observability.logs import JsonFormatter


def _sample(body: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))  # the exposition sorts them
    pattern = (
        rf"^{re.escape(name)}\{{{re.escape(want)}\}} (\S+)$" if labels else rf"^{re.escape(name)} (\S+)$"
    )
    found = re.search(pattern, body, re.M)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_intake_rules_deadlines_and_latency(loaded_app):
    out = loaded_app.test_cli_runner().invoke(args=["tokens", "create", "--tenant", "kondinsky"]).stdout
    client, headers = loaded_app.test_client(), {"Authorization": "Bearer " + out.split()[0]}
    before = client.get("/metrics").get_data(as_text=True)
    for text_ in ("Яма на дороге у школы", "Не вывозят мусор третью неделю"):
        assert (
            client.post(
                "/api/v1/kondinsky/messages", headers=headers, json={"channel": "pos", "text": text_}
            ).status_code
            == 201
        )
    after = client.get("/metrics").get_data(as_text=True)
    intake = "mcu_intake_messages_total"
    assert (
        _sample(after, intake, tenant="kondinsky", channel="pos")
        - _sample(before, intake, tenant="kondinsky", channel="pos")
        == 2
    )
    rules = "mcu_rule_evaluations_total"
    assert _sample(after, rules, tenant="kondinsky", event="message_received") > _sample(
        before, rules, tenant="kondinsky", event="message_received"
    )
    with loaded_app.app_context(), engine().connect() as conn:
        pending = conn.execute(text("select count(*) from deadline where status = 'pending'")).scalar()
    reported = _sample(after, "mcu_deadlines_pending", state="due") + _sample(
        after, "mcu_deadlines_pending", state="overdue"
    )
    assert pending > 0 and reported == pending
    assert "mcu_mail_outbox_backlog" in after
    posted = {"method": "POST", "route": "/api/v1/<tenant>/messages", "status": "201"}
    count = "mcu_http_request_duration_seconds_count"
    assert _sample(after, count, **posted) - _sample(before, count, **posted) == 2


def test_every_response_carries_a_request_id_and_the_log_line_has_it(loaded_app, caplog):
    client = loaded_app.test_client()
    given = client.get("/healthz", headers={"X-Request-ID": "proxy-42"})
    assert given.headers["X-Request-ID"] == "proxy-42"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    with caplog.at_level(logging.INFO, logger="mcu.request"):
        client.get("/t/kondinsky/messages", headers={"X-Request-ID": "trace-7"})
    (record,) = [r for r in caplog.records if r.name == "mcu.request" and r.request_id == "trace-7"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "trace-7" and line["status"] == 302 and line["tenant"] == "kondinsky"
    assert line["path"] == "/t/kondinsky/messages" and line["duration_ms"] >= 0


def test_db_upgrade_and_worker_warn_when_the_server_runs_without_autovacuum(app, runner):
    """On PostgreSQL the warning follows the server's own setting (this machine kind's shared
    server has autovacuum off; a district's has it on); SQLite has nothing to warn of."""
    with app.app_context(), engine().connect() as conn:
        off = conn.dialect.name == "postgresql" and conn.exec_driver_sql("show autovacuum").scalar() == "off"
    for args in (["db", "upgrade"], ["worker", "--once"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        assert ("autovacuum = off" in result.output) is off, (args, result.output)


def test_server_warnings_names_autovacuum_off_only_on_postgresql():
    from mcu.db import server_warnings

    class _Bind:  # what server_warnings reads of an engine: its dialect and one SHOW
        def __init__(self, dialect: str, setting: str) -> None:
            self.dialect = type("D", (), {"name": dialect})()
            self.setting = setting

        def connect(self):
            setting = self.setting

            class _Conn:
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    return False

                def exec_driver_sql(self, sql):
                    assert sql == "show autovacuum"
                    return type("R", (), {"scalar": lambda _self: setting})()

            return _Conn()

    assert server_warnings(_Bind("sqlite", "off")) == []
    assert server_warnings(_Bind("postgresql", "on")) == []
    (warning,) = server_warnings(_Bind("postgresql", "off"))
    assert "autovacuum = off" in warning and "VACUUM ANALYZE" in warning
