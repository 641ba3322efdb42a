"""`make bench`: run every benchmark module and print its figures."""

from __future__ import annotations

from bench import http_intake, import_copy, tenant_loading

for module in (tenant_loading, http_intake, import_copy):
    module.main()
