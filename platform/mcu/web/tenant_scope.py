"""The tenant of a request is resolved once, from the URL (`/t/<tenant>/…`, `/api/v1/<tenant>/…`).

A blueprint made by `tenant_blueprint` gets `g.tenant` and `g.config` before any view runs; an
unknown or inactive tenant is a 404, and views never look a tenant up themselves.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g

from mcu.auth.api import presented_token
from mcu.auth.tokens import token_prefix
from mcu.db import get_session
from mcu.tenancy.queries import current_config, enter_tenant_with_tokens


def tenant_blueprint(name: str, import_name: str, url_prefix: str, **kw: Any) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix=url_prefix, **kw)

    @bp.url_value_preprocessor
    def _resolve_tenant(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        slug = (values or {}).pop("tenant", None)
        session = get_session()
        # A machine channel's token is looked up with the district, in the same statement;
        # token_required then checks it against these candidates without a query of its own.
        prefix = token_prefix(presented_token())
        entry = enter_tenant_with_tokens(session, slug, prefix) if slug else None
        config = current_config(session, entry.tenant) if entry else None
        if entry is None or config is None:
            abort(404)
        g.tenant = entry.tenant
        g.config = config
        if prefix is not None:
            g.token_candidates = entry.tokens

    @bp.url_defaults
    def _add_tenant(_endpoint: str, values: dict[str, Any]) -> None:
        if "tenant" not in values and "tenant" in g:
            values["tenant"] = g.tenant.slug

    return bp
