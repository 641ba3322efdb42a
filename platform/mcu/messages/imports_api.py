"""Bulk import over HTTP: POST /api/v1/<tenant>/imports."""

from __future__ import annotations

from mcu.web.tenant_scope import tenant_blueprint

api = tenant_blueprint("imports_api", __name__, "/api/v1/<tenant>")
