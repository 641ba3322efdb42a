"""The tenant of a request is resolved once, from the URL (`/t/<tenant>/…`, `/api/v1/<tenant>/…`).

A blueprint made by `tenant_blueprint` gets `g.tenant` and `g.config` before any view runs; an
unknown or inactive tenant is a 404, and views never look a tenant up themselves.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g

from mcu.db import get_session
from mcu.tenancy.queries import current_config, enter_tenant


def tenant_blueprint(name: str, import_name: str, url_prefix: str, **kw: Any) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix=url_prefix, **kw)

    @bp.url_value_preprocessor
    def _resolve_tenant(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        slug = (values or {}).pop("tenant", None)
        session = get_session()
        tenant = enter_tenant(session, slug) if slug else None
        config = current_config(session, tenant) if tenant else None
        if tenant is None or config is None:
            abort(404)
        g.tenant = tenant
        g.config = config

    @bp.url_defaults
    def _add_tenant(_endpoint: str, values: dict[str, Any]) -> None:
        if "tenant" not in values and "tenant" in g:
            values["tenant"] = g.tenant.slug

    return bp
