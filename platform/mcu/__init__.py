"""МЦУ platform: one engine for municipal control centres, districts configured as YAML tenants."""

__version__ = "0.1.0"
