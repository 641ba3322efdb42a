"""Demo accounts: one user per role of each district, a regional analyst per region, a legal
reviewer and a platform admin. Passwords are generated on every run and printed by `mcu demo
seed` — never written in code or documentation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from mcu.auth.passwords import generate_password
from mcu.auth.permissions import LEGAL_REVIEWER
from mcu.auth.users import add_user, grant, reset_password, user_by_login
from mcu.tenancy.queries import current_config, list_tenants

ACTOR = "system:demo"


@dataclass(frozen=True)
class DemoUser:
    login: str
    who: str
    district: str


def _user(session: Session, login: str, full_name: str, password: str, **flags: object):
    user = user_by_login(session, login)
    if user is None:
        user, _ = add_user(session, login=login, full_name=full_name, password=password, **flags)
    else:
        reset_password(session, user, actor=ACTOR, password=password)
        user.is_active = True
    return user


def seed_demo_users(session: Session, password: str | None = None) -> tuple[str, list[DemoUser]]:
    """Create or refresh the demo accounts; returns this run's password and the accounts."""
    password = password or generate_password()
    made: list[DemoUser] = []
    admin = _user(session, "demo.admin", "Администратор платформы (демо)", password, platform_admin=True)
    made.append(DemoUser(admin.login, "администратор платформы", "все районы"))
    legal = _user(session, "demo.legal", "Юрист-рецензент (демо)", password)
    made.append(DemoUser(legal.login, "юрист-рецензент", "все районы"))
    regions: set[str] = set()
    for tenant in list_tenants(session):
        config = current_config(session, tenant)
        if config is None:
            continue
        if tenant.region not in regions:
            regions.add(tenant.region)
            login = f"demo.analyst.{tenant.region}"
            _user(
                session,
                login,
                f"Региональный аналитик ({tenant.region}, демо)",
                password,
                analyst_region=tenant.region,
            )
            made.append(DemoUser(login, "региональный аналитик", f"регион {tenant.region}"))
        grant(session, user=legal, tenant_id=tenant.id, config=config, role_id=LEGAL_REVIEWER, actor=ACTOR)
        for role_id, role in config.roles.items():
            if not role.get("kind"):
                continue
            position = next((p for p in config.roster.values() if role_id in p.get("roles", [])), None)
            login = f"{tenant.slug}.{role_id}"
            name = role.get("name", role_id)
            user = _user(
                session,
                login,
                f"{position.get('person') if position and position.get('person') else name} (демо)",
                password,
            )
            grant(
                session,
                user=user,
                tenant_id=tenant.id,
                config=config,
                role_id=role_id,
                position_id=position["id"] if position else None,
                actor=ACTOR,
            )
            made.append(DemoUser(login, name, tenant.short_name))
    session.flush()
    return password, made
