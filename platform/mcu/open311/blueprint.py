"""Open311 GeoReport v2 endpoints under /open311/v2/ (jurisdiction_id = tenant slug)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
