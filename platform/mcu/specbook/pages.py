"""The spec book as a page of a district (legal reviewers and the МЦУ's leadership)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, g, render_template

from mcu.auth.web import requires
from mcu.specbook.book import STATUS_NAMES, build
from mcu.web.tenant_scope import tenant_blueprint

bp = tenant_blueprint("specbook", __name__, "/t/<tenant>", template_folder="templates")


@bp.get("/specs")
@requires("specs.view")
def book_page():
    book = build(
        Path(current_app.config["SPECS_DIR"]),
        Path(current_app.config["SPEC_RESULTS_DIR"]),
        tenant=g.tenant.slug,
    )
    return render_template("specbook/page.html", tenant=g.tenant, book=book, status_names=STATUS_NAMES)
