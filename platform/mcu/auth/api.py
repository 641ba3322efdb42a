"""Authenticating machine channels: a per-tenant token in `Authorization: Bearer …`,
`X-Api-Key`, or (Open311 style) an `api_key` parameter."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import g, jsonify, request

from mcu.auth.models import ApiToken
from mcu.auth.tokens import note_use, verify_token
from mcu.db import get_session


def presented_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-Api-Key") or request.values.get("api_key")


def authenticated_token(
    tenant_id: int, plain: str | None, candidates: Iterable[ApiToken] | None = None
) -> ApiToken | None:
    """The tenant's active token matching `plain` (among `candidates` when they were fetched with
    the tenant, see mcu.web.tenant_scope). Its use, noted once a minute, is committed at
    once: it must not ride on the request's own transaction (a long import would hold the token's
    row, and a read-only request never commits). The other requests pay no commit."""
    session = get_session()
    token = verify_token(session=session, tenant_id=tenant_id, plain=plain, candidates=candidates)
    if token is not None and note_use(session=session, token=token):
        session.commit()
    return token


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The tenant (resolved from the URL before this runs) must own the presented token."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = authenticated_token(g.tenant.id, presented_token(), g.get("token_candidates"))
        if token is None:
            response = jsonify(
                error="Unauthorized",
                status=401,
                detail="нужен действующий API-токен этого района (mcu tokens create --tenant …)",
            )
            response.status_code = 401
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        g.api_token = token
        return view(*args, **kwargs)

    return wrapper
