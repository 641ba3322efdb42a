"""`mcu analytics …`: the analytics rollup — rebuild it, check it against the direct computation."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import AppGroup

analytics_cli = AppGroup("analytics", help="Аналитика: сводные данные (rollup) показателей и тепловой карты.")


@analytics_cli.command("rebuild")
@click.option("--tenant", "slug", default=None, help="Только этот район (по умолчанию — все)")
@click.option(
    "--check",
    "check_period",
    default=None,
    help="Затем сверить с прямым расчётом за период (2026, 2026-11 …)",
)
def analytics_rebuild(slug: str | None, check_period: str | None) -> None:
    """Перестроить сводные данные района (районов) из сообщений и журнала событий; с --check —
    сверить их с прямым расчётом за период (код выхода 1 при расхождении)."""
    from mcu.analytics import rollup
    from mcu.analytics.periods import PeriodError, local_today, parse
    from mcu.db import session_scope
    from mcu.sqltypes import utcnow
    from mcu.tenancy.queries import current_config, list_tenants, tenant_by_slug

    with session_scope() as session:
        if slug:
            tenant = tenant_by_slug(session, slug)
            if tenant is None:
                click.echo(f"Район «{slug}» не найден.", err=True)
                sys.exit(1)
            tenants = [tenant]
        else:
            tenants = [t for t in list_tenants(session) if t.active]
        configs = [c for c in (current_config(session, t) for t in tenants) if c is not None]
    started = time.perf_counter()
    for i, config in enumerate(configs, start=1):
        t0 = time.perf_counter()
        with session_scope() as session:  # one transaction per district: readers never wait long
            rollup.rebuild(session, config)
        click.echo(f"[{i}/{len(configs)}] {config.slug}: {time.perf_counter() - t0:.1f} с")
    click.echo(f"Перестроено районов: {len(configs)} за {time.perf_counter() - started:.1f} с")
    if not check_period:
        return
    now = utcnow()
    failed = 0
    with session_scope() as session:
        for config in configs:
            try:
                period = parse(check_period, today=local_today(config.tz, now))
            except PeriodError as e:
                click.echo(f"Период: {e}", err=True)
                sys.exit(2)
            problems = rollup.check(session, config, period, now)
            failed += bool(problems)
            click.echo(f"{config.slug} {period.key}: " + ("совпадает" if not problems else "РАСХОЖДЕНИЯ"))
            for p in problems:
                click.echo(f"  {p}")
    if failed:
        click.echo(f"Расхождения в районах: {failed}", err=True)
        sys.exit(1)
