"""An API request's token is fetched with its district, in the statement that resolves the
district (mcu.web.tenant_scope): only that district's unrevoked tokens are candidates, so another
district's token — even one with the same prefix — and a revoked one are refused; and a queued
intake's replay on PostgreSQL costs the one statement a new delivery costs."""

from __future__ import annotations

import secrets
import threading

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, select

from mcu.auth.models import ApiToken
from mcu.auth.tokens import _hash, token_prefix
from mcu.db import engine
from mcu.messages import queue as intake_queue
from mcu.messages.schemas import MessageIn
from mcu.tenancy.queries import current_config, enter_tenant_with_tokens
from tests.conftest import ON_POSTGRES
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


def test_a_replay_finds_its_item_in_the_statement_that_would_have_stored_it(loaded_app):
    """On PostgreSQL one statement stores or finds the item; SQLite takes two for a replay."""
    with loaded_app.app_context(), Session(engine()) as session:
        config = current_config(session, enter_tenant_with_tokens(session, "kondinsky", None).tenant)
        data = MessageIn.model_validate({**BODY, "external_id": "R-1"})
        statements: list[str] = []

        @event.listens_for(engine(), "before_cursor_execute")
        def _count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        try:
            first = intake_queue.accept(session=session, config=config, data=data, actor="test")
            made = len(statements)
            again = intake_queue.accept(session=session, config=config, data=data, actor="test")
        finally:
            event.remove(engine(), "before_cursor_execute", _count)
        assert first[1] is True and again == (first[0], False)
        assert (made, len(statements) - made) == ((1, 1) if ON_POSTGRES else (1, 2))
        session.commit()
        assert session.exec(select(sa.func.count()).select_from(intake_queue.T)).one() == 1


def test_a_delivery_committed_while_the_replay_waited_is_found(loaded_app):
    """The replay's INSERT waits on the first delivery's uncommitted row; once that commits, the
    replay's statement cannot see it (its snapshot is older) and a second look finds it."""
    with loaded_app.app_context(), Session(engine()) as first, Session(engine()) as second:
        config = current_config(first, enter_tenant_with_tokens(first, "kondinsky", None).tenant)
        data = MessageIn.model_validate({**BODY, "external_id": "R-2"})
        made = intake_queue.accept(session=first, config=config, data=data, actor="test")
        found: list = []
        waiting = threading.Thread(
            target=lambda: found.append(
                intake_queue.accept(session=second, config=config, data=data, actor="test")
            )
        )
        waiting.start()
        waiting.join(timeout=1 if ON_POSTGRES else 0)  # PostgreSQL: blocked on the row's key
        first.commit()
        waiting.join(timeout=30)
        second.commit()
        assert found == [(made[0], False)]


def test_issued_prefixes_never_read_as_an_option(loaded_app, monkeypatch):
    """token_urlsafe draws «-» one time in 64; the first draw here is made to, and the token
    issued is the next draw, so `mcu tokens revoke --tenant T PREFIX` takes its prefix as is."""
    draws = iter(["-" + "a" * 42, "b" * 43])
    monkeypatch.setattr("mcu.auth.tokens.secrets.token_urlsafe", lambda n: next(draws))
    runner = loaded_app.test_cli_runner()
    made = runner.invoke(args=["tokens", "create", "--tenant", "kondinsky", "--name", "twin"])
    assert made.exit_code == 0, made.output
    plain = made.stdout.strip().splitlines()[0]
    assert token_prefix(plain) == "b" * 8
    revoked = runner.invoke(args=["tokens", "revoke", "--tenant", "kondinsky", token_prefix(plain)])
    assert revoked.exit_code == 0, revoked.output
    assert "Отозвано токенов: 1" in revoked.output
