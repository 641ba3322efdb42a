"""Routes for tenants: the list of districts and each district's effective configuration."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, render_template

from mcu.auth.web import public, requires
from mcu.db import get_session
from mcu.tenancy.queries import current_config, list_tenants
from mcu.web.tenant_scope import tenant_blueprint

home = Blueprint("home", __name__, template_folder="templates")
pages = tenant_blueprint("tenant", __name__, "/t/<tenant>", template_folder="templates")
api = tenant_blueprint("tenant_api", __name__, "/api/v1/<tenant>")
api_index = Blueprint("api_index", __name__, url_prefix="/api/v1")


@home.get("/")
@public
def index():
    """Staff see the districts they work in; a visitor sees every district's public reception."""
    from mcu.auth.access import tenants_for

    session = get_session()
    user = g.get("user")
    listed = tenants_for(session, user) if user is not None else list_tenants(session)
    tenants = [(t, current_config(session, t)) for t in listed]
    return render_template("tenancy/index.html", tenants=[(t, c) for t, c in tenants if c])


@pages.get("/")
@requires("district.view")
def overview():
    return render_template("tenancy/overview.html", tenant=g.tenant, config=g.config)


@pages.get("/config")
@requires("config.view")
def config_page():
    return render_template("tenancy/config.html", tenant=g.tenant, config=g.config)


@api_index.get("/openapi.json")
@public
def openapi_json():
    from mcu.messages.openapi import document

    return jsonify(document())


@api_index.get("/docs")
@public
def api_docs():
    from mcu.messages.openapi import document

    return render_template("tenancy/api_docs.html", doc=document())


@api_index.get("/tenants")
@public
def api_tenants():
    session = get_session()
    out = []
    for tenant in list_tenants(session):
        config = current_config(session, tenant)
        if config is None:
            continue
        out.append(
            {
                "slug": tenant.slug,
                "name": tenant.name,
                "short_name": tenant.short_name,
                "region": tenant.region,
                "timezone": tenant.timezone,
                "version": config.version_hash,
            }
        )
    return jsonify(tenants=out)


@api.get("/config")
def api_config():
    c = g.config
    return jsonify(slug=c.slug, version=c.version_hash, config=c.data, provenance=c.provenance)
