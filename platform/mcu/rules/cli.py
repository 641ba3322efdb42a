"""`mcu worker`, `mcu rules show|replay`, `mcu emergencies list|close`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from mcu.db import engine, server_warnings, session_scope

rules_cli = AppGroup("rules", help="Правила эскалации: просмотр и проверка изменений на истории.")
emergencies_cli = AppGroup("emergencies", help="Аварийные ситуации.")


def _tenant_config(session, slug: str):
    from mcu.cli import tenant_or_exit
    from mcu.tenancy.queries import current_config

    config = current_config(session, tenant_or_exit(session, slug))
    if config is None:
        click.echo(f"У района «{slug}» нет загруженной конфигурации: mcu tenants load", err=True)
        sys.exit(2)
    return config


@click.command("worker")
@click.option("--once", is_flag=True, help="Обработать всё, что наступило, и выйти")
@click.option("--poll", type=float, default=None, help="Пауза между опросами, секунд")
@click.option("--batch", type=int, default=None, help="Сроков за одну транзакцию")
@with_appcontext
def worker_command(once: bool, poll: float | None, batch: int | None) -> None:
    """Срабатывание сроков и напоминаний по правилам района, отправка почты."""
    from mcu.rules.worker import run

    cfg = current_app.config
    click.echo(
        "Обработчик сроков запущен"
        + (" (однократно)" if once else f", опрос каждые {poll or cfg['WORKER_POLL_SECONDS']:g} с")
    )
    for warning in server_warnings(engine()):
        click.echo(f"Внимание: {warning}", err=True)
    total = run(
        engine(),
        cfg,
        once=once,
        poll=poll if poll is not None else cfg["WORKER_POLL_SECONDS"],
        batch=batch or cfg["WORKER_BATCH"],
        say=click.echo,
    )
    click.echo(f"Обработчик сроков остановлен; сработало сроков: {total}")


@rules_cli.command("show")
@click.option("--tenant", "slug", required=True)
def rules_show(slug: str) -> None:
    """Действующие правила района: событие, условия, действия, источник."""
    from mcu.rules.operations import rulebook

    with session_scope() as session:
        book = rulebook(_tenant_config(session, slug))
    for rule in book.rules:
        src = rule.source
        where = ", ".join(str(x) for x in (src.get("act"), src.get("clause"), src.get("rule_clause")) if x)
        click.echo(f"{rule.id} — {rule.title}")
        click.echo(
            f"  событие: {rule.on}"
            + (f"; условия: {', '.join(c.describe() for c in rule.when)}" if rule.when else "")
        )
        for action in rule.then:
            click.echo("  → " + ", ".join(f"{k}={v}" for k, v in action.items()))
        if where:
            click.echo(f"  источник: {where}")


def _day(value: str, param: str) -> datetime:
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(0), UTC)
    except ValueError:
        raise click.BadParameter("дата в виде ГГГГ-ММ-ДД", param_hint=param) from None


@rules_cli.command("replay")
@click.option("--tenant", "slug", required=True)
@click.option("--from", "date_from", required=True, help="С даты (ГГГГ-ММ-ДД)")
@click.option("--to", "date_to", required=True, help="По дату включительно (ГГГГ-ММ-ДД)")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Предлагаемый файл района (по умолчанию — файл из tenants/)",
)
@click.option("--show", default=20, show_default=True, help="Сколько изменившихся сообщений показать")
def rules_replay(slug: str, date_from: str, date_to: str, config_file: str | None, show: int) -> None:
    """Прогнать сообщения периода через предлагаемые правила, ничего не записывая."""
    from datetime import timedelta

    from mcu.rules.replay import proposed_config, replay
    from mcu.sqltypes import utcnow

    start, end = _day(date_from, "--from"), _day(date_to, "--to") + timedelta(days=1)
    cfg = current_app.config
    tenants_dir, rules_dir = Path(cfg["TENANTS_DIR"]), Path(cfg["RULES_DIR"])
    with session_scope() as session:
        current = _tenant_config(session, slug)
        file = Path(config_file) if config_file else next(tenants_dir.glob(f"*/{slug}.yaml"), None)
        if file is None:
            click.echo(f"Файл района «{slug}» не найден в {tenants_dir}", err=True)
            sys.exit(2)
        try:
            proposed = proposed_config(current, file, tenants_dir=tenants_dir, rules_dir=rules_dir)
        except ValueError as exc:
            click.echo(f"Предлагаемая конфигурация не проходит проверку:\n{exc}", err=True)
            sys.exit(1)
        with click.progressbar(length=1, label="Сообщения", file=sys.stderr) as bar:

            def step(done: int, total: int) -> None:
                bar.length = total
                bar.update(1)

            report = replay(session, current, proposed, start=start, end=end, until=utcnow(), progress=step)
    click.echo(f"Сообщений за период: {report.messages}")
    rules = sorted(set(report.current.rules) | set(report.proposed.rules))
    if not rules:
        click.echo("Ни одно правило не сработало бы ни в текущей, ни в предлагаемой версии.")
    else:
        click.echo(f"{'правило':<48} {'сейчас':>8} {'предложено':>11} {'разница':>8}")
        for rule in rules:
            a, b = report.current.rules[rule], report.proposed.rules[rule]
            click.echo(f"{rule:<48} {a:>8} {b:>11} {b - a:>+8}")
    changed = report.changed()
    click.echo(f"Сообщений, по которым решения изменились бы: {len(changed)}")
    for number, before, after in changed[:show]:
        gone = sorted(set(before) - set(after))
        new = sorted(set(after) - set(before))
        click.echo(
            f"  № {number}: "
            + "; ".join(
                x
                for x in (
                    f"не сработает: {', '.join(gone)}" if gone else "",
                    f"сработает: {', '.join(new)}" if new else "",
                )
                if x
            )
            or f"  № {number}: изменилось число срабатываний"
        )


@emergencies_cli.command("list")
@click.option("--tenant", "slug", required=True)
@click.option("--all", "show_all", is_flag=True, help="Включая закрытые")
def emergencies_list(slug: str, show_all: bool) -> None:
    """Аварийные ситуации района."""
    from sqlmodel import select

    from mcu.emergencies.models import Emergency

    with session_scope() as session:
        config = _tenant_config(session, slug)
        query = select(Emergency).where(Emergency.tenant_id == config.tenant_id)
        if not show_all:
            query = query.where(Emergency.status == "open")
        rows = list(session.exec(query.order_by(Emergency.declared_at)))
        for e in rows:
            click.echo(
                f"{e.id}  {e.status:<7} {e.declared_at.astimezone(config.tz):%d.%m.%Y %H:%M}  {e.title}"
            )
        if not rows:
            click.echo("Аварийных ситуаций нет." if show_all else "Открытых аварийных ситуаций нет.")


@emergencies_cli.command("close")
@click.option("--tenant", "slug", required=True)
@click.argument("emergency_id")
@click.option("--decisions", required=True, help="Принятые решения и проведённые мероприятия")
def emergencies_close(slug: str, emergency_id: str, decisions: str) -> None:
    """Закрыть аварийную ситуацию с записью принятых решений (ХМ Регламент п.5.7)."""
    import uuid

    from mcu.cli import _actor
    from mcu.emergencies.models import Emergency
    from mcu.emergencies.operations import EmergencyError, close

    with session_scope() as session:
        config = _tenant_config(session, slug)
        try:
            emergency = session.get(Emergency, (config.tenant_id, uuid.UUID(emergency_id)))
        except ValueError:
            emergency = None
        if emergency is None:
            click.echo("Аварийная ситуация не найдена в этом районе.", err=True)
            sys.exit(2)
        try:
            close(session=session, config=config, emergency=emergency, decisions=decisions, actor=_actor())
        except EmergencyError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
    click.echo("Аварийная ситуация закрыта.")
