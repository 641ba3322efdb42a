"""Test helpers for the web UI: users with given roles, and clients logged in as them."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

PASSWORD = "пароль-для-тестов-1"


def make_user(
    app: Flask,
    login: str,
    *,
    admin: bool = False,
    region: str | None = None,
    grants: tuple[tuple[str, str], ...] = (),
    positions: dict[str, str] | None = None,
):
    """A user; `grants` are (district slug, role kind) pairs; `positions` maps a slug to a roster
    position the user holds there."""
    from sqlmodel import Session

    from mcu.auth.models import RoleAssignment, User
    from mcu.auth.passwords import hash_password
    from mcu.db import engine
    from mcu.tenancy.queries import tenant_by_slug

    with app.app_context(), Session(engine(), expire_on_commit=False) as s:
        user = User(
            login=login,
            full_name=login,
            password_hash=hash_password(PASSWORD),
            is_platform_admin=admin,
            analyst_region=region,
        )
        s.add(user)
        s.flush()
        for slug, kind in grants:
            tenant = tenant_by_slug(s, slug)
            s.add(
                RoleAssignment(
                    tenant_id=tenant.id,
                    user_id=user.id,
                    role_kind=kind,
                    role_id=kind,
                    position_id=(positions or {}).get(slug),
                )
            )
        s.commit()
        return user


def sign_in(client: FlaskClient, user) -> FlaskClient:
    """Log the client in as `user` through the real form (CSRF token and all)."""
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"login": user.login, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def staff_client(app: Flask, login: str | None = None, **kw) -> FlaskClient:
    """A client logged in as a new user (a platform admin unless grants are given)."""
    import uuid

    login = login or f"admin-{uuid.uuid4().hex[:8]}"
    if not kw:
        kw = {"admin": True}
    return sign_in(app.test_client(), make_user(app, login, **kw))


def csrf(client: FlaskClient, path: str) -> str:
    import re

    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
