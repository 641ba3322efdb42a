"""The participation page of a district's workspace: polls, votes, discussions and hearings with
the state of their terms on a day (Кондинский Положение п.2.4.2)."""

from __future__ import annotations

from flask import flash, g, render_template, request

from mcu.auth.web import requires
from mcu.db import get_session
from mcu.participation.queries import TermQueryError, list_participation, participation_public, term_query
from mcu.participation.schemas import KINDS, TERM_STATES
from mcu.web.tenant_scope import tenant_blueprint

pages = tenant_blueprint("participation", __name__, "/t/<tenant>", template_folder="templates")


@pages.get("/participation")
@requires("participation.view")
def list_page():
    try:
        asked = term_query(request.args, g.config.tz)
    except TermQueryError as exc:
        flash(str(exc))
        asked = term_query({}, g.config.tz)
    rows = [
        participation_public(r, today=asked["today"], tz=g.config.tz)
        for r in list_participation(get_session(), g.tenant.id, **asked)
    ]
    return render_template(
        "participation/list.html",
        tenant=g.tenant,
        config=g.config,
        rows=rows,
        asked=asked,
        kinds=KINDS,
        states=TERM_STATES,
    )
