"""`make bench`: run every benchmark module and print its figures."""

from __future__ import annotations

from bench import http_intake, tenant_loading

for module in (tenant_loading, http_intake):
    module.main()
