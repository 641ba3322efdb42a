"""An API request's token is fetched with its district, in the statement that resolves the
district (mcu.web.tenant_scope): only that district's unrevoked tokens are candidates, so another
district's token — even one with the same prefix — and a revoked one are refused."""

from __future__ import annotations

import secrets

from sqlmodel import Session

from mcu.auth.models import ApiToken
from mcu.auth.tokens import _hash, token_prefix
from mcu.db import engine
from mcu.tenancy.queries import enter_tenant_with_tokens
from tests.integration.test_messages_api import _token

BODY = {"channel": "pos", "text": "Не вывозят мусор на ул. Мира"}


def _plain(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _token_with_prefix(app, slug: str, plain_of_another: str) -> str:
    """A token of district `slug` that begins as `plain_of_another` does: the same prefix."""
    plain = f"mcu_{token_prefix(plain_of_another)}{secrets.token_urlsafe(24)}"
    with app.app_context(), Session(engine()) as session:
        tenant = enter_tenant_with_tokens(session, slug, None).tenant
        session.add(
            ApiToken(tenant_id=tenant.id, name="twin", prefix=token_prefix(plain), token_hash=_hash(plain))
        )
        session.commit()
    return plain


def test_only_the_districts_unrevoked_tokens_with_the_prefix_are_candidates(loaded_app):
    mine = _plain(_token(loaded_app, "kondinsky"))
    _token_with_prefix(loaded_app, "sovetsky", mine)  # another district's, same prefix
    with loaded_app.app_context(), Session(engine()) as session:
        entry = enter_tenant_with_tokens(session, "kondinsky", token_prefix(mine))
        assert entry.tenant.slug == "kondinsky"
        assert [t.tenant_id for t in entry.tokens] == [entry.tenant.id]
        assert enter_tenant_with_tokens(session, "kondinsky", "nomatch").tokens == []
        assert enter_tenant_with_tokens(session, "nowhere", token_prefix(mine)) is None
    result = loaded_app.test_cli_runner().invoke(
        args=["tokens", "revoke", "--tenant", "kondinsky", "--", token_prefix(mine)]
    )
    assert result.exit_code == 0, result.output
    with loaded_app.app_context(), Session(engine()) as session:
        assert enter_tenant_with_tokens(session, "kondinsky", token_prefix(mine)).tokens == []


def test_another_districts_token_with_the_same_prefix_is_refused(loaded_app):
    client = loaded_app.test_client()
    mine = _plain(_token(loaded_app, "kondinsky"))
    theirs = _token_with_prefix(loaded_app, "sovetsky", mine)
    headers = {"Authorization": f"Bearer {theirs}"}
    for path in ("/api/v1/kondinsky/intake", "/api/v1/kondinsky/messages"):
        assert client.post(path, headers=headers, json=BODY).status_code == 401
    assert client.get("/api/v1/kondinsky/messages", headers=headers).status_code == 401
    assert client.get("/api/v1/sovetsky/messages", headers=headers).status_code == 200
    assert client.get("/api/v1/kondinsky/messages", headers={"X-Api-Key": mine}).status_code == 200


def test_a_revoked_token_is_refused(loaded_app):
    client = loaded_app.test_client()
    headers = _token(loaded_app, "kondinsky")
    assert client.post("/api/v1/kondinsky/intake", headers=headers, json=BODY).status_code == 202
    result = loaded_app.test_cli_runner().invoke(
        args=["tokens", "revoke", "--tenant", "kondinsky", "--", token_prefix(_plain(headers))]
    )
    assert result.exit_code == 0, result.output
    assert client.post("/api/v1/kondinsky/intake", headers=headers, json=BODY).status_code == 401
    assert client.get("/api/v1/kondinsky/messages", headers=headers).status_code == 401
