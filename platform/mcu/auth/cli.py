"""`mcu users …`: accounts of staff, analysts and admins. A password is generated and printed
once (or typed at a hidden prompt with --ask-password); there is no default password."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

users_cli = AppGroup("users", help="Пользователи веб-интерфейса: учётные записи и роли.")


def _actor() -> str:
    from mcu.cli import _actor as cli_actor

    return cli_actor()


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _password(ask: bool) -> str | None:
    if not ask:
        return None
    return click.prompt("Пароль", hide_input=True, confirmation_prompt="Повторите пароль")


@users_cli.command("add")
@click.argument("login")
@click.option("--name", "full_name", default="", help="ФИО")
@click.option("--email", default=None)
@click.option("--admin", is_flag=True, help="Администратор платформы (все районы, все права)")
@click.option("--analyst", "region", default=None, help="Региональный аналитик региона (только чтение)")
@click.option("--tenant", "slug", default=None, help="Район, в котором выдать роль")
@click.option("--role", "role_id", default=None, help="Роль района (id из YAML) или legal_reviewer")
@click.option("--position", "position_id", default=None, help="Должность из состава района")
@click.option("--ask-password", is_flag=True, help="Ввести пароль, а не сгенерировать")
def users_add(full_name, login, email, admin, region, slug, role_id, position_id, ask_password) -> None:
    """Создать пользователя (и сразу выдать роль в районе)."""
    from mcu.auth.passwords import WeakPassword
    from mcu.auth.users import UserError, add_user
    from mcu.db import session_scope

    if bool(slug) != bool(role_id):
        _fail("--tenant и --role указываются вместе")
    try:
        with session_scope() as session:
            user, password = add_user(
                session,
                login=login,
                full_name=full_name,
                email=email,
                password=_password(ask_password),
                platform_admin=admin,
                analyst_region=region,
            )
            if slug:
                _grant(session, user, slug, role_id, position_id)
    except (UserError, WeakPassword) as exc:
        _fail(f"Ошибка: {exc}")
    click.echo(f"Создан пользователь {user.login}.")
    if not ask_password:
        click.echo(f"Пароль (показывается один раз): {password}")


def _grant(session, user, slug: str, role_id: str, position_id: str | None) -> None:
    from mcu.auth.users import grant

    tenant, config = _tenant(session, slug)
    grant(
        session,
        user=user,
        tenant_id=tenant.id,
        config=config,
        role_id=role_id,
        position_id=position_id,
        actor=_actor(),
    )


def _tenant(session, slug: str):
    from mcu.auth.users import UserError
    from mcu.tenancy.queries import current_config, tenant_by_slug

    tenant = tenant_by_slug(session, slug)
    config = current_config(session, tenant) if tenant else None
    if config is None:
        raise UserError(f"район «{slug}» не загружен")
    return tenant, config


@users_cli.command("grant")
@click.argument("login")
@click.option("--tenant", "slug", required=True)
@click.option("--role", "role_id", required=True, help="Роль района (id из YAML) или legal_reviewer")
@click.option("--position", "position_id", default=None)
def users_grant(login: str, slug: str, role_id: str, position_id: str | None) -> None:
    """Выдать пользователю роль в районе."""
    from mcu.auth.users import UserError, user_or_error
    from mcu.db import session_scope

    try:
        with session_scope() as session:
            _grant(session, user_or_error(session, login), slug, role_id, position_id)
    except UserError as exc:
        _fail(f"Ошибка: {exc}")
    click.echo(f"{login}: роль «{role_id}» в районе {slug} выдана.")


@users_cli.command("revoke")
@click.argument("login")
@click.option("--tenant", "slug", required=True)
@click.option("--role", "role_id", required=True)
def users_revoke(login: str, slug: str, role_id: str) -> None:
    """Отозвать роль пользователя в районе."""
    from mcu.auth.users import UserError, revoke, user_or_error
    from mcu.db import session_scope

    try:
        with session_scope() as session:
            user = user_or_error(session, login)
            tenant, _config = _tenant(session, slug)
            count = revoke(session, user=user, tenant_id=tenant.id, role_id=role_id, actor=_actor())
    except UserError as exc:
        _fail(f"Ошибка: {exc}")
    click.echo(f"Отозвано назначений: {count}")


@users_cli.command("disable")
@click.argument("login")
def users_disable(login: str) -> None:
    """Заблокировать пользователя (его открытые сеансы завершаются)."""
    _set_active(login, False)


@users_cli.command("enable")
@click.argument("login")
def users_enable(login: str) -> None:
    """Разблокировать пользователя."""
    _set_active(login, True)


def _set_active(login: str, active: bool) -> None:
    from mcu.auth.users import UserError, set_active, user_or_error
    from mcu.db import session_scope

    try:
        with session_scope() as session:
            set_active(session, user_or_error(session, login), active=active, actor=_actor())
    except UserError as exc:
        _fail(f"Ошибка: {exc}")
    click.echo(f"{login}: {'разблокирован' if active else 'заблокирован'}.")


@users_cli.command("reset-password")
@click.argument("login")
@click.option("--ask-password", is_flag=True, help="Ввести пароль, а не сгенерировать")
def users_reset_password(login: str, ask_password: bool) -> None:
    """Выдать новый пароль (открытые сеансы пользователя завершаются)."""
    from mcu.auth.passwords import WeakPassword
    from mcu.auth.users import UserError, reset_password, user_or_error
    from mcu.db import session_scope

    try:
        with session_scope() as session:
            password = reset_password(
                session, user_or_error(session, login), actor=_actor(), password=_password(ask_password)
            )
    except (UserError, WeakPassword) as exc:
        _fail(f"Ошибка: {exc}")
    click.echo(f"{login}: пароль изменён.")
    if not ask_password:
        click.echo(f"Новый пароль (показывается один раз): {password}")


@users_cli.command("list")
def users_list() -> None:
    """Пользователи и их роли."""
    from sqlmodel import select

    from mcu.auth.models import RoleAssignment, User
    from mcu.db import session_scope
    from mcu.tenancy.models import Tenant

    with session_scope() as session:
        slugs = {t.id: t.slug for t in session.exec(select(Tenant))}
        for user in session.exec(select(User).order_by(User.login)):
            roles = [
                f"{slugs.get(r.tenant_id, r.tenant_id)}:{r.role_id}"
                for r in session.exec(
                    select(RoleAssignment).where(RoleAssignment.user_id == user.id, RoleAssignment.active)
                )
            ]
            extra = (["администратор платформы"] if user.is_platform_admin else []) + (
                [f"аналитик региона {user.analyst_region}"] if user.analyst_region else []
            )
            state = "" if user.is_active else " [заблокирован]"
            click.echo(f"{user.login}{state}\t{user.full_name}\t{', '.join(extra + roles) or '—'}")
