"""User administration: the one place that creates users, sets passwords and grants roles.

Used by `mcu users …` and the demo seed. Every change is written to the audit log of each district
it concerns (a user is platform-wide; the audit log is per district, read by its curator).
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from mcu.audit.operations import record_audit
from mcu.auth.models import RoleAssignment, User
from mcu.auth.passwords import generate_password, hash_password
from mcu.auth.permissions import LEGAL_REVIEWER, PLATFORM_ROLES
from mcu.tenancy.config import TenantConfig

# Roles of the platform a district can grant (the admin and the analyst are user flags: they span
# districts, not one district's roster).
GRANTABLE_PLATFORM_ROLES = (LEGAL_REVIEWER,)


class UserError(ValueError):
    pass


def user_by_login(session: Session, login: str) -> User | None:
    return session.exec(select(User).where(User.login == login.strip().lower())).first()


def user_or_error(session: Session, login: str) -> User:
    user = user_by_login(session, login)
    if user is None:
        raise UserError(f"пользователь «{login}» не найден")
    return user


def tenants_of(session: Session, user: User) -> set[int]:
    """The districts where the user holds an active role."""
    return set(
        session.exec(
            select(RoleAssignment.tenant_id).where(RoleAssignment.user_id == user.id, RoleAssignment.active)
        )
    )


def _audit_user(session: Session, user: User, action: str, actor: str, **details: object) -> None:
    for tenant_id in sorted(tenants_of(session, user)):
        record_audit(
            session=session,
            tenant_id=tenant_id,
            actor=actor,
            action=action,
            object_kind="user",
            object_id=user.login,
            details=dict(details),
        )


def add_user(
    session: Session,
    *,
    login: str,
    full_name: str,
    email: str | None = None,
    password: str | None = None,
    platform_admin: bool = False,
    analyst_region: str | None = None,
) -> tuple[User, str]:
    """Create a user; returns the user and the password to hand over (generated when not given —
    there is never a default password). Not audited here: an account belongs to no district until
    `grant` gives it a role, and that is written to the district's audit log."""
    login = login.strip().lower()
    if not login or any(c.isspace() for c in login):
        raise UserError("логин не может быть пустым или содержать пробелы")
    if user_by_login(session, login) is not None:
        raise UserError(f"пользователь «{login}» уже есть")
    plain = password or generate_password()
    user = User(
        login=login,
        full_name=full_name.strip() or login,
        email=email,
        password_hash=hash_password(plain),
        is_platform_admin=platform_admin,
        analyst_region=analyst_region,
    )
    session.add(user)
    session.flush()
    return user, plain


def set_active(session: Session, user: User, *, active: bool, actor: str) -> None:
    user.is_active = active
    _audit_user(session, user, "user.enabled" if active else "user.disabled", actor)


def reset_password(session: Session, user: User, *, actor: str, password: str | None = None) -> str:
    """A new password; the user's open sessions end (they carry a stamp of the old hash)."""
    plain = password or generate_password()
    user.password_hash = hash_password(plain)
    _audit_user(session, user, "user.password_reset", actor)
    return plain


def grant(
    session: Session,
    *,
    user: User,
    tenant_id: int,
    config: TenantConfig,
    role_id: str,
    actor: str,
    position_id: str | None = None,
) -> RoleAssignment:
    """Give a user a role of a district (a role id of its YAML, or `legal_reviewer`), optionally
    in a roster position that holds that role."""
    if role_id in config.roles:
        kind = config.roles[role_id].get("kind")
        if not kind:
            raise UserError(f"у роли «{role_id}» в конфигурации района не указан вид (kind)")
    elif role_id in GRANTABLE_PLATFORM_ROLES:
        kind = role_id
    else:
        if role_id in PLATFORM_ROLES:
            raise UserError(
                f"роль «{role_id}» выдаётся пользователю, а не району (mcu users add --admin/--analyst)"
            )
        raise UserError(f"роль «{role_id}» не определена в районе (есть: {', '.join(config.roles)})")
    if position_id is not None:
        position = config.roster.get(position_id)
        if position is None:
            raise UserError(f"должность «{position_id}» отсутствует в составе района")
        if role_id not in position.get("roles", []):
            raise UserError(f"должность «{position_id}» не исполняет роль «{role_id}»")
    existing = session.exec(
        select(RoleAssignment).where(
            RoleAssignment.tenant_id == tenant_id,
            RoleAssignment.user_id == user.id,
            RoleAssignment.role_id == role_id,
            RoleAssignment.position_id == position_id
            if position_id is not None
            else RoleAssignment.position_id.is_(None),
        )
    ).first()
    if existing is not None:
        existing.active = True
        assignment = existing
    else:
        assignment = RoleAssignment(
            tenant_id=tenant_id, user_id=user.id, role_kind=kind, role_id=role_id, position_id=position_id
        )
        session.add(assignment)
    record_audit(
        session=session,
        tenant_id=tenant_id,
        actor=actor,
        action="user.role_granted",
        object_kind="user",
        object_id=user.login,
        details={"role": role_id, "kind": kind, "position": position_id},
    )
    return assignment


def revoke(session: Session, *, user: User, tenant_id: int, role_id: str, actor: str) -> int:
    rows = list(
        session.exec(
            select(RoleAssignment).where(
                RoleAssignment.tenant_id == tenant_id,
                RoleAssignment.user_id == user.id,
                RoleAssignment.role_id == role_id,
                RoleAssignment.active,
            )
        )
    )
    for row in rows:
        row.active = False
    if rows:
        record_audit(
            session=session,
            tenant_id=tenant_id,
            actor=actor,
            action="user.role_revoked",
            object_kind="user",
            object_id=user.login,
            details={"role": role_id},
        )
    return len(rows)


def users_of_tenant(session: Session, tenant_id: int) -> list[tuple[User, list[RoleAssignment]]]:
    rows = session.exec(
        select(User, RoleAssignment)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.tenant_id == tenant_id, RoleAssignment.active)
        .order_by(User.login)
    )
    grouped: dict[uuid.UUID, tuple[User, list[RoleAssignment]]] = {}
    for user, assignment in rows:
        grouped.setdefault(user.id, (user, []))[1].append(assignment)
    return list(grouped.values())


def managed_here(session: Session, user: User, tenant_id: int) -> str | None:
    """Why a district's own administrator may not change this account (None: they may). An
    account that also works elsewhere, or spans districts, belongs to the platform admin."""
    if user.is_platform_admin or user.analyst_region:
        return "учётная запись администратора или регионального аналитика — обратитесь к администратору платформы"
    if tenants_of(session, user) - {tenant_id}:
        return "учётная запись работает и в других районах — обратитесь к администратору платформы"
    return None
