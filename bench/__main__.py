"""`make bench`: run every benchmark module and print its figures."""

from __future__ import annotations

from bench import tenant_loading

for module in (tenant_loading,):
    module.main()
