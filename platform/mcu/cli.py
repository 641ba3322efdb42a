"""The `mcu` command: `mcu db …`, `mcu tenants …`, `mcu demo …` (plus Flask's own commands).

Commands are registered on the app in `init_app` (flaskr style) and tested through
`app.test_cli_runner()`. Output is Russian, as for the district staff and regional admins who run
them; problems go to stderr as `file:line:column: message`, the form editors jump to.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
import yaml
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

db_cli = AppGroup("db", help="Схема базы данных (миграции Alembic).")
tenants_cli = AppGroup("tenants", help="Районы: проверка, загрузка и просмотр конфигураций.")
demo_cli = AppGroup("demo", help="Демонстрационные данные.")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no passwd entry in some containers
        return "cli"


# ---------------------------------------------------------------- db
@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Применить миграции до REVISION (по умолчанию — последней)."""
    from mcu.db import engine, server_warnings
    from mcu.migrate import upgrade

    upgrade(revision)
    click.echo(f"База данных обновлена до {revision}.")
    for warning in server_warnings(engine()):
        click.echo(f"Внимание: {warning}", err=True)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Откатить миграции до REVISION (например, base)."""
    from mcu.migrate import downgrade

    downgrade(revision)
    click.echo(f"База данных откатена до {revision}.")


@db_cli.command("current")
def db_current() -> None:
    """Показать текущую ревизию схемы."""
    from mcu.migrate import current_revision

    click.echo(current_revision() or "(схема не создана)")


# ---------------------------------------------------------------- tenants
def _read(paths: tuple[str, ...]):
    from mcu.tenancy.loader import read_tenants

    return read_tenants(
        [Path(p) for p in paths] or None,
        tenants_dir=Path(current_app.config["TENANTS_DIR"]),
        rules_dir=Path(current_app.config["RULES_DIR"]),
    )


def _report_problems(result) -> None:
    for problem in result.problems:
        click.echo(str(problem), err=True)
    files = {p.loc.file for p in result.problems}
    click.echo(
        f"Найдено ошибок: {len(result.problems)} в файлах: {len(files)}. Ничего не загружено.",
        err=True,
    )


@tenants_cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
def tenants_validate(paths: tuple[str, ...]) -> None:
    """Проверить файлы районов (по умолчанию — всю папку tenants/)."""
    result = _read(paths)
    if not result.ok:
        for problem in result.problems:
            click.echo(str(problem), err=True)
        click.echo(f"Найдено ошибок: {len(result.problems)}.", err=True)
        sys.exit(1)
    click.echo(f"Проверено файлов: {len(result.files)}; районов: {len(result.tenants)}. Ошибок нет.")


@tenants_cli.command("load")
@click.argument("paths", nargs=-1, type=click.Path())
def tenants_load(paths: tuple[str, ...]) -> None:
    """Проверить и загрузить районы в базу. При любой ошибке не загружается ничего."""
    from mcu.db import session_scope
    from mcu.tenancy.operations import load_tenants

    result = _read(paths)
    if not result.ok:
        _report_problems(result)
        sys.exit(1)
    with session_scope() as session:
        outcomes = load_tenants(result, session=session, actor=_actor())
    words = {"created": "добавлен", "updated": "обновлён", "unchanged": "без изменений"}
    for o in outcomes:
        click.echo(f"{o.slug}: {words[o.change]} (версия {o.version_hash[:12]})")


@tenants_cli.command("list")
def tenants_list() -> None:
    """Районы в базе: регион, версия конфигурации и расхождение с файлами."""
    from mcu.db import session_scope
    from mcu.tenancy.queries import current_version, list_tenants

    result = _read(())
    with session_scope() as session:
        rows = [(t, current_version(session, t)) for t in list_tenants(session)]
    if not rows:
        click.echo("В базе нет районов. Загрузите их: mcu tenants load")
    for tenant, version in rows:
        on_disk = result.tenants.get(tenant.slug)
        if version is None:
            state = "конфигурация не загружена"
        elif on_disk is None:
            state = "файла района нет на диске"
        elif on_disk.content_hash != version.content_hash:
            state = "файл изменён, не загружен"
        else:
            state = "совпадает с файлом"
        short = version.content_hash[:12] if version else "-"
        click.echo(f"{tenant.slug:<20} {tenant.region:<10} {short}  {tenant.short_name} — {state}")
    loaded = {t.slug for t, _ in rows}
    for slug in sorted(set(result.tenants) - loaded):
        click.echo(f"{slug:<20} {result.tenants[slug].region:<10} {'-':<12}  есть файл, не загружен")


def _origin_text(origin: dict) -> str:
    side = "район" if origin["origin"] == "district" else "регион"
    return f"{side}: {origin['file']}:{origin['line']}"


@tenants_cli.command("show")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml")
def tenants_show(slug: str, fmt: str) -> None:
    """Показать действующую (объединённую с регионом) конфигурацию района с источниками."""
    import json

    result = _read(())
    src = result.tenants.get(slug)
    if src is None:
        click.echo(f"Район «{slug}» не найден в {current_app.config['TENANTS_DIR']}.", err=True)
        sys.exit(1)
    for problem in result.problems:
        if problem.loc.file in src.files:
            click.echo(f"# ошибка: {problem}", err=True)
    if fmt == "json":
        click.echo(
            json.dumps(
                {"config": src.plain, "provenance": src.provenance, "version": src.content_hash},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(f"# Действующая конфигурация района «{slug}», версия {src.content_hash[:12]}")
    click.echo(f"# Файлы: {', '.join(src.files)}")
    for key, value in src.plain.items():
        exact = src.provenance.get(key)
        click.echo("")
        if exact:
            click.echo(f"# {key} ← {_origin_text(exact)}")
        else:
            parts = sorted(
                (path, o)
                for path, o in src.provenance.items()
                if path.startswith(f"{key}.") or path.startswith(f"{key}[")
            )
            click.echo(f"# {key} ← объединено:")
            for path, o in parts:
                click.echo(f"#   {path} ← {_origin_text(o)}")
        click.echo(yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False, width=100).rstrip())


@tenants_cli.command("new")
@click.argument("slug")
@click.option("--region", required=True, help="slug региона (папка в tenants/)")
@click.option("--name", "full_name", default=None, help="Полное наименование района")
def tenants_new(slug: str, region: str, full_name: str | None) -> None:
    """Создать заготовку файла района tenants/REGION/SLUG.yaml с комментариями."""
    import re

    from mcu.tenancy.scaffold import render

    if not re.fullmatch(r"[a-z][a-z0-9-]{1,47}", slug):
        click.echo("slug: латинские строчные буквы, цифры и «-», начиная с буквы.", err=True)
        sys.exit(2)
    tenants_dir = Path(current_app.config["TENANTS_DIR"])
    if not (tenants_dir / region / "_region.yaml").is_file():
        known = sorted(p.parent.name for p in tenants_dir.glob("*/_region.yaml"))
        click.echo(f"Регион «{region}» не найден. Известные регионы: {', '.join(known)}.", err=True)
        sys.exit(2)
    path = tenants_dir / region / f"{slug}.yaml"
    if path.exists():
        click.echo(f"Файл {path} уже есть: не перезаписываю.", err=True)
        sys.exit(1)
    full = full_name or f"Муниципальный район {slug}"
    path.write_text(
        render(slug=slug, region=region, full_name=full, short_name=full, path=path), encoding="utf-8"
    )
    click.echo(
        f"Создан {path}. Заполните его по постановлению района и проверьте: mcu tenants validate {path}"
    )


# ---------------------------------------------------------------- demo
@demo_cli.command("seed")
@click.option("--tenant", "slugs", multiple=True, help="Только эти районы (по умолчанию — все)")
@click.option("--seed", default=20241125, show_default=True, help="Зерно генератора")
@click.option(
    "--until", "until", default=None, help="Последний день истории, ГГГГ-ММ-ДД (по умолчанию — сегодня)"
)
@click.option("--months", default=24, show_default=True, help="Глубина истории, месяцев")
@click.option(
    "--per-day", default=8.0, show_default=True, help="Среднее число сообщений в день на 10 000 жителей"
)
def demo_seed(slugs: tuple[str, ...], seed: int, until: str | None, months: int, per_day: float) -> None:
    """Создать детерминированную демо-историю сообщений (однократно для каждого района)."""
    from datetime import date

    from mcu.db import session_scope
    from mcu.demo.seed import seed_tenants

    end = date.fromisoformat(until) if until else date.today()
    with session_scope() as session:
        report = seed_tenants(
            session=session,
            slugs=list(slugs) or None,
            seed=seed,
            until=end,
            months=months,
            per_day=per_day,
            progress=lambda msg: click.echo(msg),
        )
    for slug, count in report.items():
        click.echo(f"{slug}: {'уже есть демо-данные' if count == 0 else f'создано сообщений: {count}'}")
    _demo_users()


def _demo_users() -> None:
    from mcu.db import session_scope
    from mcu.demo.users import seed_demo_users

    with session_scope() as session:
        password, users = seed_demo_users(session)
    lines = [f"{u.login:<45} {u.who} — {u.district}" for u in users]
    click.echo("")
    click.echo("Демо-пользователи веб-интерфейса (логин — роль — район).")
    click.echo(f"Пароль этого запуска для всех демо-пользователей: {password}")
    click.echo("(новый пароль выдаётся при каждом запуске «mcu demo seed»)")
    for line in lines:
        click.echo("  " + line)
    path = Path(current_app.config["INSTANCE_DIR"]) / "demo-users.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"Пароль: {password}\n" + "\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    click.echo(f"Список сохранён в {path} (доступен только владельцу).")


# ---------------------------------------------------------------- tokens
tokens_cli = AppGroup("tokens", help="API-токены машинных каналов района.")


def tenant_or_exit(session, slug: str):
    from mcu.tenancy.queries import tenant_by_slug

    tenant = tenant_by_slug(session, slug)
    if tenant is None:
        click.echo(f"Район «{slug}» не загружен (mcu tenants list).", err=True)
        sys.exit(1)
    return tenant


@tokens_cli.command("create")
@click.option("--tenant", "slug", required=True)
@click.option("--name", default="api", show_default=True, help="Кто пользуется токеном (система, приложение)")
@click.option("--channel", default=None, help="Канал по умолчанию для сообщений с этим токеном")
def tokens_create(slug: str, name: str, channel: str | None) -> None:
    """Выпустить токен; он показывается один раз."""
    from mcu.auth.tokens import create_token
    from mcu.db import session_scope
    from mcu.tenancy.queries import current_config

    with session_scope() as session:
        tenant = tenant_or_exit(session, slug)
        config = current_config(session, tenant)
        if channel is not None and (config is None or channel not in config.channels):
            click.echo(f"Канал «{channel}» не настроен в районе {slug}.", err=True)
            sys.exit(1)
        token, plain = create_token(
            session=session, tenant_id=tenant.id, name=name, channel_id=channel, actor=_actor()
        )
    click.echo(plain)
    click.echo(
        f"Токен «{name}» для района {slug} (префикс {token.prefix}). Сохраните его: повторно он не показывается.",
        err=True,
    )


@tokens_cli.command("revoke")
@click.option("--tenant", "slug", required=True)
@click.argument("prefix")
def tokens_revoke(slug: str, prefix: str) -> None:
    """Отозвать токен по его префиксу (префикс, начинающийся с «-», — после «--»)."""
    from mcu.auth.tokens import revoke_token
    from mcu.db import session_scope

    with session_scope() as session:
        tenant = tenant_or_exit(session, slug)
        count = revoke_token(session=session, tenant_id=tenant.id, prefix=prefix, actor=_actor())
    click.echo(f"Отозвано токенов: {count}")


def init_app(app: Flask) -> None:
    from mcu.analytics.cli import analytics_cli
    from mcu.auth.cli import users_cli
    from mcu.messages.imports_cli import import_command
    from mcu.reports.cli import reports_cli
    from mcu.rules.cli import emergencies_cli, rules_cli, worker_command
    from mcu.specbook.cli import specs_cli

    for group in (
        db_cli,
        tenants_cli,
        demo_cli,
        tokens_cli,
        import_command,
        rules_cli,
        emergencies_cli,
        worker_command,
        reports_cli,
        users_cli,
        specs_cli,
        analytics_cli,
    ):
        app.cli.add_command(group)


def _create_app():
    from mcu.app import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, add_version_option=False, help="Платформа МЦУ.")
