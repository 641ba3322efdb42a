"""`mcu reports list|generate`: a district's reports from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from mcu.db import session_scope

reports_cli = AppGroup("reports", help="Отчёты района: список, формирование и выгрузка.")


def _config(session, slug: str):
    from mcu.rules.cli import _tenant_config

    return _tenant_config(session, slug)


@reports_cli.command("list")
@click.option("--tenant", "slug", required=True)
def reports_list(slug: str) -> None:
    """Отчёты, которые требует постановление района, и сформированные за последнее время."""
    from mcu.reports import build, queries, schedule
    from mcu.sqltypes import utcnow

    now = utcnow()
    with session_scope() as session:
        config = _config(session, slug)
        rows = queries.list_reports(session, config.tenant_id, limit=50)
        specs = config.data.get("reports") or []
        if not specs:
            click.echo("В конфигурации района отчёты не указаны.")
        for spec in specs:
            click.echo(f"{spec['id']} — {spec['name']}")
            click.echo(
                f"  {build.KINDS[spec['kind']]}; {build.schedule_text(spec.get('schedule') or {})}; "
                f"период по умолчанию: {schedule.default_period(spec, config.tz, now).key}"
            )
            click.echo(f"  основание: {build.basis(config, spec.get('source'))}")
        if rows:
            click.echo("\nСформированные:")
        for r in rows:
            click.echo(
                f"  {r.generated_at.astimezone(config.tz):%d.%m.%Y %H:%M}  {r.report_id}  {r.period_key}  "
                f"{r.status}  {r.id}"
            )


@reports_cli.command("generate")
@click.option("--tenant", "slug", required=True)
@click.option("--report", "report_id", required=True, help="Id отчёта из раздела reports района")
@click.option(
    "--period",
    default=None,
    help="2026, 2026-11, 2026-Q4, 2026-W47, 2026-11-23 или 2026-11-01..2026-11-30 "
    "(по умолчанию — последний период по графику, для отчёта по запросу — прошлый месяц)",
)
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv", "pdf", "json"]), default="xlsx", show_default=True
)
@click.option(
    "-o", "--output", "output", type=click.Path(dir_okay=False), default=None, help="Файл для выгрузки"
)
def reports_generate(slug: str, report_id: str, period: str | None, fmt: str, output: str | None) -> None:
    """Сформировать отчёт за период и выгрузить его в файл."""
    from mcu.analytics.periods import PeriodError, local_today, parse
    from mcu.cli import _actor
    from mcu.reports import render, schedule
    from mcu.reports.operations import ReportError, configured, generate
    from mcu.sqltypes import utcnow

    now = utcnow()
    with session_scope() as session:
        config = _config(session, slug)
        try:
            spec = configured(config, report_id)
            chosen = (
                parse(period, today=local_today(config.tz, now))
                if period
                else schedule.default_period(spec, config.tz, now)
            )
        except (ReportError, PeriodError) as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)
        result = generate(
            session=session, config=config, report_id=report_id, period=chosen, now=now, actor=_actor()
        )
        document = result.report.content
    try:
        data = render.render(document, fmt, font=current_app.config["REPORT_FONT"])
    except render.RenderError as exc:
        click.echo(f"Отчёт сохранён, но не выгружен: {exc}", err=True)
        sys.exit(1)
    path = Path(output) if output else Path(render.filename(document, fmt))
    path.write_bytes(data)
    click.echo(
        f"Отчёт «{spec['name']}» за {chosen.label} "
        + ("сформирован" if result.created else "сформирован заново")
        + f": {path}"
    )
